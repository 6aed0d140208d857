"""Agent tools under /api/v1 (tag "service"): reply templates, merging duplicate tickets, a ticket's activities."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import ConfigDict, Field

from guanxi.activities.models import Activity
from guanxi.core.schemas import READ, WRITE
from guanxi.service import reply_templates, selectors, ticket_activities
from guanxi.service.merge import merge_links, ticket_merge
from guanxi.service.schemas import TicketDetailOut

router = Router(tags=["service"])


# --- reply templates ------------------------------------------------------------------------------------------------


class TeamOut(Schema):
    id: int
    name: str


class ReplyTemplateOut(Schema):
    id: int
    name: str
    body: str
    team: TeamOut | None
    active: bool
    version: int
    text: str | None = Field(None, description="The body with its merge fields filled in (with `?ticket=`)")


class ReplyTemplatePage(Schema):
    items: list[ReplyTemplateOut]
    next: str | None


class ReplyTemplateIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=100)
    body: str = Field(..., max_length=5000, description="Text with merge fields such as {customer}, {due}")
    team_id: int | None = Field(None, description="Offered to this team and the units below it; none: to everyone")
    active: bool = True


class ReplyTemplatePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    name: str | None = Field(None, max_length=100)
    body: str | None = Field(None, max_length=5000)
    team_id: int | None = None
    active: bool | None = None


class ReplyTemplateQuery(Schema):
    ticket: int | None = Field(None, description="Fill the merge fields from this ticket (its page's picker)")
    active: bool | None = Field(True, description="false: the retired ones")
    team_id: int | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class MergeFieldOut(Schema):
    name: str
    description: str


def template_data(template, text: str | None = None) -> dict:
    return {
        "id": template.pk,
        "name": template.name,
        "body": template.body,
        "team": {"id": template.team.pk, "name": template.team.name} if template.team_id else None,
        "active": template.active,
        "version": template.version,
        "text": text,
    }


@router.get("/reply-templates", response={200: ReplyTemplatePage, **READ})
def list_reply_templates(request: HttpRequest, query: Query[ReplyTemplateQuery]):
    """The reply templates you are offered, by name. With `ticket` (a ticket you may see, else 404): the active ones
    for that ticket, each with `text` filled in from it — what the ticket page's picker puts into the reply box."""
    if query.ticket is not None:
        ticket = selectors.ticket_get(user=request.user, ticket_id=query.ticket)
        values = reply_templates.merge_values(user=request.user, ticket=ticket)
        items = reply_templates.templates_for_ticket(user=request.user, ticket=ticket)
        return {"items": [template_data(t, reply_templates.render(t.body, values)) for t in items], "next": None}
    page = reply_templates.template_list(
        user=request.user, active=query.active, team_id=query.team_id, cursor=query.cursor, limit=query.limit
    )
    return {"items": [template_data(t) for t in page.items], "next": page.next}


@router.get("/reply-templates/fields", response={200: list[MergeFieldOut], **READ})
def list_merge_fields(request: HttpRequest):
    """The merge fields a template may use, written `{name}`."""
    return [{"name": name, "description": str(text)} for name, text in reply_templates.MERGE_FIELDS.items()]


@router.post("/reply-templates", response={201: ReplyTemplateOut, **WRITE})
def create_reply_template(request: HttpRequest, payload: ReplyTemplateIn):
    """A template for a team in your scope (leads, managers) or for everyone (service administrators)."""
    template = reply_templates.template_create(actor=request.user, data=payload.model_dump())
    return 201, template_data(reply_templates.template_get(user=request.user, template_id=template.pk))


@router.get("/reply-templates/{template_id}", response={200: ReplyTemplateOut, **READ})
def get_reply_template(request: HttpRequest, template_id: int):
    return template_data(reply_templates.template_get(user=request.user, template_id=template_id))


@router.patch("/reply-templates/{template_id}", response={200: ReplyTemplateOut, **WRITE})
def update_reply_template(request: HttpRequest, template_id: int, payload: ReplyTemplatePatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    reply_templates.template_update(actor=request.user, template_id=template_id, version=version, data=data)
    return template_data(reply_templates.template_get(user=request.user, template_id=template_id))


@router.delete("/reply-templates/{template_id}", response={204: None, **WRITE})
def delete_reply_template(request: HttpRequest, template_id: int, version: int):
    """Delete the template at `?version=` (409 when it changed since you read it); `active: false` retires it."""
    reply_templates.template_delete(actor=request.user, template_id=template_id, version=version)
    return 204, None


# --- merge ----------------------------------------------------------------------------------------------------------


class MergeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(..., description="The version of this ticket (the one that stays) you read")
    duplicate_id: int = Field(..., description="The duplicate ticket, closed and linked to this one")
    duplicate_version: int = Field(..., description="The version of the duplicate you read")


class MergedOut(Schema):
    id: int
    number: str
    subject: str
    merged_at: datetime | None


class MergeInfoOut(Schema):
    merged_into: MergedOut | None
    merged_from: list[MergedOut]


def _merged(ticket) -> dict:
    return {"id": ticket.pk, "number": ticket.number, "subject": ticket.subject, "merged_at": ticket.merged_at}


@router.post("/tickets/{ticket_id}/merge", response={200: TicketDetailOut, **WRITE})
def merge_ticket(request: HttpRequest, ticket_id: int, payload: MergeIn):
    """Merge the duplicate `duplicate_id` (same customer) into this ticket: the duplicate is closed with a link here,
    keeping its history and hand-over chain. 409 when the duplicate has a pending hand-over, either ticket is already
    merged, or a version is stale."""
    from guanxi.service.api import detail_data

    ticket_merge(actor=request.user, ticket_id=ticket_id, **payload.model_dump())
    return detail_data(request.user, ticket_id)


@router.get("/tickets/{ticket_id}/merges", response={200: MergeInfoOut, **READ})
def ticket_merges(request: HttpRequest, ticket_id: int):
    """The ticket this one was merged into, and the duplicates merged into it (those you may see)."""
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    merged_into, merged_from = merge_links(user=request.user, ticket=ticket)
    return {
        "merged_into": _merged(merged_into) if merged_into else None,
        "merged_from": [_merged(t) for t in merged_from],
    }


# --- linked activities ----------------------------------------------------------------------------------------------


class TicketActivityOut(Schema):
    id: int
    kind: str
    kind_label: str
    subject: str
    status: str
    owner: str
    customer_id: int | None
    planned_start: datetime | None
    done_at: datetime | None
    happened_at: datetime
    version: int


class FollowUpIn(Schema):
    model_config = ConfigDict(extra="forbid")

    kind: Activity.Kind = Activity.Kind.OUTBOUND_CALL
    subject: str = Field(..., min_length=1, max_length=200)
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    notes: str = Field("", max_length=20000)
    owner_id: int | None = Field(None, description="Defaults to you")


def activity_data(activity) -> dict:
    return {
        "id": activity.pk,
        "kind": activity.kind,
        "kind_label": str(activity.get_kind_display()),
        "subject": activity.subject,
        "status": activity.status,
        "owner": activity.owner.get_full_name() or activity.owner.username,
        "customer_id": activity.customer_id,
        "planned_start": activity.planned_start,
        "done_at": activity.done_at,
        "happened_at": activity.happened_at,
        "version": activity.version,
    }


@router.get("/tickets/{ticket_id}/activities", response={200: list[TicketActivityOut], **READ})
def list_ticket_activities(request: HttpRequest, ticket_id: int):
    """The activities linked to the ticket that you may see, newest first (at most 50)."""
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    return [activity_data(a) for a in ticket_activities.activities_of_ticket(user=request.user, ticket=ticket)]


@router.post("/tickets/{ticket_id}/activities", response={201: TicketActivityOut, **WRITE})
def create_ticket_follow_up(request: HttpRequest, ticket_id: int, payload: FollowUpIn):
    """A planned follow-up (call back, visit, task …) linked to the ticket and, when you may see it, its customer."""
    activity = ticket_activities.follow_up_create(actor=request.user, ticket_id=ticket_id, data=payload.model_dump())
    return 201, activity_data(activity)
