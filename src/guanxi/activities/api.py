"""Activities, the customer timeline and telephony events under /api/v1 (tag "activities")."""

from datetime import date, timedelta

from django.http import HttpRequest
from ninja import Query, Router
from pydantic import BaseModel, Field

from guanxi.activities import selectors, services, telephony, timeline
from guanxi.activities.filters import ActivityFilters, day_start
from guanxi.activities.schemas import (
    ActivityIn,
    ActivityOut,
    ActivityPage,
    ActivityPatch,
    CompleteIn,
    CompleteOut,
    ScreenPopList,
    TelephonyEventIn,
    TelephonyEventOut,
    TimelinePage,
    VersionIn,
)
from guanxi.core.schemas import READ, WRITE, ErrorOut

router = Router(tags=["activities"])


class ActivityListQuery(ActivityFilters):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class TimelineQuery(BaseModel):
    kind: list[str] | None = Field(None, description="Repeat to ask for several kinds (inbound_call, visit, deal …)")
    date_from: date | None = None
    date_to: date | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(20, ge=1, le=100)


@router.get("/activities", response={200: ActivityPage, **READ})
def list_activities(request: HttpRequest, query: Query[ActivityListQuery]):
    """Activities you may see, newest first (done_at, else planned start), keyset-paginated: follow `next`."""
    filters = ActivityFilters(**query.model_dump(include=set(ActivityFilters.model_fields)))
    return selectors.activity_list(user=request.user, filters=filters, cursor=query.cursor, limit=query.limit)


@router.post("/activities", response={201: ActivityOut, **WRITE})
def create_activity(request: HttpRequest, payload: ActivityIn):
    activity = services.activity_create(actor=request.user, data=payload.model_dump(exclude_unset=True))
    return 201, selectors.activity_get(user=request.user, activity_id=activity.pk)


@router.get("/activities/{activity_id}", response={200: ActivityOut, **READ})
def get_activity(request: HttpRequest, activity_id: int):
    return selectors.activity_get(user=request.user, activity_id=activity_id)


@router.patch("/activities/{activity_id}", response={200: ActivityOut, **WRITE})
def update_activity(request: HttpRequest, activity_id: int, payload: ActivityPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    services.activity_update(actor=request.user, activity_id=activity_id, version=version, data=data)
    return selectors.activity_get(user=request.user, activity_id=activity_id)


@router.post("/activities/{activity_id}/complete", response={200: CompleteOut, **WRITE})
def complete_activity(request: HttpRequest, activity_id: int, payload: CompleteIn):
    """Mark it done (outcome, done_at); a `next_step` creates the follow-up task in the same action."""
    activity, follow_up = services.activity_complete(
        actor=request.user, activity_id=activity_id, **payload.model_dump(exclude_unset=True)
    )
    return {
        "activity": selectors.activity_get(user=request.user, activity_id=activity.pk),
        "follow_up": selectors.activity_get(user=request.user, activity_id=follow_up.pk) if follow_up else None,
    }


@router.post("/activities/{activity_id}/cancel", response={200: ActivityOut, **WRITE})
def cancel_activity(request: HttpRequest, activity_id: int, payload: VersionIn):
    services.activity_cancel(actor=request.user, activity_id=activity_id, version=payload.version)
    return selectors.activity_get(user=request.user, activity_id=activity_id)


@router.delete("/activities/{activity_id}", response={204: None, **WRITE})
def delete_activity(request: HttpRequest, activity_id: int, version: int | None = None):
    """Delete. Pass `?version=` to refuse deleting an activity changed since you read it."""
    services.activity_delete(actor=request.user, activity_id=activity_id, version=version)
    return 204, None


@router.get("/customers/{customer_id}/timeline", response={200: TimelinePage, **READ})
def customer_timeline(request: HttpRequest, customer_id: int, query: Query[TimelineQuery]):
    """The customer's activities and other apps' events, newest first, keyset-paginated; `kind` filters."""
    return timeline.customer_timeline(
        user=request.user,
        customer_id=customer_id,
        kinds=query.kind,
        since=day_start(query.date_from) if query.date_from else None,
        until=day_start(query.date_to + timedelta(days=1)) if query.date_to else None,
        cursor=query.cursor,
        limit=query.limit,
    )


@router.post("/telephony/events", response={200: TelephonyEventOut, **WRITE})
def telephony_event(request: HttpRequest, payload: TelephonyEventIn):
    """A call event from the phone system (needs activities.post_telephony_events). Format: docs/activities.md."""
    call = telephony.handle_event(actor=request.user, **payload.model_dump())
    return {
        "call_id": call.call_id,
        "state": call.state,
        "customer_id": call.customer_id,
        "contact_id": call.contact_id,
        "agent": call.agent.username if call.agent_id else None,
        "activity_id": call.activity_id,
    }


@router.get("/telephony/pops", response={200: ScreenPopList, 401: ErrorOut})
def screen_pops(request: HttpRequest):
    """Your open screen pops (a desktop client's alternative to the web page's polling)."""
    return {"items": [telephony.screen_pop(request.user, c) for c in telephony.pending_screen_pops(user=request.user)]}
