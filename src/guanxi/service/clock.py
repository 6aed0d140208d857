"""SLA arithmetic: pure functions over a working calendar, no database (the property tests drive them directly).

A clock either runs around the clock (24×7, e.g. emergency repair) or only in business hours. Business hours are a
weekly schedule: per weekday, zero or more intervals (Mon–Fri 08:30–12:00 and 13:30–17:30; a 供电所 counter may add
Saturday morning); without one, Monday–Friday OPENS–CLOSES. The holiday calendar overrides the week: a day off
(法定节假日) has no hours, a day worked in lieu (调休上班) has the hours of a normal working day (the first
weekday with hours, see WorkCalendar.hours). All arithmetic is in Asia/Shanghai wall time (no DST there) and returns
aware datetimes.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENS = time(8, 30)
CLOSES = time(17, 30)
MAX_DAYS = 3660  # a deadline further than ten years away is a configuration error, not a loop

Interval = tuple[time, time]  # [start, end) of one stretch of business hours within a day
Week = tuple[tuple[Interval, ...], ...]  # seven days, Monday first, each with its sorted, disjoint intervals


def check_week(week: Week) -> None:
    """A week is seven days of intervals that start before they end, in order and without overlapping (ValueError)."""
    if len(week) != 7:
        raise ValueError("a week has seven days")
    for intervals in week:
        previous_end = None
        for start, end in intervals:
            if not start < end:
                raise ValueError("an interval must start before it ends")
            if previous_end is not None and start < previous_end:
                raise ValueError("intervals must be in order and must not overlap")
            previous_end = end


def office_week(opens: time = OPENS, closes: time = CLOSES) -> Week:
    """Monday–Friday opens–closes, weekends off: the schedule when none is configured."""
    return tuple((((opens, closes),) if weekday < 5 else ()) for weekday in range(7))


@dataclass(frozen=True)
class WorkCalendar:
    """Which hours count: the weekly schedule (`week`; None: Monday–Friday `opens`–`closes`) under the holiday
    calendar, or every hour (`around_the_clock`)."""

    days_off: frozenset[date] = field(default_factory=frozenset)
    days_worked: frozenset[date] = field(default_factory=frozenset)
    opens: time = OPENS
    closes: time = CLOSES
    around_the_clock: bool = False
    week: Week | None = None

    def __post_init__(self) -> None:
        if self.week is None:
            object.__setattr__(self, "week", office_week(self.opens, self.closes))
        check_week(self.week)

    def hours(self, day: date) -> tuple[Interval, ...]:
        """The intervals of business hours on `day`: none on a day off; a day worked in lieu (调休, usually a weekend
        day) has the hours of a normal working day: the first weekday (Monday–Friday) with hours."""
        if day in self.days_worked:
            return next((hours for hours in self.week[:5] if hours), self.week[day.weekday()])
        if day in self.days_off:
            return ()
        return self.week[day.weekday()]

    def is_working_day(self, day: date) -> bool:
        return bool(self.hours(day))

    def windows(self, day: date) -> list[tuple[datetime, datetime]]:
        """The business hours of `day` as naive Shanghai wall times, in order (empty on a day off)."""
        return [(datetime.combine(day, start), datetime.combine(day, end)) for start, end in self.hours(day)]

    def in_business_hours(self, wall: datetime) -> bool:
        """Whether a naive Shanghai wall time lies in (start, end] of an interval: where a positive deadline lands."""
        return any(start < wall <= end for start, end in self.windows(wall.date()))


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(SHANGHAI).replace(tzinfo=None)


def _aware(wall: datetime) -> datetime:
    return wall.replace(tzinfo=SHANGHAI)


def add_working_time(start: datetime, minutes: float, calendar: WorkCalendar) -> datetime:
    """The moment `minutes` of working time after `start` (outside business hours, counting starts at the opening)."""
    if minutes < 0:
        raise ValueError("negative duration")
    if calendar.around_the_clock:
        return start + timedelta(minutes=minutes)
    cursor = _local(start)
    remaining = timedelta(minutes=minutes)
    for _ in range(MAX_DAYS):
        for opens, closes in calendar.windows(cursor.date()):
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return _aware(begin + remaining)
                remaining -= available
        cursor = datetime.combine(cursor.date() + timedelta(days=1), time.min)
    raise ValueError("deadline beyond the calendar")


def working_minutes_between(start: datetime, end: datetime, calendar: WorkCalendar) -> float:
    """Minutes of working time in [start, end) (0 when end ≤ start)."""
    if end <= start:
        return 0.0
    if calendar.around_the_clock:
        return (end - start).total_seconds() / 60
    a, b = _local(start), _local(end)
    total = timedelta()
    day = a.date()
    for _ in range(MAX_DAYS + 1):
        if day > b.date():
            break
        for opens, closes in calendar.windows(day):
            begin, finish = max(opens, a), min(closes, b)
            if finish > begin:
                total += finish - begin
        day += timedelta(days=1)
    return total.total_seconds() / 60


def due_time(
    start: datetime, minutes: float, calendar: WorkCalendar, pauses: Iterable[tuple[datetime, datetime]] = ()
) -> datetime:
    """When a target of `minutes` working minutes started at `start` falls due, the clock stopped during `pauses`
    (waiting for the customer: [from, until) intervals, in any order, possibly overlapping)."""
    cursor = start
    remaining = float(minutes)
    for paused_from, paused_until in sorted(pauses):
        if paused_until <= cursor:
            continue
        if paused_from > cursor:
            if add_working_time(cursor, remaining, calendar) <= paused_from:
                break  # due before the pause began
            remaining -= working_minutes_between(cursor, paused_from, calendar)
        cursor = max(cursor, paused_until)
    return add_working_time(cursor, remaining, calendar)


def resume(due: datetime, paused_from: datetime, resumed_at: datetime, calendar: WorkCalendar) -> datetime:
    """The deadline after a pause from `paused_from` to `resumed_at`: the working time left at the pause, from now."""
    left = working_minutes_between(paused_from, due, calendar)
    return add_working_time(max(resumed_at, paused_from), left, calendar)
