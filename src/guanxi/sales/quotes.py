"""Quotes (C4): reads scoped through the customer, writes validated, versioned and audited; revisions; approval."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import Conflict
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.permissions import require
from guanxi.core.roles import TEAM_LEAD, user_roles
from guanxi.core.versioning import save_versioned
from guanxi.sales import products
from guanxi.sales.commerce_common import customer_for, customer_scoped, full_clean, locked, next_number
from guanxi.sales.models import Product, Quote, QuoteApproval, QuoteLine
from guanxi.sales.quotes_pricing import line_amounts, totals

QUOTE_FIELDS = ("title", "valid_until", "notes", "opportunity_id")
LINE_FIELDS = ("product_id", "description", "quantity", "unit_price", "discount_percent")

# Highest discount (%) a user may give without approval: by manager tier (core Profile) and by role; the higher wins.
# Override with GUANXI_DISCOUNT_LIMITS_BY_TIER / GUANXI_DISCOUNT_LIMITS_BY_ROLE in settings.
DISCOUNT_LIMITS_BY_TIER = {
    "": Decimal("5"),
    "junior": Decimal("5"),
    "senior": Decimal("10"),
    "principal": Decimal("15"),
}
DISCOUNT_LIMITS_BY_ROLE = {
    "team_lead": Decimal("20"),
    "branch_manager": Decimal("30"),
    "executive": Decimal("100"),
    "admin": Decimal("100"),
}

# --- reads ---------------------------------------------------------------------------------------------------------


def quote_queryset(*, user) -> QuerySet[Quote]:
    if not user.has_perm("sales.view_quote"):
        return Quote.objects.none()
    return customer_scoped(Quote.objects.all(), user)


def customer_quotes(*, user, customer) -> QuerySet[Quote]:
    """quote_queryset(user) narrowed to a customer the caller already sees (see contracts.customer_contracts)."""
    if not user.has_perm("sales.view_quote"):
        return Quote.objects.none()
    return Quote.objects.filter(customer_id=customer.pk)


def quote_list(
    *,
    user,
    customer_id: int | None = None,
    status: str | None = None,
    approval: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    quotes = quote_queryset(user=user).select_related("customer", "owner")
    if customer_id is not None:
        quotes = quotes.filter(customer_id=customer_id)
    if status:
        quotes = quotes.filter(status=status)
    if approval:
        quotes = quotes.filter(approval=approval)
    return keyset_page(quotes, ordering="-created_at", cursor=cursor, limit=limit)


def quote_get(*, user, quote_id: int) -> Quote:
    """One quote with its lines and approvals; 404 when absent or out of scope."""
    quote = (
        quote_queryset(user=user)
        .select_related("customer", "owner", "opportunity", "previous")
        .prefetch_related("lines__product", "approvals__requested_by", "approvals__decided_by")
        .filter(pk=quote_id)
        .first()
    )
    if quote is None:
        raise Http404
    return quote


def quote_revisions(*, user, quote: Quote) -> QuerySet[Quote]:
    return quote_queryset(user=user).filter(number=quote.number).order_by("revision")


def approvals_waiting_for(*, user) -> QuerySet[Quote]:
    """Quotes pending approval that `user` may decide (in scope, with the permission, not their own request)."""
    if not user.has_perm("sales.approve_quote"):
        return Quote.objects.none()
    return (
        quote_queryset(user=user)
        .filter(approval=Quote.Approval.PENDING)
        .exclude(owner=user)
        .select_related("customer", "owner")
        .order_by("updated_at", "id")
    )


def discount_limit(user) -> Decimal:
    """The highest line discount (%) `user` may give without approval."""
    by_tier = getattr(settings, "GUANXI_DISCOUNT_LIMITS_BY_TIER", DISCOUNT_LIMITS_BY_TIER)
    by_role = getattr(settings, "GUANXI_DISCOUNT_LIMITS_BY_ROLE", DISCOUNT_LIMITS_BY_ROLE)
    profile = getattr(user, "profile", None)
    limits = [Decimal(by_tier.get(profile.manager_tier if profile else "", by_tier.get("", 0)))]
    limits += [Decimal(by_role[role]) for role in user_roles(user) if role in by_role]
    return max(limits)


def quote_locked(actor, quote_id: int, version: int | None) -> Quote:
    """A quote in the actor's scope, locked for the write under way; 409 when `version` is stale."""
    return locked(quote_queryset(user=actor), quote_id, version)


def decision_refusal(user, quote: Quote, approval: QuoteApproval) -> str | None:
    """Why `user`, who holds sales.approve_quote, may not decide the pending `approval` of `quote`; None: they may."""
    if approval.requested_by_id == user.pk or quote.owner_id == user.pk:
        return _("You cannot approve your own quote.")
    if approval.max_discount > discount_limit(user):
        return _("This discount is above your own limit; ask your manager.")
    return None


def can_decide(user, quote: Quote) -> bool:
    """Whether the page offers `user` approve/reject: a pending approval that quote_decide would let them decide.
    `quote` comes from quote_get (approvals prefetched)."""
    if quote.approval != Quote.Approval.PENDING or not user.has_perm("sales.approve_quote"):
        return False
    pending = [a for a in quote.approvals.all() if a.status == QuoteApproval.Status.PENDING]
    return bool(pending) and decision_refusal(user, quote, pending[0]) is None


def approvers_for(quote: Quote) -> QuerySet:
    """The team leads of the owner's team (or of the nearest unit above it that has one)."""
    unit = getattr(getattr(quote.owner, "profile", None), "org_unit", None)
    leads = get_user_model().objects.filter(groups__name=TEAM_LEAD, is_active=True)
    if unit is None:
        return leads.none()
    for unit_id in reversed(unit.ancestor_ids()):
        found = leads.filter(profile__org_unit_id=unit_id)
        if found.exists():
            return found
    return leads.none()


# --- writes --------------------------------------------------------------------------------------------------------


def quote_create(*, actor, data: dict) -> Quote:
    """A draft quote for a customer the actor may see, with its lines priced from the price lists by default."""
    require(actor, "sales.add_quote")
    lines = data.pop("lines", None) or []
    customer_id = data.pop("customer_id", None)
    with transaction.atomic():
        customer = customer_for(actor, customer_id)
        quote = Quote(customer=customer, owner=actor, **{k: v for k, v in data.items() if k in QUOTE_FIELDS})
        _check_opportunity(actor, quote)
        quote.number = "PENDING"
        full_clean(quote, exclude=["customer", "owner", "previous"])
        quote.number = next_number("QT")
        quote.save()
        _replace_lines(quote, lines)
        audit.record(actor=actor, action="create", instance=quote, changes=_quote_snapshot(quote, created=True))
    return quote


def quote_update(*, actor, quote_id: int, version: int, data: dict) -> Quote:
    """Edit a draft quote (fields and, with `lines`, all its lines). Sent quotes are revised, not edited (409)."""
    require(actor, "sales.change_quote")
    lines = data.pop("lines", None)
    with transaction.atomic():
        quote = quote_locked(actor, quote_id, version)
        _require_editable(quote)
        before = _quote_snapshot(quote)
        for key in (k for k in data if k in QUOTE_FIELDS):
            setattr(quote, key, data[key])
        _check_opportunity(actor, quote)
        full_clean(quote, exclude=["customer", "owner", "previous"])
        if lines is not None:
            _replace_lines(quote, lines)
        changes = audit.diff(before, _quote_snapshot(quote))
        if not changes:
            return quote
        save_versioned(quote, [*QUOTE_FIELDS[:-1], "opportunity"])
        audit.record(actor=actor, action="update", instance=quote, changes=changes)
    return quote


def quote_request_approval(*, actor, quote_id: int, version: int, reason: str = "") -> QuoteApproval:
    """Ask the team lead to approve a discount above the owner's limit (审批申请)."""
    require(actor, "sales.change_quote")
    with transaction.atomic():
        quote = quote_locked(actor, quote_id, version)
        _require_editable(quote)
        if quote.approval not in (Quote.Approval.REQUIRED, Quote.Approval.REJECTED):
            raise Conflict(_("This quote does not need an approval now."))
        max_discount = _max_discount(quote)
        approval = QuoteApproval.objects.create(
            quote=quote,
            requested_by=actor,
            max_discount=max_discount,
            limit=discount_limit(quote.owner),
            reason=reason,
        )
        before = quote.approval
        quote.approval = Quote.Approval.PENDING
        save_versioned(quote, ["approval"])
        _notify(
            approvers_for(quote).exclude(pk=actor.pk),
            "quote_approval",
            _("Approve the discount of quote %(number)s") % {"number": quote.number},
            _("%(owner)s asks for %(discount)s %% on “%(title)s” for %(customer)s.")
            % {
                "owner": actor.username,
                "discount": max_discount,
                "title": quote.title,
                "customer": quote.customer.name,
            },
            quote,
        )
        audit.record(
            actor=actor,
            action="request_approval",
            instance=quote,
            changes={
                "approval": [before, quote.approval],
                "max_discount": [None, str(max_discount)],
                "reason": [None, reason],
            },
        )
    return approval


def quote_decide(*, actor, quote_id: int, version: int, approve: bool, comment: str = "") -> QuoteApproval:
    """The team lead approves or rejects the pending discount, with a comment (required to reject)."""
    require(actor, "sales.approve_quote")
    with transaction.atomic():
        quote = quote_locked(actor, quote_id, version)
        if quote.approval != Quote.Approval.PENDING:
            raise Conflict(_("No approval is pending for this quote."))
        approval = quote.approvals.select_for_update().filter(status=QuoteApproval.Status.PENDING).first()
        if approval is None:
            raise Conflict(_("No approval is pending for this quote."))
        refusal = decision_refusal(actor, quote, approval)
        if refusal:
            raise PermissionDenied(refusal)
        if not approve and not comment.strip():
            raise ValidationError({"comment": _("Say why the discount is rejected.")})
        approval.status = QuoteApproval.Status.APPROVED if approve else QuoteApproval.Status.REJECTED
        approval.decided_by = actor
        approval.decided_at = timezone.now()
        approval.comment = comment
        approval.save(update_fields=["status", "decided_by", "decided_at", "comment"])
        quote.approval = Quote.Approval.APPROVED if approve else Quote.Approval.REJECTED
        save_versioned(quote, ["approval"])
        _notify(
            get_user_model().objects.filter(pk__in={approval.requested_by_id, quote.owner_id}),
            "quote_decision",
            (_("Discount of quote %(number)s approved") if approve else _("Discount of quote %(number)s rejected"))
            % {"number": quote.number},
            comment,
            quote,
        )
        audit.record(
            actor=actor,
            action="approve" if approve else "reject",
            instance=quote,
            changes={"approval": [Quote.Approval.PENDING, quote.approval], "comment": [None, comment]},
        )
    return approval


def quote_send(*, actor, quote_id: int, version: int) -> Quote:
    """Mark a draft as sent to the customer; refused (409) while its discount awaits or failed approval."""
    require(actor, "sales.change_quote")
    with transaction.atomic():
        quote = quote_locked(actor, quote_id, version)
        if quote.status != Quote.Status.DRAFT:
            raise Conflict(_("Only a draft quote can be sent."))
        _require_cleared(quote)
        if not quote.lines.exists():
            raise ValidationError({"lines": _("Add at least one line before sending the quote.")})
        return _set_status(actor, quote, Quote.Status.SENT, "send", sent_at=timezone.now())


def quote_accept(*, actor, quote_id: int, version: int) -> Quote:
    """The customer accepted the sent quote."""
    return _decide(actor, quote_id, version, Quote.Status.ACCEPTED, "accept")


def quote_decline(*, actor, quote_id: int, version: int) -> Quote:
    """The customer declined the sent quote."""
    return _decide(actor, quote_id, version, Quote.Status.DECLINED, "decline")


def quote_revise(*, actor, quote_id: int, version: int) -> Quote:
    """A new draft revision (n+1) of a sent or declined quote, with its lines; the old one is kept read-only."""
    require(actor, "sales.change_quote")
    with transaction.atomic():
        old = quote_locked(actor, quote_id, version)
        if old.status not in (Quote.Status.SENT, Quote.Status.DECLINED):
            raise Conflict(_("Only a sent or declined quote can be revised; edit a draft directly."))
        new = Quote.objects.create(
            number=old.number,
            revision=old.revision + 1,
            previous=old,
            customer=old.customer,
            opportunity=old.opportunity,
            title=old.title,
            owner=actor if old.owner_id != actor.pk and actor.has_perm("sales.add_quote") else old.owner,
            valid_until=old.valid_until,
            notes=old.notes,
            currency=old.currency,
        )
        old_lines = list(old.lines.all())
        lines = [
            {
                "product_id": line.product_id,
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_percent": line.discount_percent,
            }
            for line in old_lines
        ]
        _replace_lines(new, lines, keep_tax=[line.tax_rate for line in old_lines])
        old_status = old.status
        old.status = Quote.Status.SUPERSEDED
        save_versioned(old, ["status"])
        audit.record(actor=actor, action="revise", instance=old, changes={"status": [old_status, old.status]})
        audit.record(actor=actor, action="create", instance=new, changes={"revision": [old.revision, new.revision]})
    return new


# --- helpers -------------------------------------------------------------------------------------------------------


def _notify(recipients, kind: str, title: str, body: str, quote: Quote) -> None:
    """An in-app notice (activities' Notification) per recipient, when the activities app is installed."""
    from django.apps import apps
    from django.urls import reverse

    if not apps.is_installed("guanxi.activities"):
        return
    notification = apps.get_model("activities", "Notification")
    url = reverse("sales:quote_detail", args=[quote.pk])
    notification.objects.bulk_create(
        notification(user=user, kind=kind, title=title[:200], body=body[:500], url=url) for user in recipients
    )


def _check_opportunity(actor, quote: Quote) -> None:
    if not quote.opportunity_id:
        return
    from guanxi.sales.models import Opportunity

    opportunity = customer_scoped(Opportunity.objects.all(), actor).filter(pk=quote.opportunity_id).first()
    if opportunity is None:
        raise ValidationError({"opportunity_id": _("No such opportunity in your scope.")})
    if opportunity.customer_id != quote.customer_id:
        raise ValidationError({"opportunity_id": _("The opportunity belongs to another customer.")})


def _require_editable(quote: Quote) -> None:
    if quote.status != Quote.Status.DRAFT:
        raise Conflict(_("This quote was sent and is read-only; create a new revision to change it."))
    if quote.approval == Quote.Approval.PENDING:
        raise Conflict(_("This quote is waiting for approval and cannot be changed now."))


def _require_cleared(quote: Quote) -> None:
    if quote.approval == Quote.Approval.PENDING:
        raise Conflict(_("The discount on this quote is waiting for approval."))
    if quote.approval in (Quote.Approval.REQUIRED, Quote.Approval.REJECTED):
        raise Conflict(_("The discount on this quote is above the limit and not approved."))


def _decide(actor, quote_id: int, version: int, status: str, action: str) -> Quote:
    require(actor, "sales.change_quote")
    with transaction.atomic():
        quote = quote_locked(actor, quote_id, version)
        if quote.status != Quote.Status.SENT:
            raise Conflict(_("Only a sent quote can be accepted or declined."))
        _require_cleared(quote)
        return _set_status(actor, quote, status, action, decided_at=timezone.now())


def _set_status(actor, quote: Quote, status: str, action: str, **stamps) -> Quote:
    before = quote.status
    quote.status = status
    for name, value in stamps.items():
        setattr(quote, name, value)
    save_versioned(quote, ["status", *stamps])
    audit.record(actor=actor, action=action, instance=quote, changes={"status": [before, status]})
    return quote


def _replace_lines(quote: Quote, lines: list[dict], keep_tax: list[Decimal] | None = None) -> None:
    """Validate every line first (nothing is written on a bad one), then replace the quote's lines and totals."""
    catalogue = Product.objects.in_bulk([line["product_id"] for line in lines if _is_id(line.get("product_id"))])
    unpriced = [
        line["product_id"] for line in lines if _is_id(line.get("product_id")) and line.get("unit_price") is None
    ]
    prices = products.price_items_for(unpriced, quote.customer, timezone.localdate()) if unpriced else {}
    built: list[QuoteLine] = []
    for index, data in enumerate(lines):
        prefix = f"lines.{index}."
        product = catalogue.get(data.get("product_id"))
        if product is None:
            raise ValidationError({f"{prefix}product_id": _("No such product.")})
        if not product.active and keep_tax is None:
            raise ValidationError({f"{prefix}product_id": _("This product is no longer sold.")})
        unit_price = data.get("unit_price")
        if unit_price is None:
            if product.pk not in prices:
                raise ValidationError({f"{prefix}unit_price": _("No price list gives a price today; enter one.")})
            unit_price = prices[product.pk].unit_price
        line = QuoteLine(
            quote=quote,
            position=index + 1,
            product=product,
            description=data.get("description") or "",
            quantity=data.get("quantity"),
            unit=product.unit,
            unit_price=unit_price,
            discount_percent=data.get("discount_percent") if data.get("discount_percent") is not None else 0,
            tax_rate=keep_tax[index] if keep_tax is not None else product.tax_rate,
        )
        # The product was fetched above (one query for all lines): no per-line foreign key check.
        full_clean(line, exclude=["quote", "product"], prefix=prefix)
        amounts = line_amounts(line.quantity, line.unit_price, line.discount_percent, line.tax_rate)
        for name, value in amounts.__dict__.items():
            setattr(line, name, value)
        full_clean(line, exclude=["quote", "product"], prefix=prefix)  # amounts within the columns' digits
        built.append(line)
    quote.lines.all().delete()
    QuoteLine.objects.bulk_create(built)
    summed = totals([line_amounts(x.quantity, x.unit_price, x.discount_percent, x.tax_rate) for x in built])
    for name, value in summed.__dict__.items():
        setattr(quote, name, value)
    highest = max((line.discount_percent for line in built), default=Decimal("0"))
    quote.approval = (
        Quote.Approval.REQUIRED if Decimal(highest) > discount_limit(quote.owner) else Quote.Approval.NOT_NEEDED
    )
    full_clean(quote, exclude=["customer", "owner", "previous"])
    quote.save(update_fields=["subtotal", "discount_total", "net_total", "tax_total", "total", "approval"])


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _max_discount(quote: Quote) -> Decimal:
    return max((line.discount_percent for line in quote.lines.all()), default=Decimal("0"))


def _quote_snapshot(quote: Quote, created: bool = False) -> dict:
    data = audit.snapshot(
        quote, ["title", "valid_until", "notes", "opportunity", "total", "approval", "customer", "number"]
    )
    data["lines"] = [
        [line.product_id, str(line.quantity), str(line.unit_price), str(line.discount_percent)]
        for line in quote.lines.all()
    ]
    if created:
        return {name: [None, value] for name, value in data.items() if value not in (None, "", [])}
    return data
