"""The calendar: ranges, events of a user and of a team in scope, drag to reschedule with versions (API, page)."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.activities import calendar
from guanxi.activities.models import Activity
from guanxi.core.models import AuditLog
from tests.activities.factories import make_activity
from tests.conftest import errors_by_field

TZ = timezone.get_default_timezone()


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return timezone.make_aware(datetime(2026, month, day, hour, minute), TZ)


RANGE = {"start": "2026-03-02", "end": "2026-03-09"}


# --- ranges ---------------------------------------------------------------------------------------------------------


def test_it_computes_day_week_and_month_ranges():
    thursday = date(2026, 3, 5)
    assert calendar.view_range("day", thursday) == (thursday, date(2026, 3, 6))
    assert calendar.view_range("week", thursday) == (date(2026, 3, 2), date(2026, 3, 9))  # Monday to Monday
    # March 2026 starts on a Sunday and ends on a Tuesday: whole weeks from Feb 23 to Apr 5.
    assert calendar.view_range("month", thursday) == (date(2026, 2, 23), date(2026, 4, 6))
    assert calendar.step("month", date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert calendar.step("month", date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert calendar.step("week", thursday, -1) == date(2026, 2, 26)


def test_it_refuses_an_unknown_view():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        calendar.view_range("year", date(2026, 3, 5))


# --- API reads -------------------------------------------------------------------------------------------------------


def test_it_lists_my_events_in_the_range(api, users, customers):
    inside = make_activity(users.am1, customers.c1, planned_start=at(3, 10), planned_end=at(3, 11, 30))
    make_activity(users.am1, customers.c1, planned_start=at(10, 10))  # next week
    make_activity(users.am2, customers.c2, planned_start=at(3, 10))  # someone else's
    response = api(users.am1).get("/calendar", RANGE)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [e["id"] for e in body["items"]] == [inside.pk]
    event = body["items"][0]
    assert event["start"].startswith("2026-03-03T10:00:00")
    assert event["end"].startswith("2026-03-03T11:30:00")
    assert event["customer_name"] == "甲一电力客户"
    assert event["movable"] is True and event["version"] == 1
    assert body["people"] == [{"id": users.am1.pk, "name": "AM1"}]


def test_it_shows_activities_i_take_part_in(api, users, customers):
    shared = make_activity(users.lead1, customers.c1, planned_start=at(4, 9), participant_ids=[users.am1.pk])
    body = api(users.am1).get("/calendar", RANGE).json()
    assert [e["id"] for e in body["items"]] == [shared.pk]


def test_an_account_manager_cannot_open_a_colleagues_calendar(api, users, customers):
    make_activity(users.am2, customers.c2, planned_start=at(3, 10))
    client = api(users.am1)
    assert client.get("/calendar", {**RANGE, "user_id": users.am2.pk}).status_code == 404
    assert client.get("/calendar", {**RANGE, "team": users.am2.profile.org_unit_id}).status_code == 404


def test_a_team_lead_sees_the_team_but_not_another_team(api, users, customers, org):
    mine = make_activity(users.am1, customers.c1, planned_start=at(3, 10))
    make_activity(users.am2, customers.c2, planned_start=at(3, 11))  # B01-T2
    client = api(users.lead1)
    body = client.get("/calendar", {**RANGE, "team": org.B01_T1.pk}).json()
    assert [e["id"] for e in body["items"]] == [mine.pk]
    assert {p["id"] for p in body["people"]} == {users.lead1.pk, users.am1.pk}
    assert client.get("/calendar", {**RANGE, "user_id": users.am1.pk}).json()["items"][0]["id"] == mine.pk
    assert client.get("/calendar", {**RANGE, "team": org.B01_T2.pk}).status_code == 404
    assert client.get("/calendar", {**RANGE, "user_id": users.am2.pk}).status_code == 404


def test_a_branch_manager_sees_the_branch_and_not_the_other_branch(api, users, customers, org):
    a = make_activity(users.am1, customers.c1, planned_start=at(3, 10))
    b = make_activity(users.am2, customers.c2, planned_start=at(3, 11))
    make_activity(users.am3, customers.c3, planned_start=at(3, 12))
    client = api(users.bm1)
    body = client.get("/calendar", {**RANGE, "team": org.B01.pk}).json()
    assert {e["id"] for e in body["items"]} == {a.pk, b.pk}
    assert client.get("/calendar", {**RANGE, "team": org.B02.pk}).status_code == 404
    assert client.get("/calendar", {**RANGE, "user_id": users.am3.pk}).status_code == 404


def test_a_sensitive_customers_activity_stays_hidden_from_a_lead_without_the_permission(api, users, customers, org):
    make_activity(users.bm1, customers.sensitive, planned_start=at(3, 10), owner_id=users.am1.pk)
    assert api(users.lead1).get("/calendar", {**RANGE, "team": org.B01_T1.pk}).json()["items"] == []


def test_it_rejects_bad_ranges(api, users):
    client = api(users.am1)
    backwards = client.get("/calendar", {"start": "2026-03-09", "end": "2026-03-02"})
    assert backwards.status_code == 422
    assert "end" in errors_by_field(backwards)
    too_long = client.get("/calendar", {"start": "2026-01-01", "end": "2026-06-01"})
    assert too_long.status_code == 422
    assert "end" in errors_by_field(too_long)
    garbage = client.get("/calendar", {"start": "yesterday", "end": "2026-06-01"})
    assert garbage.status_code == 422
    assert "start" in errors_by_field(garbage)
    assert client.get("/calendar", {"end": "2026-06-01"}).status_code == 422


def test_the_team_calendar_costs_the_same_queries_for_more_events(api, users, customers, org):
    client = api(users.lead1)
    client.get("/calendar", {**RANGE, "team": org.B01_T1.pk})  # warm the session

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/calendar", {**RANGE, "team": org.B01_T1.pk}).status_code == 200
        return len(queries)

    make_activity(users.am1, customers.c1, planned_start=at(3, 10))
    few = count()
    for hour in range(8, 16):
        make_activity(users.am1, customers.c1, planned_start=at(4, hour), participant_ids=[users.lead1.pk])
    assert count() == few


# --- moving -----------------------------------------------------------------------------------------------------------


def test_it_moves_an_event_keeping_its_length_and_audits_it(api, users, customers):
    activity = make_activity(users.am1, customers.c1, planned_start=at(3, 10), planned_end=at(3, 11, 30))
    response = api(users.am1).post(
        f"/calendar/events/{activity.pk}/move", {"start": "2026-03-05T14:00:00+08:00", "version": 1}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["version"] == 2
    activity.refresh_from_db()
    assert activity.planned_start == at(5, 14)
    assert activity.planned_end == at(5, 15, 30)
    assert activity.happened_at == at(5, 14)
    entry = AuditLog.objects.get(object_type="activities.activity", object_id=str(activity.pk), action="update")
    assert "planned_start" in entry.changes


def test_a_stale_move_gets_409_and_changes_nothing(api, users, customers):
    activity = make_activity(users.am1, customers.c1, planned_start=at(3, 10))
    client = api(users.am1)
    moved = client.post(f"/calendar/events/{activity.pk}/move", {"start": "2026-03-04T10:00", "version": 1})
    assert moved.status_code == 200
    stale = client.post(f"/calendar/events/{activity.pk}/move", {"start": "2026-03-06T10:00", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    activity.refresh_from_db()
    assert activity.planned_start == at(4, 10)  # a naive time is read in Asia/Shanghai


def test_a_done_activity_cannot_be_moved(api, users, customers):
    activity = make_activity(users.am1, customers.c1, status="done", done_at=at(3, 10))
    response = api(users.am1).post(f"/calendar/events/{activity.pk}/move", {"start": "2026-03-04T10:00", "version": 1})
    assert response.status_code == 409


def test_nobody_moves_an_activity_out_of_their_scope(api, users, customers):
    activity = make_activity(users.am2, customers.c2, planned_start=at(3, 10))
    response = api(users.am1).post(f"/calendar/events/{activity.pk}/move", {"start": "2026-03-04T10:00", "version": 1})
    assert response.status_code == 404
    assert Activity.objects.get(pk=activity.pk).version == 1


def test_a_move_without_a_start_names_the_field(api, users, customers):
    activity = make_activity(users.am1, customers.c1, planned_start=at(3, 10))
    response = api(users.am1).post(f"/calendar/events/{activity.pk}/move", {"version": 1, "start": "soon"})
    assert response.status_code == 422
    assert "start" in errors_by_field(response)


# --- pages ------------------------------------------------------------------------------------------------------------


def test_the_calendar_page_draws_week_month_and_day(client, users, customers):
    activity = make_activity(users.am1, customers.c1, planned_start=at(3, 10), subject="拜访甲一")
    client.force_login(users.am1)
    for view in ("week", "month", "day"):
        response = client.get("/activities/calendar/", {"view": view, "date": "2026-03-03"})
        assert response.status_code == 200
        html = response.content.decode()
        assert "拜访甲一" in html
        assert f'data-id="{activity.pk}"' in html and 'draggable="true"' in html
    fragment = client.get("/activities/calendar/", {"view": "week", "date": "2026-03-03"}, HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode()
    assert client.get("/activities/calendar/", {"user": users.am2.pk}).status_code == 404


def test_the_page_drop_moves_and_answers_409_when_stale(client, users, customers):
    activity = make_activity(users.am1, customers.c1, planned_start=at(3, 10, 15))
    client.force_login(users.am1)
    url = "/activities/calendar/move/"
    ok = client.post(
        url, {"id": activity.pk, "version": 1, "start": "2026-03-06T16:15:00"}, content_type="application/json"
    )
    assert ok.status_code == 200, ok.json()
    assert ok.json()["version"] == 2
    stale = client.post(
        url, {"id": activity.pk, "version": 1, "start": "2026-03-07T16:15:00"}, content_type="application/json"
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2
    bad = client.post(url, {"id": activity.pk}, content_type="application/json")
    assert bad.status_code == 422
    activity.refresh_from_db()
    assert activity.planned_start == at(6, 16, 15)


def test_events_without_an_end_get_a_default_length(users, customers):
    call = make_activity(
        users.am1,
        customers.c1,
        kind="outbound_call",
        status="done",
        done_at=at(3, 9),
        duration_seconds=300,
        planned_start=None,
    )
    event = calendar.event_of(Activity.objects.get(pk=call.pk))
    assert event.end - event.start == timedelta(minutes=5)
    assert not event.movable
    task = calendar.event_of(make_activity(users.am1, kind="task", planned_start=at(3, 9)))
    assert task.end - task.start == calendar.DEFAULT_DURATION
