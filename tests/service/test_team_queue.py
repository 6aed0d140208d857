"""The team queue (GET /tickets?team_id=…, the service home page): one statement for the page whatever its size, a
WHERE without the per-row visibility ORs when the team is inside the user's scope, and the same rows as the full
scope rule in every case (the shortcut never widens what a user sees)."""

import re

from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.models import OrgUnit
from guanxi.service import selectors, services
from guanxi.service.filters import TicketFilters
from guanxi.service.models import Ticket
from tests.conftest import fresh, make_customer
from tests.service.factories import Clock, at, make_ticket


def _team(code: str) -> int:
    return OrgUnit.objects.get(code=code).pk


def _page_sql(queries) -> str:
    return next(q["sql"] for q in queries if 'FROM "service_ticket"' in q["sql"] and "ORDER BY" in q["sql"])


def test_the_team_queue_reads_its_page_in_one_statement_without_the_scope_ors(
    users, customers, api, django_assert_max_num_queries
):
    client = api(users.agent1)
    team = _team("B01-T3")
    make_ticket(users.agent1, customers.c1)
    client.get("/tickets", {"team_id": team})  # warm the session and permission caches
    with CaptureQueriesContext(connection) as one:
        assert len(client.get("/tickets", {"team_id": team}).json()["items"]) == 1
    for _ in range(24):
        make_ticket(users.agent1, make_customer(users.am1))
    with django_assert_max_num_queries(len(one)), CaptureQueriesContext(connection) as many:
        assert len(client.get("/tickets", {"team_id": team}).json()["items"]) == 25
    sql = _page_sql(many.captured_queries)
    assert "EXISTS" not in sql and "service_handover" not in sql
    assert not re.search(r'"(owner|receiver)_id" = \d', sql)
    assert '"sensitive"' in sql  # the sensitive-customer rule stays


def test_a_team_outside_the_scope_keeps_the_full_rule(users, customers, api):
    ticket = make_ticket(users.agent1, customers.c1)
    services.handover_request(
        actor=fresh(users.agent1),
        ticket_id=ticket.pk,
        version=ticket.version,
        reason="属地",
        to_user_id=users.agent2.pk,
    )
    with CaptureQueriesContext(connection) as queries:
        items = api(users.agent2).get("/tickets", {"team_id": _team("B01-T3")}).json()["items"]
    assert [t["id"] for t in items] == [ticket.pk]  # addressed to agent2: visible through the hand-over
    assert "EXISTS" in _page_sql(queries.captured_queries)
    make_ticket(users.agent1, customers.c1)  # not addressed to agent2
    assert [t["id"] for t in api(users.agent2).get("/tickets", {"team_id": _team("B01-T3")}).json()["items"]] == [
        ticket.pk
    ]


def test_the_shortcut_shows_exactly_what_the_scope_rule_shows(users, customers):
    """For every user and team: the team queue equals the scope rule filtered by team (sensitive ones included)."""
    for actor, customer in (
        (users.agent1, customers.c1),
        (users.agent2, customers.c3),
        (users.bm1, customers.sensitive),
    ):
        make_ticket(actor, customer)
    make_ticket(users.lead1, customers.c1)
    make_ticket(users.agent1, caller_name="王先生", caller_phone="13900001111")
    teams = list(OrgUnit.objects.values_list("pk", flat=True))
    for user in vars(users).values():
        user = fresh(user)
        if not user.has_perm("service.view_ticket"):
            continue
        for team in teams:
            expected = set(
                selectors.ticket_queryset(user=user)
                .filter(team_id=team, status__in=Ticket.OPEN_STATUSES)
                .values_list("pk", flat=True)
            )
            page = selectors.ticket_rows(user=user, filters=TicketFilters(team_id=team), limit=200)
            assert {t["id"] for t in page.items} == expected, (user.username, team)


def test_cursor_pages_walk_tickets_with_the_same_deadline_in_id_order(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 9, 0))
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(5)]  # the same clock: the same deadlines
    clock.set(at(2026, 3, 2, 9, 1))
    later = make_ticket(users.agent1, customers.c1)
    assert len({t.sla_due_at for t in tickets}) == 1
    client, seen, path = api(users.agent1), [], f"/tickets?team_id={_team('B01-T3')}&limit=2"
    page = client.get(path).json()
    seen += [t["id"] for t in page["items"]]
    while page["next"]:
        page = client.get(f"{path}&cursor={page['next']}").json()
        seen += [t["id"] for t in page["items"]]
    assert seen == [t.pk for t in tickets] + [later.pk]


def _walk(user, filters: TicketFilters, limit: int) -> list[int]:
    page = selectors.ticket_rows(user=user, filters=filters, limit=limit)
    seen = [t["id"] for t in page.items]
    while page.next:
        page = selectors.ticket_rows(user=user, filters=filters, cursor=page.next, limit=limit)
        seen += [t["id"] for t in page.items]
    return seen


def test_a_stored_page_statement_answers_each_user_and_filter_with_its_own_rows(users, customers, monkeypatch):
    """The page's statement is compiled once per scope and filters, then run with the cursor as parameters: every
    user's walk through every queue, twice (the second from the stored statements), equals the scope rule in queue
    order, and nothing compiled for one user, team or filter answers another."""
    from guanxi.core import search_statements

    compiled = []
    compile_statement = search_statements.compile_statement
    monkeypatch.setattr(
        selectors, "compile_statement", lambda *a, **kw: compiled.append(1) or compile_statement(*a, **kw)
    )
    search_statements._shapes.clear()
    clock = Clock(monkeypatch, at(2026, 3, 2, 9, 0))
    for minute, (actor, customer) in enumerate(
        [(users.agent1, customers.c1)] * 3
        + [(users.agent2, customers.c3), (users.bm1, customers.sensitive), (users.lead1, customers.c1)]
    ):
        clock.set(at(2026, 3, 2, 9, minute % 2))  # equal deadlines too: the cursor's id decides
        make_ticket(actor, customer, ticket_type="complaint" if minute % 3 else "consultation")
    make_ticket(users.agent1, caller_name="王先生", caller_phone="13900001111")
    teams = [None, *OrgUnit.objects.values_list("pk", flat=True)]
    for user in vars(users).values():
        user = fresh(user)
        if not user.has_perm("service.view_ticket"):
            continue
        for team in teams:
            for filters in (TicketFilters(team_id=team), TicketFilters(team_id=team, ticket_type="complaint")):
                expected = list(
                    filters.apply(selectors.ticket_queryset(user=user))
                    .order_by("sla_due_at", "id")
                    .values_list("pk", flat=True)
                )
                before = len(compiled)
                assert _walk(user, filters, limit=2) == expected, (user.username, team, filters)
                assert len(compiled) - before <= 2  # the first page's statement and the cursor pages' one
                again = len(compiled)
                assert _walk(user, filters, limit=2) == expected, (user.username, team, filters)
                assert len(compiled) == again, "the second walk compiled again"
