"""The service pages: the team queue with SLA countdowns, the ticket form of a 95598 agent, the ticket page and its
actions, the customer 360 summary beside it, the 360 "tickets" panel."""

from guanxi.service.models import Handover, Ticket
from tests.service.factories import Clock, at, make_ticket


def test_the_queue_shows_the_team_tickets_with_countdowns(users, customers, client, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 9, 0))
    late = make_ticket(users.agent1, customers.c1, subject="早到的投诉")
    clock.set(at(2026, 3, 2, 9, 50))
    make_ticket(users.agent1, customers.c2, subject="新来的咨询")
    make_ticket(users.agent2, customers.c3, subject="另一分公司的工单")
    clock.set(at(2026, 3, 2, 10, 5))
    client.force_login(users.agent1)
    page = client.get("/service/").content.decode()
    assert "早到的投诉" in page and "新来的咨询" in page and "另一分公司的工单" not in page
    assert page.index("早到的投诉") < page.index("新来的咨询")  # most urgent first
    assert 'hx-trigger="every 60s"' in page
    assert late.number in page
    fragment = client.get("/service/", {"status": "all"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and "新来的咨询" in fragment


def test_a_95598_agent_records_a_complaint_through_the_form(users, customers, client):
    client.force_login(users.agent1)
    assert client.get("/service/new/").status_code == 200
    response = client.post(
        "/service/new/",
        {
            "channel": "hotline",
            "ticket_type": "complaint",
            "priority": "high",
            "customer": customers.c1.number,
            "subject": "抄表员服务态度差",
            "description": "客户来电投诉",
        },
    )
    ticket = Ticket.objects.get(subject="抄表员服务态度差")
    assert response.status_code == 302 and response["Location"] == f"/service/{ticket.pk}/"
    assert ticket.owner_id == users.agent1.pk and ticket.customer_id == customers.c1.pk


def test_the_form_shows_errors_and_writes_nothing(users, customers, client):
    client.force_login(users.agent1)
    response = client.post("/service/new/", {"channel": "hotline", "ticket_type": "complaint", "subject": "无来电人"})
    assert response.status_code == 200
    assert not Ticket.objects.exists()
    response = client.post(
        "/service/new/",
        {"channel": "hotline", "ticket_type": "complaint", "subject": "x", "customer": customers.c3.number},
    )
    assert response.status_code == 200 and not Ticket.objects.exists()


def test_the_ticket_page_shows_actions_and_the_customer_summary(users, customers, client):
    ticket = make_ticket(users.agent1, customers.c1, subject="停电报修")
    client.force_login(users.agent1)
    page = client.get(f"/service/{ticket.pk}/").content.decode()
    assert "停电报修" in page and "甲一电力客户" in page and customers.c1.number in page
    assert f"/service/{ticket.pk}/accept/" in page and f"/service/{ticket.pk}/handover/" in page
    response = client.post(f"/service/{ticket.pk}/accept/", {"version": ticket.version})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "accepted"
    # A stale form: refused with a message, nothing changes.
    client.post(f"/service/{ticket.pk}/start/", {"version": 1})
    ticket.refresh_from_db()
    assert ticket.status == "accepted"
    client.post(
        f"/service/{ticket.pk}/handover/", {"version": ticket.version, "to_user_id": users.bm1.pk, "reason": "升级"}
    )
    assert Handover.objects.get(ticket=ticket).to_user_id == users.bm1.pk
    client.force_login(users.bm1)
    client.post(f"/service/{ticket.pk}/handover/accept/", {})
    ticket.refresh_from_db()
    assert ticket.owner_id == users.bm1.pk


def test_out_of_scope_tickets_are_not_found(users, customers, client):
    ticket = make_ticket(users.agent2, customers.c3)
    client.force_login(users.agent1)
    assert client.get(f"/service/{ticket.pk}/").status_code == 404
    assert client.post(f"/service/{ticket.pk}/accept/", {"version": ticket.version}).status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == "new"


def test_the_customer_page_has_a_tickets_panel_and_the_nav_links_service(users, customers, client):
    make_ticket(users.agent1, customers.c1, subject="电价咨询")
    client.force_login(users.am1)
    page = client.get(f"/customers/{customers.c1.pk}/").content.decode()
    assert 'data-panel="tickets"' in page and "电价咨询" in page
    assert 'href="/service/"' in page
