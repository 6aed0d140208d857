"""Visit plans (D2): rules by grade and per manager, plan against done per manager and team, overdue visits, scope."""

from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.activities import visits
from guanxi.activities.models import VisitRule
from guanxi.customers import services as customer_services
from tests.activities.factories import make_activity
from tests.conftest import errors_by_field, fresh, make_customer

TZ = timezone.get_default_timezone()
MARCH = {"month": "2026-03"}


def at(month: int, day: int, hour: int = 10) -> datetime:
    return timezone.make_aware(datetime(2026, month, day, hour), TZ)


def visit_done(user, customer, when: datetime):
    return make_activity(user, customer, kind="visit", status="done", done_at=when, planned_start=when)


@pytest.fixture
def book(users):
    """am1: 2 key + 3 general (+1 archived key); am2: 1 key, 1 potential; am3 (other branch): 1 key."""
    k1 = make_customer(users.am1, name="重点一", grade="key")
    k2 = make_customer(users.am1, name="重点二", grade="key")
    generals = [make_customer(users.am1, name=f"一般{n}", grade="general") for n in range(3)]
    archived = make_customer(users.am1, name="已归档", grade="key")
    customer_services.customer_archive(actor=fresh(users.am1), customer_id=archived.pk)
    am2_key = make_customer(users.am2, name="乙重点", grade="key")
    am2_potential = make_customer(users.am2, name="乙潜力", grade="potential")
    am3_key = make_customer(users.am3, name="丙重点", grade="key")
    visit_done(users.am1, k1, at(3, 5))  # counts: key, March
    visit_done(users.am1, generals[0], at(2, 20))  # February: not in March
    make_activity(users.am1, k2, kind="visit", planned_start=at(3, 9))  # planned, not done
    make_activity(users.am1, k2, kind="outbound_call", status="done", done_at=at(3, 9))  # a call is not a visit
    visit_done(users.am2, am2_key, at(3, 7))
    visit_done(users.am2, am2_potential, at(3, 8))
    visit_done(users.am3, am3_key, at(3, 9))
    return {"k1": k1, "k2": k2, "generals": generals, "am2_key": am2_key, "am3_key": am3_key}


def by_user(body) -> dict[int, dict]:
    return {row["user_id"]: row for row in body["managers"]}


def test_an_account_manager_sees_their_own_plan_against_done(api, users, book):
    response = api(users.am1).get("/visit-plans", MARCH)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert list(by_user(body)) == [users.am1.pk]
    row = by_user(body)[users.am1.pk]
    # key monthly: 2 customers → 2 visits; general quarterly: ceil(3 / 3) = 1.
    assert row["grades"]["key"] == {"customers": 2, "planned": 2, "done": 1}
    assert row["grades"]["general"] == {"customers": 3, "planned": 1, "done": 0}
    assert (row["planned"], row["done"], row["rate"]) == (3, 1, 0.333)
    assert body["total"]["planned"] == 3


def test_a_team_lead_sees_the_team_and_a_branch_manager_each_team(api, users, book, org):
    lead = api(users.lead1).get("/visit-plans", MARCH).json()
    assert set(by_user(lead)) == {users.am1.pk}
    branch = api(users.bm1).get("/visit-plans", MARCH).json()
    assert set(by_user(branch)) == {users.am1.pk, users.am2.pk}
    am2 = by_user(branch)[users.am2.pk]
    assert (am2["planned"], am2["done"]) == (2, 2)  # key 1 + potential ceil(1/3)
    teams = {row["unit_id"]: row for row in branch["teams"]}
    assert set(teams) == {org.B01_T1.pk, org.B01_T2.pk}
    assert (teams[org.B01_T2.pk]["planned"], teams[org.B01_T2.pk]["done"]) == (2, 2)
    assert (branch["total"]["planned"], branch["total"]["done"]) == (5, 3)
    one_team = api(users.bm1).get("/visit-plans", {**MARCH, "team": org.B01_T2.pk}).json()
    assert set(by_user(one_team)) == {users.am2.pk}


def test_nobody_reads_another_scopes_plan(api, users, book, org):
    assert api(users.am1).get("/visit-plans", {**MARCH, "owner_id": users.am2.pk}).status_code == 404
    assert api(users.am1).get("/visit-plans", {**MARCH, "team": org.B01_T1.pk}).status_code == 404
    assert api(users.lead1).get("/visit-plans", {**MARCH, "owner_id": users.am2.pk}).status_code == 404
    assert api(users.bm1).get("/visit-plans", {**MARCH, "team": org.B02.pk}).status_code == 404
    assert users.am3.pk not in by_user(api(users.bm1).get("/visit-plans", MARCH).json())


def test_a_manager_rule_overrides_the_grade_default(api, users, book):
    response = api(users.bm1).post(
        "/visit-plans/rules", {"grade": "key", "owner_id": users.am1.pk, "visits": 2, "period_months": 1}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["interval_days"] == 16
    row = by_user(api(users.am1).get("/visit-plans", MARCH).json())[users.am1.pk]
    assert row["grades"]["key"]["planned"] == 4
    am2 = by_user(api(users.bm1).get("/visit-plans", MARCH).json())[users.am2.pk]
    assert am2["grades"]["key"]["planned"] == 1  # the default still holds for others


def test_rules_are_versioned_validated_and_need_the_permission(api, users):
    client = api(users.bm1)
    refused = api(users.am1).post("/visit-plans/rules", {"grade": "general", "visits": 1, "period_months": 1})
    assert refused.status_code == 403
    created = client.post("/visit-plans/rules", {"grade": "general", "visits": 1, "period_months": 1})
    assert created.status_code == 200 and created.json()["version"] == 1
    again = client.post("/visit-plans/rules", {"grade": "general", "visits": 2, "period_months": 1})
    assert again.status_code == 422 and "version" in errors_by_field(again)
    changed = client.post("/visit-plans/rules", {"grade": "general", "visits": 2, "period_months": 1, "version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = client.post("/visit-plans/rules", {"grade": "general", "visits": 3, "period_months": 1, "version": 1})
    assert stale.status_code == 409
    odd = client.post("/visit-plans/rules", {"grade": "key", "visits": 1, "period_months": 5})
    assert odd.status_code == 422 and "period_months" in errors_by_field(odd)
    unknown = client.post("/visit-plans/rules", {"grade": "gold", "visits": 1, "period_months": 1})
    assert unknown.status_code == 422 and "grade" in errors_by_field(unknown)
    outsider = client.post(
        "/visit-plans/rules", {"grade": "key", "owner_id": users.am3.pk, "visits": 1, "period_months": 1}
    )
    assert outsider.status_code == 422 and "owner_id" in errors_by_field(outsider)
    assert VisitRule.objects.get(grade="general", owner=None).visits == 2
    rules = {(r["grade"], r["builtin"]): r for r in client.get("/visit-plans/rules").json()}
    assert rules[("general", False)]["visits"] == 2 and rules[("key", True)]["period_months"] == 1


def test_a_bad_month_names_the_field(api, users):
    response = api(users.am1).get("/visit-plans", {"month": "2026-13"})
    assert response.status_code == 422 and "month" in errors_by_field(response)


def test_overdue_lists_customers_past_their_interval(users):
    now = timezone.now()
    late_key = make_customer(users.am1, name="久未拜访重点", grade="key")
    fresh_key = make_customer(users.am1, name="新近拜访重点", grade="key")
    fine_general = make_customer(users.am1, name="一般正常", grade="general")
    late_general = make_customer(users.am1, name="一般逾期", grade="general")
    never = make_customer(users.am1, name="从未拜访", grade="key")
    visit_done(users.am1, late_key, now - timedelta(days=40))
    visit_done(users.am1, late_key, now - timedelta(days=70))  # the latest visit counts
    visit_done(users.am1, fresh_key, now - timedelta(days=10))
    visit_done(users.am1, fine_general, now - timedelta(days=40))
    visit_done(users.am1, late_general, now - timedelta(days=100))
    found = visits.overdue_visits(user=fresh(users.am1), now=now)
    assert [c.name for c in found] == ["一般逾期", "久未拜访重点"]  # most overdue first
    assert found[1].days_overdue == 9 and found[1].last_visit is not None
    later = visits.overdue_visits(user=fresh(users.am1), now=now + timedelta(days=32))
    assert never.pk in {c.pk for c in later}  # never visited: counted from its creation
    assert next(c for c in later if c.pk == never.pk).last_visit is None
    customer_services.customer_archive(actor=fresh(users.am1), customer_id=late_key.pk)
    assert late_key.pk not in {c.pk for c in visits.overdue_visits(user=fresh(users.am1), now=now)}
    assert visits.overdue_visits(user=fresh(users.am2), now=now) == []


def test_overdue_api_is_scoped_and_paged(api, users, book):
    VisitRule.objects.create(grade="key", visits=1, period_months=1)
    with_old_visits = api(users.bm1).get("/visit-plans/overdue", {"limit": 1})
    assert with_old_visits.status_code == 200
    body = with_old_visits.json()
    assert len(body["items"]) <= 1
    am1_ids = {c["customer_id"] for c in api(users.am1).get("/visit-plans/overdue").json()["items"]}
    assert book["am2_key"].pk not in am1_ids and book["am3_key"].pk not in am1_ids
    assert api(users.am1).get("/visit-plans/overdue", {"owner_id": users.am2.pk}).status_code == 404
    assert api(users.am1).get("/visit-plans/overdue", {"limit": 0}).status_code == 422


def test_the_plan_costs_the_same_queries_for_more_managers(api, users, book):
    client = api(users.bm1)
    client.get("/visit-plans", MARCH)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/visit-plans", MARCH).status_code == 200
        return len(queries)

    before = count()
    for n in range(4):
        customer = make_customer(users.am2, name=f"新增{n}", grade="key")
        visit_done(users.am2, customer, at(3, 10 + n))
    make_customer(users.lead2, name="组长客户", grade="potential")
    assert count() == before


def test_the_page_shows_plan_overdue_and_rules(client, users, book):
    client.force_login(users.bm1)
    response = client.get("/activities/visit-plans/", MARCH)
    assert response.status_code == 200
    html = response.content.decode()
    assert "AM1" in html and "AM2" in html and "AM3" not in html
    assert 'name="period_months"' in html  # bm1 may edit rules
    client.force_login(users.am1)
    html = client.get("/activities/visit-plans/", MARCH).content.decode()
    assert "AM2" not in html and 'action="/activities/visit-plans/rules/"' not in html
    page_post = client.post("/activities/visit-plans/rules/", {"grade": "key", "visits": 1, "period_months": 1})
    assert page_post.status_code == 302
    assert not VisitRule.objects.exists()


def test_interval_and_plan_arithmetic():
    assert visits.Rule("key", 1, 1).interval.days == 31
    assert visits.Rule("general", 1, 3).interval.days == 92
    assert visits.Rule("general", 1, 3).monthly_plan(10) == 4
    assert visits.Rule("key", 2, 1).monthly_plan(3) == 6
    assert visits.month_bounds(date(2026, 12, 9))[1] == timezone.make_aware(datetime(2027, 1, 1), TZ)


def test_the_page_reads_the_visit_rules_once(client, users, book):
    VisitRule.objects.create(grade="key", owner=users.am1, visits=2, period_months=1)
    client.force_login(users.bm1)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/activities/visit-plans/", MARCH).status_code == 200
    assert sum('"activities_visitrule"' in query["sql"] for query in queries) == 1
