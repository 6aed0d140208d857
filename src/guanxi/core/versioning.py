"""Optimistic versioning of edits: a client sends the `version` it read; an older one is refused (409 with the
current version) so two people editing the same record never overwrite each other unknowingly.

`update_versioned` is the whole edit under a row lock: lock → 404 → version check → apply → diff → version + 1 →
save → audit. The lock keeps the version from moving between the check and the save, so a plain
`save(update_fields=…)` is race-safe here. Paths that read without a lock (customers, activities, tickets) instead
write with a conditional UPDATE … WHERE version = … (customers.services._save_versioned).
"""

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import models, transaction
from django.http import Http404

from guanxi.core import audit
from guanxi.core.errors import StaleVersion

M = TypeVar("M", bound=models.Model)


def check_version(instance: models.Model, version: int | None) -> None:
    """409 when the client read an older version than the one stored (None: the caller chose not to check)."""
    if version is not None and instance.version != version:
        raise StaleVersion(instance.version)


def lock(queryset: models.QuerySet, pk: int, version: int | None) -> models.Model:
    """Row `pk` of `queryset`, locked until the transaction ends; 404 when absent (or outside a scoped queryset),
    409 when stale. Only the row itself is locked (`of=self`), not the rows joined by select_related."""
    instance = queryset.select_for_update(of=("self",)).filter(pk=pk).first()
    if instance is None:
        raise Http404
    check_version(instance, version)
    return instance


def save_versioned(instance: models.Model, fields: Iterable[str]) -> None:
    """Save `fields` (and `updated_at`, when the model has one) with the version moved on by one. The caller holds the
    row lock and has checked the version."""
    instance.version += 1
    update = [*fields, "version"]
    if any(field.name == "updated_at" for field in instance._meta.concrete_fields):
        update.append("updated_at")
    instance.save(update_fields=update)


def update_versioned(
    queryset: models.QuerySet[M],
    pk: int,
    *,
    actor,
    version: int,
    apply: Callable[[M], None],
    fields: Iterable[str] | None = None,
    audit_fields: list[str] | None = None,
) -> M:
    """Edit row `pk` if it is still at `version`, in one transaction, and audit the change.

    `apply(instance)` sets the new values and validates them (raising ValidationError leaves nothing written).
    When no audited field changed, nothing is saved and the version stays. `fields` are the columns saved (default:
    the changed ones); `audit_fields` limits the audit snapshot (default: every field).
    """
    with transaction.atomic():
        instance = lock(queryset, pk, version)
        before = audit.snapshot(instance, audit_fields)
        apply(instance)
        changes = audit.diff(before, audit.snapshot(instance, audit_fields))
        if changes:
            save_versioned(instance, list(changes) if fields is None else fields)
            audit.record(actor=actor, action="update", instance=instance, changes=changes)
    return instance
