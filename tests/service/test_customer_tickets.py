"""selectors.customer_tickets (the timeline's ticket source) answers what ticket_queryset narrowed to the customer
answers, for every user and customer, with fewer conditions when the rules already settle them; the timeline's first
page costs one statement per source."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.customers.models import Customer
from guanxi.service import selectors, services
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
