"""The calendar (D2): day/week/month ranges, the events of a user or a team in a range, and moving an event.

Reads start from the activities selectors (record scope), writes go through the activities services (version check,
audit). Times are local (Asia/Shanghai, settings.TIME_ZONE); weeks start on Monday as in China.
"""

import calendar as pycalendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.models import Activity
from guanxi.core.errors import Conflict
from guanxi.core.models import OrgUnit
from guanxi.core.permissions import require
from guanxi.core.scope import ScopeLevel, record_scope
from guanxi.core.selectors import users_in_scope

VIEWS = ("day", "week", "month")
MAX_RANGE_DAYS = 62  # the API answers at most two months of events per request
MAX_EVENTS = 2000
DEFAULT_DURATION = timedelta(minutes=30)  # an event without an end (a logged call, a task) is drawn this long


@dataclass(frozen=True)
class Event:
    """One activity as the calendar draws it."""

    activity: Activity
    start: datetime
    end: datetime

    @property
    def movable(self) -> bool:
        return self.activity.status == Activity.Status.PLANNED and self.activity.planned_start is not None


# --- ranges ------------------------------------------------------------------------------------------------------


def view_range(view: str, anchor: date) -> tuple[date, date]:
    """[first day, day after the last) shown by `view` around `anchor`; a month view shows whole weeks."""
    if view == "day":
        return anchor, anchor + timedelta(days=1)
    if view == "week":
        monday = anchor - timedelta(days=anchor.weekday())
        return monday, monday + timedelta(days=7)
    if view == "month":
        first = anchor.replace(day=1)
        last = first.replace(day=pycalendar.monthrange(first.year, first.month)[1])
        start = first - timedelta(days=first.weekday())
        end = last + timedelta(days=7 - last.weekday())
        return start, end
    raise ValidationError({"view": _("Choose one of: %(choices)s.") % {"choices": ", ".join(VIEWS)}})


def step(view: str, anchor: date, direction: int) -> date:
    """The anchor of the previous (-1) or next (+1) page of `view`."""
    if view == "day":
        return anchor + timedelta(days=direction)
    if view == "week":
        return anchor + timedelta(days=7 * direction)
    month = anchor.month - 1 + direction
    year = anchor.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(anchor.day, pycalendar.monthrange(year, month)[1]))


def local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days)]


def check_range(start: datetime, end: datetime) -> None:
    if end <= start:
        raise ValidationError({"end": _("The end must be after the start.")})
    if end - start > timedelta(days=MAX_RANGE_DAYS):
        raise ValidationError({"end": _("Ask for at most %(days)d days at once.") % {"days": MAX_RANGE_DAYS}})


# --- whose calendar ------------------------------------------------------------------------------------------------


def calendar_people(*, user, user_id: int | None = None, team_id: int | None = None) -> list:
    """The users whose activities the calendar shows: one user, a team (unit subtree) or, by default, the user.

    A user or team outside the viewer's scope is 404 — an account manager cannot open a colleague's calendar, a team
    lead sees their team, a branch manager their branch."""
    if user_id is not None:
        person = users_in_scope(user=user).filter(pk=user_id).first()
        if person is None:
            raise Http404
        return [person]
    if team_id is not None:
        return list(team_members(user=user, team_id=team_id).order_by("username"))
    return [user]


def team_members(*, user, team_id: int) -> QuerySet:
    """The users in the viewer's scope who belong to unit `team_id` or below; 404 for a unit outside the scope."""
    unit = team_of(user=user, team_id=team_id)
    return users_in_scope(user=user).filter(profile__org_unit__path__startswith=unit.path)


def team_of(*, user, team_id: int) -> OrgUnit:
    """Unit `team_id` when the viewer's scope holds it (a scope of all units holds every unit), else 404."""
    scope = record_scope(user)
    visible = scope.level == ScopeLevel.ALL or team_id in scope.unit_ids  # an own-scope user holds no unit
    unit = OrgUnit.objects.filter(pk=team_id).first() if visible else None
    if unit is None:
        raise Http404
    return unit


def teams_in_scope(*, user) -> QuerySet[OrgUnit]:
    """The units whose calendar the user may open (none for an own-scope user)."""
    scope = record_scope(user)
    if scope.level == ScopeLevel.ALL:
        return OrgUnit.objects.all()
    return OrgUnit.objects.filter(pk__in=scope.unit_ids)


# --- events --------------------------------------------------------------------------------------------------------


def calendar_events(*, user, people: list, start: datetime, end: datetime) -> list[Event]:
    """The activities of `people` (owned or taken part in) happening in [start, end) that `user` may see."""
    from guanxi.activities import selectors

    check_range(start, end)
    activities = (
        selectors.activity_queryset(user=user)
        .filter(happened_at__gte=start, happened_at__lt=end)
        .filter(of_people([person.pk for person in people], start=start, end=end))
        .select_related("owner")
        .prefetch_related("customer")  # by primary key afterwards: a join made the planner hash the whole table
        .order_by("happened_at", "id")
    )
    return [event_of(activity) for activity in activities[:MAX_EVENTS]]


def of_people(user_ids: list[int], *, start: datetime | None = None, end: datetime | None = None) -> Q:
    """Activities owned by or taken part in by these users. A subquery on the participants table rather than a join:
    no duplicate rows to DISTINCT away, and the owner branch keeps using the (owner, happened_at) index.

    With a time range (the calendar), the ids of the activities they take part in within it are read first (one
    query on the participants table joined to the range): an OR with a subquery keeps PostgreSQL from combining
    indexes, so it walked every activity of the period (all users') through (happened_at); with a list it ORs a
    bitmap of (owner, happened_at) and one of the primary key — 0.4 s → a few ms for one person's week on the bench."""
    participating = Activity.participants.through.objects.filter(user_id__in=user_ids)
    if start is not None and end is not None:
        ids = participating.filter(activity__happened_at__gte=start, activity__happened_at__lt=end)
        return Q(owner_id__in=user_ids) | Q(pk__in=list(ids.values_list("activity_id", flat=True).distinct()))
    return Q(owner_id__in=user_ids) | Q(pk__in=participating.values("activity_id"))


def event_of(activity: Activity) -> Event:
    start = activity.happened_at
    if activity.planned_start and activity.planned_end and start == activity.planned_start:
        end = activity.planned_end
    elif activity.duration_seconds:
        end = start + timedelta(seconds=activity.duration_seconds)
    else:
        end = start + DEFAULT_DURATION
    return Event(activity=activity, start=start, end=max(end, start + timedelta(minutes=1)))


def events_by_day(events: list[Event], day_list: list[date]) -> dict[date, list[Event]]:
    grouped: dict[date, list[Event]] = {day: [] for day in day_list}
    for event in events:
        day = timezone.localtime(event.start).date()
        if day in grouped:
            grouped[day].append(event)
    return grouped


# --- moving ----------------------------------------------------------------------------------------------------------


def activity_move(*, actor, activity_id: int, version: int, start: datetime) -> Activity:
    """Reschedule a planned activity to `start`, keeping its length: the drag and drop of the calendar.

    Goes through the activities update service, so the version check (409 on a stale drag), permissions and the
    audit entry are theirs."""
    from guanxi.activities import selectors, services

    require(actor, "activities.change_activity")  # 403 before 404, like every write
    if timezone.is_naive(start):
        start = timezone.make_aware(start)
    activity = selectors.activity_get(user=actor, activity_id=activity_id)
    if activity.status != Activity.Status.PLANNED or activity.planned_start is None:
        raise Conflict(_("Only planned activities with a start time can be moved."))
    data = {"planned_start": start}
    if activity.planned_end is not None:
        data["planned_end"] = start + (activity.planned_end - activity.planned_start)
    return services.activity_update(actor=actor, activity_id=activity_id, version=version, data=data)
