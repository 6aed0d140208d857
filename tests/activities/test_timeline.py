"""The customer timeline: order, keyset pages, kind filter, other apps' sources through the registry."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.activities import timeline
from tests.activities.factories import BASE, make_activity


@pytest.fixture
def stream(users, customers):
    """Seven activities on c1 at known times (two at the same instant), one on c2."""
    at = [BASE + timedelta(days=d) for d in (0, 1, 2, 2, 3, 5, 8)]
    kinds = ["visit", "inbound_call", "meeting", "email", "visit", "task", "outbound_call"]
    made = [
        make_activity(users.am1, customers.c1, kind=kind, planned_start=moment)
        for kind, moment in zip(kinds, at, strict=True)
    ]
    make_activity(users.am2, customers.c2)
    return made


def newest_first(activities):
    return [a.pk for a in sorted(activities, key=lambda a: (a.happened_at, a.pk), reverse=True)]


def test_entries_come_newest_first_and_page_by_cursor(api, users, customers, stream):
    client = api(users.am1)
    seen, cursor = [], None
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        body = client.get(f"/customers/{customers.c1.pk}/timeline", params).json()
        seen += [entry["id"] for entry in body["items"]]
        cursor = body["next"]
        if not cursor:
            break
    assert seen == newest_first(stream)


def test_kind_filter(api, users, customers, stream):
    client = api(users.am1)
    body = client.get(f"/customers/{customers.c1.pk}/timeline", {"kind": ["visit", "email"]}).json()
    assert [entry["kind"] for entry in body["items"]] == ["visit", "email", "visit"]
    assert client.get(f"/customers/{customers.c1.pk}/timeline", {"kind": "deal"}).json()["items"] == []


def test_date_window(api, users, customers, stream):
    body = (
        api(users.am1)
        .get(f"/customers/{customers.c1.pk}/timeline", {"date_from": "2026-03-04", "date_to": "2026-03-05"})
        .json()
    )
    assert [entry["kind"] for entry in body["items"]] == ["visit", "email", "meeting"]  # 3 to 5 March, ties by id


def test_a_bad_cursor_is_422(api, users, customers):
    response = api(users.am1).get(f"/customers/{customers.c1.pk}/timeline", {"cursor": "bm9wZQ"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


def test_other_apps_add_entries_through_the_registry(api, users, customers, stream):
    """A fake "deals" source: its entries interleave with the activities by time and page with the same cursor."""
    deals = [(BASE + timedelta(days=2), 1), (BASE + timedelta(days=6), 2), (BASE - timedelta(days=1), 3)]

    def deal_entries(*, user, customer, before, since, until, kinds, limit):
        rows = sorted(deals, reverse=True)
        if before is not None:
            position = (before.at, before.source, before.id)
            rows = [row for row in rows if (row[0], "deals", row[1]) < position]
        for at, deal_id in rows[:limit]:
            yield timeline.TimelineEntry(
                at=at, source="deals", id=deal_id, kind="deal", kind_label="商机", title=f"商机{deal_id}"
            )

    timeline.register(timeline.TimelineSource("deals", {"deal": "商机"}, deal_entries))
    try:
        client = api(users.am1)
        seen, cursor = [], None
        while True:
            params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
            body = client.get(f"/customers/{customers.c1.pk}/timeline", params).json()
            seen += [(entry["source"], entry["id"]) for entry in body["items"]]
            cursor = body["next"]
            if not cursor:
                break
        everything = [(a.happened_at, "activities", a.pk) for a in stream] + [(at, "deals", i) for at, i in deals]
        assert seen == [(source, i) for _at, source, i in sorted(everything, reverse=True)]
        only_deals = client.get(f"/customers/{customers.c1.pk}/timeline", {"kind": "deal"}).json()["items"]
        assert [entry["id"] for entry in only_deals] == [2, 1, 3]
    finally:
        timeline._sources.pop("deals")


def test_the_timeline_takes_a_fixed_number_of_queries(api, users, customers, stream):
    client = api(users.am1)
    client.get(f"/customers/{customers.c1.pk}/timeline")  # warm the session and caches
    with CaptureQueriesContext(connection) as first:
        client.get(f"/customers/{customers.c1.pk}/timeline", {"limit": 2})
    with CaptureQueriesContext(connection) as full:
        client.get(f"/customers/{customers.c1.pk}/timeline", {"limit": 50})
    assert len(full) == len(first)
    own = [q["sql"] for q in full if 'FROM "activities_activity"' in q["sql"]]
    assert len(own) == 1, own  # one page of activities with their owners (other sources add theirs, as many)


def test_the_list_takes_a_fixed_number_of_queries(api, users, customers, stream):
    client = api(users.bm1)
    client.get("/activities")
    with CaptureQueriesContext(connection) as few:
        client.get("/activities", {"limit": 2})
    with CaptureQueriesContext(connection) as many:
        client.get("/activities", {"limit": 50})
    assert len(many) == len(few)
    own = [q["sql"] for q in many if "activities_" in q["sql"]]
    assert len(own) == 3, own  # the page (with customer, owner, type), its contacts, its participants
