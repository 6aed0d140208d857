"""The stored last visit per customer (Customer.last_visit_at) follows every service that can change it — a visit
created done, completed, reopened, rescheduled, moved to another customer, deleted; customers merged or transferred —
and the overdue-visit list built on it answers as the activities say. Also the migration's fill statement."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from guanxi.activities import services, visits
from guanxi.activities.models import Activity
from guanxi.customers import services as customer_services
from guanxi.customers.merge import customer_merge
from guanxi.customers.models import Customer
from tests.activities.factories import make_activity
from tests.conftest import fresh, make_customer

pytestmark = pytest.mark.django_db
NOW = timezone.now().replace(microsecond=0)


def days_ago(n: int):
    return NOW - timedelta(days=n)


def visit_done(user, customer, days: int) -> Activity:
    when = days_ago(days)
    return make_activity(user, customer, kind="visit", status="done", done_at=when, planned_start=when)


def last_visit(customer):
    return Customer.objects.values_list("last_visit_at", flat=True).get(pk=customer.pk)


def overdue_ids(user) -> set[int]:
    return {c.pk for c in visits.overdue_visits(user=fresh(user), now=NOW)}


def update(user, activity: Activity, **data) -> Activity:
    activity.refresh_from_db()
    return services.activity_update(actor=fresh(user), activity_id=activity.pk, version=activity.version, data=data)


@pytest.fixture
def key(users):
    """A key customer of am1 (visited monthly: overdue after 31 days), created long ago."""
    customer = make_customer(users.am1, name="重点拜访客户", grade="key")
    Customer.objects.filter(pk=customer.pk).update(created_at=days_ago(400))
    return customer


def test_a_done_visit_is_the_last_visit_and_only_visits_count(users, key):
    assert last_visit(key) is None and key.pk in overdue_ids(users.am1)
    make_activity(users.am1, key, kind="outbound_call", status="done", done_at=days_ago(1))  # a call is no visit
    make_activity(users.am1, key, kind="visit", planned_start=days_ago(2))  # planned, not done
    assert last_visit(key) is None
    visit_done(users.am1, key, 50)
    visit_done(users.am1, key, 10)
    visit_done(users.am1, key, 30)  # recorded later, done earlier: the newest done visit counts
    assert last_visit(key) == days_ago(10)
    assert key.pk not in overdue_ids(users.am1)


def test_completing_reopening_and_rescheduling_a_visit(api, users, key):
    visit_done(users.am1, key, 60)
    planned = make_activity(users.am1, key, kind="visit", planned_start=days_ago(3))
    done = api(users.am1).post(f"/activities/{planned.pk}/complete", {"version": 1, "done_at": days_ago(3).isoformat()})
    assert done.status_code == 200
    assert last_visit(key) == days_ago(3) and key.pk not in overdue_ids(users.am1)
    update(users.am1, planned, done_at=days_ago(40))  # its date corrected: older than the interval again
    assert last_visit(key) == days_ago(40) and key.pk in overdue_ids(users.am1)
    update(users.am1, planned, status="planned")  # reopened: the earlier visit is the last one
    assert last_visit(key) == days_ago(60)


def test_a_visit_moved_to_another_customer_moves_its_date(users, key):
    other = make_customer(users.am1, name="另一客户", grade="key")
    visit = visit_done(users.am1, key, 5)
    update(users.am1, visit, customer_id=other.pk)
    assert last_visit(key) is None and last_visit(other) == days_ago(5)
    update(users.am1, visit, kind="meeting")  # no longer a visit
    assert last_visit(other) is None


def test_deleting_the_last_visit_falls_back_to_the_one_before(users, key):
    older = visit_done(users.am1, key, 45)
    newer = visit_done(users.am1, key, 5)
    services.activity_delete(actor=fresh(users.admin), activity_id=newer.pk)
    assert last_visit(key) == days_ago(45) and key.pk in overdue_ids(users.am1)
    services.activity_delete(actor=fresh(users.admin), activity_id=older.pk)
    assert last_visit(key) is None


def test_a_refused_write_leaves_the_last_visit_as_it_was(api, users, key):
    visit = visit_done(users.am1, key, 5)
    stale = api(users.am1).patch(f"/activities/{visit.pk}", {"version": 99, "done_at": days_ago(90).isoformat()})
    assert stale.status_code == 409
    bad = api(users.am1).patch(f"/activities/{visit.pk}", {"version": visit.version, "customer_id": 10**9})
    assert bad.status_code == 422
    assert last_visit(key) == days_ago(5)


def test_a_transferred_customer_keeps_its_last_visit_in_the_new_managers_list(users, key):
    visit_done(users.am1, key, 40)
    customer_services.customer_transfer(
        actor=fresh(users.bm1), from_user_id=users.am1.pk, to_user_id=users.am2.pk, customer_ids=[key.pk]
    )
    assert last_visit(key) == days_ago(40)
    assert key.pk not in overdue_ids(users.am1)
    [found] = [c for c in visits.overdue_visits(user=fresh(users.am2), now=NOW) if c.pk == key.pk]
    assert found.last_visit == days_ago(40) and found.days_overdue == 40 - 31


def test_a_merge_gives_the_survivor_the_newer_last_visit(users, key):
    duplicate = make_customer(users.am1, name="重点拜访客户（重复）", grade="key")
    visit_done(users.am1, key, 50)
    visit_done(users.am1, duplicate, 7)
    key.refresh_from_db()
    duplicate.refresh_from_db()
    customer_merge(
        actor=fresh(users.bm1),
        survivor_id=key.pk,
        merged_id=duplicate.pk,
        survivor_version=key.version,
        merged_version=duplicate.version,
    )
    assert last_visit(key) == days_ago(7) and last_visit(duplicate) is None


def test_the_migrations_fill_matches_what_the_services_keep(users, key):
    from importlib import import_module

    fill = import_module("guanxi.activities.migrations.0007_fill_last_visits").FILL
    other = make_customer(users.am2, name="乙客户", grade="general")
    visit_done(users.am1, key, 20)
    visit_done(users.am1, key, 3)
    visit_done(users.am2, other, 100)
    kept = set(Customer.objects.values_list("pk", "last_visit_at"))
    Customer.objects.update(last_visit_at=None)
    with connection.cursor() as cursor:
        cursor.execute(fill)
    assert set(Customer.objects.values_list("pk", "last_visit_at")) == kept
    assert {(key.pk, days_ago(3)), (other.pk, days_ago(100))} <= kept


def test_a_customer_edit_neither_changes_nor_versions_the_last_visit(api, users, key):
    visit = visit_done(users.am1, key, 12)
    key.refresh_from_db()
    assert key.version == 1 and key.last_visit_at == visit.happened_at  # the visit did not version the customer
    edited = api(users.am1).patch(f"/customers/{key.pk}", {"version": key.version, "address": "新地址"})
    assert edited.status_code == 200
    assert last_visit(key) == days_ago(12)
