"""The ticket list from plain rows (selectors.ticket_rows): every item is the ticket as the detail shows it (the detail
still builds it from a Ticket instance), scope and masking as on every other read, keyset pages that neither repeat
nor skip, and a bad cursor answered 422 naming `cursor`."""

import base64
import json

from django.contrib.auth import get_user_model

from guanxi.core.models import OrgUnit
from guanxi.service import selectors, services
from guanxi.service.filters import StatusFilter, TicketFilters
from guanxi.service.models import Ticket
from tests.conftest import fresh
from tests.service.factories import Clock, at, make_ticket, move


def _queue(code: str) -> dict:
    return {"team_id": OrgUnit.objects.get(code=code).pk, "limit": 200}


def _mixed_tickets(users, customers) -> dict[str, Ticket]:
    """Tickets in every shape a list row has: customer or unknown caller, responded, paused, resolved with a cause,
    no team, a pending hand-over, people with and without a full name."""
    User = get_user_model()
    User.objects.filter(pk=users.agent1.pk).update(first_name="王", last_name="小明")
    User.objects.filter(pk=users.lead1.pk).update(first_name="", last_name="")  # shown by username
    tickets = {
        "customer": make_ticket(users.agent1, customers.c1, ticket_type="complaint", priority="high"),
        "caller": make_ticket(users.agent1, caller_name="李女士", caller_phone="13800001111"),
        "landline": make_ticket(users.agent1, caller_name="赵先生", caller_phone="88886666"),
        "paused": move(make_ticket(users.agent1, customers.c2), users.agent1, "accept", "start", "wait"),
        "resolved": move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "resolve"),
        "lead": make_ticket(users.lead1, customers.c1, ticket_type="fault_report"),
        "no team": make_ticket(users.agent1, customers.c1),
    }
    Ticket.objects.filter(pk=tickets["no team"].pk).update(team=None)
    handed = tickets["customer"]
    services.handover_request(
        actor=fresh(users.agent1),
        ticket_id=handed.pk,
        version=handed.version,
        reason="属地",
        to_user_id=users.agent2.pk,
    )
    return tickets


def test_every_list_item_is_the_ticket_as_its_detail_shows_it(users, customers, api):
    tickets = _mixed_tickets(users, customers)
    seen = set()
    for name in ("agent1", "agent2", "bm1", "exec1", "am1", "lead1"):
        client = api(fresh(getattr(users, name)))
        items = client.get("/tickets", {"status": "all", "limit": 200}).json()["items"]
        assert items, name
        for item in items:
            detail = client.get(f"/tickets/{item['id']}").json()
            del detail["handovers"], detail["events"]
            assert item == detail, (name, item["id"])
            seen.add(item["id"])
    assert seen == {t.pk for t in tickets.values()}  # every shape was compared


def test_a_list_item_has_exactly_the_fields_of_the_previous_instance_built_output(users, customers):
    """selectors.ticket_rows against api.ticket_data on the Ticket instance (the list's code before the rows)."""
    from guanxi.service.api import ticket_data

    _mixed_tickets(users, customers)
    for name in ("agent1", "bm1"):
        user = fresh(getattr(users, name))
        rows = selectors.ticket_rows(user=user, filters=TicketFilters(status=StatusFilter.ALL), limit=200).items
        assert rows
        for row in rows:
            expected = ticket_data(user, Ticket.objects.get(pk=row["id"]))
            assert {key: row[key] for key in expected} == expected, (name, row["id"])


def test_an_unknown_callers_phone_is_masked_for_a_role_without_view_sensitive_fields(users, customers, api):
    tickets = _mixed_tickets(users, customers)
    phones = {}
    for name in ("agent1", "bm1"):
        items = api(getattr(users, name)).get("/tickets", {"status": "all", "limit": 200}).json()["items"]
        phones[name] = {item["id"]: item["caller_phone"] for item in items}
    caller, landline = tickets["caller"].pk, tickets["landline"].pk
    assert phones["agent1"][caller] == "138****1111" and phones["agent1"][landline] == "****6666"
    assert phones["bm1"][caller] == "13800001111" and phones["bm1"][landline] == "88886666"
    assert phones["agent1"][tickets["customer"].pk] == ""  # a customer's ticket has no caller phone


def test_an_agent_of_another_branch_gets_nothing_of_a_team_queue_nor_its_tickets(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    sensitive = make_ticket(users.bm1, customers.sensitive)
    outsider = api(users.agent2)
    response = outsider.get("/tickets", _queue("B01-T3"))
    assert response.status_code == 200 and response.json() == {"items": [], "next": None}
    assert outsider.get(f"/tickets/{ticket.pk}").status_code == 404
    # Inside the branch, the sensitive customer's ticket stays out without the permission.
    inside = {item["id"] for item in api(users.agent1).get("/tickets", {"status": "all"}).json()["items"]}
    assert ticket.pk in inside and sensitive.pk not in inside
    assert api(users.agent1).get(f"/tickets/{sensitive.pk}").status_code == 404


def test_cursor_pages_neither_repeat_nor_skip_when_tickets_arrive_while_paging(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 9, 0))
    first = [make_ticket(users.agent1, customers.c1) for _ in range(3)]  # one deadline, id order
    clock.set(at(2026, 3, 2, 9, 30))
    rest = [make_ticket(users.agent1, customers.c1) for _ in range(3)]
    client = api(users.agent1)
    query = {**_queue("B01-T3"), "limit": 2}
    page = client.get("/tickets", query).json()
    walked = [item["id"] for item in page["items"]]
    clock.set(at(2026, 3, 2, 8, 0))
    earlier = make_ticket(users.agent1, customers.c1)  # due before the cursor: belongs to a page already read
    while page["next"]:
        page = client.get("/tickets", {**query, "cursor": page["next"]}).json()
        walked += [item["id"] for item in page["items"]]
    assert walked == [t.pk for t in first + rest]
    assert [item["id"] for item in client.get("/tickets", {**query, "limit": 200}).json()["items"]][0] == earlier.pk


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def test_a_bad_cursor_is_422_naming_the_cursor(users, customers, api):
    make_ticket(users.agent1, customers.c1)
    client = api(users.agent1)
    for cursor in (
        "nonsense",
        _cursor(["2026-03-02T09:00:00", 1]),  # a naive time: not one we handed out
        _cursor([12, 1]),
        _cursor(["not a time", 1]),
        _cursor(["2026-03-02T09:00:00+08:00", "1"]),
        _cursor(["2026-03-02T09:00:00+08:00", 2**70]),
    ):
        response = client.get("/tickets", {**_queue("B01-T3"), "cursor": cursor})
        assert response.status_code == 422, cursor
        body = response.json()
        assert set(body) == {"detail", "errors"} and [e["field"] for e in body["errors"]] == ["cursor"], cursor


def test_the_queue_page_shows_the_rows_names_and_labels(users, customers, client):
    tickets = _mixed_tickets(users, customers)
    client.force_login(users.agent1)
    page = client.get("/service/", {"status": "all", "team_id": ""}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    caller = tickets["caller"]
    assert f'<a href="/service/{caller.pk}/">{caller.number}</a>' in page
    cells = ("甲一电力客户", "李女士", "王 小明", "lead1", "Complaint", "High", "Fault report", "Waiting for customer")
    for cell in cells:
        assert f"<td>{cell}</td>" in page, cell
