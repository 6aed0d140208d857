"""Tickets through the API: create (customer or unknown caller), update and link, bad input, stale versions, scope on
every read path (list, detail, search, 360 panel, timeline, audit history), query counts."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.models import AuditLog
from guanxi.service.models import Ticket, TicketSubType
from tests.conftest import audit_count, errors_by_field, fresh, make_customer
from tests.service.factories import make_ticket


def test_an_agent_records_a_ticket_for_a_customer(users, customers, api):
    sub_type = TicketSubType.objects.get(ticket_type__code="complaint", name="电费争议")
    response = api(users.agent1).post(
        "/tickets",
        {
            "customer_id": customers.c1.pk,
            "channel": "hotline",
            "ticket_type": "complaint",
            "sub_type_id": sub_type.pk,
            "priority": "high",
            "subject": "电费异常偏高",
            "description": "客户反映本月电费比上月高出三倍",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("GD") and len(body["number"]) == 17
    assert body["owner"]["id"] == body["receiver"]["id"] == users.agent1.pk
    assert body["team"]["id"] == users.agent1.profile.org_unit_id
    assert body["status"] == "new" and body["customer_name"] == "甲一电力客户"
    assert body["events"][0]["kind"] == "created"
    assert audit_count(object_type="service.ticket", object_id=str(body["id"]), action="create") == 1


def test_an_unknown_caller_is_recorded_and_linked_later(users, customers, api):
    client = api(users.agent1)
    created = client.post(
        "/tickets",
        {
            "channel": "hotline",
            "ticket_type": "fault_report",
            "subject": "家里停电",
            "caller_name": "李女士",
            "caller_phone": "13800001111",
        },
    ).json()
    assert created["customer_id"] is None and created["sla_grade"] == "general"
    assert created["caller_phone"] == "138****1111"  # masked for a service agent
    customers.c1.grade = "key"
    customers.c1.save(update_fields=["grade"])
    linked = client.patch(f"/tickets/{created['id']}", {"version": created["version"], "customer_id": customers.c1.pk})
    assert linked.status_code == 200, linked.content
    body = linked.json()
    assert body["customer_id"] == customers.c1.pk and body["sla_grade"] == "key"
    assert body["resolution_due_at"] < created["resolution_due_at"]  # key customers are served faster (B4)
    assert body["version"] == created["version"] + 1


def test_bad_input_names_the_field_and_writes_nothing(users, customers, api):
    client = api(users.agent1)
    before = Ticket.objects.count(), AuditLog.objects.count()
    cases = [
        ({"channel": "hotline", "ticket_type": "complaint", "customer_id": customers.c1.pk}, "subject"),
        ({"channel": "pigeon", "ticket_type": "complaint", "subject": "x", "customer_id": customers.c1.pk}, "channel"),
        ({"channel": "web", "ticket_type": "complaint", "subject": "x"}, "customer_id"),  # neither customer nor caller
        ({"channel": "web", "ticket_type": "complaint", "subject": "x", "customer_id": customers.c3.pk}, "customer_id"),
        (
            {
                "channel": "web",
                "ticket_type": "complaint",
                "subject": "x",
                "customer_id": customers.c1.pk,
                "sub_type_id": TicketSubType.objects.get(ticket_type__code="fault_report", name="低压故障").pk,
            },
            "sub_type_id",
        ),
        (
            {
                "channel": "web",
                "ticket_type": "complaint",
                "subject": "x",
                "customer_id": customers.c1.pk,
                "owner_id": 1,
            },
            "owner_id",
        ),
    ]
    for payload, field in cases:
        response = client.post("/tickets", payload)
        assert response.status_code == 422, (payload, response.content)
        assert field in errors_by_field(response), (field, response.json())
    assert (Ticket.objects.count(), AuditLog.objects.count()) == before


def test_a_stale_update_is_refused(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    client = api(users.agent1)
    assert client.patch(f"/tickets/{ticket.pk}", {"version": ticket.version, "subject": "新主题"}).status_code == 200
    stale = client.patch(f"/tickets/{ticket.pk}", {"version": ticket.version, "subject": "旧主题"})
    assert stale.status_code == 409 and stale.json()["current_version"] == ticket.version + 1
    ticket.refresh_from_db()
    assert ticket.subject == "新主题"


def test_an_account_manager_may_not_act_on_a_ticket_of_their_customer_they_do_not_own(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    client = api(users.am1)
    assert client.get(f"/tickets/{ticket.pk}").status_code == 200  # am1 sees tickets of their customers
    assert client.post(f"/tickets/{ticket.pk}/accept", {"version": ticket.version}).status_code == 403


# --- record scope -------------------------------------------------------------------------------------------------


def _ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def test_each_user_sees_only_their_scope_on_every_read_path(users, customers, api):
    b01 = make_ticket(users.agent1, customers.c1, subject="停电投诉甲")
    b02 = make_ticket(users.agent2, customers.c3, subject="停电投诉丙")
    sensitive = make_ticket(users.bm1, customers.sensitive, subject="停电投诉敏感")
    other_am_customer = make_ticket(users.agent1, customers.c2, subject="停电投诉乙")
    expectations = {
        "agent1": {b01.pk, other_am_customer.pk},  # their branch, not the sensitive customer's
        "agent2": {b02.pk},
        "bm1": {b01.pk, sensitive.pk, other_am_customer.pk},
        "am1": {b01.pk},  # tickets of their own customers (the sensitive one needs the permission)
        "am3": {b02.pk},
        "exec1": {b01.pk, b02.pk, sensitive.pk, other_am_customer.pk},
    }
    every = {b01.pk, b02.pk, sensitive.pk, other_am_customer.pk}
    for name, visible in expectations.items():
        client = api(getattr(users, name))
        assert _ids(client.get("/tickets", {"status": "all"})) == visible, name
        for ticket_id in every:
            status = client.get(f"/tickets/{ticket_id}").status_code
            assert status == (200 if ticket_id in visible else 404), (name, ticket_id)
            history = client.get("/audit", {"object_type": "service.ticket", "object_id": ticket_id})
            assert history.status_code in (200, 403, 404)
            if history.status_code == 200 and ticket_id not in visible:
                assert history.json()["items"] == [], (name, ticket_id)
        found = client.get("/search", {"q": "停电投诉"}).json()
        assert {hit["id"] for hit in found["results"]["tickets"]} == visible, name


def test_the_360_panel_and_timeline_show_the_customers_tickets(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1, subject="抄表争议")
    overview = api(users.am1).get(f"/customers/{customers.c1.pk}/overview").json()
    assert [t["id"] for t in overview["panels"]["tickets"]["tickets"]] == [ticket.pk]
    timeline = api(users.am1).get(f"/customers/{customers.c1.pk}/timeline", {"kind": "ticket"}).json()
    assert [(entry["source"], entry["id"]) for entry in timeline["items"]] == [("tickets", ticket.pk)]
    # A sensitive customer's ticket stays out of the panel of someone without the permission.
    make_ticket(users.bm1, customers.sensitive)
    assert api(users.am1).get(f"/customers/{customers.sensitive.pk}/overview").status_code == 404


def test_the_queue_is_ordered_by_sla_due_time_and_pages_with_a_cursor(users, customers, api):
    urgent = make_ticket(users.agent1, customers.c1, priority="urgent")
    low = make_ticket(users.agent1, customers.c1, priority="low")
    normal = make_ticket(users.agent1, customers.c1, priority="normal")
    client = api(users.agent1)
    team = users.agent1.profile.org_unit_id
    first = client.get("/tickets", {"team_id": team, "limit": 2}).json()
    assert [t["id"] for t in first["items"]] == [urgent.pk, normal.pk]
    second = client.get("/tickets", {"team_id": team, "limit": 2, "cursor": first["next"]}).json()
    assert [t["id"] for t in second["items"]] == [low.pk] and second["next"] is None
    assert client.get("/tickets", {"cursor": "nonsense"}).status_code == 422


def test_the_list_costs_the_same_queries_for_1_and_20_tickets(users, customers, api):
    client = api(users.agent1)
    make_ticket(users.agent1, customers.c1)
    client.get("/tickets")  # warm the session and permission caches
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/tickets").json()["items"]) == 1
    for _ in range(19):
        make_ticket(users.agent1, make_customer(users.am1))
    with CaptureQueriesContext(connection) as twenty:
        assert len(client.get("/tickets").json()["items"]) == 20
    assert len(twenty) == len(one)
    assert len(one) <= 10  # session, user, profile, roles, scope units (3), permissions (2), and ONE for the page


def test_ticket_types_list_sub_types_and_causes(users, api):
    types = {t["code"]: t for t in api(users.agent1).get("/ticket-types").json()}
    assert set(types) == {
        "consultation",
        "complaint",
        "suggestion",
        "technical_support",
        "fault_report",
        "emergency_repair",
    }
    assert types["emergency_repair"]["around_the_clock"] and not types["complaint"]["around_the_clock"]
    assert "服务态度" in {s["name"] for s in types["complaint"]["sub_types"]}
    assert "其他" in {c["name"] for c in types["complaint"]["causes"]}


def test_an_anonymous_caller_gets_401(api):
    assert api().get("/tickets").status_code == 401


def test_an_owner_is_never_missing(users, customers):
    import pytest
    from django.db import IntegrityError, transaction

    ticket = make_ticket(users.agent1, customers.c1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.filter(pk=ticket.pk).update(owner=None)
    assert fresh(users.agent1).pk == Ticket.objects.get(pk=ticket.pk).owner_id
