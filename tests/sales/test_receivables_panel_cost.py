"""The receivables panel of the 360 view answers a customer without contracts with one statement (bench/load.py:
the panel ran four statements on every 360 view, most of them for customers with nothing to show)."""

from decimal import Decimal

from guanxi.sales import receivables
from guanxi.sales.models import Instalment
from tests.conftest import fresh
from tests.sales.test_quotes_fixtures import make_contract, signed_contract
from tests.sales.test_receivables import TODAY, D, plan

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
    receivables.customer_receivables(user=user, customer=customers.c1, today=TODAY)  # permissions, scope cached
    with django_assert_num_queries(1):
        panel = receivables.customer_receivables(user=user, customer=customers.c1, today=TODAY)
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
    panel = receivables.customer_receivables(user=fresh(users.am1), customer=customers.c1, today=TODAY)
    assert panel["contracts"] == 1 and panel["contract_value"] == "300.00"
    assert (panel["planned"], panel["received"], panel["outstanding"]) == ("300.00", "40.00", "260.00")
    assert panel["overdue"] == "160.00"
    assert {b["key"]: b["amount"] for b in panel["buckets"]} == {"0_30": "100.00", "31_90": "0.00", "over_90": "60.00"}
    # Out of scope: handed c1, another account manager sees nothing (the panel checks the customer's scope itself).
    other = receivables.customer_receivables(user=fresh(users.am2), customer=customers.c1, today=TODAY)
    assert {key: other[key] for key in ZERO_PANEL} == ZERO_PANEL and other["overdue_instalments"] == []


def _old_panel(user, customer, today) -> dict:
    """The panel's figures as they were computed before its values() rows: through the scoped selectors
    (contract_queryset, instalment_queryset, overdue_instalments) with instances."""
    from django.db.models import Count, Sum

    from guanxi.sales.contracts import contract_queryset

    contracts = contract_queryset(user=user).filter(customer_id=customer.pk).exclude(status__in=receivables.UNCOUNTED)
    totals = contracts.aggregate(n=Count("id"), v=Sum("value"))
    planned = receivables.instalment_queryset(user=user).filter(contract__in=contracts)
    planned = planned.aggregate(a=Sum("amount"), p=Sum("paid_amount"))
    overdue = receivables.overdue_instalments(user=user, today=today, customer_id=customer.pk)
    buckets = receivables.overdue_totals(overdue)
    zero = Decimal("0.00")
    return {
        "contracts": totals["n"],
        "contract_value": f"{totals['v'] or zero:.2f}",
        "planned": f"{planned['a'] or zero:.2f}",
        "received": f"{planned['p'] or zero:.2f}",
        "outstanding": f"{(planned['a'] or zero) - (planned['p'] or zero):.2f}",
        "overdue": f"{sum(buckets.values(), zero):.2f}",
        "buckets": [{"key": key, "amount": f"{buckets[key]:.2f}"} for key, *_rest in receivables.BUCKETS],
        "overdue_instalments": [
            {
                "contract": row.contract.number,
                "contract_id": row.contract_id,
                "sequence": row.sequence,
                "due_date": row.due_date.isoformat(),
                "outstanding": str(row.outstanding),
                "days_overdue": row.days_overdue,
            }
            for row in overdue[:10]
        ],
    }


def test_the_panel_shows_what_the_scoped_selectors_show_for_every_role(users, customers):
    """The panel reads the customer's contracts and instalments without the scope join once the customer passes the
    scope rule (customer_in_scope); per role and customer — visible or not, the sensitive one included — its figures
    and overdue rows equal those of the scoped selectors."""
    c1 = signed_contract(users.am1, customers.c1, D("300.00"))
    plan(users.am1, c1, [("2020-01-01", "100"), ("2026-06-01", "100"), ("2099-01-01", "100")])
    receivables.payment_record(
        actor=fresh(users.am1), instalment_id=Instalment.objects.get(contract=c1, sequence=1).pk,
        amount=D("40"), paid_on=TODAY,
    )  # fmt: skip
    make_contract(users.am1, customers.c1, D("999.00"))  # a draft: left out
    c2 = signed_contract(users.am2, customers.c2, D("200.00"))
    plan(users.am2, c2, [("2026-05-01", "150"), ("2026-12-01", "50")])
    sensitive = signed_contract(users.bm1, customers.sensitive, D("80.00"))
    plan(users.bm1, sensitive, [("2025-01-01", "80")])
    checked = 0
    for name, user in sorted(vars(users).items()):
        for customer in vars(customers).values():
            user = fresh(user)
            panel = receivables.customer_receivables(user=user, customer=customer, today=TODAY)
            for bucket in panel["buckets"]:
                bucket.pop("label")
            assert panel == _old_panel(fresh(user), customer, TODAY), (name, customer.name)
            checked += panel["contracts"] > 0
    assert checked >= 10  # most roles see some customer's figures
