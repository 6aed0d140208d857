"""Open sales work follows a customer to its new account manager (A5); closed work keeps its owner as history.

Registered with customers.transfers, so it runs inside customer_transfer's transaction. Of each moved customer, the
records owned by its previous owner move to the new one:

- open deals (owner and owning team: deals are scoped on their own owner/unit, docs/sales.md);
- quotes still in play (draft or sent; a pending discount approval then goes to the new owner's team lead);
- live contracts (draft, signed, active: the owner gets the renewal reminder and chases the payments).

Won/lost deals, accepted/declined/superseded quotes and expired/terminated contracts keep their owner (who did the
work), and so does anything a colleague owns on the customer (a specialist's deal is theirs, not the manager's).
Leads are not tied to a customer until they are converted, so none moves. Every moved record gets a "transfer" audit
entry and a new version (an edit based on the old version gets 409).
"""

from django.db.models import F, Q
from django.utils import timezone

from guanxi.core import audit
from guanxi.sales.models import Contract, Opportunity, Quote

OPEN_QUOTES = (Quote.Status.DRAFT, Quote.Status.SENT)
LIVE_CONTRACTS = (Contract.Status.DRAFT, Contract.Status.SIGNED, Contract.Status.ACTIVE)


def follow_customer_transfer(
    *, actor, previous_owners: dict[int, int | None], to_user_id: int, to_unit_id: int | None
) -> None:
    """Move the open deals, quotes and live contracts of the transferred customers from their previous owner."""
    mine = _owned_by_previous_owner(previous_owners, to_user_id)
    if mine is None:
        return
    now = timezone.now()
    deals = _lock(Opportunity.objects.filter(mine, status=Opportunity.Status.OPEN), "org_unit_id", "name")
    Opportunity.objects.filter(pk__in=[d.pk for d in deals]).update(
        owner_id=to_user_id, org_unit_id=to_unit_id, version=F("version") + 1, updated_at=now
    )
    entries = [(d, {"owner": [d.owner_id, to_user_id], "org_unit": [d.org_unit_id, to_unit_id]}) for d in deals]
    for model, statuses, shown in (
        (Quote, OPEN_QUOTES, ("number", "revision", "title")),
        (Contract, LIVE_CONTRACTS, ("number", "title")),
    ):
        rows = _lock(model.objects.filter(mine, status__in=statuses), *shown)
        model.objects.filter(pk__in=[r.pk for r in rows]).update(
            owner_id=to_user_id, version=F("version") + 1, updated_at=now
        )
        entries += [(r, {"owner": [r.owner_id, to_user_id]}) for r in rows]
    audit.record_many(actor=actor, action="transfer", entries=entries)


def _owned_by_previous_owner(previous_owners: dict[int, int | None], to_user_id: int) -> Q | None:
    """Rows of a moved customer owned by that customer's previous owner (one term per previous owner)."""
    by_owner: dict[int, list[int]] = {}
    for customer_id, owner_id in previous_owners.items():
        if owner_id is not None and owner_id != to_user_id:
            by_owner.setdefault(owner_id, []).append(customer_id)
    if not by_owner:
        return None
    condition = Q()
    for owner_id, customer_ids in by_owner.items():
        condition |= Q(owner_id=owner_id, customer_id__in=customer_ids)
    return condition


def _lock(queryset, *fields: str) -> list:
    """The rows, locked until the transfer commits (a concurrent close or edit waits, then sees the new version);
    `fields` besides the owner: what the audit entry shows (str of the row), so no row is read twice."""
    return list(queryset.select_for_update().only("id", "owner_id", "customer_id", *fields).order_by("id"))
