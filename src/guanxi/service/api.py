"""Tickets, hand-overs, ticket types and the holiday calendar under /api/v1 (tag "service")."""

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import Field

from guanxi.core.labels import choice_labels
from guanxi.core.masking import phone_for
from guanxi.core.schemas import READ, WRITE
from guanxi.service import selectors, services
from guanxi.service.agent_api import router as agent_router
from guanxi.service.assignment_api import router as assignment_router
from guanxi.service.correspondence_api import router as correspondence_router
from guanxi.service.feedback_api import router as feedback_router
from guanxi.service.filters import TicketFilters
from guanxi.service.hours_api import router as hours_router
from guanxi.service.knowledge_api import router as knowledge_router
from guanxi.service.models import Ticket
from guanxi.service.models.config import Kind
from guanxi.service.schemas import (
    ActionIn,
    AnswerIn,
    HandoverIn,
    HandoverOut,
    HolidayIn,
    HolidayOut,
    HolidayPatch,
    ResolveIn,
    TicketDetailOut,
    TicketIn,
    TicketPage,
    TicketPatch,
    TicketTypeOut,
)
from guanxi.service.sms_api import router as sms_router

router = Router(tags=["service"])


class TicketListQuery(TicketFilters):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


def _person(user) -> dict | None:
    if user is None:
        return None
    return {"id": user.pk, "name": user.get_full_name() or user.username}


def _unit(unit) -> dict | None:
    return {"id": unit.pk, "name": unit.name} if unit is not None else None


def ticket_data(user, ticket: Ticket) -> dict:
    """One ticket as the API shows it to `user` (an unknown caller's phone masked for non-privileged roles); the list
    builds the same fields from rows (selectors.ticket_rows)."""
    return {
        **{
            name: getattr(ticket, name)
            for name in (
                "id",
                "number",
                "customer_id",
                "contact_id",
                "caller_name",
                "caller_address",
                "channel",
                "ticket_type",
                "sub_type_id",
                "priority",
                "subject",
                "description",
                "status",
                "sla_grade",
                "around_the_clock",
                "response_due_at",
                "resolution_due_at",
                "sla_due_at",
                "sla_state",
                "paused_at",
                "responded_at",
                "resolved_at",
                "closed_at",
                "response_breached",
                "resolution_breached",
                "resolution",
                "cause_id",
                "created_at",
                "version",
            )
        },
        "customer_name": ticket.customer.name if ticket.customer_id else None,
        "caller_phone": phone_for(user, ticket.caller_phone) if ticket.caller_phone else "",
        "ticket_type_label": choice_labels(Kind).get(ticket.ticket_type, ticket.ticket_type),
        "status_label": choice_labels(Ticket.Status).get(ticket.status, ticket.status),
        "receiver": _person(ticket.receiver),
        "owner": _person(ticket.owner),
        "team": _unit(ticket.team),
    }


def handover_data(handover) -> dict:
    return {
        "id": handover.pk,
        "from_user": _person(handover.from_user),
        "to_user": _person(handover.to_user),
        "to_team": _unit(handover.to_team),
        "reason": handover.reason,
        "status": handover.status,
        "status_label": str(handover.get_status_display()),
        "requested_at": handover.requested_at,
        "expires_at": handover.expires_at,
        "decided_at": handover.decided_at,
        "decided_by": _person(handover.decided_by),
        "note": handover.note,
    }


def detail_data(user, ticket_id: int) -> dict:
    ticket = selectors.ticket_get(user=user, ticket_id=ticket_id)
    return {
        **ticket_data(user, ticket),
        "handovers": [handover_data(h) for h in selectors.handover_chain(ticket=ticket)],
        "events": [
            {
                "at": e.at,
                "kind": e.kind,
                "kind_label": str(e.get_kind_display()),
                "actor": (e.actor.get_full_name() or e.actor.username) if e.actor_id else "",
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "details": e.details,
            }
            for e in selectors.ticket_events(ticket=ticket)
        ],
    }


@router.get("/tickets", response={200: TicketPage, **READ})
def list_tickets(request: HttpRequest, query: Query[TicketListQuery]):
    """Tickets you may see, most urgent SLA deadline first, keyset-paginated (follow `next`). `team_id` gives a
    team's queue; `status` defaults to the open ones."""
    filters = TicketFilters(**query.model_dump(include=set(TicketFilters.model_fields)))
    return selectors.ticket_rows(user=request.user, filters=filters, cursor=query.cursor, limit=query.limit)


@router.post("/tickets", response={201: TicketDetailOut, **WRITE})
def create_ticket(request: HttpRequest, payload: TicketIn):
    """Record a ticket: you become its receiver and first-contact owner; deadlines come from the SLA targets."""
    ticket = services.ticket_create(actor=request.user, data=payload.model_dump())
    return 201, detail_data(request.user, ticket.pk)


@router.get("/tickets/{ticket_id}", response={200: TicketDetailOut, **READ})
def get_ticket(request: HttpRequest, ticket_id: int):
    """One ticket with its hand-over chain and its history."""
    return detail_data(request.user, ticket_id)


@router.patch("/tickets/{ticket_id}", response={200: TicketDetailOut, **WRITE})
def update_ticket(request: HttpRequest, ticket_id: int, payload: TicketPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    services.ticket_update(actor=request.user, ticket_id=ticket_id, version=version, data=data)
    return detail_data(request.user, ticket_id)


def _transition(action: str):
    def handler(request: HttpRequest, ticket_id: int, payload: ActionIn):
        services.ticket_transition(
            actor=request.user, ticket_id=ticket_id, version=payload.version, action=action, note=payload.note
        )
        return detail_data(request.user, ticket_id)

    handler.__name__ = f"{action}_ticket"
    return handler


for _action, _doc in (
    ("accept", "Accept (respond to) a new ticket: the response target is met now."),
    ("start", "Start work (also: resume after waiting for the customer; the SLA clock runs again)."),
    ("wait", "Wait for the customer: the SLA clock pauses."),
    ("close", "Close a resolved ticket."),
    ("reopen", "Reopen a resolved or closed ticket (a `note` says why); a fresh resolution target starts."),
):
    _handler = _transition(_action)
    _handler.__doc__ = _doc
    router.post(f"/tickets/{{ticket_id}}/{_action}", response={200: TicketDetailOut, **WRITE})(_handler)


@router.post("/tickets/{ticket_id}/resolve", response={200: TicketDetailOut, **WRITE})
def resolve_ticket(request: HttpRequest, ticket_id: int, payload: ResolveIn):
    """Resolve with what was done (`resolution`) and optionally the `cause`."""
    services.ticket_transition(
        actor=request.user,
        ticket_id=ticket_id,
        version=payload.version,
        action="resolve",
        note=payload.note,
        resolution=payload.resolution,
        cause_id=payload.cause_id,
    )
    return detail_data(request.user, ticket_id)


@router.post("/tickets/{ticket_id}/handover", response={201: HandoverOut, **WRITE})
def request_handover(request: HttpRequest, ticket_id: int, payload: HandoverIn):
    """Ask a person (`to_user_id`) or a team (`to_team_id`) to take the ticket over, with a reason. You stay the owner
    until they accept; unanswered, the request expires and the ticket stays yours."""
    handover = services.handover_request(actor=request.user, ticket_id=ticket_id, **payload.model_dump())
    return 201, handover_data(handover)


@router.post("/tickets/{ticket_id}/handover/accept", response={200: TicketDetailOut, **WRITE})
def accept_handover(request: HttpRequest, ticket_id: int, payload: AnswerIn):
    """Take the ticket over: you become its owner."""
    services.handover_accept(actor=request.user, ticket_id=ticket_id, note=payload.note)
    return detail_data(request.user, ticket_id)


@router.post("/tickets/{ticket_id}/handover/decline", response={200: HandoverOut, **WRITE})
def decline_handover(request: HttpRequest, ticket_id: int, payload: AnswerIn):
    """Refuse the hand-over (a `note` says why); the ticket stays with the sender. Answers the declined request (the
    ticket itself may be out of your scope once it is no longer addressed to you)."""
    handover = services.handover_decline(actor=request.user, ticket_id=ticket_id, note=payload.note)
    return handover_data(handover)


@router.get("/ticket-types", response={200: list[TicketTypeOut], **READ})
def list_ticket_types(request: HttpRequest):
    """The ticket types with their active sub-types and causes (a type's own and the general ones)."""
    general = [{"id": c.pk, "name": c.name} for c in selectors.general_causes()]
    return [
        {
            "code": t.code,
            "label": str(t.get_code_display()),
            "around_the_clock": t.around_the_clock,
            "sub_types": [{"id": s.pk, "name": s.name} for s in t.sub_types.all()],
            "causes": [{"id": c.pk, "name": c.name} for c in t.causes.all()] + general,
        }
        for t in selectors.ticket_types()
    ]


@router.get("/holidays", response={200: list[HolidayOut], **READ})
def list_holidays(request: HttpRequest, year: int | None = Query(None, ge=1900, le=2999)):
    """The holiday calendar: days off and weekend days worked in lieu (调休), which the business-hour SLA clocks use."""
    return list(selectors.holiday_list(year=year))


@router.post("/holidays", response={201: HolidayOut, **WRITE})
def create_holiday(request: HttpRequest, payload: HolidayIn):
    return 201, services.holiday_create(actor=request.user, day=payload.date, kind=payload.kind, name=payload.name)


@router.patch("/holidays/{holiday_id}", response={200: HolidayOut, **WRITE})
def update_holiday(request: HttpRequest, holiday_id: int, payload: HolidayPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return services.holiday_update(actor=request.user, holiday_id=holiday_id, version=version, data=data)


@router.delete("/holidays/{holiday_id}", response={204: None, **WRITE})
def delete_holiday(request: HttpRequest, holiday_id: int):
    services.holiday_delete(actor=request.user, holiday_id=holiday_id)
    return 204, None


# Return visits, satisfaction surveys and satisfaction/NPS figures (service/feedback_api.py).
router.add_router("/", feedback_router)

# A ticket's thread (messages, attachments) and the complaint flow (correspondence_api.py).
router.add_router("/", correspondence_router)

# Agent tools: reply templates, merging duplicate tickets, a ticket's linked activities (agent_api.py).
router.add_router("/", agent_router)

# The knowledge base: articles, review, versions, search, suggestions, ticket links and votes (knowledge_api.py).
router.add_router("/", knowledge_router)

# Business-hour schedules the SLA clocks count, for those who configure the service (hours_api.py).
router.add_router("/", hours_router)

# Assignment of queue tickets: teams' rules, agents' availability and skills (assignment_api.py).
router.add_router("/", assignment_router)

# Text messages: the SMS gateway's inbound hook for replies (sms_api.py).
router.add_router("/", sms_router)
