"""PostgreSQL: a term with a bigram the index statistics do not list (a rare term) is looked up in the bigram index
alone first, then the scoped query reads those ids (core.textsearch._rare_candidates) — same hits as before, within
scope, and the ordinary query again when the term is not rare enough."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core import textsearch
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_queryset
from tests.conftest import fresh, make_customer

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's planner and statistics")

# Statistics as ANALYZE would give a large table in which 钢铁, 铁有, 有限 and 限公 are common and 鑫磊 is not.
FREQUENT = {"钢铁": 0.2, "铁有": 0.2, "有限": 0.6, "限公": 0.6, "公司": 0.6}


@pytest.fixture
def names(users, monkeypatch):
    monkeypatch.setattr(textsearch, "frequent_bigrams", lambda *args: FREQUENT)
    mine = make_customer(users.am1, name="鑫磊钢铁有限公司")
    theirs = make_customer(users.am3, name="鑫磊钢铁集团")
    common = make_customer(users.am1, name="齐齐哈尔钢铁有限公司")
    return mine, theirs, common


def _search(user, term):
    visible = customer_queryset(user=fresh(user))  # the user and their scope read before counting
    with CaptureQueriesContext(connection) as queries:
        rows = textsearch.substring_matches(visible, "name", [term], 10)
    return {row.pk for row in rows}, [q["sql"] for q in queries.captured_queries]


def test_a_rare_term_is_read_from_the_index_first_then_scoped(users, names):
    mine, theirs, _common = names
    found, sql = _search(users.am1, "鑫磊")
    assert found == {mine.pk}  # am3's customer matches the index lookup, not the scope
    assert len(sql) == 2 and '"owner_id"' not in sql[0] and '"owner_id"' in sql[1]
    assert _search(users.admin, "鑫磊")[0] == {mine.pk, theirs.pk}


def test_an_absent_term_needs_one_index_lookup(users, names):
    found, sql = _search(users.am1, "鑫鑫")
    assert found == set() and len(sql) == 1


def test_a_frequent_term_keeps_the_ordinary_query(users, names):
    mine, _theirs, common = names
    found, sql = _search(users.am1, "钢铁")
    assert found == {mine.pk, common.pk} and len(sql) == 1


def test_too_many_candidates_fall_back_to_the_ordinary_query(users, names, monkeypatch):
    mine, _theirs, _common = names
    monkeypatch.setattr(textsearch, "PG_RARE_CANDIDATES", 2)
    found, sql = _search(users.am1, "鑫磊")
    assert found == {mine.pk} and len(sql) == 2 and '"id" IN' not in sql[1]
    assert Customer.objects.filter(name__contains="鑫磊").count() == 2
