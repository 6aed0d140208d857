"""Telesales (电话营销, C7): call lists built from a customer filter, a script for the caller, one outcome per call
recorded as an activity (activities app) with an optional follow-up task, and the progress of each list.

Reads are scoped like leads (the list's owner and unit); the customers on a list are those the creator could see when
it was built, and a caller works a list only through the list's scope.
"""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import Conflict
from guanxi.core.permissions import require
from guanxi.core.scope import restrict
from guanxi.core.selectors import org_unit_of
from guanxi.customers.filters import CustomerFilters
from guanxi.customers.models import Contact
from guanxi.customers.selectors import customer_queryset
from guanxi.sales.models import CallList, CallListEntry

MAX_ENTRIES = 5000  # a call list is a day's or a campaign's work, not the customer base
# How each outcome reads as the activity's call result.
CALL_RESULTS = {
    CallListEntry.Outcome.INTERESTED: "connected",
    CallListEntry.Outcome.NOT_INTERESTED: "connected",
    CallListEntry.Outcome.CALL_BACK: "connected",
    CallListEntry.Outcome.NO_ANSWER: "no_answer",
    CallListEntry.Outcome.BUSY: "busy",
    CallListEntry.Outcome.WRONG_NUMBER: "wrong_number",
}


# --- reads ----------------------------------------------------------------------------------------------------------


def call_list_queryset(*, user) -> QuerySet[CallList]:
    return restrict(CallList.objects.all(), user)


def call_list_list(*, user) -> list[CallList]:
    return list(call_list_queryset(user=user).select_related("owner")[:200])


def call_list_get(*, user, call_list_id: int) -> CallList:
    call_list = call_list_queryset(user=user).select_related("owner").filter(pk=call_list_id).first()
    if call_list is None:
        raise Http404
    return call_list


def call_list_progress(*, call_list: CallList) -> dict:
    """Called / remaining / by outcome, in one GROUP BY."""
    counts = dict(
        CallListEntry.objects.filter(call_list=call_list)
        .order_by()
        .values_list("outcome")
        .annotate(n=Count("id"))
        .values_list("outcome", "n")
    )
    remaining = counts.pop("", 0)
    called = sum(counts.values())
    labels = dict(CallListEntry.Outcome.choices)
    return {
        "total": called + remaining,
        "called": called,
        "remaining": remaining,
        "by_outcome": [
            {"outcome": key, "label": str(labels[key]), "count": counts.get(key, 0)}
            for key in CallListEntry.Outcome.values
        ],
    }


def call_list_entries(*, call_list: CallList, remaining_only: bool = False, limit: int = 200) -> list[CallListEntry]:
    entries = CallListEntry.objects.filter(call_list=call_list).select_related("customer", "contact", "called_by")
    if remaining_only:
        entries = entries.filter(outcome="")
    return list(entries.order_by("position", "id")[:limit])


def next_entry(*, call_list: CallList) -> CallListEntry | None:
    """The caller's next customer: the first entry not called yet."""
    return (
        CallListEntry.objects.filter(call_list=call_list, outcome="")
        .select_related("customer", "contact")
        .order_by("position", "id")
        .first()
    )


def entry_get(*, user, call_list_id: int, entry_id: int) -> CallListEntry:
    """One entry of a call list the user may see; 404 when absent, on another list or out of scope."""
    entry = (
        CallListEntry.objects.filter(
            pk=entry_id, call_list_id=call_list_id, call_list__in=call_list_queryset(user=user)
        )
        .select_related("call_list", "customer", "contact")
        .first()
    )
    if entry is None:
        raise Http404
    return entry


# --- writes ---------------------------------------------------------------------------------------------------------


def call_list_create(*, actor, name: str, script: str = "", filters: CustomerFilters) -> CallList:
    """A call list of the live customers `filters` selects among those the actor may see (at most MAX_ENTRIES), each
    with its primary contact, in name order."""
    require(actor, "sales.add_calllist")
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("This field is required.")})
    if len(name) > 200:
        raise ValidationError({"name": _("Enter at most %(max)s characters.") % {"max": 200}})
    customers = filters.apply(customer_queryset(user=actor)).filter(merged_into__isnull=True)
    ids = list(customers.order_by("name", "id").values_list("id", flat=True)[: MAX_ENTRIES + 1])
    if not ids:
        raise ValidationError({"filters": _("No customer matches this filter.")})
    if len(ids) > MAX_ENTRIES:
        raise ValidationError(
            {"filters": _("This filter selects more than %(max)s customers; narrow it.") % {"max": MAX_ENTRIES}}
        )
    with transaction.atomic():
        call_list = CallList.objects.create(
            name=name,
            script=script or "",
            filters=filters.model_dump(mode="json", exclude_defaults=True),
            owner=actor,
            org_unit=org_unit_of(actor),
        )
        primary = dict(Contact.objects.filter(customer_id__in=ids, primary=True).values_list("customer_id", "id"))
        CallListEntry.objects.bulk_create(
            [
                CallListEntry(call_list=call_list, customer_id=cid, contact_id=primary.get(cid), position=index)
                for index, cid in enumerate(ids)
            ],
            batch_size=1000,
        )
        audit.record(
            actor=actor,
            action="create",
            instance=call_list,
            changes={"name": [None, name], "filters": [None, call_list.filters], "entries": [None, len(ids)]},
        )
    return call_list


def call_record_outcome(
    *,
    actor,
    call_list_id: int,
    entry_id: int,
    outcome: str,
    notes: str = "",
    follow_up: str = "",
    follow_up_at: datetime | None = None,
    duration_seconds: int | None = None,
) -> CallListEntry:
    """Record how a call on the list went: an outbound-call activity on the customer (linked to the list), and with
    `follow_up` a follow-up task (at `follow_up_at`). An entry is called once: a second outcome is a Conflict."""
    from guanxi.activities import services as activity_services  # the activities app owns activities
    from guanxi.activities.models import Activity

    require(actor, "sales.change_calllist")
    if outcome not in CallListEntry.Outcome.values:
        raise ValidationError(
            {"outcome": _("Choose one of: %(choices)s.") % {"choices": ", ".join(CallListEntry.Outcome.values)}}
        )
    if follow_up_at is not None and timezone.is_naive(follow_up_at):
        raise ValidationError({"follow_up_at": _("Give the time with its time zone.")})
    with transaction.atomic():
        entry = entry_get(user=actor, call_list_id=call_list_id, entry_id=entry_id)
        entry = (
            CallListEntry.objects.select_for_update(of=("self",))
            .select_related("call_list", "customer", "contact")
            .get(pk=entry.pk)
        )
        if entry.outcome:
            raise Conflict(_("This call is already recorded."))
        now = timezone.now()
        label = CallListEntry.Outcome(outcome).label
        activity = activity_services.activity_create(
            actor=actor,
            data={
                "kind": Activity.Kind.OUTBOUND_CALL,
                "subject": f"{entry.call_list.name}: {entry.customer.name}"[:200],
                "customer_id": entry.customer_id,
                "contact_ids": [entry.contact_id] if entry.contact_id else [],
                "status": Activity.Status.DONE,
                "done_at": now,
                "outcome": str(label),
                "notes": notes or "",
                "next_step": follow_up or "",
                "phone_number": entry.contact.mobile if entry.contact_id else "",
                "call_result": CALL_RESULTS[outcome],
                "duration_seconds": duration_seconds,
                "linked_type": "sales.calllist",
                "linked_id": entry.call_list_id,
            },
        )
        task = None
        if (follow_up or "").strip():
            task = activity_services.activity_create(
                actor=actor,
                data={
                    "kind": Activity.Kind.TASK,
                    "subject": follow_up.strip()[:200],
                    "customer_id": entry.customer_id,
                    "contact_ids": [entry.contact_id] if entry.contact_id else [],
                    "planned_start": follow_up_at,
                    "linked_type": "sales.calllist",
                    "linked_id": entry.call_list_id,
                },
            )
            task.follow_up_of = activity
            task.save(update_fields=["follow_up_of"])
        entry.outcome = outcome
        entry.notes = notes or ""
        entry.called_at = now
        entry.called_by = actor
        entry.activity_id = activity.pk
        entry.follow_up_id = task.pk if task else None
        entry.save(update_fields=["outcome", "notes", "called_at", "called_by", "activity_id", "follow_up_id"])
        audit.record(
            actor=actor,
            action="call",
            instance=entry.call_list,
            changes={"customer": [None, entry.customer_id], "outcome": [None, outcome]},
        )
    return entry


def call_list_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and call_list_queryset(user=user).filter(pk=int(object_id)).exists()
