"""The reads that were slow at scale: the calendar of one person or a team (the participants' activities of the range
are read first, so the owner branch is a range of (owner, happened_at), not a walk of every activity of the period),
the visit plan (partial indexes of done visits, migration 0006) and the overdue-visit list (the customers' stored last
visits and customer_visit_due_idx, customers migration 0007)."""

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.activities import calendar, visits
from guanxi.activities.models import Activity
from tests.activities.factories import make_activity
from tests.conftest import fresh

pytestmark = pytest.mark.django_db
START = timezone.make_aware(datetime(2026, 3, 2))
END = START + timedelta(days=7)


@pytest.fixture
def week(users, customers):
    return {
        "mine": make_activity(users.am1, customers.c1, planned_start=START + timedelta(hours=9)),
        "shared": make_activity(
            users.lead1, customers.c1, planned_start=START + timedelta(days=1), participant_ids=[users.am1.pk]
        ),
        "shared_later": make_activity(
            users.lead1, customers.c1, planned_start=END + timedelta(days=1), participant_ids=[users.am1.pk]
        ),
        "theirs": make_activity(users.am2, customers.c2, planned_start=START + timedelta(hours=10)),
    }


def _events(user, people) -> set[int]:
    found = calendar.calendar_events(user=fresh(user), people=people, start=START, end=END)
    return {event.activity.pk for event in found}


def test_the_calendar_shows_owned_and_taken_part_in_activities_of_the_range_only(users, week):
    assert _events(users.am1, [users.am1]) == {week["mine"].pk, week["shared"].pk}
    assert _events(users.lead1, [users.am1, users.lead1]) == {week["mine"].pk, week["shared"].pk}
    assert _events(users.am2, [users.am2]) == {week["theirs"].pk}


def _crowd(users, customers, n: int = 400) -> None:
    """Done calls and some visits of am1 and am2 in the same week, so the planner sees the table's shape (ANALYZE)."""
    Activity.objects.bulk_create(
        Activity(
            kind=Activity.Kind.VISIT if i % 10 == 0 else Activity.Kind.OUTBOUND_CALL,
            status=Activity.Status.DONE,
            subject=f"他人{i}",
            customer=customers.c1 if i % 2 else customers.c2,
            owner=users.am1 if i % 2 else users.am2,
            done_at=START + timedelta(minutes=i),
            happened_at=START + timedelta(minutes=i),
        )
        for i in range(n)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE activities_activity")


def _plan(sql: str, *, sorted_by_index: bool = False) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # small tables would be scanned whatever the indexes
        if sorted_by_index:
            # A few test customers: with sorting allowed, any index plus a Sort costs the same (which one the planner
            # takes then depends on the statistics earlier tests left). Without it, only an index that yields the
            # ORDER BY avoids a Sort, which is what the assertion is about.
            cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def _activity_sql(call) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        call()
    return [q["sql"] for q in queries.captured_queries if '"activities_activity"' in q["sql"]]


@pytest.mark.postgresql
def test_postgresql_reads_one_persons_week_through_the_owner_index(users, customers, week):
    _crowd(users, customers)
    [events] = [
        sql
        for sql in _activity_sql(lambda: _events(users.am1, [users.am1]))
        if sql.split("FROM")[1].startswith(' "activities_activity" ')
    ]
    plan = _plan(events)

    # The owner's rows and the listed ids OR-ed as two index bitmaps, not a walk of the period's activities.
    assert "BitmapOr" in plan and "activities_activity_pkey" in plan and "activity_time_idx" not in plan


def test_the_overdue_list_reads_the_stored_last_visits_not_the_activities(users, customers):
    _crowd(users, customers)
    with CaptureQueriesContext(connection) as queries:
        visits.overdue_visits(user=fresh(users.am1), now=START + timedelta(days=400))
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [sql for sql in statements if '"activities_activity"' in sql], statements
    assert [sql for sql in statements if "last_visit_at" in sql and "GROUP BY" not in sql]


@pytest.mark.postgresql
def test_postgresql_reads_each_managers_most_overdue_customers_from_the_visit_due_index(users, customers):
    _crowd(users, customers)
    with CaptureQueriesContext(connection) as queries:
        visits.overdue_visits(user=fresh(users.bm1), now=START + timedelta(days=400))
    [ids] = [q["sql"] for q in queries.captured_queries if "UNION ALL" in q["sql"]]
    plan = _plan(ids, sorted_by_index=True)
    assert "customer_visit_due_idx" in plan and "Sort" not in plan.split("Limit")[1], plan


@pytest.mark.postgresql
def test_postgresql_finds_a_months_visits_through_the_done_visit_indexes(users, customers):
    visit = make_activity(users.am1, customers.c1)
    Activity.objects.filter(pk=visit.pk).update(status=Activity.Status.DONE, done_at=START, happened_at=START)
    _crowd(users, customers)
    planned = _activity_sql(lambda: visits.visit_plan(user=fresh(users.am1), month=START.date()))

    planned_plans = "\n".join(_plan(sql) for sql in planned)
    # The plan's month of one owner: either done-visit index (which one depends on the statistics of a few rows; in a
    # full run the planner took activity_done_visit_idx with an owner filter), never a scan of all activities.
    assert re.search(r"activity_(done|owner)_visit_idx", planned_plans), planned_plans
    assert "activity_timeline_idx" not in planned_plans
