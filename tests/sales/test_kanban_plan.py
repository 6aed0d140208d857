"""The kanban board's sensitive-customer rule: deals on sensitive customers are left out of totals and cards for users
without the permission. Each column's candidate cards by `NOT EXISTS (the deal's customer, sensitive)` — never a join
of every deal of the board to its customer (which PostgreSQL planned as a hash join over all customers), only the
cards shown get their customer's and owner's names; the totals are the stored ones (sales.board_totals), whose key
keeps the sensitive part apart."""

import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.sales.board import board_pipeline_get, kanban_board
from tests.conftest import fresh
from tests.sales.pipeline_factories import make_deal, pipeline

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(users, customers):
    plain = [make_deal(users.am1, customers.c1, amount=Decimal("1000")) for _ in range(3)]
    hidden = make_deal(
        users.bm1, customers.sensitive, name="敏感客户的商机", amount=Decimal("5000"), owner_id=users.am1.pk
    )
    return plain, hidden


def _enquiry(user) -> dict:
    columns = kanban_board(user=fresh(user), pipeline=pipeline())
    return next(c for c in columns if c["stage"].code == "enquiry")


@pytest.mark.parametrize(("who", "sees"), [("am1", False), ("lead1", False), ("bm1", True), ("exec1", True)])
def test_deals_on_sensitive_customers_count_only_for_users_allowed_to_see_them(users, board, who, sees):
    plain, hidden = board
    column = _enquiry(getattr(users, who))

    assert column["count"] == 3 + sees
    assert column["amount"] == Decimal("3000") + (Decimal("5000") if sees else 0)
    assert (hidden.pk in {card["id"] for card in column["cards"]}) == sees
    assert {d.pk for d in plain} <= {card["id"] for card in column["cards"]}


def _board_sql(user, table: str = "sales_opportunity") -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        kanban_board(user=fresh(user), pipeline=board_pipeline_get(pipeline_id=pipeline().pk))
    return [q["sql"] for q in queries.captured_queries if table in q["sql"]]


def _candidates(cards: str) -> str:
    """The cards statement's subquery that picks each column's newest visible deals (LATERAL or window)."""
    return re.search(r"\(\s*(SELECT o\.id.*?)\)\s+top\b", cards, re.DOTALL).group(1)


def test_the_board_reads_deals_without_joining_their_customers(users, board):
    (cards,) = _board_sql(users.lead1)
    candidates = _candidates(cards)

    assert "JOIN" not in candidates.upper()
    assert "customers_customer" in candidates and "NOT EXISTS" in candidates.upper()  # the sensitive rule
    assert "JOIN auth_user" in cards.replace(candidates, "")  # only the 20-odd cards shown get their owner's name


def test_the_totals_are_the_stored_ones_with_the_sensitive_part_left_out_by_a_column(users, board):
    """No aggregate over the deals: the team's rows of sales_boardtotal, the sensitive part a column of the key."""
    (totals,) = _board_sql(users.lead1, "sales_boardtotal")
    assert "JOIN" not in totals.upper() and "customers_customer" not in totals
    assert "NOT sales_boardtotal.sensitive" in totals


@pytest.mark.postgresql
def test_postgresql_answers_the_totals_from_the_stored_totals_key(users, board):
    (totals,) = _board_sql(users.lead1, "sales_boardtotal")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables would be scanned whatever the indexes
        cursor.execute("EXPLAIN " + totals)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert re.search(r"Index (Only )?Scan using sales_boardtotal_key on sales_boardtotal", plan), plan
    assert "Join" not in plan and "sales_opportunity" not in plan


@pytest.mark.postgresql
def test_postgresql_reads_each_columns_newest_cards_of_a_team_in_order_from_the_board_index(users, board):
    """One statement for every column's top cards, each an ordered walk of the team's part of the board index that
    stops after the column's cards — no sort of the team's deals (sorting disabled: the plan must not need one)."""
    (top,) = _board_sql(users.lead1)
    # the cards, their column's LATERAL, the customer's name, the sensitive rule
    assert top.upper().count("SELECT") == 4 and "UNION" not in top.upper()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("EXPLAIN " + top)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert re.search(r"Index (Only )?Scan Backward using sales_opp_unit_board_idx on sales_opportunity", plan), plan
    assert "Sort" not in plan, plan


def test_a_board_whose_filters_can_match_nothing_is_empty_not_an_error(users, api):
    """An id beyond bigint makes Django empty the card query: ARRAY(…) is then NULL (found by the API fuzzing)."""
    for params in ({"team": 2**40}, {"owner": 2**40}, {"stage": 2**40}):
        response = api(users.admin).get("/kanban", params)
        assert response.status_code in (200, 404, 422), (params, response.content[:300])
        if response.status_code == 200:
            assert all(column["cards"] == [] for column in response.json()["columns"])
