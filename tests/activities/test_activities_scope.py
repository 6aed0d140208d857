"""Record scope on every read path of activities: list, detail, timeline, 360 panel, search, across roles.

A user sees an activity on a customer in their scope, a customer-less task of their scope, or one they own or take
part in; never one on a sensitive customer without the sensitive permission.
"""

from types import SimpleNamespace

import pytest

from tests.activities.factories import make_activity
from tests.conftest import fresh

# Which of the activities below each user sees.
VISIBLE = {
    "am1": {"a1", "shared"},
    "am2": {"a2", "task2"},
    "am3": {"a3", "shared"},
    "lead1": {"a1"},
    "lead2": {"a2", "task2"},
    "lead3": {"a3", "shared"},
    "bm1": {"a1", "a2", "sens", "task2"},
    "bm2": {"a3", "shared"},
    "agent1": {"a1", "a2", "task2"},
    "agent2": {"a3", "shared"},
    "analyst1": {"a1", "a2", "task2"},
    "analyst2": {"a3", "shared"},
    "exec1": {"a1", "a2", "a3", "sens", "task2", "shared"},
    "admin": {"a1", "a2", "a3", "sens", "task2", "shared"},
}
# Whose customer timelines each user may open (customer scope, not activity scope).
TIMELINES = {
    "am1": {"c1"},
    "am2": {"c2"},
    "am3": {"c3"},
    "lead1": {"c1"},
    "lead2": {"c2"},
    "lead3": {"c3"},
    "bm1": {"c1", "c2", "sensitive"},
    "bm2": {"c3"},
    "agent1": {"c1", "c2"},
    "agent2": {"c3"},
    "analyst1": {"c1", "c2"},
    "analyst2": {"c3"},
    "exec1": {"c1", "c2", "c3", "sensitive"},
    "admin": {"c1", "c2", "c3", "sensitive"},
}


@pytest.fixture
def world(users, customers):
    acts = SimpleNamespace(
        a1=make_activity(users.am1, customers.c1, subject="季度拜访 甲"),
        a2=make_activity(users.am2, customers.c2, subject="季度拜访 乙"),
        a3=make_activity(users.am3, customers.c3, subject="季度拜访 丙"),
        sens=make_activity(users.bm1, customers.sensitive, subject="季度拜访 敏感", owner_id=users.am1.pk),
        task2=make_activity(users.am2, None, kind="task", subject="季度拜访 总结"),
        shared=make_activity(users.am3, customers.c3, subject="季度拜访 联合", participant_ids=[users.am1.pk]),
    )
    return SimpleNamespace(activities=acts, customers=customers)


def _names(world, ids) -> set[str]:
    by_id = {activity.pk: name for name, activity in vars(world.activities).items()}
    return {by_id[i] for i in ids}


@pytest.mark.parametrize("username", sorted(VISIBLE))
def test_every_read_path(api, users, world, username):
    """One world per user (building it is the slow part): list, detail, timeline, 360 panel, search."""
    client = api(getattr(users, username))
    listed = client.get("/activities", {"limit": 200}).json()["items"]
    assert _names(world, [a["id"] for a in listed]) == VISIBLE[username]
    for name, activity in vars(world.activities).items():
        status = client.get(f"/activities/{activity.pk}").status_code
        assert status == (200 if name in VISIBLE[username] else 404), name
    for name, customer in vars(world.customers).items():
        response = client.get(f"/customers/{customer.pk}/timeline")
        overview = client.get(f"/customers/{customer.pk}/overview", {"panels": "all"})
        if name not in TIMELINES[username]:
            assert response.status_code == 404, name
            assert overview.status_code == 404, name
            continue
        expected = {a.pk for a in vars(world.activities).values() if a.customer_id == customer.pk}
        assert {entry["id"] for entry in response.json()["items"]} == expected, name
        panel = overview.json()["panels"]["timeline"]
        assert {entry["id"] for entry in panel["entries"]} == expected, name
    hits = client.get("/search", {"q": "季度拜访", "limit": 50}).json()["results"]["activities"]
    assert _names(world, [hit["id"] for hit in hits]) == VISIBLE[username]


def test_changing_or_completing_out_of_scope_is_not_found(api, users, world):
    a3 = world.activities.a3
    client = api(users.am1)
    assert client.patch(f"/activities/{a3.pk}", {"version": 1, "subject": "x"}).status_code == 404
    assert client.post(f"/activities/{a3.pk}/complete", {"version": 1}).status_code == 404
    assert client.post(f"/activities/{a3.pk}/cancel", {"version": 1}).status_code == 404
    assert api(users.lead1).delete(f"/activities/{a3.pk}").status_code == 404


def test_pages_follow_the_same_scope(api, users, world):
    client = api(users.am1).client
    page = client.get("/activities/?scope=all").content.decode()
    assert "季度拜访 甲" in page and "季度拜访 联合" in page
    assert "季度拜访 乙" not in page and "季度拜访 敏感" not in page
    assert client.get(f"/activities/{world.activities.a2.pk}/").status_code == 404
    assert client.get(f"/activities/customers/{world.customers.c2.pk}/timeline/").status_code == 404
    detail = client.get(f"/customers/{world.customers.c1.pk}/").content.decode()
    assert "季度拜访 甲" in detail and 'data-panel="timeline"' in detail


@pytest.mark.parametrize("username", ["am1", "am2", "am3", "lead1", "bm1", "exec1"])
def test_the_search_scope_parts_together_are_the_users_scope(users, world, username):
    from guanxi.activities.selectors import activity_queryset, activity_scope_parts

    user = fresh(getattr(users, username))
    union = set().union(*(set(part.values_list("pk", flat=True)) for part in activity_scope_parts(user=user)))

    assert union == set(activity_queryset(user=user).values_list("pk", flat=True))
    assert _names(world, union) == VISIBLE[username]
