"""Keeps Customer.last_visit_at right: each customer's newest done visit, recomputed by the activity services.

The overdue-visit list (activities.visits.overdue_visits) reads it through the customers' customer_visit_due_idx;
computing it from the activities on every read grouped a team's whole visit history (2.1 s for a team of 163,000
customers on the bench's activities)."""

from collections.abc import Iterable

from django.db.models import Max

from guanxi.activities.models import Activity
from guanxi.customers.models import Customer


def is_done_visit(kind: str, status: str) -> bool:
    return kind == Activity.Kind.VISIT and status == Activity.Status.DONE


def lock_customers(customer_ids: Iterable[int | None]) -> None:
    """Lock these customers' rows (ascending id) before an activity service writes an activity of theirs.

    The lock order of every write that takes a customer row and rows hanging off it: the customers first, in
    ascending id, then their activities (or deals, quotes, contracts). customers.merge (customers, then the merged
    customer's activities) and customers.services.customer_transfer (customers, then their open deals) take them so;
    an activity service that locked the activity first (its UPDATE) and then the customer (this recount, or the key
    share of a follow-up task's insert) deadlocked with a merge of that customer. The activity services therefore
    call this before writing the activity whenever the write will take the customer row: a done visit created,
    changed or deleted, an activity moved to another customer, a completion (its follow-up task)."""
    ids = sorted({customer_id for customer_id in customer_ids if customer_id is not None})
    if ids:
        list(Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))


def refresh_last_visits(customer_ids: Iterable[int | None]) -> None:
    """Recompute the last visit of these customers from their done visits, inside the caller's transaction: after a
    visit is created done, completed, reopened, rescheduled, moved to another customer or deleted, and after a merge.

    A recount rather than an increment, so none of those needs a special case. The customers' rows are locked first
    (the activity services have locked them before the activity, see lock_customers; locking again is free):
    two writers of the same customer's visits then recompute one after the other, and the second (READ COMMITTED)
    counts the first's committed visit instead of writing back an older date. One probe of activity_done_visit_idx
    (customer, happened_at DESC) per customer; the customer's version and updated_at stay (a summary of other records,
    not an edit of the customer)."""
    ids = sorted({customer_id for customer_id in customer_ids if customer_id is not None})
    if not ids:
        return
    current = dict(
        Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", "last_visit_at")
    )
    latest = dict(
        Activity.objects.filter(customer_id__in=ids, kind=Activity.Kind.VISIT, status=Activity.Status.DONE)
        .values("customer_id")
        .annotate(at=Max("happened_at"))
        .order_by()
        .values_list("customer_id", "at")
    )
    for customer_id, last_visit_at in current.items():
        if latest.get(customer_id) != last_visit_at:
            Customer.objects.filter(pk=customer_id).update(last_visit_at=latest.get(customer_id))
