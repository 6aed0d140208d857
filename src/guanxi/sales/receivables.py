"""Receivables (C6): payment plans, payments against instalments, overdue ageing and summaries, all scoped."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, DecimalField, F, Q, QuerySet, Sum, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.core import audit
from guanxi.core.errors import Conflict
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.permissions import require
from guanxi.core.versioning import save_versioned
from guanxi.sales.commerce_common import customer_in_scope, customer_scoped, full_clean, parse_date
from guanxi.sales.contracts import contract_locked
from guanxi.sales.models import Contract, Instalment, Payment

ZERO = Decimal("0.00")
# Ageing buckets (账龄) by days past due: label and inclusive day range (None: open-ended).
BUCKETS = [
    ("0_30", gettext_lazy("0–30 days"), 0, 30),
    ("31_90", gettext_lazy("31–90 days"), 31, 90),
    ("over_90", gettext_lazy("over 90 days"), 91, None),
]

# Contract statuses whose value and instalments the figures leave out.
UNCOUNTED = [Contract.Status.DRAFT, Contract.Status.TERMINATED]

# --- reads ---------------------------------------------------------------------------------------------------------


def instalment_queryset(*, user) -> QuerySet[Instalment]:
    if not user.has_perm("sales.view_instalment"):
        return Instalment.objects.none()
    return customer_scoped(Instalment.objects.all(), user, "contract__customer")


def payment_queryset(*, user) -> QuerySet[Payment]:
    if not user.has_perm("sales.view_payment"):
        return Payment.objects.none()
    return customer_scoped(Payment.objects.all(), user, "contract__customer")


def payment_list(*, user, contract_id: int | None = None, cursor: str | None = None, limit: int = 50) -> Page:
    payments = payment_queryset(user=user).select_related("contract__customer", "instalment", "recorded_by")
    if contract_id is not None:
        payments = payments.filter(contract_id=contract_id)
    return keyset_page(payments, ordering="-recorded_at", cursor=cursor, limit=limit)


def bucket_of(days_overdue: int) -> str:
    for key, _label, low, high in BUCKETS:
        if days_overdue >= low and (high is None or days_overdue <= high):
            return key
    return BUCKETS[0][0]


def overdue_instalments(
    *, user, today: datetime.date | None = None, customer_id: int | None = None, owner_id: int | None = None
) -> list[Instalment]:
    """Unpaid instalments due before today, oldest first, each with `days_overdue` and `bucket`."""
    today = today or timezone.localdate()
    rows = (
        instalment_queryset(user=user)
        .filter(due_date__lt=today, paid_amount__lt=F("amount"))
        .exclude(contract__status__in=[Contract.Status.DRAFT, Contract.Status.TERMINATED])
        .select_related("contract__customer", "contract__owner")
        .order_by("due_date", "id")
    )
    if customer_id is not None:
        rows = rows.filter(contract__customer_id=customer_id)
    if owner_id is not None:
        rows = rows.filter(contract__owner_id=owner_id)
    found = list(rows)
    for row in found:
        row.days_overdue = (today - row.due_date).days
        row.bucket = bucket_of(row.days_overdue)
    return found


def overdue_totals(rows: list[Instalment]) -> dict[str, Decimal]:
    """Outstanding of `overdue_instalments` rows per ageing bucket (every bucket present, zero when empty)."""
    totals = {key: ZERO for key, *_rest in BUCKETS}
    for row in rows:
        totals[row.bucket] += row.outstanding
    return totals


def ageing_summary(*, user, group_by: str = "customer", today: datetime.date | None = None) -> list[dict]:
    """Overdue outstanding per customer, owner or team (org unit of the customer), split into the ageing buckets.
    One grouped query: sums per bucket computed by the database."""
    today = today or timezone.localdate()
    keys = {
        "customer": ("contract__customer_id", "contract__customer__name"),
        "owner": ("contract__owner_id", "contract__owner__username"),
        "team": ("contract__customer__org_unit_id", "contract__customer__org_unit__name"),
    }
    if group_by not in keys:
        raise ValidationError({"group_by": _("Choose one of: %(choices)s.") % {"choices": ", ".join(keys)}})
    key, label = keys[group_by]
    outstanding = F("amount") - F("paid_amount")
    money = DecimalField(max_digits=18, decimal_places=2)
    sums = {}
    for bucket, _label, low, high in BUCKETS:
        condition = Q(due_date__lte=today - datetime.timedelta(days=max(low, 1)))
        if high is not None:
            condition &= Q(due_date__gte=today - datetime.timedelta(days=high))
        sums[bucket] = Sum(Case(When(condition, then=outstanding), default=Value(ZERO), output_field=money))
    rows = (
        instalment_queryset(user=user)
        .filter(due_date__lt=today, paid_amount__lt=F("amount"))
        .exclude(contract__status__in=[Contract.Status.DRAFT, Contract.Status.TERMINATED])
        .values(key, label)
        .annotate(total=Sum(outstanding, output_field=money), count=Count("id"), **sums)
        .order_by("-total", key)
    )
    return [
        {
            "id": row[key],
            "name": row[label] or "",
            "total": _money(row["total"]),
            "count": row["count"],
            **{bucket: _money(row[bucket]) for bucket, *_rest in BUCKETS},
        }
        for row in rows
    ]


def customer_receivables(*, user, customer, today: datetime.date | None = None) -> dict:
    """The customer 360 panel: contract value, planned, received, outstanding and overdue by bucket.

    `customer` is an instance with owner_id, org_unit_id and sensitive loaded (the 360 view's). Contracts and
    instalments are visible through their customer (customer_scoped); whether this customer passes that rule is
    decided here on its columns (customer_in_scope), not assumed from the caller: then the customer's own rows need
    no join to customers and no scope filter, else the panel is empty. Rows from values(), no instances; a customer
    without a signed or active contract (most of them) costs one statement."""
    today = today or timezone.localdate()
    visible = customer_in_scope(user, customer)
    counted = Contract.objects.filter(customer_id=customer.pk).exclude(status__in=UNCOUNTED)
    contracts = counted if visible and user.has_perm("sales.view_contract") else Contract.objects.none()
    totals = contracts.aggregate(n=Count("id"), v=Sum("value"))
    contract_value = totals["v"] or ZERO
    planned, overdue = {"a": None, "p": None}, []
    if totals["n"] or not user.has_perm("sales.view_contract"):
        # Built only here: most customers have no counted contract, and building it cost them 0.1 ms for nothing.
        instalments = Instalment.objects.filter(contract__customer_id=customer.pk).exclude(
            contract__status__in=UNCOUNTED
        )
        if not (visible and user.has_perm("sales.view_instalment")):
            instalments = Instalment.objects.none()
        if totals["n"]:  # the planned sums count only instalments of contracts the user sees (as instalment_queryset)
            planned = instalments.aggregate(a=Sum("amount"), p=Sum("paid_amount"))
        overdue = list(
            instalments.filter(due_date__lt=today, paid_amount__lt=F("amount"))
            .order_by("due_date", "id")
            .values("contract_id", "contract__number", "sequence", "due_date", "amount", "paid_amount")
        )
        for row in overdue:
            row["outstanding"] = row["amount"] - row["paid_amount"]
            row["days_overdue"] = (today - row["due_date"]).days
            row["bucket"] = bucket_of(row["days_overdue"])
    # else: no signed or active contract the user may see (most customers, seen on every 360 view): then no
    # instalment of this customer is visible either (same scope, same contract statuses), so one statement answers.
    buckets = {key: ZERO for key, *_rest in BUCKETS}
    for row in overdue:
        buckets[row["bucket"]] += row["outstanding"]
    paid = planned["p"] or ZERO
    return {
        "contracts": totals["n"],
        "contract_value": str(_money(contract_value)),
        "planned": str(_money(planned["a"] or ZERO)),
        "received": str(_money(paid)),
        "outstanding": str(_money((planned["a"] or ZERO) - paid)),
        "overdue": str(_money(sum(buckets.values(), ZERO))),
        "buckets": [
            {"key": bucket, "label": str(label), "amount": str(_money(buckets[bucket]))}
            for bucket, label, *_rest in BUCKETS
        ],
        "overdue_instalments": [
            {
                "contract": row["contract__number"],
                "contract_id": row["contract_id"],
                "sequence": row["sequence"],
                "due_date": row["due_date"].isoformat(),
                "outstanding": str(row["outstanding"]),
                "days_overdue": row["days_overdue"],
            }
            for row in overdue[:10]
        ],
    }


# --- writes --------------------------------------------------------------------------------------------------------


def payment_plan_set(*, actor, contract_id: int, version: int, instalments: list[dict], note: str = "") -> Contract:
    """Replace the contract's payment plan. The instalments must add up to the contract value, or `note` says why
    not (e.g. a deposit paid outside the contract). Refused (409) once payments were recorded."""
    require(actor, "sales.change_contract")
    with transaction.atomic():
        contract = contract_locked(actor, contract_id, version)
        if contract.status == Contract.Status.TERMINATED:
            raise Conflict(_("A terminated contract has no payment plan to change."))
        if contract.payments.exists():
            raise Conflict(_("Payments were recorded against this plan; it can no longer be replaced."))
        if not instalments:
            raise ValidationError({"instalments": _("Give at least one instalment.")})
        rows = []
        for index, data in enumerate(instalments):
            row = Instalment(
                contract=contract,
                sequence=index + 1,
                due_date=parse_date(data.get("due_date"), f"instalments.{index}.due_date"),
                amount=data.get("amount"),
                note=(data.get("note") or "")[:200],
            )
            full_clean(row, exclude=["contract"], prefix=f"instalments.{index}.")
            rows.append(row)
        total = sum((Decimal(r.amount) for r in rows), ZERO)
        if total != contract.value and not note.strip():
            raise ValidationError(
                {
                    "instalments": _(
                        "The instalments add up to %(total)s but the contract value is %(value)s; "
                        "correct them or give a note saying why."
                    )
                    % {"total": total, "value": contract.value}
                }
            )
        before = [[i.due_date.isoformat(), str(i.amount)] for i in contract.instalments.all()]
        contract.instalments.all().delete()
        Instalment.objects.bulk_create(rows)
        before_note = contract.plan_note
        contract.plan_note = note
        save_versioned(contract, ["plan_note"])
        audit.record(
            actor=actor,
            action="payment_plan",
            instance=contract,
            changes={
                "instalments": [before, [[r.due_date.isoformat(), str(r.amount)] for r in rows]],
                "plan_note": [before_note, note],
            },
        )
    return contract


def payment_record(
    *,
    actor,
    instalment_id: int,
    amount: Decimal,
    paid_on: datetime.date,
    method: str = Payment.Method.TRANSFER,
    reference: str = "",
) -> Payment:
    """Money received against one instalment (partial payments allowed); more than is outstanding → 422."""
    require(actor, "sales.add_payment")
    with transaction.atomic():
        instalment = (
            instalment_queryset(user=actor)
            .select_for_update(of=("self",))
            .select_related("contract__customer")  # PaymentOut names the customer
            .filter(pk=instalment_id)
            .first()
        )
        if instalment is None:
            raise ValidationError({"instalment_id": _("No such instalment in your scope.")})
        if instalment.contract.status in (Contract.Status.DRAFT, Contract.Status.TERMINATED):
            raise Conflict(_("Payments are recorded only against signed, active or expired contracts."))
        payment = Payment(
            instalment=instalment,
            contract=instalment.contract,
            amount=amount,
            paid_on=paid_on,
            method=method,
            reference=reference,
            recorded_by=actor,
        )
        full_clean(payment, exclude=["instalment", "contract", "recorded_by"])
        if payment.paid_on > timezone.localdate():
            raise ValidationError({"paid_on": _("A payment cannot be dated in the future.")})
        if Decimal(payment.amount) > instalment.outstanding:
            raise ValidationError(
                {
                    "amount": _("Only %(outstanding)s is outstanding on this instalment.")
                    % {"outstanding": instalment.outstanding}
                }
            )
        payment.save()
        Instalment.objects.filter(pk=instalment.pk).update(paid_amount=F("paid_amount") + payment.amount)
        audit.record(
            actor=actor,
            action="payment",
            instance=instalment.contract,
            changes={
                "payment": [
                    None,
                    {
                        "instalment": instalment.sequence,
                        "amount": str(payment.amount),
                        "paid_on": payment.paid_on.isoformat(),
                        "reference": reference,
                    },
                ]
            },
        )
    return payment


def instalment_get(*, user, instalment_id: int) -> Instalment:
    row = instalment_queryset(user=user).select_related("contract__customer").filter(pk=instalment_id).first()
    if row is None:
        raise Http404
    return row


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(Decimal("0.01"))
