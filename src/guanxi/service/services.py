"""Every write of tickets: validated, scoped, versioned and audited, each in one transaction.

First-contact responsibility (首问负责): whoever records a ticket is its receiver and owner; the owner changes only when
a hand-over request (to a person or a team, with a reason) is accepted by its receiver. A declined or expired request
leaves the ticket with the sender, so a ticket always has an owner (the column is NOT NULL as well).
"""

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from guanxi.core import audit
from guanxi.core.errors import Conflict
from guanxi.core.models import OrgUnit
from guanxi.core.permissions import require
from guanxi.core.selectors import org_unit_of
from guanxi.core.versioning import check_version, save_if_version, update_versioned
from guanxi.customers.models import Contact
from guanxi.customers.selectors import customer_queryset
from guanxi.service import notices, reschedule, return_visits, rollups, selectors, sla
from guanxi.service.models import Handover, Holiday, Ticket, TicketCause, TicketEvent, TicketSubType
from guanxi.service.models.config import Grade

S = Ticket.Status
HANDOVER_TIMEOUT = timedelta(minutes=getattr(settings, "GUANXI_HANDOVER_TIMEOUT_MINUTES", 120))

# The fields clients write on create/update (API names).
TICKET_FIELDS = (
    "customer_id",
    "contact_id",
    "caller_name",
    "caller_phone",
    "caller_address",
    "channel",
    "ticket_type",
    "sub_type_id",
    "priority",
    "subject",
    "description",
)
UPDATABLE = tuple(name for name in TICKET_FIELDS if name not in ("channel", "ticket_type"))
API_NAMES = {"customer": "customer_id", "contact": "contact_id", "sub_type": "sub_type_id", "cause": "cause_id"}

# action → (the statuses it may start from, the status it leads to). Everything else is refused with 409.
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "accept": (frozenset({S.NEW}), S.ACCEPTED),
    "start": (frozenset({S.ACCEPTED, S.WAITING, S.REOPENED}), S.IN_PROGRESS),
    "wait": (frozenset({S.IN_PROGRESS}), S.WAITING),
    "resolve": (frozenset({S.ACCEPTED, S.IN_PROGRESS}), S.RESOLVED),
    "close": (frozenset({S.RESOLVED}), S.CLOSED),
    "reopen": (frozenset({S.RESOLVED, S.CLOSED}), S.REOPENED),
}
EVENT_OF = {
    "accept": TicketEvent.Kind.ACCEPTED,
    "start": TicketEvent.Kind.STARTED,
    "wait": TicketEvent.Kind.WAITING,
    "resolve": TicketEvent.Kind.RESOLVED,
    "close": TicketEvent.Kind.CLOSED,
    "reopen": TicketEvent.Kind.REOPENED,
}


def _refused(action: str, status: str) -> Conflict:
    labels = {
        "accept": pgettext("refused ticket action", "accepted"),
        "start": pgettext("refused ticket action", "started"),
        "wait": pgettext("refused ticket action", "put on waiting for the customer"),
        "resolve": pgettext("refused ticket action", "resolved"),
        "close": pgettext("refused ticket action", "closed"),
        "reopen": pgettext("refused ticket action", "reopened"),
    }
    return Conflict(
        _("A ticket that is “%(status)s” cannot be %(action)s.") % {"status": S(status).label, "action": labels[action]}
    )


# --- create and update ----------------------------------------------------------------------------------------------


def ticket_create(*, actor, data: dict) -> Ticket:
    """A new ticket received by `actor`, who becomes its first-contact owner; deadlines from the SLA target."""
    require(actor, "service.add_ticket")
    data = _input(data)
    now = timezone.now()
    with transaction.atomic():
        ticket = Ticket(**{key: value for key, value in data.items() if key in TICKET_FIELDS})
        ticket.receiver = actor
        ticket.owner = actor
        ticket.team = org_unit_of(actor)
        ticket.created_by = actor
        ticket.number = f"TMP-{uuid.uuid4().hex[:24]}"  # replaced below, once the id is known
        _check_references(actor, ticket)
        ticket.sla_grade = ticket.customer.grade if ticket.customer_id else Grade.GENERAL
        _full_clean(ticket, exclude=["response_due_at", "resolution_due_at", "sla_due_at"])
        sla.set_deadlines(ticket, start=now)
        ticket.save()
        ticket.number = f"GD{timezone.localtime(now):%Y%m%d}{ticket.pk:07d}"
        Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
        _event(ticket, actor, TicketEvent.Kind.CREATED, to_status=ticket.status, at=now)
        rollups.refresh([ticket.pk])
        audit.record(actor=actor, action="create", instance=ticket, changes=audit.snapshot(ticket))
    return ticket


def ticket_update(*, actor, ticket_id: int, version: int, data: dict) -> Ticket:
    """Edit an open ticket (subject, description, priority, sub-type, contact; link an unknown caller to a customer).

    A new priority or customer (grade) recomputes the deadlines by the one rule (sla.deadlines) from the ticket's
    clock history: its creation, its last reopening, its pauses.
    """
    require(actor, "service.change_ticket")
    data = {key: value for key, value in _input(data).items() if key in UPDATABLE}
    with transaction.atomic():
        ticket = selectors.ticket_get(user=actor, ticket_id=ticket_id, for_update=True)
        check_version(ticket, version)
        _check_may_act(actor, ticket)
        if not ticket.is_open:
            raise Conflict(_("A resolved or closed ticket cannot be edited; reopen it first."))
        before = audit.snapshot(ticket)
        for key, value in data.items():
            setattr(ticket, key, value)
        _check_references(actor, ticket)
        _full_clean(ticket)
        grade = ticket.customer.grade if ticket.customer_id else Grade.GENERAL
        if ticket.priority != before["priority"] or grade != ticket.sla_grade:
            if ticket.status == S.WAITING:
                raise ValidationError({"priority": _("Resume the ticket before changing its priority or customer.")})
            ticket.sla_grade = grade
            sla.set_deadlines(ticket, history=reschedule.clock_histories([ticket])[ticket.pk])
        changes = audit.diff(before, audit.snapshot(ticket))
        if not changes:
            return ticket
        save_if_version(ticket, version, [name for name in changes if name not in ("version", "updated_at")])
        _event(ticket, actor, TicketEvent.Kind.UPDATED, note=", ".join(sorted(changes)))
        rollups.refresh([ticket.pk])
        audit.record(actor=actor, action="update", instance=ticket, changes=changes)
    return ticket


# --- the state machine ----------------------------------------------------------------------------------------------


def ticket_transition(
    *,
    actor,
    ticket_id: int,
    version: int,
    action: str,
    note: str = "",
    resolution: str = "",
    cause_id: int | None = None,
    for_return_visit: bool = False,
) -> Ticket:
    """Move a ticket along the state machine (TRANSITIONS); a move it does not allow is a Conflict (409).

    `for_return_visit`: a dissatisfied return visit reopens the ticket for the customer (return_visits.visit_record);
    the visit agent needn't own it. Closing schedules the return visit."""
    require(actor, "service.change_ticket")
    if action not in TRANSITIONS:
        raise ValidationError({"action": _("Unknown action.")})
    allowed_from, target = TRANSITIONS[action]
    now = timezone.now()
    with transaction.atomic():
        ticket = selectors.ticket_get(user=actor, ticket_id=ticket_id, for_update=True)
        check_version(ticket, version)
        if not (for_return_visit and action == "reopen"):
            _check_may_act(actor, ticket)
        if ticket.status not in allowed_from:
            raise _refused(action, ticket.status)
        before = audit.snapshot(ticket)
        previous = ticket.status
        if action == "accept":
            ticket.responded_at = now
            ticket.response_breached = ticket.response_breached or now > ticket.response_due_at
            ticket.sla_due_at = ticket.resolution_due_at
            ticket.sla_state = Ticket.SlaState.ON_TIME
        elif action == "wait":
            ticket.paused_at = now
        elif action == "start" and previous == S.WAITING:
            sla.resume_deadlines(ticket, now=now)
        elif action == "resolve":
            _resolve(ticket, resolution=resolution, cause_id=cause_id, now=now)
        elif action == "close":
            ticket.closed_at = now
        elif action == "reopen":
            if not note.strip():
                raise ValidationError({"note": _("Say why the ticket is reopened.")})
            ticket.resolved_at = None
            ticket.closed_at = None
            sla.restart_resolution(ticket, now=now)
        ticket.status = target
        changes = audit.diff(before, audit.snapshot(ticket))
        save_if_version(ticket, version, [name for name in changes if name not in ("version", "updated_at")])
        _event(ticket, actor, EVENT_OF[action], from_status=previous, to_status=target, note=note, at=now)
        rollups.refresh([ticket.pk])
        audit.record(actor=actor, action=action, instance=ticket, changes=changes)
        if action == "close":
            return_visits.schedule(ticket, closed_at=now)
    return ticket


def _resolve(ticket: Ticket, *, resolution: str, cause_id: int | None, now) -> None:
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError({"resolution": _("Describe how the ticket was resolved.")})
    if cause_id is not None:
        cause = TicketCause.objects.filter(pk=cause_id, active=True).select_related("ticket_type").first()
        if cause is None or (cause.ticket_type_id and cause.ticket_type.code != ticket.ticket_type):
            raise ValidationError({"cause_id": _("Choose a cause of this ticket's type.")})
        ticket.cause = cause
    ticket.resolution = resolution
    ticket.resolved_at = now
    ticket.resolution_breached = ticket.resolution_breached or now > ticket.resolution_due_at
    if ticket.responded_at is None:
        ticket.responded_at = now
    # The owner solved it: an open hand-over request is moot.
    Handover.objects.filter(ticket=ticket, status=Handover.Status.PENDING).update(
        status=Handover.Status.CANCELLED, decided_at=now
    )


# --- first-contact hand-over ----------------------------------------------------------------------------------------


def handover_request(
    *, actor, ticket_id: int, version: int, reason: str, to_user_id: int | None = None, to_team_id: int | None = None
) -> Handover:
    """Ask a person or a team to take over an open ticket. The owner stays until the receiver accepts."""
    require(actor, "service.change_ticket")
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = _("Give a reason for the hand-over.")
    if (to_user_id is None) == (to_team_id is None):
        errors["to_user_id"] = _("Choose either a person or a team to hand over to.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        ticket = selectors.ticket_get(user=actor, ticket_id=ticket_id, for_update=True)
        check_version(ticket, version)
        _check_may_act(actor, ticket)
        if not ticket.is_open:
            raise Conflict(_("Only an open ticket can be handed over."))
        if ticket.handovers.filter(status=Handover.Status.PENDING).exists():
            raise Conflict(_("This ticket already has a hand-over waiting for an answer."))
        to_user = to_team = None
        if to_user_id is not None:
            to_user = get_user_model().objects.filter(pk=to_user_id, is_active=True).first()
            if to_user is None or not to_user.has_perm("service.change_ticket"):
                raise ValidationError({"to_user_id": _("Choose an active colleague who works on tickets.")})
            if to_user.pk == ticket.owner_id:
                raise ValidationError({"to_user_id": _("The ticket is already theirs.")})
        else:
            to_team = OrgUnit.objects.filter(pk=to_team_id).first()
            if to_team is None:
                raise ValidationError({"to_team_id": _("No such team.")})
        handover = Handover.objects.create(
            ticket=ticket,
            from_user=ticket.owner,
            to_user=to_user,
            to_team=to_team,
            reason=reason,
            expires_at=now + HANDOVER_TIMEOUT,
        )
        save_if_version(ticket, version, ["status"])  # bumps the version: the ticket now has a request
        _event(ticket, actor, TicketEvent.Kind.HANDOVER_REQUESTED, note=reason, at=now)
        audit.record(
            actor=actor,
            action="handover_request",
            instance=ticket,
            changes={"handover": [None, {"id": handover.pk, "to_user": to_user_id, "to_team": to_team_id}]},
        )
        notices.handover_requested(handover, actor=actor)
    return handover


def handover_accept(*, actor, ticket_id: int, note: str = "") -> Ticket:
    """The receiver takes the ticket: it becomes the owner (and the ticket moves to the receiver's team).

    Of two people accepting the same team hand-over at once, one wins; the other gets a Conflict.
    """
    ticket, _handover = _handover_answer(actor=actor, ticket_id=ticket_id, accept=True, note=note)
    return ticket


def handover_decline(*, actor, ticket_id: int, note: str) -> Handover:
    """The receiver refuses, with a reason; the ticket stays with the sender. Returns the declined request."""
    if not (note or "").strip():
        raise ValidationError({"note": _("Say why you decline.")})
    _ticket, handover = _handover_answer(actor=actor, ticket_id=ticket_id, accept=False, note=note.strip())
    return handover


def _handover_answer(*, actor, ticket_id: int, accept: bool, note: str) -> tuple[Ticket, Handover]:
    """Answer the ticket's pending request; returns the ticket and the request as decided."""
    require(actor, "service.change_ticket")
    now = timezone.now()
    with transaction.atomic():
        ticket = selectors.ticket_get(user=actor, ticket_id=ticket_id, for_update=True)  # serialises the answers
        handover = selectors.pending_handover(ticket=ticket)
        if handover is None:
            raise Conflict(_("There is no hand-over waiting for an answer on this ticket."))
        if not is_handover_receiver(actor, handover):
            raise PermissionDenied(_("This hand-over is not addressed to you."))
        status = Handover.Status.ACCEPTED if accept else Handover.Status.DECLINED
        claimed = Handover.objects.filter(pk=handover.pk, status=Handover.Status.PENDING).update(
            status=status, decided_at=now, decided_by=actor, note=note
        )
        if claimed != 1:
            raise Conflict(_("There is no hand-over waiting for an answer on this ticket."))
        handover.status, handover.decided_at, handover.decided_by, handover.note = status, now, actor, note
        before = audit.snapshot(ticket, ["owner", "team"])
        if accept:
            ticket.owner = actor
            ticket.team = org_unit_of(actor) or handover.to_team or ticket.team
        save_if_version(ticket, ticket.version, ["owner", "team"] if accept else ["status"])
        if accept:
            rollups.refresh([ticket.pk])  # the ticket now counts for the receiver's team
        kind = TicketEvent.Kind.HANDOVER_ACCEPTED if accept else TicketEvent.Kind.HANDOVER_DECLINED
        _event(ticket, actor, kind, note=note, at=now)
        changes = audit.diff(before, audit.snapshot(ticket, ["owner", "team"]))
        changes["handover"] = [Handover.Status.PENDING, status]
        audit.record(
            actor=actor, action="handover_accept" if accept else "handover_decline", instance=ticket, changes=changes
        )
        notices.handover_answered(handover, actor=actor)  # the sender hears the answer
    return ticket, handover


def is_handover_receiver(user, handover: Handover) -> bool:
    if handover.to_user_id is not None:
        return handover.to_user_id == user.pk
    unit = org_unit_of(user)
    return unit is not None and unit.pk in handover.to_team.subtree_ids()


def handovers_expire(*, now=None) -> int:
    """Requests nobody answered in time expire: the ticket stays with (returns to) the sender. Set-based, idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            Handover.objects.filter(status=Handover.Status.PENDING, expires_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))  # lock the requests, not the joined tickets
            .values_list("id", "ticket_id", "ticket__number", "ticket__subject")
        )
        if not due:
            return 0
        Handover.objects.filter(pk__in=[row[0] for row in due]).update(status=Handover.Status.EXPIRED, decided_at=now)
        TicketEvent.objects.bulk_create(
            [TicketEvent(ticket_id=row[1], at=now, kind=TicketEvent.Kind.HANDOVER_EXPIRED) for row in due]
        )
        audit.record_many(
            actor=None,
            action="handover_expire",
            entries=[
                (
                    Ticket(pk=row[1], number=row[2], subject=row[3]),
                    {"handover": [Handover.Status.PENDING, Handover.Status.EXPIRED]},
                )
                for row in due
            ],
        )
        notices.handovers_expired([row[0] for row in due])
    return len(due)


# --- helpers --------------------------------------------------------------------------------------------------------


def _input(data: dict) -> dict:
    cleaned = {}
    for key, value in data.items():
        cleaned[key] = value.strip() if isinstance(value, str) else value
    return cleaned


def may_act(user, ticket: Ticket) -> bool:
    """首问负责: the owner works the ticket; leads and managers (service.manage_ticket) may act for them."""
    return ticket.owner_id == user.pk or user.has_perm("service.manage_ticket")


def _check_may_act(actor, ticket: Ticket) -> None:
    if not may_act(actor, ticket):
        raise PermissionDenied(_("Only the ticket's owner (or their lead) can do this."))


def _check_references(actor, ticket: Ticket) -> None:
    """Customer, contact and sub-type must exist, be visible to the actor and fit together."""
    errors = {}
    if ticket.customer_id is not None:
        customer = customer_queryset(user=actor).filter(pk=ticket.customer_id).first()
        if customer is None:
            errors["customer_id"] = _("No such customer.")
        else:
            ticket.customer = customer
    elif not (ticket.caller_name or ticket.caller_phone):
        errors["customer_id"] = _("Choose a customer or give the caller's name or phone.")
    if ticket.contact_id is not None:
        contact = Contact.objects.filter(pk=ticket.contact_id).first()
        if contact is None or contact.customer_id != ticket.customer_id:
            errors["contact_id"] = _("Choose a contact of this customer.")
    if ticket.sub_type_id is not None:
        sub_type = (
            TicketSubType.objects.filter(pk=ticket.sub_type_id, active=True).select_related("ticket_type").first()
        )
        if sub_type is None or sub_type.ticket_type.code != ticket.ticket_type:
            errors["sub_type_id"] = _("Choose a sub-type of this ticket's type.")
    if errors:
        raise ValidationError(errors)


def _full_clean(ticket: Ticket, exclude: list[str] | None = None) -> None:
    try:
        ticket.full_clean(exclude=["number", "receiver", "owner", *(exclude or [])], validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(
            {API_NAMES.get(field, field): messages for field, messages in exc.message_dict.items()}
        ) from exc


def _event(ticket: Ticket, actor, kind: str, *, from_status: str = "", to_status: str = "", note: str = "", at=None):
    TicketEvent.objects.create(
        ticket=ticket,
        at=at or timezone.now(),
        actor=actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
    )


# --- the holiday calendar -------------------------------------------------------------------------------------------


def holiday_create(*, actor, day, kind: str, name: str = "") -> Holiday:
    """A day off or a day worked in lieu. After the commit the open tickets' deadlines move (reschedule.py)."""
    require(actor, "service.configure_service")
    with transaction.atomic():
        if Holiday.objects.filter(date=day).exists():
            raise ValidationError({"date": _("This day is already in the calendar.")})
        holiday = Holiday(date=day, kind=kind, name=(name or "").strip())
        holiday.full_clean()
        holiday.save()
        audit.record(actor=actor, action="create", instance=holiday, changes=audit.snapshot(holiday))
        reschedule.holiday_changed(holiday)
    return holiday


def holiday_update(*, actor, holiday_id: int, version: int, data: dict) -> Holiday:
    """A new kind (day off ↔ worked in lieu) moves the open tickets' deadlines after the commit; a new name does
    not."""
    require(actor, "service.configure_service")
    kinds = []

    def apply(holiday: Holiday) -> None:
        kinds.append(holiday.kind)
        for key in ("kind", "name"):
            if data.get(key) is not None:
                setattr(holiday, key, data[key].strip() if key == "name" else data[key])
        holiday.full_clean()

    with transaction.atomic():
        holiday = update_versioned(
            Holiday.objects.all(), holiday_id, actor=actor, version=version, apply=apply, fields=["kind", "name"]
        )
        if holiday.kind != kinds[0]:
            reschedule.holiday_changed(holiday)
    return holiday


def holiday_delete(*, actor, holiday_id: int) -> None:
    require(actor, "service.configure_service")
    with transaction.atomic():
        holiday = Holiday.objects.filter(pk=holiday_id).first()
        if holiday is None:
            raise Http404
        audit.record(actor=actor, action="delete", instance=holiday, changes=audit.snapshot(holiday))
        scope = reschedule.holiday_scope(holiday, removed=True)
        holiday.delete()
        reschedule.start(scope)
