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


class SearchQueryIn(Schema):
    q: str = Field(
        ...,
        max_length=200,
        description="Two or more characters: part of a name (钢铁), a customer number, a credit code, an ID number, "
        "a phone number or its last 4 digits. Words separated by spaces must all occur in the name.",
    )
    limit: int = Field(10, ge=1, le=50, description="Hits per kind")


class SearchHitOut(Schema):
    id: int = Field(..., description="The record's id in its kind (a customer id, a contact id …)")
    title: str = Field(..., description="What to show first: the customer's or contact's name")
    subtitle: str = Field(
        ..., description="Context: number and region of a customer; customer and phone (masked per role) of a contact"
    )
    url: str = Field(..., description="The page of the record in the web UI")
    match: str = Field(
        ..., description="What matched: name, number, credit_code, id_number, mobile or landline (later kinds add more)"
    )


class SearchOut(Schema):
    results: dict[str, list[SearchHitOut]] = Field(
        ...,
        description="One key per registered kind (customers, contacts …), each with at most `limit` hits, best first: "
        "exact identifiers, then names equal to, starting with and containing the query",
    )


# The error responses every app documents: reads can fail on auth, scope (404) and input; writes also on rights and
# conflicts. Spread into a route's `response` dict: {200: ThingOut, **READ}.
READ = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ConflictOut, 422: ErrorOut}
