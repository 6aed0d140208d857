"""SLA arithmetic (service.clock): business hours, holidays, days worked in lieu, 24×7, pauses — examples and
properties (hypothesis)."""

from datetime import date, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from guanxi.service.clock import SHANGHAI, WorkCalendar, add_working_time, due_time, resume, working_minutes_between


def t(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


SPRING = WorkCalendar(
    days_off=frozenset(date(2026, 2, 15) + timedelta(days=i) for i in range(9)),  # 2026-02-15 … 02-23
    days_worked=frozenset({date(2026, 2, 14), date(2026, 2, 28)}),  # Saturdays worked in lieu (调休)
)
PLAIN = WorkCalendar()
ROUND_THE_CLOCK = WorkCalendar(around_the_clock=True)


def test_it_counts_only_business_hours():
    # Monday 2026-03-02 16:30 + 120 min: 60 today (to 17:30), 60 tomorrow from 08:30.
    assert add_working_time(t(2026, 3, 2, 16, 30), 120, PLAIN) == t(2026, 3, 3, 9, 30)


def test_it_starts_counting_at_the_next_opening():
    assert add_working_time(t(2026, 3, 2, 7, 0), 30, PLAIN) == t(2026, 3, 2, 9, 0)
    assert add_working_time(t(2026, 3, 2, 20, 0), 30, PLAIN) == t(2026, 3, 3, 9, 0)


def test_it_skips_weekends():
    # Friday 2026-03-06 17:00 + 60 min → Monday 09:00.
    assert add_working_time(t(2026, 3, 6, 17, 0), 60, PLAIN) == t(2026, 3, 9, 9, 0)


def test_it_skips_holidays_and_works_the_days_in_lieu():
    # Friday 2026-02-13 17:00 + 60 min: Saturday 02-14 is worked in lieu → 02-14 09:00.
    assert add_working_time(t(2026, 2, 13, 17, 0), 60, SPRING) == t(2026, 2, 14, 9, 0)
    # Saturday 02-14 17:00 + 60 min: the whole Spring Festival is off → Tuesday 02-24 09:00.
    assert add_working_time(t(2026, 2, 14, 17, 0), 60, SPRING) == t(2026, 2, 24, 9, 0)


def test_around_the_clock_is_plain_arithmetic():
    assert add_working_time(t(2026, 2, 15, 23, 30), 45, ROUND_THE_CLOCK) == t(2026, 2, 16, 0, 15)
    assert working_minutes_between(t(2026, 2, 15, 23, 30), t(2026, 2, 16, 0, 15), ROUND_THE_CLOCK) == 45


def test_a_pause_moves_the_deadline_by_the_working_time_paused():
    start = t(2026, 3, 2, 9, 0)  # Monday; 4 working hours → 13:00
    assert due_time(start, 240, PLAIN) == t(2026, 3, 2, 13, 0)
    # Paused 10:00–16:00 (6 working hours): 1 h before, 3 h after → Tuesday 10:30 (16:00–17:30 is 1.5 h).
    assert due_time(start, 240, PLAIN, [(t(2026, 3, 2, 10, 0), t(2026, 3, 2, 16, 0))]) == t(2026, 3, 3, 10, 0)


def test_a_pause_after_the_deadline_changes_nothing():
    start = t(2026, 3, 2, 9, 0)
    assert due_time(start, 60, PLAIN, [(t(2026, 3, 2, 11, 0), t(2026, 3, 3, 11, 0))]) == t(2026, 3, 2, 10, 0)


def test_a_pause_at_night_before_a_zero_target_moves_it_past_the_pause():
    """Found by hypothesis: a zero target falls due at the next opening; a pause from the night into business hours
    holds it until the pause ends (as resuming the paused ticket does)."""
    start, paused = t(2025, 12, 1, 0, 0), (t(2025, 12, 1, 0, 1), t(2025, 12, 1, 8, 31))
    assert due_time(start, 0, PLAIN, [paused]) == t(2025, 12, 1, 8, 31)
    assert resume(add_working_time(start, 0, PLAIN), *paused, PLAIN) == t(2025, 12, 1, 8, 31)


def test_it_refuses_naive_times_and_negative_durations():
    with pytest.raises(ValueError):
        add_working_time(datetime(2026, 3, 2, 9, 0), 10, PLAIN)
    with pytest.raises(ValueError):
        add_working_time(t(2026, 3, 2, 9, 0), -1, PLAIN)


# --- properties -------------------------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=SHANGHAI)
)
minutes = st.integers(min_value=0, max_value=60 * 24 * 20)
calendars = st.builds(
    WorkCalendar,
    days_off=st.frozensets(st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 3, 31)), max_size=40),
    days_worked=st.frozensets(st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 3, 31)), max_size=10),
    around_the_clock=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(start=moments, minutes=minutes, calendar=calendars)
def test_the_working_time_to_the_deadline_is_the_target(start, minutes, calendar):
    due = add_working_time(start, minutes, calendar)
    assert due >= start
    assert working_minutes_between(start, due, calendar) == pytest.approx(minutes, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(start=moments, minutes=minutes, calendar=calendars)
def test_a_deadline_in_business_hours_falls_in_them(start, minutes, calendar):
    assume(not calendar.around_the_clock and minutes > 0)
    due = add_working_time(start, minutes, calendar).astimezone(SHANGHAI)
    assert calendar.is_working_day(due.date())
    assert calendar.opens < due.time() <= calendar.closes


@settings(max_examples=150, deadline=None)
@given(start=moments, a=minutes, b=minutes, calendar=calendars)
def test_targets_add_up(start, a, b, calendar):
    """Two targets one after the other end where their sum ends (and a longer target never ends earlier)."""
    first = add_working_time(start, a, calendar)
    assert add_working_time(first, b, calendar) == add_working_time(start, a + b, calendar) or b == 0
    assert add_working_time(start, a + b, calendar) >= first


@settings(max_examples=150, deadline=None)
@given(start=moments, target=minutes, calendar=calendars, pause_at=minutes, pause_len=minutes)
def test_resuming_after_a_pause_equals_the_deadline_with_the_pause(start, target, calendar, pause_at, pause_len):
    """The service's incremental resume() agrees with due_time() given the pause interval."""
    paused_from = start + timedelta(minutes=pause_at)
    paused_until = paused_from + timedelta(minutes=pause_len)
    due = add_working_time(start, target, calendar)
    assume(paused_from < due)
    expected = due_time(start, target, calendar, [(paused_from, paused_until)])
    assert abs((resume(due, paused_from, paused_until, calendar) - expected).total_seconds()) < 1e-3
    # A pause never brings a deadline forward, and the working time outside the pause is the target.
    assert expected >= due
    worked = working_minutes_between(start, paused_from, calendar) + working_minutes_between(
        paused_until, expected, calendar
    )
    assert worked == pytest.approx(target, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(start=moments, minutes=st.integers(min_value=1, max_value=60 * 24 * 10), days=st.integers(0, 10))
def test_a_holiday_never_brings_a_deadline_forward(start, minutes, days):
    day = (start + timedelta(days=days)).date()
    with_holiday = WorkCalendar(days_off=frozenset({day}))
    assert add_working_time(start, minutes, with_holiday) >= add_working_time(start, minutes, PLAIN)
