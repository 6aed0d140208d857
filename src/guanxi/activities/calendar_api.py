"""API of the calendar, its iCalendar feed and reminders (router tag "activities"); notices: notifications_api."""

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field, StrictInt

from guanxi.activities import calendar, ical, reminders
from guanxi.activities.calendar import Event
from guanxi.core.schemas import READ, WRITE, ErrorOut

router = Router(tags=["activities"])


class PersonOut(Schema):
    id: int
    name: str


class EventOut(Schema):
    id: int
    kind: str
    subject: str
    status: str
    start: datetime
    end: datetime
    planned_start: datetime | None
    planned_end: datetime | None
    done_at: datetime | None
    customer_id: int | None
    customer_name: str
    owner_id: int
    owner_name: str
    version: int
    movable: bool = Field(..., description="A planned activity with a start: it can be dragged to another time")


class CalendarOut(Schema):
    start: datetime
    end: datetime
    people: list[PersonOut]
    items: list[EventOut]


class CalendarQuery(Schema):
    start: datetime = Field(..., description="From (ISO date or date-time; Asia/Shanghai when no offset is given)")
    end: datetime = Field(..., description="Until, exclusive; at most 62 days after start")
    user_id: int | None = Field(None, description="Someone in your scope; default: you")
    team: int | None = Field(None, description="An organisation unit in your scope: everyone in it and below")


class MoveIn(Schema):
    start: datetime = Field(..., description="The new start; the end moves with it (same length)")
    version: int = Field(..., description="The activity's version you read; 409 when it changed since")


class FeedOut(Schema):
    active: bool
    prefix: str | None = None
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    url: str | None = Field(None, description="Only in the answer that creates the token: it is never shown again")


class ReminderIn(Schema):
    minutes_before: StrictInt | None = Field(  # strict: `false` is not 0 minutes
        ..., ge=0, le=reminders.MAX_MINUTES, description="Minutes before the start; null: no reminder for this one"
    )


class ReminderOut(Schema):
    activity_id: int
    minutes_before: int | None


class PreferenceIn(Schema):
    minutes: StrictInt | None = Field(  # strict: `false` is not 0 minutes
        ..., ge=0, le=reminders.MAX_MINUTES, description="Default lead time; null: none"
    )
    email: bool = Field(False, description="Also send reminders by email")


class PreferenceOut(Schema):
    minutes: int | None
    email: bool


def event_out(event: Event) -> dict:
    activity = event.activity
    return {
        "id": activity.pk,
        "kind": activity.kind,
        "subject": activity.subject,
        "status": activity.status,
        "start": _local(event.start),
        "end": _local(event.end),
        "planned_start": _local(activity.planned_start),
        "planned_end": _local(activity.planned_end),
        "done_at": _local(activity.done_at),
        "customer_id": activity.customer_id,
        "customer_name": activity.customer.name if activity.customer_id else "",
        "owner_id": activity.owner_id,
        "owner_name": activity.owner.get_full_name() or activity.owner.username,
        "version": activity.version,
        "movable": event.movable,
    }


def _local(value: datetime | None) -> datetime | None:
    """Times answered in Asia/Shanghai with their offset, as the rest of the API does."""
    return timezone.localtime(value) if value else None


def _aware(value: datetime) -> datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


@router.get("/calendar", response={200: CalendarOut, **READ})
def calendar_events(request: HttpRequest, query: Query[CalendarQuery]):
    """Events (activities owned or taken part in) of you, of one person or of a team in your scope, in a range."""
    people = calendar.calendar_people(user=request.user, user_id=query.user_id, team_id=query.team)
    start, end = _aware(query.start), _aware(query.end)
    events = calendar.calendar_events(user=request.user, people=people, start=start, end=end)
    return {
        "start": _local(start),
        "end": _local(end),
        "people": [{"id": p.pk, "name": p.get_full_name() or p.username} for p in people],
        "items": [event_out(event) for event in events],
    }


@router.post("/calendar/events/{activity_id}/move", response={200: EventOut, **WRITE})
def move_event(request: HttpRequest, activity_id: int, payload: MoveIn):
    """Reschedule a planned activity (drag and drop): 409 with `current_version` when someone changed it since."""
    activity = calendar.activity_move(
        actor=request.user, activity_id=activity_id, version=payload.version, start=_aware(payload.start)
    )
    return event_out(calendar.event_of(activity))


@router.get("/calendar/feed", response={200: FeedOut, 401: ErrorOut})
def feed_status(request: HttpRequest):
    """Whether you have a private iCalendar feed (the token itself is only shown when it is created)."""
    feed = ical.feed_active(user=request.user)
    if feed is None:
        return {"active": False}
    return {"active": True, "prefix": feed.prefix, "created_at": feed.created_at, "last_used_at": feed.last_used_at}


@router.post("/calendar/feed", response={201: FeedOut, 401: ErrorOut})
def feed_rotate(request: HttpRequest):
    """Create your private feed URL, or replace it (the old URL stops working at once)."""
    feed, token = ical.feed_rotate(actor=request.user)
    url = request.build_absolute_uri(reverse("activities:calendar_feed", args=[token]))
    return 201, {"active": True, "prefix": feed.prefix, "created_at": feed.created_at, "url": url}


@router.delete("/calendar/feed", response={204: None, 401: ErrorOut})
def feed_revoke(request: HttpRequest):
    """Switch your feed off: its URL answers 404 from now on."""
    ical.feed_revoke(actor=request.user)
    return 204, None


@router.get("/activities/{activity_id}/ics", response={200: None, **READ})
def activity_ics(request: HttpRequest, activity_id: int):
    """One activity as an iCalendar (.ics) file, to add to any calendar application."""
    from guanxi.activities import selectors

    activity = selectors.activity_get(user=request.user, activity_id=activity_id)
    return ics_response(ical.activity_ics(activity), f"activity-{activity.pk}.ics")


def ics_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.put("/activities/{activity_id}/reminder", response={200: ReminderOut, **WRITE})
def set_reminder(request: HttpRequest, activity_id: int, payload: ReminderIn):
    """Your reminder for one activity you own or take part in (overrides your default)."""
    setting = reminders.activity_reminder_set(
        actor=request.user, activity_id=activity_id, minutes_before=payload.minutes_before
    )
    return {"activity_id": setting.activity_id, "minutes_before": setting.minutes_before}


@router.get("/reminder-preference", response={200: PreferenceOut, 401: ErrorOut})
def get_reminder_preference(request: HttpRequest):
    return reminders.preference_of(request.user)


@router.put("/reminder-preference", response={200: PreferenceOut, **WRITE})
def set_reminder_preference(request: HttpRequest, payload: PreferenceIn):
    """Your default reminder: minutes before each planned activity you own or take part in, and email or not."""
    return reminders.preference_set(actor=request.user, minutes=payload.minutes, email=payload.email)
