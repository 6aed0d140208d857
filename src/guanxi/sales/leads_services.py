"""Every write of leads: create, update (qualify / disqualify), assign, and convert into customer + contact + deal."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import Conflict
from guanxi.core.permissions import require
from guanxi.core.roles import ACCOUNT_MANAGER, user_roles
from guanxi.core.selectors import org_unit_of, users_in_scope
from guanxi.core.versioning import lock, save_if_version, update_versioned
from guanxi.customers import duplicates
from guanxi.customers import selectors as customer_selectors
from guanxi.customers import services as customer_services
from guanxi.customers.models import Contact, Customer
from guanxi.customers.validators import normalize_credit_code, normalize_mobile
from guanxi.sales import deals_services, leads_selectors
from guanxi.sales.models import Lead

LEAD_FIELDS = (
    "source",
    "kind",
    "company_name",
    "credit_code",
    "contact_name",
    "contact_title",
    "mobile",
    "email",
    "address",
    "need",
    "estimated_amount",
    "status",
    "disqualified_reason",
)
# Duplicate reasons strong enough to convert into the existing customer without asking (same code, same name).
STRONG_MATCH = duplicates.SCORE_SAME_NAME


def lead_create(*, actor, data: dict) -> Lead:
    """A new lead. The owner defaults to an account-manager creator; others (a service agent taking a call) leave it
    unassigned in their unit, for a team lead to assign."""
    require(actor, "sales.add_lead")
    data = _lead_input(data)
    if data.get("status") == Lead.Status.CONVERTED:
        raise ValidationError({"status": _("A lead becomes converted only by converting it.")})
    owner_id = data.pop("owner_id", None)
    if owner_id is None and ACCOUNT_MANAGER in user_roles(actor):
        owner_id = actor.pk
    elif owner_id is not None and not users_in_scope(user=actor).filter(pk=owner_id).exists():
        raise ValidationError({"owner_id": _("No such user in your scope.")})
    with transaction.atomic():
        lead = Lead(**{key: value for key, value in data.items() if key in LEAD_FIELDS})
        lead.owner_id = owner_id
        lead.org_unit = deals_services.unit_of(owner_id) if owner_id else org_unit_of(actor)
        lead.created_by = actor
        _full_clean(lead)
        lead.save()
        audit.record(actor=actor, action="create", instance=lead, changes=_created(lead))
    return lead


def lead_update(*, actor, lead_id: int, version: int, data: dict) -> Lead:
    """Edit a lead or move its qualification status (new → contacted → qualified, or disqualified with a reason)."""
    require(actor, "sales.change_lead")
    data = _lead_input(data)

    def apply(lead: Lead) -> None:
        if lead.status == Lead.Status.CONVERTED:
            raise Conflict(_("This lead is already converted."))
        if data.get("status") == Lead.Status.CONVERTED:
            raise ValidationError({"status": _("A lead becomes converted only by converting it.")})
        for key in (k for k in data if k in LEAD_FIELDS):
            setattr(lead, key, data[key])
        if lead.status != Lead.Status.DISQUALIFIED:
            lead.disqualified_reason = ""
        _full_clean(lead)

    return update_versioned(
        leads_selectors.lead_queryset(user=actor), lead_id, actor=actor, version=version, apply=apply
    )


def lead_assign(*, actor, lead_id: int, owner_id: int, version: int | None = None) -> Lead:
    """Give the lead to a user in the actor's scope (分配); the lead moves to that user's team. Audited."""
    require(actor, "sales.assign_lead")
    with transaction.atomic():
        lead = _locked(actor, lead_id, version)
        if lead.status == Lead.Status.CONVERTED:
            raise Conflict(_("This lead is already converted."))
        if not users_in_scope(user=actor).filter(pk=owner_id).exists():
            raise ValidationError({"owner_id": _("No such user in your scope.")})
        if lead.owner_id == owner_id:
            return lead
        before_owner, before_unit = lead.owner_id, lead.org_unit_id
        lead.owner_id = owner_id
        lead.org_unit = deals_services.unit_of(owner_id)
        save_if_version(lead, lead.version, ["owner", "org_unit"])
        audit.record(
            actor=actor,
            action="assign",
            instance=lead,
            changes={"owner": [before_owner, owner_id], "org_unit": [before_unit, lead.org_unit_id]},
        )
    return lead


def lead_convert(
    *,
    actor,
    lead_id: int,
    version: int | None = None,
    customer_id: int | None = None,
    new_customer: bool = False,
    opportunity: dict | None = None,
) -> Lead:
    """Convert a lead in one transaction into a customer (an existing one, given or found by the duplicate check, or a
    new one), a contact on it and a deal; the lead keeps links to all three. A second conversion is a Conflict.

    Without `customer_id` or `new_customer`: a strong duplicate (same credit code, same organisation name) is used; a
    weaker one (same phone, similar name) stops the conversion with the candidates named under `customer_id`, so the
    user chooses. Any failure leaves nothing behind."""
    require(actor, "sales.change_lead")
    require(actor, "sales.add_opportunity")
    opportunity = dict(opportunity or {})
    with transaction.atomic():
        lead = _locked(actor, lead_id, version)
        if lead.status == Lead.Status.CONVERTED:
            raise Conflict(_("This lead is already converted."))
        if lead.status == Lead.Status.DISQUALIFIED:
            raise Conflict(_("A disqualified lead cannot be converted; reopen it first."))
        customer = _customer_for(actor, lead, customer_id, new_customer)
        contact = _contact_for(actor, lead, customer)
        opportunity.setdefault("name", default_deal_name(lead))
        if opportunity.get("amount") is None:
            opportunity["amount"] = lead.estimated_amount or Decimal("0")
        if opportunity.get("expected_close") is None:
            raise ValidationError({"expected_close": _("This field is required.")})
        opportunity.setdefault("owner_id", lead.owner_id or actor.pk)
        deal = deals_services.opportunity_create(
            actor=actor, data={**opportunity, "customer_id": customer.pk, "owner_id": opportunity["owner_id"]}
        )
        before = audit.snapshot(lead)
        lead.status = Lead.Status.CONVERTED
        lead.customer = customer
        lead.contact = contact
        lead.opportunity = deal
        lead.converted_at = timezone.now()
        save_if_version(lead, lead.version, ["status", "customer", "contact", "opportunity", "converted_at"])
        audit.record(actor=actor, action="convert", instance=lead, changes=audit.diff(before, audit.snapshot(lead)))
    return lead


def default_deal_name(lead: Lead) -> str:
    """The name a converted lead's deal gets unless one is given: the need, else "<company> deal"."""
    return lead.need.strip()[:200] or _("%(name)s deal") % {"name": lead.company_name}


def strong_match(matches: list[duplicates.DuplicateMatch]) -> Customer | None:
    """The existing customer a conversion uses without asking: the best live match with the same code or name."""
    return next((m.customer for m in matches if m.score >= STRONG_MATCH and m.customer.merged_into_id is None), None)


def conversion_candidates(*, user, lead: Lead) -> list[duplicates.DuplicateMatch]:
    """Existing customers the lead looks like (the duplicate check of customers), for the convert page."""
    return duplicates.likely_duplicates_of(
        user=user, name=lead.company_name, kind=lead.kind, credit_code=lead.credit_code or None, mobile=lead.mobile
    )


# --- helpers -------------------------------------------------------------------------------------------------------


def _customer_for(actor, lead: Lead, customer_id: int | None, new_customer: bool) -> Customer:
    if customer_id is not None:
        customer = customer_selectors.customer_queryset(user=actor).filter(pk=customer_id).first()
        if customer is None or customer.merged_into_id:
            raise ValidationError({"customer_id": _("No such customer.")})
        return customer
    if not new_customer:
        matches = conversion_candidates(user=actor, lead=lead)
        strong = strong_match(matches)
        if strong is not None:
            return strong
        if matches:
            names = "、".join(m.customer.name for m in matches[:5])
            raise ValidationError(
                {
                    "customer_id": _(
                        "This lead looks like existing customers (%(names)s): choose one, or confirm a new customer."
                    )
                    % {"names": names}
                }
            )
    data = {
        "name": lead.company_name,
        "kind": lead.kind,
        "credit_code": lead.credit_code or None,
        "address": lead.address,
        "stage": Customer.Stage.PROSPECT,
    }
    if lead.owner_id:
        data["owner_id"] = lead.owner_id
    return customer_services.customer_create(actor=actor, data=data)


def _contact_for(actor, lead: Lead, customer: Customer) -> Contact | None:
    """The lead's contact person on the customer: an existing contact with the same mobile, else a new one."""
    if not lead.contact_name:
        return None
    if lead.mobile:
        existing = Contact.objects.filter(customer=customer, mobile=lead.mobile).first()
        if existing:
            return existing
    return customer_services.contact_create(
        actor=actor,
        customer_id=customer.pk,
        data={"name": lead.contact_name, "title": lead.contact_title, "mobile": lead.mobile, "email": lead.email},
    )


def _lead_input(data: dict) -> dict:
    data = dict(data)
    if "credit_code" in data:
        data["credit_code"] = normalize_credit_code(data["credit_code"] or "")
    if "mobile" in data:
        data["mobile"] = normalize_mobile(data["mobile"] or "")
    for key in LEAD_FIELDS:
        if key in data and data[key] is None and key != "estimated_amount":
            data[key] = ""
        if isinstance(data.get(key), str):
            data[key] = data[key].strip()
    return data


def _locked(actor, lead_id: int, version: int | None) -> Lead:
    return lock(leads_selectors.lead_queryset(user=actor), lead_id, version)


def _full_clean(lead: Lead) -> None:
    try:
        lead.full_clean(exclude=["customer", "contact", "opportunity", "owner", "org_unit"])
    except ValidationError as exc:
        raise ValidationError({{"owner": "owner_id"}.get(k, k): v for k, v in exc.message_dict.items()}) from exc


def _created(instance) -> dict:
    return {name: [None, value] for name, value in audit.snapshot(instance).items() if value not in (None, "", False)}
