"""The weighted forecast (销售预测) against hand-computed figures, grouped by month, owner and team; scoped."""

from datetime import date
from decimal import Decimal

import pytest

from guanxi.sales import deals_services
from tests.conftest import fresh
from tests.sales.pipeline_factories import make_deal, stage

pytestmark = pytest.mark.django_db


def move(user, deal, code):
    return deals_services.opportunity_move(
        actor=fresh(user), opportunity_id=deal.pk, version=deal.version, stage_id=stage(code).pk
    )


@pytest.fixture
def book(users, customers):
    """am1: 100 000 @10 % (Mar), 200 000 @50 % (Mar), 50 000 @75 % (Apr), one won; am2: 80 000 @25 % (Apr);
    am3 (other branch): 1 000 000 @10 % (Mar)."""
    make_deal(users.am1, customers.c1, amount=Decimal("100000"), expected_close=date(2027, 3, 15))
    move(
        users.am1,
        make_deal(users.am1, customers.c1, amount=Decimal("200000"), expected_close=date(2027, 3, 20)),
        "proposal",
    )
    move(
        users.am1,
        make_deal(users.am1, customers.c1, amount=Decimal("50000"), expected_close=date(2027, 4, 2)),
        "negotiation",
    )
    won = make_deal(users.am1, customers.c1, amount=Decimal("999999"), expected_close=date(2027, 3, 1))
    deals_services.opportunity_won(actor=fresh(users.am1), opportunity_id=won.pk, version=1)
    move(
        users.am2,
        make_deal(users.am2, customers.c2, amount=Decimal("80000"), expected_close=date(2027, 4, 10)),
        "survey",
    )
    make_deal(users.am3, customers.c3, amount=Decimal("1000000"), expected_close=date(2027, 3, 1))


def rows(response) -> list[tuple]:
    return [(r["label"], r["count"], r["amount"], r["weighted"]) for r in response.json()["rows"]]


def test_by_month_for_the_branch_manager(api, users, book):
    response = api(users.bm1).get("/forecast", {"by": "month"})
    assert response.status_code == 200
    assert rows(response) == [
        ("2027-03", 2, "300000.00", "110000.00"),
        ("2027-04", 2, "130000.00", "57500.00"),
    ]
    assert response.json()["total"]["weighted"] == "167500.00"


def test_by_owner_and_by_team(api, users, book):
    by_owner = api(users.bm1).get("/forecast", {"by": "owner"})
    assert rows(by_owner) == [("AM1", 3, "350000.00", "147500.00"), ("AM2", 1, "80000.00", "20000.00")]
    by_team = api(users.bm1).get("/forecast", {"by": "team"})
    assert rows(by_team) == [("B01-T1", 3, "350000.00", "147500.00"), ("B01-T2", 1, "80000.00", "20000.00")]


def test_each_user_sees_only_their_scope(api, users, book):
    assert rows(api(users.am2).get("/forecast")) == [("2027-04", 1, "80000.00", "20000.00")]
    assert api(users.lead1).get("/forecast").json()["total"]["weighted"] == "147500.00"
    assert api(users.bm2).get("/forecast").json()["total"]["weighted"] == "100000.00"
    assert api(users.exec1).get("/forecast").json()["total"]["weighted"] == "267500.00"


def test_filters_and_bad_input(api, users, book):
    client = api(users.bm1)
    response = client.get("/forecast", {"close_from": "2027-04-01", "team": users.am1.profile.org_unit_id})
    assert rows(response) == [("2027-04", 1, "50000.00", "37500.00")]
    assert client.get("/forecast", {"by": "weekday"}).status_code == 422
    assert client.get("/forecast", {"close_from": "not a date"}).status_code == 422


def test_the_forecast_page_shows_the_same_figures(api, users, book):
    client = api(users.bm1).client
    page = client.get("/sales/forecast/", {"by": "month"})
    assert page.status_code == 200
    html = page.content.decode().replace(",", "")
    assert "2027-03" in html and "110000.00" in html and "167500.00" in html
    assert "AM1" in client.get("/sales/forecast/", {"by": "owner"}).content.decode()
