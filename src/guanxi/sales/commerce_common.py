"""Helpers shared by products, quotes, contracts and receivables: customer-based scope, numbering, validation."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.scope import allows, restrict
from guanxi.core.versioning import lock
from guanxi.customers.selectors import customer_queryset

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


def customer_in_scope(user, customer) -> bool:
    """Whether customer_scoped() lets `user` see rows of `customer` (an instance with owner_id, org_unit_id and
    sensitive loaded), decided on those columns (core.scope.allows). For a panel that reads one customer's rows
    without the scope join and must stay empty for a customer out of scope, whatever its caller checked."""
    return allows(user, owner_id=customer.owner_id, unit_id=customer.org_unit_id, sensitive=customer.sensitive)


def customer_for(actor, customer_id: int | None):
    """The customer a new quote or contract is for: in the actor's scope, else 422 naming `customer_id`."""
    if customer_id is None:
        raise ValidationError({"customer_id": _("This field is required.")})
    customer = customer_queryset(user=actor).select_related("category").filter(pk=customer_id).first()
    if customer is None:
        raise ValidationError({"customer_id": _("No such customer in your scope.")})
    return customer


def locked(queryset: QuerySet, pk: int, version: int | None):
    """The row `pk` of a scoped queryset, locked for the rest of the transaction; 404 out of scope, 409 stale."""
    return lock(queryset.select_related("customer", "owner"), pk, version)


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


def parse_date(value, field: str) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value))
    except (TypeError, ValueError) as exc:
        raise ValidationError({field: _("Enter a valid date (YYYY-MM-DD).")}) from exc
