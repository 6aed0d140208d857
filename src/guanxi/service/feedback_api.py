"""Return visits, satisfaction surveys and satisfaction/NPS figures under /api/v1 (tag "service").

Mounted on the service router (service/api.py). Reads are scoped (a visit where its ticket is visible, an invitation
where its customer is; 404 otherwise); writes are audited services; range checks answer 422 naming the field.
"""

from datetime import date, datetime, time
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from guanxi.core.schemas import READ, WRITE
from guanxi.service import return_visits, satisfaction, selectors, surveys
from guanxi.service.models import ContactChannel, ReturnVisit, Survey, SurveyInvitation

router = Router(tags=["service"])


# --- shapes ---------------------------------------------------------------------------------------------------------


class PersonOut(Schema):
    id: int
    name: str


class AttemptOut(Schema):
    at: datetime
    by: PersonOut | None
    channel: str
    reached: bool
    note: str


class VisitOut(Schema):
    id: int
    ticket_id: int
    ticket_number: str
    ticket_subject: str
    ticket_status: str
    customer_id: int | None
    customer_name: str | None
    team: PersonOut | None
    assignee: PersonOut | None
    status: str
    status_label: str
    channel: str
    closed_at: datetime
    due_at: datetime
    overdue: bool
    attempts: int
    max_attempts: int
    satisfaction: int | None
    comment: str
    completed_at: datetime | None
    reopened: bool
    version: int


class VisitDetailOut(VisitOut):
    attempt_log: list[AttemptOut]


class VisitPage(Schema):
    items: list[VisitOut]
    next: str | None


class VisitRecordIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    reached: bool
    channel: str = Field(ContactChannel.PHONE, max_length=16, description="phone, sms, wechat or email")
    satisfaction: int | None = Field(None, description="1 (very dissatisfied) … 5 (very satisfied); when reached")
    comment: str = Field("", max_length=5000)


class SurveyIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=200)
    description: str = Field("", max_length=5000)
    channel: str = Field(ContactChannel.PHONE, max_length=16, description="phone, sms, wechat or email")
    segment: dict = Field(default_factory=dict, description="A customer list filter (GET /customers parameters)")


class SurveyOut(Schema):
    id: int
    name: str
    description: str
    channel: str
    segment: dict
    status: str
    status_label: str
    created_by: PersonOut
    created_at: datetime
    sent_at: datetime | None
    progress: int | None = Field(None, description="While sending: percent of the customers invited so far")
    invited: int = 0
    answered: int = 0
    version: int


class SurveyPage(Schema):
    items: list[SurveyOut]
    next: str | None


class VersionIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int


class SendOut(Schema):
    invited: int
    survey: SurveyOut


class InvitationOut(Schema):
    id: int
    survey_id: int
    customer_id: int
    customer_name: str
    channel: str
    status: str
    invited_at: datetime
    delivered_at: datetime | None  # reached the customer (text message sent; other channels: when invited)
    answerable: bool  # an answer may be recorded now: delivered, not answered, the survey not closed
    answered_at: datetime | None
    recommend: int | None
    satisfaction: int | None
    comment: str
    version: int


class InvitationPage(Schema):
    items: list[InvitationOut]
    next: str | None


class AnswerIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    recommend: int = Field(..., description="Would recommend us: 0 (not at all) … 10 (certainly)")
    satisfaction: int = Field(..., description="1 (very dissatisfied) … 5 (very satisfied)")
    comment: str = Field("", max_length=5000)


class SatisfactionRowOut(Schema):
    key: str | None
    label: str
    responses: int
    satisfaction: float | None
    nps_responses: int
    promoters: int
    detractors: int
    nps: float | None


class VisitQuery(Schema):
    queue: Literal["due", "overdue", "upcoming", "open", "done"] = "due"
    team_id: int | None = None
    assignee_id: int | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class SatisfactionQuery(Schema):
    by: Literal["customer", "grade", "team", "month"] = "month"
    since: date | None = Field(None, description="From this day (Asia/Shanghai), inclusive")
    until: date | None = Field(None, description="Until this day, exclusive")


# --- data -----------------------------------------------------------------------------------------------------------


def _person(user) -> dict | None:
    return {"id": user.pk, "name": user.get_full_name() or user.username} if user is not None else None


def visit_data(visit: ReturnVisit, now=None) -> dict:
    now = now or timezone.now()
    ticket = visit.ticket
    return {
        "id": visit.pk,
        "ticket_id": ticket.pk,
        "ticket_number": ticket.number,
        "ticket_subject": ticket.subject,
        "ticket_status": ticket.status,
        "customer_id": ticket.customer_id,
        "customer_name": ticket.customer.name if ticket.customer_id else None,
        "team": {"id": visit.team.pk, "name": visit.team.name} if visit.team_id else None,
        "assignee": _person(visit.assignee),
        "status": visit.status,
        "status_label": str(visit.get_status_display()),
        "channel": visit.channel,
        "closed_at": visit.closed_at,
        "due_at": visit.due_at,
        "overdue": visit.status in ReturnVisit.OPEN and visit.due_at <= now - return_visits.OVERDUE_AFTER,
        "attempts": visit.attempts,
        "max_attempts": visit.max_attempts,
        "satisfaction": visit.satisfaction,
        "comment": visit.comment,
        "completed_at": visit.completed_at,
        "reopened": visit.reopened,
        "version": visit.version,
    }


def visit_detail(user, visit_id: int) -> dict:
    visit = return_visits.visit_get(user=user, visit_id=visit_id)
    return {
        **visit_data(visit),
        "attempt_log": [
            {"at": a.at, "by": _person(a.by), "channel": a.channel, "reached": a.reached, "note": a.note}
            for a in return_visits.attempts_of(visit=visit)
        ],
    }


def survey_data(user, survey: Survey, counts: bool = True) -> dict:
    data = {
        "id": survey.pk,
        "name": survey.name,
        "description": survey.description,
        "channel": survey.channel,
        "segment": survey.segment,
        "status": survey.status,
        "status_label": str(survey.get_status_display()),
        "created_by": _person(survey.created_by),
        "created_at": survey.created_at,
        "sent_at": survey.sent_at,
        "progress": surveys.send_progress(survey),
        "version": survey.version,
    }
    if counts:
        data.update(surveys.survey_counts(user=user, survey_id=survey.pk))
    return data


def invitation_data(invitation: SurveyInvitation, survey: Survey | None = None) -> dict:
    return {
        **{
            name: getattr(invitation, name)
            for name in (
                "id",
                "survey_id",
                "customer_id",
                "channel",
                "status",
                "invited_at",
                "delivered_at",
                "answered_at",
                "recommend",
                "satisfaction",
                "comment",
                "version",
            )
        },
        "customer_name": invitation.customer.name,
        "answerable": surveys.invitation_answerable(invitation, survey),
    }


def _day_start(day: date | None):
    if day is None:
        return None
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


# --- return visits --------------------------------------------------------------------------------------------------


@router.get("/return-visits", response={200: VisitPage, **READ})
def list_return_visits(request: HttpRequest, query: Query[VisitQuery]):
    """The return-visit queue (回访): `due` (default), `overdue`, `upcoming`, `open` or `done`; earliest due first."""
    page = return_visits.visit_queue(user=request.user, **query.model_dump())
    now = timezone.now()
    return {"items": [visit_data(v, now) for v in page.items], "next": page.next}


@router.get("/return-visits/{visit_id}", response={200: VisitDetailOut, **READ})
def get_return_visit(request: HttpRequest, visit_id: int):
    return visit_detail(request.user, visit_id)


@router.post("/return-visits/{visit_id}/record", response={200: VisitDetailOut, **WRITE})
def record_return_visit(request: HttpRequest, visit_id: int, payload: VisitRecordIn):
    """Record an attempt: not reached → tried again later (at most the type's attempts, then unreachable); reached →
    `satisfaction` 1–5 and a comment; 1–2 reopens the ticket and notifies the team lead."""
    return_visits.visit_record(actor=request.user, visit_id=visit_id, **payload.model_dump())
    return visit_detail(request.user, visit_id)


@router.get("/tickets/{ticket_id}/return-visits", response={200: list[VisitDetailOut], **READ})
def ticket_return_visits(request: HttpRequest, ticket_id: int):
    """The return visits of one ticket, newest first."""
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    return [
        {
            **visit_data(visit),
            "attempt_log": [
                {"at": a.at, "by": _person(a.by), "channel": a.channel, "reached": a.reached, "note": a.note}
                for a in visit.attempt_log.all()
            ],
        }
        for visit in return_visits.visits_of_ticket(ticket=ticket)
    ]


# --- surveys --------------------------------------------------------------------------------------------------------


@router.get("/surveys", response={200: SurveyPage, **READ})
def list_surveys(request: HttpRequest, cursor: str | None = Query(None, max_length=500)):
    """Satisfaction surveys, newest first; the counts cover only the customers you may see."""
    page = surveys.survey_list(user=request.user, cursor=cursor)
    return {"items": [survey_data(request.user, s) for s in page.items], "next": page.next}


@router.post("/surveys", response={201: SurveyOut, **WRITE})
def create_survey(request: HttpRequest, payload: SurveyIn):
    """A draft survey of a customer segment (the customer list's filter), by phone, text message, WeChat or email."""
    survey = surveys.survey_create(actor=request.user, **payload.model_dump())
    return 201, survey_data(request.user, survey)


@router.get("/surveys/{survey_id}", response={200: SurveyOut, **READ})
def get_survey(request: HttpRequest, survey_id: int):
    return survey_data(request.user, surveys.survey_get(user=request.user, survey_id=survey_id))


@router.post("/surveys/{survey_id}/send", response={200: SendOut, **WRITE})
def send_survey(request: HttpRequest, survey_id: int, payload: VersionIn):
    """Invite every customer of the segment you may see. The survey becomes `sending` and a background job creates
    the invitations (`progress` in percent) and becomes `sent`; `invited` is the number of customers to invite. By
    text message, each customer's mobile gets the invitation through the SMS backend; other channels are the agents'
    to-do list. Agents record each answer."""
    invited = surveys.survey_send(actor=request.user, survey_id=survey_id, version=payload.version)
    survey = surveys.survey_get(user=request.user, survey_id=survey_id)
    return {"invited": invited, "survey": survey_data(request.user, survey)}


@router.post("/surveys/{survey_id}/close", response={200: SurveyOut, **WRITE})
def close_survey(request: HttpRequest, survey_id: int, payload: VersionIn):
    surveys.survey_close(actor=request.user, survey_id=survey_id, version=payload.version)
    return survey_data(request.user, surveys.survey_get(user=request.user, survey_id=survey_id))


@router.get("/surveys/{survey_id}/invitations", response={200: InvitationPage, **READ})
def list_invitations(
    request: HttpRequest,
    survey_id: int,
    status: SurveyInvitation.Status | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=200),
):
    survey = surveys.survey_get(user=request.user, survey_id=survey_id)
    page = surveys.invitation_list(user=request.user, survey=survey, status=status, cursor=cursor, limit=limit)
    return {"items": [invitation_data(i, survey) for i in page.items], "next": page.next}


@router.get("/survey-invitations/{invitation_id}", response={200: InvitationOut, **READ})
def get_invitation(request: HttpRequest, invitation_id: int):
    return invitation_data(surveys.invitation_get(user=request.user, invitation_id=invitation_id))


@router.post("/survey-invitations/{invitation_id}/answer", response={200: InvitationOut, **WRITE})
def answer_invitation(request: HttpRequest, invitation_id: int, payload: AnswerIn):
    """The customer's answer: `recommend` 0–10 (NPS) and `satisfaction` 1–5."""
    invitation = surveys.invitation_answer(actor=request.user, invitation_id=invitation_id, **payload.model_dump())
    return invitation_data(surveys.invitation_get(user=request.user, invitation_id=invitation.pk))


# --- figures --------------------------------------------------------------------------------------------------------


@router.get("/satisfaction", response={200: list[SatisfactionRowOut], **READ})
def satisfaction_figures(request: HttpRequest, query: Query[SatisfactionQuery]):
    """Satisfaction (average 1–5, return visits and surveys) and NPS (surveys: % 9–10 − % 0–6) per customer, grade,
    team or month, over the tickets and customers you may see."""
    return satisfaction.satisfaction_summary(
        user=request.user, by=query.by, since=_day_start(query.since), until=_day_start(query.until)
    )
