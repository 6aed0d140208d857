"""Writing the audit log. Services call these inside their transaction, so the log and the change commit together."""

import operator
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from django.db import models

from guanxi.core.bulk import insert_rows
from guanxi.core.context import client_ip
from guanxi.core.models import AuditLog


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict:
    """Field values of `instance` as JSON-safe data, keyed by field name (FKs by their id)."""
    if fields is None:  # the common case, also once per row of a bulk import: one attrgetter call
        names, values = _layout(type(instance))
        return {
            name: value if value is None or value.__class__ in _PLAIN else to_json(value)
            for name, value in zip(names, values(instance), strict=True)
        }
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name not in fields:
            continue
        data[field.name] = to_json(getattr(instance, field.attname))
    return data


_PLAIN = (str, int, bool, float)


@cache
def _layout(model: type[models.Model]):
    concrete = model._meta.concrete_fields
    getter = operator.attrgetter(*(f.attname for f in concrete))
    return [f.name for f in concrete], (getter if len(concrete) > 1 else lambda obj: (getter(obj),))


def diff(before: dict, after: dict) -> dict:
    """{field: [old, new]} for every field whose value changed."""
    return {name: [before.get(name), value] for name, value in after.items() if before.get(name) != value}


def record(
    *, actor, action: str, instance: models.Model, changes: dict | None = None, object_repr: str | None = None
) -> AuditLog:
    return AuditLog.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(instance.pk),
        object_repr=(object_repr if object_repr is not None else str(instance))[:200],
        changes=changes or {},
        ip=client_ip.get(),
    )


def record_many(*, actor, action: str, entries: list[tuple[models.Model, dict]]) -> None:
    """One entry per object for a bulk action (an owner transfer, an import), written in bulk (COPY on PostgreSQL)."""
    ip = client_ip.get()
    actor_id = actor.pk if actor is not None else None
    insert_rows(
        AuditLog,
        ["actor_id", "action", "object_type", "object_id", "object_repr", "changes", "ip"],
        (
            (actor_id, action, obj._meta.label_lower, str(obj.pk), str(obj)[:200], changes, ip)
            for obj, changes in entries
        ),
    )


def to_json(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
