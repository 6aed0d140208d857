"""API of the notification centre (J4): your notices (keyset pages), unread count, read, and your preferences."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from guanxi.activities import notifications
from guanxi.core.schemas import READ, ErrorOut

router = Router(tags=["activities"])


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None


class NotificationPageOut(Schema):
    items: list[NotificationOut]
    next: str | None = Field(description="Cursor of the next page; null on the last one")
    unread: int = Field(description="How many of your notices are unread (all pages)")


class NotificationUnreadOut(Schema):
    unread: int


class NotificationPreferenceOut(Schema):
    kind: str
    label: str
    in_app: bool
    email: bool


class NotificationPreferencesOut(Schema):
    items: list[NotificationPreferenceOut]


class NotificationPreferencesIn(Schema):
    preferences: dict[str, dict] = Field(
        description='{kind: {"in_app": bool, "email": bool}}; either key may be left out, kinds left out keep theirs'
    )


def preferences_out(preferences: dict) -> dict:
    labels = dict(notifications.Kind.choices)
    return {
        "items": [
            {"kind": kind, "label": str(labels[kind]), "in_app": channels.in_app, "email": channels.email}
            for kind, channels in preferences.items()
        ]
    }


@router.get("/notifications", response={200: NotificationPageOut, **READ})
def list_notifications(
    request: HttpRequest,
    cursor: str | None = None,
    limit: int = Query(50, ge=1, le=200),
    unread_only: bool = False,
):
    """Your notices, newest first (keyset pages), and how many are unread."""
    page = notifications.notification_page(user=request.user, cursor=cursor, limit=limit, unread_only=unread_only)
    return {"items": page.items, "next": page.next, "unread": notifications.unread_count(user=request.user)}


@router.get("/notifications/unread-count", response={200: NotificationUnreadOut, 401: ErrorOut})
def unread_count(request: HttpRequest):
    return {"unread": notifications.unread_count(user=request.user)}


@router.post("/notifications/read-all", response={200: dict, 401: ErrorOut})
def read_all_notifications(request: HttpRequest):
    return {"read": notifications.notifications_read_all(actor=request.user)}


@router.post("/notifications/{notification_id}/read", response={200: NotificationOut, **READ})
def read_notification(request: HttpRequest, notification_id: int):
    """Mark one of your notices read (another user's notice is 404)."""
    return notifications.notification_read(actor=request.user, notification_id=notification_id)


@router.get("/notification-preferences", response={200: NotificationPreferencesOut, 401: ErrorOut})
def get_preferences(request: HttpRequest):
    """Per kind of notice: in the app and/or by email (your choice, else the default)."""
    return preferences_out(notifications.preferences_of(request.user))


@router.put("/notification-preferences", response={200: NotificationPreferencesOut, **READ})
def set_preferences(request: HttpRequest, payload: NotificationPreferencesIn):
    """Set your channels for the kinds given; all or nothing (422 naming the kind)."""
    return preferences_out(notifications.preferences_set(actor=request.user, preferences=payload.preferences))
