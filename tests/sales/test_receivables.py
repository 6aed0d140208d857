"""Receivables (C6): payment plans, payments against instalments, overdue ageing, summaries, the 360 panel, scope."""
# ruff: noqa: F811  (the shared fixtures are imported, then named as test arguments)

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.errors import Conflict, StaleVersion
from guanxi.sales import receivables
from guanxi.sales.models import Instalment, Payment
from tests.conftest import errors_by_field, fresh
from tests.sales.test_quotes_fixtures import make_contract, signed_contract

D = Decimal
TODAY = datetime.date(2026, 6, 30)


def plan(user, contract, rows, note=""):
    return receivables.payment_plan_set(
        actor=fresh(user),
        contract_id=contract.pk,
        version=contract.version,
        instalments=[{"due_date": due, "amount": D(amount)} for due, amount in rows],
        note=note,
    )


def pay(user, instalment, amount, paid_on=datetime.date(2026, 6, 1)):
    return receivables.payment_record(actor=fresh(user), instalment_id=instalment.pk, amount=D(amount), paid_on=paid_on)


def test_the_plan_must_add_up_to_the_contract_value_or_say_why(users, customers, api):
    contract = signed_contract(users.am1, customers.c1, D("100000.00"))
    client = api(users.am1)
    body = {
        "version": contract.version,
        "instalments": [{"due_date": "2026-03-31", "amount": "30000"}, {"due_date": "2026-09-30", "amount": "60000"}],
    }
    response = client.client.put(f"/api/v1/contracts/{contract.pk}/payment-plan", body, content_type="application/json")
    assert response.status_code == 422
    assert "90000" in errors_by_field(response)["instalments"][0]
    assert not Instalment.objects.exists()
    body["note"] = "质保金10000元另行结算"
    response = client.client.put(f"/api/v1/contracts/{contract.pk}/payment-plan", body, content_type="application/json")
    assert response.status_code == 200, response.content
    assert [i["amount"] for i in response.json()["instalments"]] == ["30000.00", "60000.00"]
    assert response.json()["plan_note"] == "质保金10000元另行结算"
    # Stale version → 409.
    stale = client.client.put(f"/api/v1/contracts/{contract.pk}/payment-plan", body, content_type="application/json")
    assert stale.status_code == 409


def test_bad_instalments_name_the_field(users, customers):
    contract = signed_contract(users.am1, customers.c1, D("100.00"))
    with pytest.raises(ValidationError) as error:
        plan(users.am1, contract, [("2026-01-01", "100"), ("2026-02-01", "0")])
    assert "instalments.1.amount" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        plan(users.am1, contract, [("2026-02-30", "100")])
    assert "instalments.0.due_date" in error.value.message_dict
    with pytest.raises(ValidationError):
        plan(users.am1, contract, [])


def test_partial_payments_settle_an_instalment_and_overpayment_is_refused(users, customers, api):
    contract = signed_contract(users.am1, customers.c1, D("100.00"))
    plan(users.am1, contract, [("2026-03-31", "40"), ("2026-09-30", "60")])
    first, second = Instalment.objects.order_by("sequence")
    pay(users.am1, first, "15.50")
    pay(users.am1, first, "24.50")
    first.refresh_from_db()
    assert first.paid_amount == D("40.00") and first.outstanding == D("0")
    response = api(users.am1).post("/payments", {"instalment_id": first.pk, "amount": "0.01", "paid_on": "2026-06-01"})
    assert response.status_code == 422 and "amount" in errors_by_field(response)
    response = api(users.am1).post(
        "/payments", {"instalment_id": second.pk, "amount": "60.01", "paid_on": "2026-06-01"}
    )
    assert response.status_code == 422 and "amount" in errors_by_field(response)
    response = api(users.am1).post("/payments", {"instalment_id": second.pk, "amount": "10", "paid_on": "2099-01-01"})
    assert response.status_code == 422 and "paid_on" in errors_by_field(response)
    response = api(users.am1).post("/payments", {"instalment_id": second.pk, "amount": "10", "paid_on": "2026-06-01"})
    assert response.status_code == 201 and response.json()["instalment"] == 2
    assert Payment.objects.count() == 3
    # With payments recorded the plan cannot be replaced.
    contract.refresh_from_db()
    with pytest.raises(Conflict):
        plan(users.am1, contract, [("2026-12-31", "100")])


def test_payments_need_a_signed_contract_and_scope(users, customers, api):
    draft = make_contract(users.am1, customers.c1, D("100.00"))
    plan(users.am1, draft, [("2026-03-31", "100")])
    instalment = Instalment.objects.get()
    with pytest.raises(Conflict):
        pay(users.am1, instalment, "10")
    response = api(users.am2).post(
        "/payments", {"instalment_id": instalment.pk, "amount": "1", "paid_on": "2026-06-01"}
    )
    assert response.status_code == 422 and "instalment_id" in errors_by_field(response)
    assert (
        api(users.analyst1)
        .post("/payments", {"instalment_id": instalment.pk, "amount": "1", "paid_on": "2026-06-01"})
        .status_code
        == 403
    )


def test_overdue_instalments_are_aged_in_buckets(users, customers):
    contract = signed_contract(users.am1, customers.c1, D("1000.00"))
    plan(
        users.am1,
        contract,
        [
            ("2026-06-30", "100"),  # due today: not overdue
            ("2026-06-29", "100"),  # 1 day → 0–30
            ("2026-05-31", "100"),  # 30 days → 0–30
            ("2026-05-30", "100"),  # 31 days → 31–90
            ("2026-04-01", "100"),  # 90 days → 31–90
            ("2026-03-31", "100"),  # 91 days → over 90
            ("2026-01-01", "400"),  # 180 days → over 90, partly paid
        ],
    )
    pay(users.am1, Instalment.objects.get(sequence=7), "150")
    rows = receivables.overdue_instalments(user=fresh(users.am1), today=TODAY)
    assert [(r.sequence, r.days_overdue, r.bucket) for r in rows] == [
        (7, 180, "over_90"),
        (6, 91, "over_90"),
        (5, 90, "31_90"),
        (4, 31, "31_90"),
        (3, 30, "0_30"),
        (2, 1, "0_30"),
    ]
    summary = receivables.ageing_summary(user=fresh(users.am1), today=TODAY)
    assert summary == [
        {
            "id": customers.c1.pk,
            "name": customers.c1.name,
            "total": D("750.00"),
            "count": 6,
            "0_30": D("200.00"),
            "31_90": D("200.00"),
            "over_90": D("350.00"),
        }
    ]
    by_owner = receivables.ageing_summary(user=fresh(users.lead1), group_by="owner", today=TODAY)
    assert by_owner[0]["name"] == "am1" and by_owner[0]["total"] == D("750.00")
    by_team = receivables.ageing_summary(user=fresh(users.bm1), group_by="team", today=TODAY)
    assert by_team[0]["id"] == customers.c1.org_unit_id
    assert receivables.ageing_summary(user=fresh(users.am2), today=TODAY) == []
    with pytest.raises(ValidationError):
        receivables.ageing_summary(user=fresh(users.am1), group_by="region")


def test_receivables_panel_and_overdue_endpoint_are_scoped(users, customers, api, django_assert_max_num_queries):
    contract = signed_contract(users.am1, customers.c1, D("300.00"))
    plan(users.am1, contract, [("2020-01-01", "100"), ("2020-02-01", "100"), ("2099-01-01", "100")])
    pay(users.am1, Instalment.objects.get(sequence=1), "40")
    client = api(users.am1)
    with django_assert_max_num_queries(8):
        response = client.get("/receivables/overdue")
    data = response.json()
    assert [row["sequence"] for row in data["items"]] == [1, 2]
    assert data["totals"]["over_90"] == "160.00" and data["totals"]["total"] == "160.00"
    panel = client.get(f"/customers/{customers.c1.pk}/overview", {"panels": "all"}).json()["panels"]["receivables"]
    assert panel["contract_value"] == "300.00" and panel["received"] == "40.00"
    assert panel["outstanding"] == "260.00" and panel["overdue"] == "160.00"
    for name in ("am2", "lead2", "am3", "bm2"):
        other = api(getattr(users, name))
        assert other.get("/receivables/overdue").json()["items"] == [], name
        assert other.get("/payments").json()["items"] == [], name
        assert other.get("/receivables/ageing").json()["rows"] == [], name
    for name in ("lead1", "bm1", "exec1"):
        assert len(api(getattr(users, name)).get("/receivables/overdue").json()["items"]) == 2, name
    assert len(api(users.bm1).get("/payments").json()["items"]) == 1


def test_stale_plan_version_raises(users, customers):
    contract = signed_contract(users.am1, customers.c1, D("100.00"))
    plan(users.am1, contract, [("2026-01-01", "100")])
    with pytest.raises(StaleVersion):
        plan(users.am1, contract, [("2026-01-01", "100")])


def test_the_overdue_export_is_scoped_and_safe(users, customers, api):
    from django.test import Client

    from tests.conftest import make_customer

    customer = make_customer(users.am1, name="=HYPERLINK(1)")
    contract = signed_contract(users.am1, customer, D("100.00"))
    plan(users.am1, contract, [("2020-01-01", "100")])
    own = Client()
    own.force_login(users.am1)
    text = own.get("/sales/receivables/export/").content.decode("utf-8-sig")
    assert contract.number in text and "'=HYPERLINK(1)" in text
    other = Client()
    other.force_login(users.am2)
    assert contract.number not in other.get("/sales/receivables/export/").content.decode("utf-8-sig")


def test_search_finds_quotes_and_contracts_by_number_and_title_in_scope(users, customers, api):
    contract = signed_contract(users.am1, customers.c1, D("100.00"), title="年度运维托管合同")
    for q in (contract.number, "运维托管"):
        hits = api(users.am1).get("/search", {"q": q}).json()["results"]["contracts"]
        assert [h["id"] for h in hits] == [contract.pk], q
        assert api(users.am2).get("/search", {"q": q}).json()["results"]["contracts"] == [], q
