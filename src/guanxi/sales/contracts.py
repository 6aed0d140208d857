"""Contracts (C5): reads scoped through the customer; writes validated, versioned, audited; status transitions."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import Conflict
from guanxi.core.models import OrgUnit
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.permissions import require
from guanxi.core.versioning import save_versioned, update_versioned
from guanxi.sales import contracts_text
from guanxi.sales.commerce_common import (
    customer_for,
    customer_scoped,
    full_clean,
    locked,
    next_number,
)
from guanxi.sales.models import Contract, ContractTemplate, Quote

CONTRACT_FIELDS = (
    "title",
    "template_id",
    "party_a",
    "party_b",
    "start_date",
    "end_date",
    "value",
    "terms",
    "renewal_notice_days",
)
S = Contract.Status
# status → the statuses it may move to (anything else: 409).
TRANSITIONS = {
    S.DRAFT: {S.SIGNED, S.TERMINATED},
    S.SIGNED: {S.ACTIVE, S.TERMINATED},
    S.ACTIVE: {S.EXPIRED, S.TERMINATED},
    S.EXPIRED: set(),
    S.TERMINATED: set(),
}
LIVE = (S.SIGNED, S.ACTIVE)

# --- reads ---------------------------------------------------------------------------------------------------------


def contract_queryset(*, user) -> QuerySet[Contract]:
    if not user.has_perm("sales.view_contract"):
        return Contract.objects.none()
    return customer_scoped(Contract.objects.all(), user)


def customer_contracts(*, user, customer) -> QuerySet[Contract]:
    """contract_queryset(user) narrowed to a customer the caller already sees (e.g. the 360 view): a contract is
    visible through its customer, so the customer's own rows need only the permission, no scope join."""
    if not user.has_perm("sales.view_contract"):
        return Contract.objects.none()
    return Contract.objects.filter(customer_id=customer.pk)


def contract_list(
    *, user, customer_id: int | None = None, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Page:
    contracts = contract_queryset(user=user).select_related("customer", "owner")
    if customer_id is not None:
        contracts = contracts.filter(customer_id=customer_id)
    if status:
        contracts = contracts.filter(status=status)
    return keyset_page(contracts, ordering="-created_at", cursor=cursor, limit=limit)


def contract_get(*, user, contract_id: int) -> Contract:
    contract = (
        contract_queryset(user=user)
        .select_related("customer", "owner", "quote", "template")
        .prefetch_related("attachments", "instalments")
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise Http404
    return contract


def contract_locked(actor, contract_id: int, version: int | None) -> Contract:
    """A contract in the actor's scope, locked for the write under way; 409 when `version` is stale."""
    return locked(contract_queryset(user=actor), contract_id, version)


def contract_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and contract_queryset(user=user).filter(pk=int(object_id)).exists()


def expiring_contracts(*, user, within_days: int = 60, today: datetime.date | None = None) -> QuerySet[Contract]:
    """Signed or active contracts ending within `within_days` (today included), soonest first (到期合同)."""
    today = today or timezone.localdate()
    return (
        contract_queryset(user=user)
        .filter(status__in=LIVE, end_date__gte=today, end_date__lte=today + datetime.timedelta(days=within_days))
        .select_related("customer", "owner")
        .order_by("end_date", "id")
    )


def template_list(*, active: bool | None = True) -> QuerySet[ContractTemplate]:
    templates = ContractTemplate.objects.all()
    return templates.filter(active=active) if active is not None else templates


# --- writes --------------------------------------------------------------------------------------------------------


def contract_create(*, actor, data: dict, quote: Quote | None = None) -> Contract:
    """A draft contract for a customer the actor may see; with a template, its terms are rendered from it."""
    require(actor, "sales.add_contract")
    customer_id = data.pop("customer_id", None)
    with transaction.atomic():
        customer = customer_for(actor, customer_id)
        contract = Contract(customer=customer, owner=actor, quote=quote)
        for key in (k for k in data if k in CONTRACT_FIELDS):
            setattr(contract, key, data[key])
        contract.party_a = contract.party_a or company_name()
        contract.party_b = contract.party_b or customer.name
        contract.number = "PENDING"
        _check_template(contract)
        _check_period(contract)
        full_clean(contract, exclude=["customer", "owner", "quote", "template"])
        contract.number = next_number("HT")
        if contract.template_id and not data.get("terms"):
            contract.terms = contracts_text.render(
                contract.template.body, contracts_text.merge_values(contract), "template_id"
            )
        contract.save()
        changes = {k: [None, v] for k, v in audit.snapshot(contract).items() if v not in (None, "")}
        audit.record(actor=actor, action="create", instance=contract, changes=changes)
    return contract


def contract_update(*, actor, contract_id: int, version: int, data: dict) -> Contract:
    """Edit a draft contract; a signed one only takes a new title or renewal reminder period (else 409)."""
    require(actor, "sales.change_contract")
    with transaction.atomic():
        contract = contract_locked(actor, contract_id, version)
        fields = [k for k in data if k in CONTRACT_FIELDS]
        if contract.status != S.DRAFT and set(fields) - {"title", "renewal_notice_days"}:
            raise Conflict(_("A signed contract cannot be changed; only its title and renewal reminder can."))
        before = audit.snapshot(contract)
        for key in fields:
            setattr(contract, key, data[key])
        _check_template(contract)
        _check_period(contract)
        full_clean(contract, exclude=["customer", "owner", "quote", "template"])
        if contract.template_id and "terms" not in data and contract.status == S.DRAFT:
            contract.terms = contracts_text.render(
                contract.template.body, contracts_text.merge_values(contract), "template_id"
            )
        changes = audit.diff(before, audit.snapshot(contract))
        changes.pop("version", None)
        changes.pop("updated_at", None)
        if not changes:
            return contract
        if "end_date" in changes:
            contract.renewal_reminded_for = None  # a new end date gets its own reminder
            changes["renewal_reminded_for"] = [before.get("renewal_reminded_for"), None]
        save_versioned(contract, list(changes))
        audit.record(actor=actor, action="update", instance=contract, changes=changes)
    return contract


def contract_transition(
    *,
    actor,
    contract_id: int,
    version: int | None,
    to: str,
    signed_on: datetime.date | None = None,
    reason: str = "",
) -> Contract:
    """Move a contract along draft → signed → active → expired, or to terminated; other moves are refused (409)."""
    require(actor, "sales.change_contract")
    with transaction.atomic():
        contract = contract_locked(actor, contract_id, version)
        return _move(actor, contract, to, signed_on=signed_on, reason=reason)


def contract_from_quote(*, actor, quote_id: int, version: int, data: dict) -> Contract:
    """The accepted quote becomes a draft contract in one action: customer, value (the quote's total), title."""
    from guanxi.sales.quotes import quote_locked

    require(actor, "sales.add_contract")
    with transaction.atomic():
        quote = quote_locked(actor, quote_id, version)
        if quote.status != Quote.Status.ACCEPTED:
            raise Conflict(_("Only an accepted quote can become a contract."))
        if Contract.objects.filter(quote=quote).exists():
            raise Conflict(_("This quote already has a contract."))
        values = {"title": quote.title, "value": quote.total, **data, "customer_id": quote.customer_id}
        return contract_create(actor=actor, data=values, quote=quote)


def expire_ended_contracts(*, today: datetime.date | None = None) -> int:
    """Active contracts whose end date has passed become expired (the scheduled job; safe to run twice)."""
    today = today or timezone.localdate()
    count = 0
    for contract in Contract.objects.filter(status=S.ACTIVE, end_date__lt=today).select_related("customer"):
        with transaction.atomic():
            locked = Contract.objects.select_for_update().filter(pk=contract.pk, status=S.ACTIVE).first()
            if locked is not None:
                _move(None, locked, S.EXPIRED)
                count += 1
    return count


def company_name() -> str:
    """Party A by default: GUANXI_COMPANY_NAME, else the top unit of the organisation."""
    configured = getattr(settings, "GUANXI_COMPANY_NAME", "")
    if configured:
        return configured
    top = OrgUnit.objects.filter(parent__isnull=True).order_by("id").first()
    return top.name if top else ""


def template_create(*, actor, data: dict) -> ContractTemplate:
    require(actor, "sales.add_contracttemplate")
    with transaction.atomic():
        template = ContractTemplate(
            name=data.get("name", ""), body=data.get("body", ""), active=data.get("active", True)
        )
        full_clean(template)
        contracts_text.check_template(template.body)
        if ContractTemplate.objects.filter(name=template.name).exists():
            raise ValidationError({"name": _("Another template already has this name.")})
        template.save()
        audit.record(actor=actor, action="create", instance=template, changes={"name": [None, template.name]})
    return template


def template_update(*, actor, template_id: int, version: int, data: dict) -> ContractTemplate:
    require(actor, "sales.change_contracttemplate")

    def apply(template: ContractTemplate) -> None:
        for key in ("name", "body", "active"):
            if key in data:
                setattr(template, key, data[key])
        full_clean(template)
        contracts_text.check_template(template.body)
        if ContractTemplate.objects.filter(name=template.name).exclude(pk=template.pk).exists():
            raise ValidationError({"name": _("Another template already has this name.")})

    return update_versioned(ContractTemplate.objects.all(), template_id, actor=actor, version=version, apply=apply)


# --- helpers -------------------------------------------------------------------------------------------------------


def _move(actor, contract: Contract, to: str, *, signed_on=None, reason: str = "") -> Contract:
    if to not in S.values:
        raise ValidationError({"status": _("Unknown status.")})
    if to not in TRANSITIONS[contract.status]:
        raise Conflict(
            _("A contract cannot go from “%(from)s” to “%(to)s”.")
            % {"from": contract.get_status_display(), "to": S(to).label}
        )
    before = contract.status
    fields = ["status"]
    contract.status = to
    if to == S.SIGNED:
        contract.signed_on = signed_on or timezone.localdate()
        fields.append("signed_on")
    if to == S.TERMINATED:
        if not reason.strip():
            raise ValidationError({"reason": _("Say why the contract is terminated.")})
        contract.termination_reason = reason
        fields.append("termination_reason")
    save_versioned(contract, fields)
    changes = {"status": [before, to]}
    if reason:
        changes["termination_reason"] = [None, reason]
    audit.record(actor=actor, action=to, instance=contract, changes=changes)
    return contract


def _check_template(contract: Contract) -> None:
    if (
        contract.template_id
        and not ContractTemplate.objects.filter(Q(pk=contract.template_id) & Q(active=True)).exists()
    ):
        raise ValidationError({"template_id": _("No such template.")})


def _check_period(contract: Contract) -> None:
    if contract.start_date and contract.end_date and contract.end_date < contract.start_date:
        raise ValidationError({"end_date": _("The end date is before the start date.")})
