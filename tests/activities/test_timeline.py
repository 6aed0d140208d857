"""The customer timeline: order, keyset pages, kind filter, other apps' sources through the registry."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.dateparse import parse_datetime

from guanxi.activities import timeline
from guanxi.activities.models import Activity
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
            yield timeline.entry(
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


def test_an_entry_shows_its_activity_or_ticket_in_full(api, users, customers):
    """Entries are built from plain rows: every field of the response, for a call (masked number for an account
    manager) and for a ticket of the service app's source."""
    from tests.service.factories import make_ticket

    users.am1.first_name, users.am1.last_name = "晓明", "王"
    users.am1.save(update_fields=["first_name", "last_name"])
    call = make_activity(
        users.am1,
        customers.c1,
        kind="outbound_call",
        subject="回访电话",
        phone_number="13912345678",
        call_result="connected",
        duration_seconds=95,
        notes="客户满意" * 60,
    )
    ticket = make_ticket(users.am1, customers.c1, subject="电费咨询")
    body = api(users.am1).get(f"/customers/{customers.c1.pk}/timeline").json()
    entries = {(entry["source"], entry["id"]): entry for entry in body["items"]}
    for entry in entries.values():
        entry["at"] = parse_datetime(entry["at"])
    assert entries[("activities", call.pk)] == {
        "at": call.happened_at,
        "source": "activities",
        "id": call.pk,
        "kind": "outbound_call",
        "kind_label": "呼出电话",
        "title": "回访电话",
        "summary": ("客户满意" * 60)[:200],
        "status": call.status,
        "actor": "晓明 王",
        "url": f"/activities/{call.pk}/",
        "data": {
            "direction": "outbound",
            "outcome": "",
            "next_step": "",
            "phone_number": "139****5678",
            "call_result": "connected",
            "call_result_label": zh(Activity.CallResult.CONNECTED.label),
            "duration_seconds": 95,
        },
    }
    assert entries[("tickets", ticket.pk)] == {
        "at": ticket.created_at,  # to the microsecond (core.renderers)
        "source": "tickets",
        "id": ticket.pk,
        "kind": "ticket",
        "kind_label": zh(ticket.get_ticket_type_display()),
        "title": f"{ticket.number} 电费咨询",
        "summary": "",
        "status": ticket.status,
        "actor": "晓明 王",
        "url": f"/service/{ticket.pk}/",
        "data": {"number": ticket.number, "status_label": zh(ticket.get_status_display())},
    }


def zh(label) -> str:
    with translation.override("zh-hans"):
        return str(label)


def test_labels_follow_each_requests_language(api, users, customers):
    """The sources and the 360 panel translate their labels once per language (cached): a page in English between
    two in Chinese shows each in its own language."""
    from tests.service.factories import make_ticket

    make_activity(users.am1, customers.c1, kind="outbound_call", phone_number="13912345678", call_result="connected")
    ticket = make_ticket(users.am1, customers.c1)
    kinds = {}
    for lang in ("zh-hans", "en", "zh-hans"):
        path = f"/customers/{customers.c1.pk}/overview"
        panel = api(users.am1, lang=lang).get(path, {"panels": "all"}).json()["panels"]["timeline"]
        entries = {entry["source"]: entry for entry in panel["entries"]}
        with translation.override(lang):
            assert entries["activities"]["kind_label"] == str(Activity.Kind.OUTBOUND_CALL.label)
            assert entries["activities"]["data"]["call_result_label"] == str(Activity.CallResult.CONNECTED.label)
            assert entries["tickets"]["kind_label"] == ticket.get_ticket_type_display()
            assert entries["tickets"]["data"]["status_label"] == ticket.get_status_display()
            assert panel["kinds"] == {kind: str(label) for kind, label in timeline.all_kinds().items()}
        kinds[lang] = panel["kinds"]
    assert kinds["en"] != kinds["zh-hans"]
