"""What the global search's kinds share across calls and parts: the values() querysets built once per process must not
carry one user's scope into another's search, the parts of a scope are searched as each alone (a rare term's index
lookup once for all of them on PostgreSQL), and hit URLs are the ones reverse() gives."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core import search, textsearch
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_queryset
from tests.conftest import fresh, make_contact, make_customer

FREQUENT = {"钢铁": 0.2, "铁有": 0.2, "有限": 0.6, "限公": 0.6, "公司": 0.6}


@pytest.fixture
def names(users):
    return {
        "am1": make_customer(users.am1, name="鑫磊钢铁有限公司"),
        "am3": make_customer(users.am3, name="鑫磊钢铁集团"),
        "common": make_customer(users.am1, name="齐齐哈尔钢铁有限公司"),
    }


def test_one_users_search_does_not_leak_into_the_next_ones(users, names):
    make_contact(users.am1, names["am1"], name="鑫磊王", mobile="13812345678")
    make_contact(users.am3, names["am3"], name="鑫磊李", mobile="13912345678")
    for _round in range(2):  # the shared querysets are built by the first search, reused by the second
        mine = search.search_all(user=fresh(users.am1), q="鑫磊")
        theirs = search.search_all(user=fresh(users.am3), q="鑫磊")
        assert [hit.id for hit in mine["customers"]] == [names["am1"].pk]
        assert [hit.id for hit in theirs["customers"]] == [names["am3"].pk]
        assert [hit.title for hit in mine["contacts"]] == ["鑫磊王"]
        assert [hit.title for hit in theirs["contacts"]] == ["鑫磊李"]
        # masked for account managers, whoever searched before
        assert mine["contacts"][0].subtitle.endswith("138****5678")
        assert theirs["contacts"][0].subtitle.endswith("139****5678")
    admin = search.search_all(user=fresh(users.admin), q="鑫磊")
    assert {hit.id for hit in admin["customers"]} == {names["am1"].pk, names["am3"].pk}
    assert {hit.subtitle.rsplit(" · ", 1)[-1] for hit in admin["contacts"]} == {"13812345678", "13912345678"}


def _parts(user):
    visible = customer_queryset(user=fresh(user)).order_by().values("id", "name")
    return [visible.filter(name__startswith="鑫"), visible.filter(name__startswith="齐")]


@pytest.mark.parametrize("term", ["鑫磊", "钢铁", "有限", "没有"])
def test_the_parts_of_a_scope_are_searched_as_each_alone(users, names, term, monkeypatch):
    if connection.vendor == "postgresql":
        monkeypatch.setattr(textsearch, "frequent_bigrams", lambda *args: FREQUENT)
    for user in (users.am1, users.admin):
        parts = _parts(user)
        expected = [row for part in parts for row in textsearch.substring_matches(part, "name", [term], 10)]
        found = textsearch.substring_matches_in_parts(parts, "name", [term], 10)
        assert sorted(row["id"] for row in found) == sorted(row["id"] for row in expected)
        assert {row["id"] for row in found} <= set(
            Customer.objects.filter(name__contains=term).values_list("pk", flat=True)
        )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's rare-term index lookup")
def test_a_rare_term_is_looked_up_in_the_index_once_for_all_parts(users, names, monkeypatch):
    monkeypatch.setattr(textsearch, "frequent_bigrams", lambda *args: FREQUENT)
    parts = _parts(users.am1)
    with CaptureQueriesContext(connection) as queries:
        found = textsearch.substring_matches_in_parts(parts, "name", ["鑫磊"], 10)
    assert [row["id"] for row in found] == [names["am1"].pk]  # am3's matches the index lookup, not the scope
    assert len(queries) == 1 + len(parts)
    with CaptureQueriesContext(connection) as queries:
        assert textsearch.substring_matches_in_parts(parts, "name", ["鑫鑫"], 10) == []
    assert len(queries) == 1  # found nowhere: no part is asked


def test_hit_urls_are_the_reversed_detail_urls(users, names):
    url = search.detail_urls("customers:detail")
    assert url(names["am1"].pk) == reverse("customers:detail", args=[names["am1"].pk])
    hits = search.search_all(user=fresh(users.admin), q="鑫磊")["customers"]
    assert {hit.url for hit in hits} == {
        reverse("customers:detail", args=[pk]) for pk in (names["am1"].pk, names["am3"].pk)
    }
