"""Helpers shared by products, quotes, contracts and receivables: customer-based scope, numbering, validation."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone

from guanxi.core.errors import StaleVersion
from guanxi.core.scope import restrict

CENT = Decimal("0.01")

# Model field → the name clients send, so every error names the field the client knows.
API_NAMES = {
    "customer": "customer_id",
    "opportunity": "opportunity_id",
    "product": "product_id",
    "category": "category_id",
    "template": "template_id",
    "instalment": "instalment_id",
}


def round_money(value: Decimal) -> Decimal:
    """Money to the fen, half up (四舍五入), as invoices and receipts round."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def customer_scoped(queryset: QuerySet, user, customer_path: str = "customer") -> QuerySet:
    """Rows the user may see through their customer: owner, owning team and the sensitive-customer rule."""
    return restrict(
        queryset,
        user,
        owner_field=f"{customer_path}__owner",
        unit_field=f"{customer_path}__org_unit",
        sensitive_field=f"{customer_path}__sensitive",
    )


def next_number(series: str) -> str:
    """`series` + year + a 5-digit sequence (QT202600001). Call inside the transaction that saves the record."""
    from guanxi.sales.models import DocumentSequence

    key = f"{series}{timezone.localdate().year}"
    with transaction.atomic():
        DocumentSequence.objects.get_or_create(key=key)
        sequence = DocumentSequence.objects.select_for_update().get(key=key)
        sequence.last += 1
        sequence.save(update_fields=["last"])
    return f"{key}{sequence.last:05d}"


def full_clean(instance: models.Model, exclude: list[str] | None = None, prefix: str = "") -> None:
    """Model validation with errors named as the API names the fields (optionally under `prefix`, e.g. lines.0.)."""
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(
            {prefix + API_NAMES.get(key, key): value for key, value in exc.message_dict.items()}
        ) from exc


def check_version(instance: models.Model, version: int | None) -> None:
    """409 when the client read an older version than the one stored (None: the caller chose not to check)."""
    if version is not None and instance.version != version:
        raise StaleVersion(instance.version)


def save_versioned(instance: models.Model, fields: list[str]) -> None:
    """Save `fields` and bump the version. Callers hold the row lock (select_for_update) and checked the version."""
    instance.version += 1
    update = [*fields, "version"]
    if any(f.name == "updated_at" for f in instance._meta.concrete_fields):
        update.append("updated_at")
    instance.save(update_fields=update)


def parse_date(value, field: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except (TypeError, ValueError) as exc:
        from django.utils.translation import gettext as _

        raise ValidationError({field: _("Enter a valid date (YYYY-MM-DD).")}) from exc
