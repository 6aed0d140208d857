"""Optimistic versioning of edits: a client sends the `version` it read; an older one is refused (409 with the
current version) so two people editing the same record never overwrite each other unknowingly.

`update_versioned` is the whole edit under a row lock: lock → 404 → version check → apply → diff → version + 1 →
save → audit. The lock keeps the version from moving between the check and the save, so a plain
`save(update_fields=…)` is race-safe here (`save_versioned`). Paths that read without a lock (customers, activities,
tickets, leads, deals) instead write with a conditional UPDATE … WHERE version = … (`save_if_version`): no lock is
held while they validate, and of two writers of one version the database lets exactly one through. The two stay two
paths: a locked save runs the model's save() and its signals, the conditional UPDATE runs neither.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

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
    if _has_updated_at(type(instance)):
        update.append("updated_at")
    instance.save(update_fields=update)


def save_if_version(
    instance: models.Model, version: int, fields: Iterable[str], *, api_names: Mapping[str, str] | None = None
) -> None:
    """Save `fields` of `instance` with UPDATE … SET …, version = version + 1 WHERE pk = … AND version = `version`
    (the version the client read), without a row lock: of two concurrent writers exactly one wins, the other gets
    409 naming the version that won, and nothing of it is written. `updated_at` (when the model has one) is set too;
    `instance` then holds the new version.

    A unique column taken meanwhile by another row raises ValidationError on the field (named as the API names it:
    `api_names`, default the field's own name) instead of the database's IntegrityError.
    """
    model = type(instance)
    fields = list(fields)
    values = {
        model._meta.get_field(name).attname: getattr(instance, model._meta.get_field(name).attname) for name in fields
    }
    now = timezone.now()
    stamp = {"updated_at": now} if _has_updated_at(model) else {}
    try:
        # No savepoint: an IntegrityError is raised on, so the caller's transaction is rolled back anyway.
        with transaction.atomic(savepoint=False):
            updated = model.objects.filter(pk=instance.pk, version=version).update(
                **values, version=version + 1, **stamp
            )
    except IntegrityError as exc:
        # Name the column the database complained about ("Key (credit_code)=…" / "customers_customer.credit_code").
        text = str(exc)
        attnames = {name: model._meta.get_field(name).attname for name in fields}
        field = next((n for n, a in attnames.items() if f"({a})" in text or f".{a}" in text), fields[0])
        names = api_names or {}
        raise ValidationError({names.get(field, field): _("Another record already has this value.")}) from exc
    if updated != 1:
        # Lost the race: the row moved on after we read it. Name the version that won, as the early check does
        # (read committed: this statement sees the winner's commit).
        raise StaleVersion(model.objects.filter(pk=instance.pk).values_list("version", flat=True).first())
    instance.version = version + 1
    if stamp:
        instance.updated_at = now


def _has_updated_at(model: type[models.Model]) -> bool:
    return any(field.name == "updated_at" for field in model._meta.concrete_fields)


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
