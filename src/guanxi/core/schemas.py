from datetime import datetime
from typing import Literal

from ninja import Schema
from pydantic import Field

from guanxi.core.masking import changes_for


class ErrorItem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] = []


class ConflictOut(ErrorOut):
    current_version: int | None = None


class TokenIn(Schema):
    username: str = Field(..., min_length=1, max_length=150)
    password: str = Field(..., min_length=1, max_length=256)
    name: str = Field("", max_length=100, description="A label for the token, e.g. the client's name")


class TokenOut(Schema):
    token: str
    prefix: str
    created_at: datetime


class OrgUnitOut(Schema):
    id: int
    code: str
    name: str
    kind: str


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    email: str
    roles: list[str]
    org_unit: OrgUnitOut | None
    language: str
    permissions: list[str]


class MePatch(Schema):
    language: Literal["zh-hans", "en", ""] | None = None
    phone: str | None = Field(None, max_length=32)


class AuditOut(Schema):
    id: int
    at: datetime
    actor_id: int | None
    actor: str | None = Field(None, description="The actor's username")
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict
    ip: str | None

    @staticmethod
    def resolve_actor(obj) -> str | None:
        return obj.actor.username if obj.actor else None

    @staticmethod
    def resolve_changes(obj, context) -> dict:
        return changes_for(context["request"].user, obj.changes)


class AuditPage(Schema):
    items: list[AuditOut]
    next: str | None
