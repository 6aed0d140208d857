"""The kanban board: stage totals over every visible deal, capped cards with "more", team filter, scope, the htmx
drag (move with the version; stale → 409 with the current board) and a constant number of queries."""

from decimal import Decimal

import pytest

from guanxi.sales.models import Opportunity
from tests.sales.pipeline_factories import count_queries, make_deal, pipeline, stage

pytestmark = pytest.mark.django_db


def column(board: dict, code: str) -> dict:
    return next(c for c in board["columns"] if c["stage"]["code"] == code)


@pytest.fixture
def board_deals(users, customers):
    deals = [make_deal(users.am1, customers.c1, amount=Decimal(10000 + i)) for i in range(25)]
    deals.append(make_deal(users.am2, customers.c2, amount=Decimal("40000")))
    deals.append(make_deal(users.am3, customers.c3, amount=Decimal("70000")))
    return deals


def test_totals_cover_every_deal_and_cards_are_capped(api, users, board_deals):
    board = api(users.lead1).get("/kanban").json()
    enquiry = column(board, "enquiry")
    assert enquiry["count"] == 25
    assert enquiry["amount"] == str(sum(Decimal(10000 + i) for i in range(25))) + ".00"
    assert enquiry["weighted"] == "25030.00"  # 10 % of 250 300
    assert len(enquiry["cards"]) == 20 and enquiry["more"] == 5
    assert [c["stage"]["code"] for c in board["columns"]] == [
        "enquiry",
        "survey",
        "proposal",
        "negotiation",
        "contract",
    ]
    rest = api(users.lead1).get("/kanban", {"stage": stage("enquiry").pk, "offset": 20}).json()
    assert len(rest["columns"]) == 1 and len(rest["columns"][0]["cards"]) == 5 and rest["columns"][0]["more"] == 0
    shown = {c["id"] for c in enquiry["cards"]} | {c["id"] for c in rest["columns"][0]["cards"]}
    assert len(shown) == 25


def test_a_card_shows_the_deal_with_its_customer_and_owner_by_name(api, users, customers):
    users.am1.first_name, users.am1.last_name = "晓明", "王"
    users.am1.save(update_fields=["first_name", "last_name"])
    deal = make_deal(users.am1, customers.c1, name="卡片商机", amount=Decimal("12345.60"))
    deal.refresh_from_db()
    board = api(users.lead1).get("/kanban").json()
    (card,) = [c for c in column(board, "enquiry")["cards"] if c["id"] == deal.pk]
    assert card == {
        "id": deal.pk,
        "name": "卡片商机",
        "customer_id": customers.c1.pk,
        "customer": customers.c1.name,
        "amount": "12345.60",
        "weighted_amount": str(deal.weighted_amount),
        "expected_close": deal.expected_close.isoformat(),
        "owner": "晓明 王",
        "version": deal.version,
    }
    page = api(users.lead1).client.get("/sales/kanban/").content.decode()
    assert f'data-deal="{deal.pk}" data-version="{deal.version}"' in page
    assert "卡片商机" in page and customers.c1.name in page and "晓明 王" in page


def test_the_board_is_scoped_and_filters_by_team(api, users, board_deals):
    assert column(api(users.am2).get("/kanban").json(), "enquiry")["count"] == 1
    assert column(api(users.bm1).get("/kanban").json(), "enquiry")["count"] == 26
    team2 = users.am2.profile.org_unit_id
    assert column(api(users.bm1).get("/kanban", {"team": team2}).json(), "enquiry")["count"] == 1
    assert column(api(users.bm2).get("/kanban").json(), "enquiry")["count"] == 1
    assert column(api(users.exec1).get("/kanban").json(), "enquiry")["count"] == 27
    # A team outside the scope adds nothing.
    assert column(api(users.lead1).get("/kanban", {"team": team2}).json(), "enquiry")["count"] == 0


def test_another_pipeline_has_its_own_board(api, users, board_deals):
    board = api(users.bm1).get("/kanban", {"pipeline": pipeline("value-added").pk}).json()
    assert board["pipeline"]["code"] == "value-added" and sum(c["count"] for c in board["columns"]) == 0
    assert api(users.bm1).get("/kanban", {"pipeline": 999999}).status_code == 404


def test_the_board_runs_a_constant_number_of_queries(api, users, customers):
    client = api(users.lead1)
    make_deal(users.am1, customers.c1)
    few = count_queries(lambda: client.get("/kanban"))
    for i in range(40):
        make_deal(users.am1, customers.c1, amount=Decimal(i))
    many = count_queries(lambda: client.get("/kanban"))
    assert few == many
    page = api(users.lead1).client
    few_page = count_queries(lambda: page.get("/sales/kanban/"))
    for i in range(10):
        make_deal(users.am1, customers.c1, amount=Decimal(i))
    assert count_queries(lambda: page.get("/sales/kanban/")) == few_page


def test_the_htmx_drag_moves_the_deal_and_refreshes_the_board(api, users, customers):
    deal = make_deal(users.am1, customers.c1, name="拖动商机")
    client = api(users.am1).client
    page = client.get("/sales/kanban/")
    assert page.status_code == 200 and "拖动商机" in page.content.decode()
    response = client.post(
        f"/sales/kanban/{deal.pk}/move/",
        {"stage_id": stage("proposal").pk, "version": 1, "pipeline": pipeline().pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == stage("proposal") and deal.version == 2
    # The same card dragged again from a board drawn before the move: 409 and the board as it is now.
    stale = client.post(
        f"/sales/kanban/{deal.pk}/move/",
        {"stage_id": stage("contract").pk, "version": 1, "pipeline": pipeline().pk},
        HTTP_HX_REQUEST="true",
    )
    assert stale.status_code == 409
    assert "data-kanban-error" in stale.content.decode()
    deal.refresh_from_db()
    assert deal.stage == stage("proposal")


def test_others_cannot_move_a_deal_they_do_not_see(api, users, customers):
    deal = make_deal(users.am1, customers.c1)
    response = api(users.am2).client.post(
        f"/sales/kanban/{deal.pk}/move/", {"stage_id": stage("proposal").pk, "version": 1}
    )
    assert response.status_code == 404
    assert Opportunity.objects.get(pk=deal.pk).stage == stage("enquiry")
