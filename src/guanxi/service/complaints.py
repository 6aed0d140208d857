"""The complaint handling flow (投诉处理): acknowledgement, the formal reply (答复), the customer's acceptance, repeats.

- Acknowledgement: the first message to the customer. On a new ticket it is the acceptance of the ticket (the state
  machine's "accept"), which stops the SLA response clock: responded_at is set and the SLA due time moves on to the
  resolution deadline, exactly as the Accept button does.
- Reply: an outbound message marked as the formal reply; its content, channel and time are the message's, and
  `reply_on_time` says whether it came before the resolution deadline.
- Acceptance: the customer's answer to the latest reply. Accepted: a resolved ticket is closed (an open one stays open
  for its owner to resolve). Not accepted (a reason is required): a resolved or closed ticket is reopened with the
  reason, which starts a fresh resolution target; an open ticket stays open. Either way a new reply is due.
- Repeat complaints: earlier complaints of the same customer with the same cause (the cause found at resolution, or
  while it is not known the sub-type recorded at intake) created within GUANXI_REPEAT_COMPLAINT_DAYS (default 30)
  days before this one. Computed when read (ticket_customer_idx), so it is right even after a cause is corrected.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.permissions import require
from guanxi.core.versioning import save_if_version
from guanxi.service import selectors, services
from guanxi.service.models import ComplaintHandling, Ticket, TicketEvent, TicketMessage
from guanxi.service.models.config import Kind

S = Ticket.Status
A = ComplaintHandling.Acceptance


def repeat_days() -> int:
    return int(getattr(settings, "GUANXI_REPEAT_COMPLAINT_DAYS", 30))


def handling_of(ticket: Ticket) -> ComplaintHandling | None:
    return ComplaintHandling.objects.filter(ticket=ticket).select_related("reply", "acceptance_by").first()


def record_outbound(*, actor, ticket: Ticket, message: TicketMessage) -> None:
    """Bookkeeping of a message to the customer (called by correspondence.message_create inside its transaction, with
    the ticket locked): the acknowledgement, and the formal reply."""
    if ticket.status == S.NEW:
        services.ticket_transition(
            actor=actor,
            ticket_id=ticket.pk,
            version=ticket.version,
            action="accept",
            note=_("Acknowledged to the customer (%(channel)s).") % {"channel": message.get_channel_display()},
        )
        ticket.refresh_from_db()
    handling, _created = ComplaintHandling.objects.get_or_create(ticket=ticket)
    fields = []
    if handling.acknowledged_at is None:
        handling.acknowledged_at = message.at
        fields.append("acknowledged_at")
    if message.is_reply:
        handling.reply = message
        handling.replied_at = message.at
        handling.reply_on_time = message.at <= ticket.resolution_due_at
        handling.acceptance, handling.acceptance_reason, handling.acceptance_at = A.NONE, "", None
        fields += ["reply", "replied_at", "reply_on_time", "acceptance", "acceptance_reason", "acceptance_at"]
    if fields:
        handling.save(update_fields=fields)


def acceptance_record(*, actor, ticket_id: int, version: int, accepted: bool, reason: str = "") -> ComplaintHandling:
    """The customer's answer to the latest formal reply (see the module docstring for what it does to the ticket)."""
    require(actor, "service.change_ticket")
    reason = (reason or "").strip()
    if not accepted and not reason:
        raise ValidationError({"reason": _("Say why the customer does not accept the reply.")})
    now = timezone.now()
    with transaction.atomic():
        ticket = selectors.ticket_get(user=actor, ticket_id=ticket_id, for_update=True)
        if ticket.version != version:
            raise StaleVersion(ticket.version)
        services._check_may_act(actor, ticket)
        handling = ComplaintHandling.objects.select_for_update().filter(ticket=ticket).first()
        if handling is None or handling.reply_id is None:
            raise Conflict(_("Record the reply to the customer before the customer's acceptance."))
        before = audit.snapshot(handling, ["acceptance", "acceptance_reason", "reply"])
        handling.acceptance = A.ACCEPTED if accepted else A.NOT_ACCEPTED
        handling.acceptance_reason = reason
        handling.acceptance_at = now
        handling.acceptance_by = actor
        if not accepted:
            handling.not_accepted_count += 1
            handling.reply = None  # a new reply is due
            handling.replied_at = None
            handling.reply_on_time = None
        handling.save()
        if accepted:
            note = _("The customer accepted the reply.") + (f" {reason}" if reason else "")
        else:
            note = _("The customer did not accept the reply: %(reason)s") % {"reason": reason}
        action = None
        if accepted and ticket.status == S.RESOLVED:
            action = "close"
        elif not accepted and ticket.status in services.TRANSITIONS["reopen"][0]:
            action = "reopen"
        if action:
            services.ticket_transition(actor=actor, ticket_id=ticket.pk, version=version, action=action, note=note)
        else:
            save_if_version(ticket, version, ["status"])  # the ticket's state moved on: stale copies get 409
            services._event(ticket, actor, TicketEvent.Kind.UPDATED, note=note, at=now)
        changes = audit.diff(before, audit.snapshot(handling, ["acceptance", "acceptance_reason", "reply"]))
        audit.record(actor=actor, action="acceptance", instance=ticket, changes=changes)
    return handling


def is_repeat_candidate(ticket: Ticket) -> bool:
    return ticket.ticket_type == Kind.COMPLAINT and ticket.customer_id is not None


def _earlier(ticket: Ticket, tickets):
    if not is_repeat_candidate(ticket) or not (ticket.cause_id or ticket.sub_type_id):
        return tickets.none()
    if ticket.cause_id:
        same_cause = Q(cause_id=ticket.cause_id)
        if ticket.sub_type_id:  # an earlier one whose cause is not known yet: by its sub-type
            same_cause |= Q(cause__isnull=True, sub_type_id=ticket.sub_type_id)
    else:
        same_cause = Q(sub_type_id=ticket.sub_type_id)
    since = ticket.created_at - timedelta(days=repeat_days())
    return (
        tickets.filter(
            same_cause,
            customer_id=ticket.customer_id,
            ticket_type=Kind.COMPLAINT,
            created_at__gte=since,
            created_at__lt=ticket.created_at,
        )
        .exclude(pk=ticket.pk)
        .order_by("-created_at", "-id")
    )


def earlier_complaints(*, user, ticket: Ticket) -> list[Ticket]:
    """The earlier complaints this one repeats that the user may see, newest first (links on the ticket)."""
    return list(_earlier(ticket, selectors.ticket_queryset(user=user)).select_related("cause", "sub_type")[:20])


def is_repeat(ticket: Ticket) -> bool:
    """Whether the ticket repeats an earlier complaint, whoever may see that one."""
    return _earlier(ticket, Ticket.objects.all()).exists()
