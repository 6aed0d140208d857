"""iCalendar (RFC 5545): a private feed per user behind a secret token, and one .ics per activity.

Built with the `icalendar` library. Times are written in Asia/Shanghai with its VTIMEZONE (added by the library), so
calendar clients show the local time whatever their own zone. The UID of an activity never changes
(activity-<id>@<host>), SEQUENCE is its version: a client updates the event in place after a reschedule.
"""

import hashlib
import secrets
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar
from icalendar import Event as VEvent

from guanxi.activities.calendar import event_of, of_people
from guanxi.activities.models import Activity, CalendarFeed
from guanxi.core import audit

FEED_PAST = timedelta(days=90)  # the feed carries this much history …
FEED_FUTURE = timedelta(days=365)  # … and this much future
FEED_MAX_EVENTS = 2000
PRODID = "-//Guanxi CRM//activities//ZH"


# --- documents -----------------------------------------------------------------------------------------------------


def uid_of(activity: Activity) -> str:
    return f"activity-{activity.pk}@{getattr(settings, 'GUANXI_ICAL_DOMAIN', 'guanxi.local')}"


def vevent(activity: Activity) -> VEvent:
    event = event_of(activity)
    zone = ZoneInfo(settings.TIME_ZONE)
    item = VEvent()
    item.add("uid", uid_of(activity))
    item.add("dtstamp", (activity.updated_at or timezone.now()).astimezone(ZoneInfo("UTC")))
    item.add("sequence", activity.version)
    item.add("dtstart", event.start.astimezone(zone))
    item.add("dtend", event.end.astimezone(zone))
    summary = activity.subject
    if activity.customer_id:
        summary = f"{activity.subject} · {activity.customer.name}"
    item.add("summary", summary)
    details = [str(activity.get_kind_display())]
    if activity.customer_id:
        details.append(_("Customer: %(name)s") % {"name": activity.customer.name})
    for text in (activity.notes, activity.outcome, activity.next_step):
        if text:
            details.append(text)
    item.add("description", "\n".join(details))
    item.add("categories", [str(activity.get_kind_display())])
    if activity.kind == Activity.Kind.VISIT and activity.customer_id and activity.customer.address:
        item.add("location", activity.customer.address)
    item.add("status", "CANCELLED" if activity.status == Activity.Status.CANCELLED else "CONFIRMED")
    url = _activity_url(activity)
    if url:
        item.add("url", url)
    return item


def calendar_document(activities, *, name: str) -> bytes:
    """A VCALENDAR with one VEVENT per activity and the VTIMEZONE its times use."""
    document = Calendar()
    document.add("prodid", PRODID)
    document.add("version", "2.0")
    document.add("calscale", "GREGORIAN")
    document.add("method", "PUBLISH")
    document.add("x-wr-calname", name)
    document.add("x-wr-timezone", settings.TIME_ZONE)
    for activity in activities:
        document.add_component(vevent(activity))
    this_year = timezone.localdate().year
    document.add_missing_timezones(first_date=date(this_year - 2, 1, 1), last_date=date(this_year + 3, 1, 1))
    return document.to_ical()


def activity_ics(activity: Activity) -> bytes:
    return calendar_document([activity], name=activity.subject)


def feed_document(feed: CalendarFeed) -> bytes:
    """The feed of the token's user: activities they own or take part in, from 90 days back to a year ahead, as far
    as their own record scope lets them see them today (a revoked role or a transferred customer drops out)."""
    from guanxi.activities import selectors

    user = feed.user
    now = timezone.now()
    activities = (
        selectors.activity_queryset(user=user)
        .filter(of_people([user.pk]))
        .filter(happened_at__gte=now - FEED_PAST, happened_at__lt=now + FEED_FUTURE)
        .select_related("customer")
        .order_by("happened_at", "id")
    )
    name = _("Guanxi: %(name)s") % {"name": user.get_full_name() or user.username}
    return calendar_document(activities[:FEED_MAX_EVENTS], name=name)


def _activity_url(activity: Activity) -> str:
    base = getattr(settings, "GUANXI_BASE_URL", "")
    try:
        path = reverse("activities:detail", args=[activity.pk])
    except NoReverseMatch:
        return ""
    return f"{base}{path}" if base else ""


# --- feed tokens ---------------------------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_rotate(*, actor) -> tuple[CalendarFeed, str]:
    """A new private feed token for `actor` (256 random bits); the previous one stops working. The clear token is
    returned once and never stored."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        _revoke_live(actor)
        feed = CalendarFeed.objects.create(user=actor, token_hash=_hash(token), prefix=token[:8])
        audit.record(actor=actor, action="create", instance=feed, changes={"prefix": [None, feed.prefix]})
    return feed, token


def feed_revoke(*, actor) -> int:
    """Switch the user's feed off; returns how many tokens were revoked (0 or 1)."""
    with transaction.atomic():
        return _revoke_live(actor)


def _revoke_live(actor) -> int:
    """Revoke and audit the actor's live feeds (inside the caller's transaction); how many there were."""
    feeds = list(CalendarFeed.objects.select_for_update().filter(user=actor, revoked_at__isnull=True))
    now = timezone.now()
    for feed in feeds:
        feed.revoked_at = now
        feed.save(update_fields=["revoked_at"])
        audit.record(actor=actor, action="revoke", instance=feed, changes={"revoked_at": [None, now.isoformat()]})
    return len(feeds)


def feed_active(*, user) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).first()


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed a token opens, or None (unknown, revoked, or the user deactivated)."""
    if not token or len(token) > 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=_hash(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is not None:
        now = timezone.now()
        if feed.last_used_at is None or now - feed.last_used_at > timedelta(minutes=5):  # one write per poll burst
            CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
    return feed
