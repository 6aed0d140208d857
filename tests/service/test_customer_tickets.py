"""selectors.customer_tickets (the timeline's ticket source) answers what ticket_queryset narrowed to the customer
answers, for every user and customer, with fewer conditions when the rules already settle them; the timeline's first
page costs one statement per source."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.customers.models import Customer
from guanxi.service import selectors, services
from guanxi.service.models import Ticket
from tests.activities.factories import make_activity
from tests.conftest import fresh, make_customer
from tests.service.factories import make_ticket


def _tickets(users, customers):
    agent_own = make_ticket(users.agent1, customers.c1, subject="甲一来电")
    branch_office = make_ticket(users.bm1, customers.c1, subject="分局受理")
    on_c2 = make_ticket(users.agent1, customers.c2)
    on_c3 = make_ticket(users.agent2, customers.c3)
    sensitive = make_ticket(users.bm1, customers.sensitive)
    services.handover_request(
        actor=fresh(users.agent2),
        ticket_id=on_c3.pk,
        version=on_c3.version,
        reason="请协助",
        to_user_id=users.am1.pk,
    )
    return [agent_own, branch_office, on_c2, on_c3, sensitive]


def test_it_answers_the_full_rule_for_every_user_and_customer(users, customers):
    _tickets(users, customers)
    extra = make_customer(users.am2, name="丁四电力客户")
    make_ticket(users.lead2, extra)  # received by another team
    for name in vars(users):
        user = fresh(getattr(users, name))
        for customer in Customer.objects.only("id", "owner_id", "sensitive"):
            expected = set(selectors.ticket_queryset(user=user).filter(customer_id=customer.pk))
            assert set(selectors.customer_tickets(user=user, customer=customer)) == expected, (name, customer.name)


def test_an_account_managers_own_customer_is_read_without_the_scope_conditions(users, customers):
    _tickets(users, customers)
    am1 = fresh(users.am1)
    own = str(selectors.customer_tickets(user=am1, customer=customers.c1).query)
    assert "service_handover" not in own and "customers_customer" not in own
    other = str(selectors.customer_tickets(user=am1, customer=customers.c3).query)
    assert "service_handover" in other  # a hand-over addressed to am1 makes a ticket of c3 visible
    assert not selectors.customer_tickets(user=am1, customer=customers.sensitive).exists()


def test_the_timeline_first_page_costs_one_statement_per_source(users, customers, api):
    _tickets(users, customers)
    for _ in range(3):
        make_activity(users.am1, customers.c1)
    client = api(users.am1)
    path = f"/customers/{customers.c1.pk}/timeline"
    client.get(path)  # warm the session and the user's caches
    with CaptureQueriesContext(connection) as queries:
        page = client.get(path).json()
    assert {entry["source"] for entry in page["items"]} == {"activities", "tickets"}
    data = [q["sql"] for q in queries if any(t in q["sql"] for t in ("activities_activity", "service_ticket"))]
    assert len(data) == 2, data  # one page of activities, one of tickets
    customer = [q["sql"] for q in queries if 'FROM "customers_customer"' in q["sql"]]
    assert len(customer) == 1, customer  # the visibility check


def test_the_ticket_pages_recent_tickets_answer_the_full_rule_for_every_user_and_customer(users, customers):
    tickets = _tickets(users, customers)
    for name in vars(users):
        user = fresh(getattr(users, name))
        for customer in Customer.objects.all():
            full = selectors.ticket_queryset(user=user).filter(customer_id=customer.pk).order_by("-created_at", "-id")
            recent = selectors.tickets_of_customer(user=user, customer=customer, limit=5)
            assert [t.pk for t in recent] == [t.pk for t in full[:5]], (name, customer.name)
    # A user outside the customer's scope gets nothing: am2 neither owns c1 nor holds any of its tickets.
    assert selectors.tickets_of_customer(user=fresh(users.am2), customer=customers.c1) == []
    assert {t.pk for t in selectors.tickets_of_customer(user=fresh(users.am1), customer=customers.c1)} == {
        tickets[0].pk,
        tickets[1].pk,
    }


def test_a_hand_over_receiver_outside_the_customers_scope_sees_no_recent_tickets(users, customers, client):
    """am1 sees c3's ticket through the hand-over, not c3: the page has no customer summary, so none of c3's other
    tickets."""
    on_c3 = _tickets(users, customers)[3]
    other = make_ticket(users.agent2, customers.c3, subject="丙三另一工单")
    client.force_login(users.am1)
    page = client.get(f"/service/{on_c3.pk}/").content.decode()
    assert on_c3.number in page and other.number not in page and "丙三另一工单" not in page


def _hand_over(actor, ticket, **to):
    services.handover_request(actor=fresh(actor), ticket_id=ticket.pk, version=ticket.version, reason="请协助", **to)


def test_hand_overs_to_teams_and_leads_answer_the_full_rule_also_inside_a_subquery(users, customers, org):
    """Team leads, branch managers and agents read a customer's tickets through team, owner, receiver and a pending
    hand-over (the customer's sensitive flag and owner settled in Python): a hand-over to a team or a lead outside
    the ticket's team, and an answered one that no longer counts, give what the full rule gives — also as the IN
    subquery of the 360 view's satisfaction panel."""
    _tickets(users, customers)
    to_team = make_ticket(users.agent2, customers.c3, subject="转乙二班")
    services.handover_request(
        actor=fresh(users.agent2),
        ticket_id=to_team.pk,
        version=to_team.version,
        reason="属地",
        to_team_id=org.B01_T2.pk,
    )
    to_lead = make_ticket(users.agent1, customers.c2, subject="转丙三班长")
    services.handover_request(
        actor=fresh(users.agent1),
        ticket_id=to_lead.pk,
        version=to_lead.version,
        reason="协助",
        to_user_id=users.lead3.pk,
    )
    declined = make_ticket(users.agent2, customers.c3, subject="已拒绝")
    services.handover_request(
        actor=fresh(users.agent2),
        ticket_id=declined.pk,
        version=declined.version,
        reason="协助",
        to_user_id=users.lead1.pk,
    )
    services.handover_decline(actor=fresh(users.lead1), ticket_id=declined.pk, note="不属本班")
    for name in vars(users):
        user = fresh(getattr(users, name))
        for customer in Customer.objects.only("id", "owner_id", "sensitive"):
            expected = set(selectors.ticket_queryset(user=user).filter(customer_id=customer.pk))
            narrowed = selectors.customer_tickets(user=user, customer=customer)
            assert set(narrowed) == expected, (name, customer.name)
            assert set(Ticket.objects.filter(pk__in=narrowed)) == expected, (name, customer.name)
    lead2, lead3 = fresh(users.lead2), fresh(users.lead3)
    assert set(selectors.customer_tickets(user=lead2, customer=customers.c3)) == {to_team}
    assert to_lead in set(selectors.customer_tickets(user=lead3, customer=customers.c2))
    assert declined not in set(selectors.customer_tickets(user=fresh(users.lead1), customer=customers.c3))


def test_a_team_leads_customer_tickets_read_neither_the_customer_nor_each_hand_over_row(users, customers):
    _tickets(users, customers)
    sql = str(selectors.customer_tickets(user=fresh(users.lead1), customer=customers.c1).query)
    assert "customers_customer" not in sql and "EXISTS" not in sql.upper()
    assert "service_handover" in sql  # a pending hand-over to lead1 or their team still shows a ticket
