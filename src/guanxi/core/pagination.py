"""Keyset (cursor) pagination: constant cost at any depth, stable under inserts."""

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone


class BadCursor(ValueError):
    pass


@dataclass
class Page:
    items: list
    next: str | None


def keyset_page(queryset: QuerySet, *, ordering: str, cursor: str | None, limit: int) -> Page:
    """One page of `queryset` (models or values() rows holding `id` and the field) ordered by `ordering` (a non-null
    field, optionally "-"-prefixed) then id."""
    descending = ordering.startswith("-")
    field = ordering.lstrip("-")
    queryset = queryset.order_by(ordering, "-id" if descending else "id")
    if cursor:
        value, last_id = _typed(queryset.model, field, *decode_cursor(cursor))
        op = "lt" if descending else "gt"
        # The leading range on `field` lets the (field, id) index start at the cursor.
        inclusive = "lte" if descending else "gte"
        queryset = queryset.filter(
            Q(**{f"{field}__{inclusive}": value})
            & (Q(**{f"{field}__{op}": value}) | Q(**{field: value, f"id__{op}": last_id}))
        )
    rows = list(queryset[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(_value(rows[-1], field), _value(rows[-1], "id")) if has_more else None
    return Page(items=rows, next=next_cursor)


def encode_cursor(value, last_id: int) -> str:
    raw = json.dumps([value, last_id], ensure_ascii=False, default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, last_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(last_id, int) or value is None:
            raise TypeError
    except (ValueError, TypeError) as exc:
        raise BadCursor("invalid cursor") from exc
    return value, last_id


def _typed(model: type[models.Model], field: str, value, last_id: int) -> tuple:
    """The cursor's value as `field` stores it; BadCursor for a value this field could not have produced."""
    if isinstance(last_id, bool) or not -(2**63) <= last_id < 2**63:
        raise BadCursor("invalid cursor")
    model_field = model._meta.get_field(field)
    textual = isinstance(model_field, models.CharField | models.TextField | models.DateField)  # DateTimeField too
    if isinstance(value, bool) or not isinstance(value, str if textual else int | float | str):
        raise BadCursor("invalid cursor")
    if isinstance(value, str) and "\x00" in value:  # no stored value has one; PostgreSQL refuses it in a query
        raise BadCursor("invalid cursor")
    try:
        value = model_field.to_python(value)
    except (ValidationError, TypeError, ValueError, OverflowError) as exc:
        raise BadCursor("invalid cursor") from exc
    if value is None or (isinstance(value, datetime) and timezone.is_naive(value)):
        raise BadCursor("invalid cursor")
    if isinstance(value, int) and not -(2**63) <= value < 2**63:
        raise BadCursor("invalid cursor")
    return value, last_id


def _value(obj, field: str):
    value = obj[field] if isinstance(obj, dict) else getattr(obj, field)  # a model or a values() row
    return value.isoformat() if hasattr(value, "isoformat") else value
