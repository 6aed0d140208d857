"""Every model of the API has its own component in /api/v1/openapi.json (core/openapi.py).

ninja merged components by class name, so same-named models of different apps documented each other's schema: the
calendar's move (start, version) was documented as the pipeline's (stage_id), GET /categories as the knowledge base's
categories, GET /reminder-preference as the notification settings (found by tests/fuzz).
"""

import enum
import typing

import pydantic
import pytest
from django.test import Client

from guanxi.api import api

pytestmark = pytest.mark.django_db


def _reachable(annotation, found: dict[str, set[type]]) -> None:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel | enum.Enum):
        ours = annotation.__module__.startswith("guanxi.")  # not ninja's wrappers of the responses
        if annotation in found.setdefault(annotation.__name__ if ours else "", set()):
            return
        found[annotation.__name__ if ours else ""].add(annotation)
        if issubclass(annotation, pydantic.BaseModel):
            for field in annotation.model_fields.values():
                _reachable(field.annotation, found)
        return
    for argument in typing.get_args(annotation):
        _reachable(argument, found)


def _models() -> dict[str, set[type]]:
    found: dict[str, set[type]] = {}
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    for field in model.model_fields.values():  # ninja's wrapper of the body/query/path models
                        _reachable(field.annotation, found)
                for response in operation.response_models.values():
                    _reachable(response, found)
    return found


def _matches(component: dict, model: type) -> bool:
    if issubclass(model, enum.Enum):
        return component.get("enum") == [member.value for member in model]
    names = {field.alias or name for name, field in model.model_fields.items()}
    return set(component.get("properties", {})) == names


def test_every_model_has_its_own_component():
    components = Client().get("/api/v1/openapi.json").json()["components"]["schemas"]
    shared_names = {name: models for name, models in _models().items() if name and len(models) > 1}
    assert shared_names, "no two models share a class name any more: this test no longer proves anything"
    missing = []
    for name, models in shared_names.items():
        for model in models:
            same_title = [c for c in components.values() if c.get("title") == name]
            if not any(_matches(component, model) for component in same_title):
                missing.append(f"{model.__module__}.{model.__qualname__}")
    assert missing == [], "these models are documented with another model's schema"


def test_the_calendar_move_documents_its_own_body():
    document = Client().get("/api/v1/openapi.json").json()
    body = document["paths"]["/api/v1/calendar/events/{activity_id}/move"]["post"]["requestBody"]
    ref = body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert document["components"]["schemas"][ref]["required"] == ["start", "version"]
