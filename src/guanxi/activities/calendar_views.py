"""Calendar pages (htmx): the day/week/month grid, drag to reschedule, the private feed, .ics files, notices."""

import json
from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from guanxi.activities import calendar, ical, reminders
from guanxi.activities import notifications as notices
from guanxi.activities.calendar_api import ics_response
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.selectors import users_in_scope

HOURS = range(24)


def _int(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


def _anchor(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        return timezone.localdate()


@login_required
def calendar_page(request: HttpRequest) -> HttpResponse:
    """The calendar of the user, of one person or of a team in their scope; the grid alone for htmx requests."""
    view = request.GET.get("view") if request.GET.get("view") in calendar.VIEWS else "week"
    anchor = _anchor(request.GET.get("date"))
    user_id, team_id = _int(request.GET.get("user")), _int(request.GET.get("team"))
    people = calendar.calendar_people(user=request.user, user_id=user_id, team_id=team_id)
    first, after = calendar.view_range(view, anchor)
    events = calendar.calendar_events(
        user=request.user,
        people=people,
        start=calendar.local_midnight(first),
        end=calendar.local_midnight(after),
    )
    day_list = calendar.days(first, after)
    by_day = calendar.events_by_day(events, day_list)
    base = {"view": view, "user": user_id or "", "team": team_id or ""}
    context = {
        "view": view,
        "anchor": anchor,
        "first": first,
        "last": after - timedelta(days=1),
        "today": timezone.localdate(),
        "people": people,
        "selected_user": user_id,
        "selected_team": team_id,
        "days": day_list,
        "weeks": [[(day, by_day[day]) for day in day_list[i : i + 7]] for i in range(0, len(day_list), 7)],
        "by_day": by_day,
        "hour_rows": _hour_rows(by_day, day_list) if view != "month" else [],
        "events_count": len(events),
        "query": base,
        "prev_url": _url(base, calendar.step(view, anchor, -1)),
        "next_url": _url(base, calendar.step(view, anchor, 1)),
        "today_url": _url(base, timezone.localdate()),
        "view_urls": {v: _url({**base, "view": v}, anchor) for v in calendar.VIEWS},
    }
    if request.htmx:
        return render(request, "activities/calendar_grid.html", context)
    context.update(
        scope_people=users_in_scope(user=request.user).order_by("username"),
        scope_teams=calendar.teams_in_scope(user=request.user).order_by("path"),
        feed=ical.feed_active(user=request.user),
        reminder=reminders.preference_of(request.user),
        reminder_choices=reminders.CHOICES,
    )
    return render(request, "activities/calendar.html", context)


def _hour_rows(by_day, day_list) -> list[tuple[int, list[tuple[date, list]]]]:
    """[(hour, [(day, events starting in that hour)])]: the hour grid of the day and week views."""
    cells: dict[tuple[date, int], list] = {}
    for day, events in by_day.items():
        for event in events:
            cells.setdefault((day, timezone.localtime(event.start).hour), []).append(event)
    return [(hour, [(day, cells.get((day, hour), [])) for day in day_list]) for hour in HOURS]


def _url(params: dict, anchor: date) -> str:
    from urllib.parse import urlencode

    query = {key: value for key, value in {**params, "date": anchor.isoformat()}.items() if value not in ("", None)}
    return f"{reverse('activities:calendar')}?{urlencode(query)}"


@login_required
@require_POST
def calendar_move(request: HttpRequest) -> JsonResponse:
    """The drop of a drag: JSON in, JSON out (409 with the current version when the activity changed meanwhile)."""
    try:
        payload = json.loads(request.body or b"{}")
        activity_id, version = int(payload["id"]), int(payload["version"])
        start = parse_datetime(str(payload["start"]))
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": _("Some fields are invalid.")}, status=422)
    if start is None:
        return JsonResponse({"detail": _("Some fields are invalid."), "field": "start"}, status=422)
    try:
        activity = calendar.activity_move(actor=request.user, activity_id=activity_id, version=version, start=start)
    except StaleVersion as exc:
        return JsonResponse({"detail": str(StaleVersion.message), "current_version": exc.current_version}, status=409)
    except Conflict as exc:
        return JsonResponse({"detail": str(exc)}, status=409)
    except ValidationError as exc:
        return JsonResponse({"detail": " ".join(exc.messages)}, status=422)
    except PermissionDenied as exc:
        return JsonResponse({"detail": str(exc)}, status=403)
    except Http404:
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return JsonResponse({"id": activity.pk, "version": activity.version, "start": activity.planned_start.isoformat()})


@login_required
@require_POST
def calendar_feed_manage(request: HttpRequest) -> HttpResponse:
    """Create/replace ("rotate") or switch off ("revoke") the user's private feed; a new URL is shown once."""
    url = None
    if request.POST.get("action") == "revoke":
        ical.feed_revoke(actor=request.user)
    else:
        _feed, token = ical.feed_rotate(actor=request.user)
        url = request.build_absolute_uri(reverse("activities:calendar_feed", args=[token]))
    return render(
        request, "activities/calendar_feed.html", {"feed": ical.feed_active(user=request.user), "feed_url": url}
    )


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The private iCalendar feed: no login, the token is the key; unknown or revoked tokens are 404."""
    feed = ical.feed_for_token(token)
    if feed is None:
        raise Http404
    response = HttpResponse(ical.feed_document(feed), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


@login_required
def activity_ics(request: HttpRequest, activity_id: int) -> HttpResponse:
    from guanxi.activities import selectors

    activity = selectors.activity_get(user=request.user, activity_id=activity_id)
    return ics_response(ical.activity_ics(activity), f"activity-{activity.pk}.ics")


@login_required
@require_POST
def reminder_preference(request: HttpRequest) -> HttpResponse:
    raw = request.POST.get("minutes", "")
    minutes = int(raw) if raw.isdigit() else None
    email = bool(request.POST.get("email"))
    try:
        preference = reminders.preference_set(actor=request.user, minutes=minutes, email=email)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=422)
    return render(
        request,
        "activities/calendar_reminder.html",
        {"reminder": preference, "reminder_choices": reminders.CHOICES, "saved": True},
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The header's notice badge and its list (an htmx fragment, polled)."""
    unread, items = notices.notifications_unread(user=request.user, limit=10)
    return render(request, "activities/calendar_notifications.html", {"unread": unread, "items": items})


@login_required
@require_POST
def notification_read(request: HttpRequest, notification_id: int) -> HttpResponse:
    notices.notification_read(actor=request.user, notification_id=notification_id)
    return notifications(request)


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    notices.notifications_read_all(actor=request.user)
    if not request.htmx:  # the notification centre's plain form
        return redirect("activities:notification_list")
    return notifications(request)
