"""The receivables panel of the 360 view answers a customer without contracts with one statement (bench/load.py:
the panel ran four statements on every 360 view, most of them for customers with nothing to show)."""

from decimal import Decimal

from guanxi.sales import receivables
from guanxi.sales.models import Instalment
from tests.conftest import fresh
from tests.sales.test_quotes_fixtures import make_contract, signed_contract
from tests.sales.test_receivables import TODAY, plan

ZERO_PANEL = {
    "contracts": 0,
    "contract_value": "0.00",
    "planned": "0.00",
    "received": "0.00",
    "outstanding": "0.00",
    "overdue": "0.00",
}


def test_it_answers_a_customer_without_contracts_in_one_statement(users, customers, django_assert_num_queries):
    make_contract(users.am1, customers.c1, Decimal("500.00"))  # a draft: not counted
    user = fresh(users.am1)
    receivables.customer_receivables(user=user, customer_id=customers.c1.pk, today=TODAY)  # permissions, scope cached
    with django_assert_num_queries(1):
        panel = receivables.customer_receivables(user=user, customer_id=customers.c1.pk, today=TODAY)
    assert {key: panel[key] for key in ZERO_PANEL} == ZERO_PANEL
    assert panel["overdue_instalments"] == [] and all(b["amount"] == "0.00" for b in panel["buckets"])


def test_it_still_sums_and_ages_the_instalments_of_a_customer_with_contracts(users, customers):
    contract = signed_contract(users.am1, customers.c1, Decimal("300.00"))
    plan(users.am1, contract, [("2020-01-01", "100"), ("2026-06-01", "100"), ("2099-01-01", "100")])
    receivables.payment_record(
        actor=fresh(users.am1),
        instalment_id=Instalment.objects.get(sequence=1).pk,
        amount=Decimal("40"),
        paid_on=TODAY,
    )
    panel = receivables.customer_receivables(user=fresh(users.am1), customer_id=customers.c1.pk, today=TODAY)
    assert panel["contracts"] == 1 and panel["contract_value"] == "300.00"
    assert (panel["planned"], panel["received"], panel["outstanding"]) == ("300.00", "40.00", "260.00")
    assert panel["overdue"] == "160.00"
    assert {b["key"]: b["amount"] for b in panel["buckets"]} == {"0_30": "100.00", "31_90": "0.00", "over_90": "60.00"}
    # Out of scope: another account manager sees nothing, with or without the shortcut.
    assert (
        receivables.customer_receivables(user=fresh(users.am2), customer_id=customers.c1.pk, today=TODAY)["overdue"]
        == "0.00"
    )
