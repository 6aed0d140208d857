"""SLA arithmetic: pure functions over a working calendar, no database (the property tests drive them directly).

A clock either runs around the clock (24×7, e.g. emergency repair) or only in business hours: OPENS–CLOSES on working
days, where a working day is Monday–Friday unless the holiday calendar marks it off (法定节假日), plus weekend days the
calendar marks as worked in lieu (调休上班). All arithmetic is in Asia/Shanghai wall time (no DST there) and
returns aware datetimes.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
OPENS = time(8, 30)
CLOSES = time(17, 30)
MAX_DAYS = 3660  # a deadline further than ten years away is a configuration error, not a loop


@dataclass(frozen=True)
class WorkCalendar:
    days_off: frozenset[date] = field(default_factory=frozenset)
    days_worked: frozenset[date] = field(default_factory=frozenset)
    opens: time = OPENS
    closes: time = CLOSES
    around_the_clock: bool = False

    def is_working_day(self, day: date) -> bool:
        if day in self.days_worked:
            return True
        return day.weekday() < 5 and day not in self.days_off

    def window(self, day: date) -> tuple[datetime, datetime] | None:
        """The business hours of `day` as naive Shanghai wall times, None on a day off."""
        if not self.is_working_day(day):
            return None
        return datetime.combine(day, self.opens), datetime.combine(day, self.closes)


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
        window = calendar.window(cursor.date())
        if window is not None:
            opens, closes = window
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
        window = calendar.window(day)
        if window is not None:
            begin, finish = max(window[0], a), min(window[1], b)
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
