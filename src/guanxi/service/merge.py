"""Merging duplicate tickets: the same customer called twice about one matter (重复工单合并).

The duplicate B is closed with a link to the ticket A it was merged into; B keeps its own events, hand-over chain and
escalations (nothing is moved or deleted), A lists the tickets merged into it. Refused when B has a hand-over waiting
for an answer (its receiver may be about to take it), when either ticket is already merged, or when they are not of
the same customer; both versions are checked (409 on a stale one).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.permissions import require
from guanxi.core.versioning import save_if_version
from guanxi.service import rollups, selectors
from guanxi.service.models import Handover, Ticket, TicketEvent
from guanxi.service.services import _check_may_act, _event

S = Ticket.Status


def ticket_merge(*, actor, ticket_id: int, version: int, duplicate_id: int, duplicate_version: int) -> Ticket:
    """Merge the ticket `duplicate_id` (B) into `ticket_id` (A); returns A. Both must be visible to and workable by
    `actor` (owner or lead)."""
    require(actor, "service.change_ticket")
    if duplicate_id == ticket_id:
        raise ValidationError({"duplicate_id": _("A ticket cannot be merged into itself.")})
    now = timezone.now()
    with transaction.atomic():
        # Lock both rows in id order, so two merges of the same pair in opposite directions cannot deadlock.
        locked = {}
        for pk in sorted((ticket_id, duplicate_id)):
            locked[pk] = selectors.ticket_get(user=actor, ticket_id=pk, for_update=True)
        ticket, duplicate = locked[ticket_id], locked[duplicate_id]
        if ticket.version != version:
            raise StaleVersion(ticket.version)
        if duplicate.version != duplicate_version:
            raise StaleVersion(duplicate.version)
        _check_may_act(actor, ticket)
        _check_may_act(actor, duplicate)
        if duplicate.merged_into_id is not None:
            raise Conflict(_("Ticket %(number)s is already merged into another ticket.") % {"number": duplicate.number})
        if ticket.merged_into_id is not None:
            raise Conflict(_("Ticket %(number)s is itself merged into another ticket.") % {"number": ticket.number})
        if ticket.customer_id is None or ticket.customer_id != duplicate.customer_id:
            raise ValidationError({"duplicate_id": _("Only tickets of the same customer can be merged.")})
        if not ticket.is_open:
            raise Conflict(_("Merge into an open ticket; reopen it first."))
        if duplicate.handovers.filter(status=Handover.Status.PENDING).exists():
            raise Conflict(
                _("Ticket %(number)s has a hand-over waiting for an answer; settle it before merging.")
                % {"number": duplicate.number}
            )
        before = audit.snapshot(duplicate)
        previous = duplicate.status
        duplicate.merged_into = ticket
        duplicate.merged_at = now
        duplicate.status = S.CLOSED
        duplicate.paused_at = None
        duplicate.resolved_at = duplicate.resolved_at or now
        duplicate.closed_at = duplicate.closed_at or now
        if not duplicate.resolution:
            duplicate.resolution = _("Duplicate of %(number)s.") % {"number": ticket.number}
        changes = audit.diff(before, audit.snapshot(duplicate))
        save_if_version(
            duplicate, duplicate_version, [name for name in changes if name not in ("version", "updated_at")]
        )
        save_if_version(ticket, version, ["status"])  # bumps A's version: a stale form of A must not overwrite it
        rollups.refresh([duplicate.pk])
        _event(
            duplicate,
            actor,
            TicketEvent.Kind.MERGED,
            from_status=previous,
            to_status=S.CLOSED,
            note=ticket.number,
            at=now,
        )
        _event(ticket, actor, TicketEvent.Kind.MERGED_FROM, note=duplicate.number, at=now)
        audit.record(actor=actor, action="merge", instance=duplicate, changes=changes)
        audit.record(
            actor=actor,
            action="merge_into",
            instance=ticket,
            changes={"merged_from": [None, {"id": duplicate.pk, "number": duplicate.number}]},
        )
    return ticket


def merge_links(*, user, ticket: Ticket) -> tuple[Ticket | None, list[Ticket]]:
    """The visible ticket `ticket` was merged into (if any) and the visible duplicates merged into it, oldest first."""
    visible = selectors.ticket_queryset(user=user).only("id", "number", "subject", "merged_at", "merged_into_id")
    merged_into = visible.filter(pk=ticket.merged_into_id).first() if ticket.merged_into_id else None
    return merged_into, list(visible.filter(merged_into_id=ticket.pk).order_by("merged_at", "id"))
