"""Business hours as data: weekly schedules with a lunch break and per-branch hours in the SLA arithmetic (examples
and hypothesis properties), under the holiday calendar; the admin API (versioned, audited, 409 on a stale version)."""

from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from guanxi.core.models import AuditLog, OrgUnit
from guanxi.service import sla
from guanxi.service.clock import (
    SHANGHAI,
    WorkCalendar,
    add_working_time,
    due_time,
    office_week,
    resume,
    working_minutes_between,
)
from guanxi.service.models import BusinessHours, Holiday
from guanxi.service.models.hours import parse_week
from tests.service.factories import Clock, at, make_ticket

LUNCH = ((time(8, 30), time(12, 0)), (time(13, 30), time(17, 30)))  # 7 h a day
LUNCH_WEEK = (LUNCH,) * 5 + ((), ())
COUNTER_WEEK = (LUNCH,) * 5 + (((time(9, 0), time(12, 0)),), ())  # a 供电所 counter also open Saturday morning
LUNCH_JSON = [[["08:30", "12:00"], ["13:30", "17:30"]]] * 5 + [[], []]
COUNTER_JSON = [[["08:30", "12:00"], ["13:30", "17:30"]]] * 5 + [[["09:00", "12:00"]], []]


def t(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


# --- the arithmetic: examples -------------------------------------------------------------------------------------


def test_the_lunch_break_does_not_count():
    calendar = WorkCalendar(week=LUNCH_WEEK)
    # Monday 11:30 + 60 min: 30 before lunch, 30 after 13:30.
    assert add_working_time(t(2026, 3, 2, 11, 30), 60, calendar) == t(2026, 3, 2, 14, 0)
    assert working_minutes_between(t(2026, 3, 2, 11, 0), t(2026, 3, 2, 14, 0), calendar) == 90
    # A ticket received during lunch starts counting at 13:30.
    assert add_working_time(t(2026, 3, 2, 12, 15), 30, calendar) == t(2026, 3, 2, 14, 0)


def test_saturday_counter_hours_count_but_a_holiday_on_saturday_does_not():
    counter = WorkCalendar(week=COUNTER_WEEK)
    # Friday 17:00 + 60 min: 30 on Friday, 30 on Saturday from 09:00.
    assert add_working_time(t(2026, 3, 6, 17, 0), 60, counter) == t(2026, 3, 7, 9, 30)
    closed = WorkCalendar(week=COUNTER_WEEK, days_off=frozenset({date(2026, 3, 7)}))
    assert add_working_time(t(2026, 3, 6, 17, 0), 60, closed) == t(2026, 3, 9, 9, 0)


def test_a_day_worked_in_lieu_has_a_normal_working_days_hours():
    # Sunday 2026-02-08 worked in lieu (调休): Monday's hours, lunch break included, even though Sundays have none.
    calendar = WorkCalendar(week=LUNCH_WEEK, days_worked=frozenset({date(2026, 2, 8)}))
    assert calendar.hours(date(2026, 2, 8)) == LUNCH
    assert add_working_time(t(2026, 2, 7, 10, 0), 240, calendar) == t(2026, 2, 8, 14, 0)
    # On a Saturday with counter hours, too: the whole working day, not only the morning.
    counter = WorkCalendar(week=COUNTER_WEEK, days_worked=frozenset({date(2026, 3, 7)}))
    assert counter.hours(date(2026, 3, 7)) == LUNCH


def test_the_office_week_is_the_fixed_hours_of_before():
    assert WorkCalendar().week == office_week() == ((((time(8, 30), time(17, 30)),),) * 5 + ((), ()))


def test_it_refuses_a_malformed_week():
    for week in (LUNCH_WEEK[:6], (((time(12, 0), time(8, 30)),),) * 7, (LUNCH[::-1],) * 7):
        with pytest.raises(ValueError):
            WorkCalendar(week=week)


# --- the arithmetic: properties -----------------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2026, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=SHANGHAI)
)
minutes = st.integers(min_value=0, max_value=60 * 24 * 20)
days = st.frozensets(st.dates(min_value=date(2025, 12, 1), max_value=date(2027, 3, 31)), max_size=30)


@st.composite
def weeks(draw):
    """A random weekly schedule: per day up to three ordered, disjoint intervals on a 15-minute grid."""
    week = []
    for _ in range(7):
        marks = sorted(draw(st.sets(st.integers(min_value=0, max_value=95), max_size=6)))
        if len(marks) % 2:
            marks = marks[:-1]
        week.append(
            tuple(
                (time(*divmod(marks[i] * 15, 60)), time(*divmod(marks[i + 1] * 15, 60)))
                for i in range(0, len(marks), 2)
            )
        )
    # Eight hours a week at least: the longest target (20 days of minutes) then ends within clock.MAX_DAYS.
    assume(
        sum((end.hour * 60 + end.minute) - (start.hour * 60 + start.minute) for day in week for start, end in day)
        >= 480
    )
    return tuple(week)


lunch_calendars = st.builds(WorkCalendar, days_off=days, days_worked=days, week=st.just(LUNCH_WEEK))
any_calendars = st.builds(WorkCalendar, days_off=days, days_worked=days, week=weeks())


@settings(max_examples=150, deadline=None)
@given(start=moments, minutes=minutes, calendar=st.one_of(lunch_calendars, any_calendars))
def test_a_deadline_is_the_target_in_working_time_and_falls_in_business_hours(start, minutes, calendar):
    due = add_working_time(start, minutes, calendar)
    assert due >= start
    assert working_minutes_between(start, due, calendar) == pytest.approx(minutes, abs=1e-6)
    if minutes > 0:
        assert calendar.in_business_hours(due.astimezone(SHANGHAI).replace(tzinfo=None))


@settings(max_examples=150, deadline=None)
@given(start=moments, minutes=st.integers(min_value=1, max_value=60 * 24 * 5), calendar=lunch_calendars)
def test_a_deadline_never_falls_in_the_lunch_break(start, minutes, calendar):
    due = add_working_time(start, minutes, calendar).astimezone(SHANGHAI).time()
    assert not (time(12, 0) < due <= time(13, 30))


@settings(max_examples=150, deadline=None)
@given(start=moments, a=minutes, b=minutes, calendar=st.one_of(lunch_calendars, any_calendars))
def test_targets_add_up_in_any_schedule(start, a, b, calendar):
    first = add_working_time(start, a, calendar)
    assert add_working_time(first, b, calendar) == add_working_time(start, a + b, calendar) or b == 0
    assert add_working_time(start, a + b, calendar) >= first


@settings(max_examples=150, deadline=None)
@given(
    start=moments,
    target=minutes,
    calendar=st.one_of(lunch_calendars, any_calendars),
    pause_at=minutes,
    pause_len=minutes,
)
def test_resuming_after_a_pause_agrees_with_the_deadline_with_the_pause(start, target, calendar, pause_at, pause_len):
    paused_from = start + timedelta(minutes=pause_at)
    paused_until = paused_from + timedelta(minutes=pause_len)
    due = add_working_time(start, target, calendar)
    assume(paused_from < due)
    expected = due_time(start, target, calendar, [(paused_from, paused_until)])
    assert abs((resume(due, paused_from, paused_until, calendar) - expected).total_seconds()) < 1e-3
    worked = working_minutes_between(start, paused_from, calendar) + working_minutes_between(
        paused_until, expected, calendar
    )
    assert worked == pytest.approx(target, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(start=moments, minutes=minutes, off=days, worked=days)
def test_a_branch_with_more_hours_is_never_later(start, minutes, off, worked):
    """A branch whose week holds the default week (Saturday counter hours added) meets every target no later, under
    the same holiday calendar."""
    default = WorkCalendar(week=LUNCH_WEEK, days_off=off, days_worked=worked)
    branch = WorkCalendar(week=COUNTER_WEEK, days_off=off, days_worked=worked)
    assert add_working_time(start, minutes, branch) <= add_working_time(start, minutes, default)
    assert working_minutes_between(start, start + timedelta(days=9), branch) >= working_minutes_between(
        start, start + timedelta(days=9), default
    )


@settings(max_examples=100, deadline=None)
@given(
    start=moments, minutes=st.integers(min_value=1, max_value=60 * 24 * 10), week=weeks(), day_offset=st.integers(0, 10)
)
def test_a_holiday_never_brings_a_deadline_forward_in_any_schedule(start, minutes, week, day_offset):
    day = (start + timedelta(days=day_offset)).date()
    plain = WorkCalendar(week=week)
    with_holiday = WorkCalendar(week=week, days_off=frozenset({day}))
    assert add_working_time(start, minutes, with_holiday) >= add_working_time(start, minutes, plain)


# --- the schedules in the database and the SLA --------------------------------------------------------------------


def _branch(code="B01") -> OrgUnit:
    return OrgUnit.objects.get(code=code)


def test_the_default_schedule_is_seeded_as_the_office_week(db):
    default = BusinessHours.objects.get(branch=None)
    assert parse_week(default.week) == office_week()


def test_a_ticket_counts_its_teams_branch_hours(users, customers, monkeypatch):
    BusinessHours.objects.filter(branch=None).update(week=LUNCH_JSON)
    BusinessHours.objects.create(branch=_branch("B01"), week=COUNTER_JSON)
    Clock(monkeypatch, at(2026, 3, 6, 17, 0))  # Friday 17:00; consultation: 60 min response
    b01 = make_ticket(users.agent1, customers.c1)  # agent1 sits on B01-T3
    assert b01.response_due_at == at(2026, 3, 7, 9, 30)  # the B01 counter is open on Saturday morning
    b02 = make_ticket(users.am3, customers.c3)  # B02: the default hours
    assert b02.response_due_at == at(2026, 3, 9, 9, 0)
    Clock(monkeypatch, at(2026, 3, 2, 11, 30))  # Monday before lunch
    assert make_ticket(users.am3, customers.c3).response_due_at == at(2026, 3, 2, 14, 0)


def test_the_holiday_calendar_still_applies_to_a_branch_schedule(users, customers, monkeypatch):
    BusinessHours.objects.create(branch=_branch("B01"), week=COUNTER_JSON)
    Holiday.objects.create(date=date(2026, 3, 7), kind=Holiday.DayKind.OFF, name="停业")
    Clock(monkeypatch, at(2026, 3, 6, 17, 0))
    assert make_ticket(users.agent1, customers.c1).response_due_at == at(2026, 3, 9, 9, 0)


def test_without_any_schedule_the_office_week_counts(users, customers, monkeypatch):
    BusinessHours.objects.all().delete()
    assert sla.week_for(None) is None
    Clock(monkeypatch, at(2026, 3, 6, 17, 0))
    assert make_ticket(users.agent1, customers.c1).response_due_at == at(2026, 3, 9, 9, 0)


# --- the API ----------------------------------------------------------------------------------------------------


def test_an_administrator_reads_and_changes_the_default_hours(users, api):
    client = api(users.admin)
    listed = client.get("/business-hours")
    assert listed.status_code == 200, listed.content
    default = listed.json()[0]
    assert default["branch"] is None and default["week"][0] == [["08:30", "17:30"]]
    response = client.patch(f"/business-hours/{default['id']}", {"version": default["version"], "week": LUNCH_JSON})
    assert response.status_code == 200, response.content
    assert response.json()["week"] == LUNCH_JSON and response.json()["version"] == default["version"] + 1
    entry = AuditLog.objects.get(object_type="service.businesshours", action="update")
    assert entry.actor == users.admin and entry.changes["week"][1] == LUNCH_JSON
    stale = client.patch(f"/business-hours/{default['id']}", {"version": default["version"], "week": COUNTER_JSON})
    assert stale.status_code == 409
    assert BusinessHours.objects.get(pk=default["id"]).week == LUNCH_JSON


def test_a_branch_gets_its_own_hours_and_loses_them(users, api):
    client = api(users.bm1)  # branch managers configure the service
    response = client.post("/business-hours", {"branch_id": _branch("B01").pk, "week": COUNTER_JSON})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["branch"]["id"] == _branch("B01").pk and created["week"][5] == [["09:00", "12:00"]]
    again = client.post("/business-hours", {"branch_id": _branch("B01").pk, "week": LUNCH_JSON})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "branch_id"
    assert client.delete(f"/business-hours/{created['id']}").status_code == 204
    assert not BusinessHours.objects.filter(branch=_branch("B01")).exists()
    assert AuditLog.objects.filter(object_type="service.businesshours", action__in=["create", "delete"]).count() == 2


def test_the_default_hours_cannot_be_deleted(users, api):
    default = BusinessHours.objects.get(branch=None)
    assert api(users.admin).delete(f"/business-hours/{default.pk}").status_code == 409
    assert BusinessHours.objects.filter(pk=default.pk).exists()


@pytest.mark.parametrize(
    "week",
    [
        [[["08:30", "12:00"]]] * 6,  # six days
        [[["12:00", "08:30"]]] * 7,  # ends before it starts
        [[["08:30", "12:00"], ["11:00", "17:30"]]] * 7,  # overlapping
        [[["8 h", "17:30"]]] * 7,  # not a time
        [[]] * 7,  # no hours at all
    ],
)
def test_a_malformed_week_is_refused_naming_the_field(users, api, week):
    default = BusinessHours.objects.get(branch=None)
    response = api(users.admin).patch(f"/business-hours/{default.pk}", {"version": default.version, "week": week})
    assert response.status_code == 422, response.content
    assert {error["field"] for error in response.json()["errors"]} & {"week", "body.week"}
    assert BusinessHours.objects.get(pk=default.pk).week == default.week


def test_a_schedule_belongs_to_a_branch(users, api):
    team = OrgUnit.objects.get(code="B01-T1")
    response = api(users.admin).post("/business-hours", {"branch_id": team.pk, "week": LUNCH_JSON})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "branch_id"
    assert not BusinessHours.objects.filter(branch=team).exists()


def test_only_those_who_configure_the_service_see_the_hours(users, api):
    default = BusinessHours.objects.get(branch=None)
    for user in (users.agent1, users.lead1, users.am1):
        assert api(user).get("/business-hours").status_code == 403
        assert api(user).patch(f"/business-hours/{default.pk}", {"version": 1, "week": LUNCH_JSON}).status_code == 403
