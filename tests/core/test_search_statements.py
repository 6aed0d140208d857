"""The global search's ticket and activity kinds run statements compiled once per scope (core.search_statements):
the same hits as core.textsearch's own path, for every scope and kind of term, on the first search of a scope and on
the later ones; a later search builds no queryset and runs as many statements; never another scope's rows."""

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from guanxi.activities import search as activity_search
from guanxi.activities.models import Activity
from guanxi.activities.selectors import activity_scope_parts
from guanxi.core import search, search_statements, textsearch
from guanxi.core.scope import record_scope
from guanxi.customers.models import Customer
from guanxi.service import search as ticket_search
from guanxi.service.models import Ticket
from guanxi.service.selectors import ticket_scope_parts
from tests.activities.factories import make_activity
from tests.conftest import fresh
from tests.service.factories import make_ticket

# Statistics as ANALYZE would give: 电表 and 计量 common, 鑫磊 (not listed) rare.
FREQUENT = {"电表": 0.3, "表计": 0.2, "计量": 0.2, "量异": 0.2, "异常": 0.2, "停电": 0.1}
TERMS = [["计量"], ["鑫磊"], ["电表", "异常"], ["电表", "鑫"], ["没有"], ["x"]]
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's compiled statements")


@pytest.fixture
def records(users, customers, monkeypatch):
    monkeypatch.setattr(textsearch, "frequent_bigrams", lambda *args: FREQUENT)
    for customer in (customers.c1, customers.c2, customers.c3, customers.sensitive):
        for subject in ("客户反映电表计量异常", "鑫磊电表故障", "居民停电投诉"):
            make_ticket(users.admin, customer, subject=f"{customer.name}{subject}")
            make_activity(users.admin, customer, subject=subject)
    make_activity(users.am1, subject="鑫磊计量回访")  # a task of am1's own, without customer


def _ticket_parts(user):
    return [ticket_search._hit_rows(part) for part in ticket_scope_parts(user=user)]


def _activity_parts(user):
    fields = activity_search.HIT_FIELDS
    return [
        part.order_by().values(*fields, customer_name=F("customer__name")) for part in activity_scope_parts(user=user)
    ]


def _by_id(rows: list[dict]) -> list[dict]:
    return sorted(rows, key=lambda row: row["id"])


KINDS = [("tickets", Ticket, _ticket_parts), ("activities", Activity, _activity_parts)]


def _stored(kind, model, parts, user, terms):
    return search_statements.scoped_matches_in_parts(
        key=(f"test.{kind}", record_scope(user)),
        parts=lambda: parts(user),
        model=model,
        column="subject",
        terms=terms,
        limit=10,
    )


@pytest.mark.parametrize(("kind", "model", "parts"), KINDS)
def test_it_finds_what_textsearch_finds_for_every_scope_and_term(users, records, kind, model, parts):
    for name in ("am1", "am2", "am3", "lead1", "bm1", "agent1", "admin"):
        user = fresh(getattr(users, name))
        for _round in range(2):  # compiled by the first search of the scope, stored for the second
            for terms in TERMS:
                expected = textsearch.substring_matches_in_parts(parts(user), "subject", terms, 10)
                found = _stored(kind, model, parts, user, terms)
                assert _by_id(found) == _by_id(expected), (name, terms)  # the same rows, column for column


@postgresql_only
@pytest.mark.parametrize(("kind", "model", "parts"), KINDS)
def test_a_stored_scope_builds_no_queryset_and_runs_as_many_statements(users, records, kind, model, parts):
    user, built = fresh(users.am1), []
    record_scope(user)  # the user's roles and permissions read before counting

    def counted(user):
        built.append(user)
        return parts(user)

    for terms in (["计量"], ["鑫磊"]):  # the ordinary query of every part; the rare term's index lookup, then by id
        with CaptureQueriesContext(connection) as first:
            hits = _stored(kind, model, counted, user, terms)
        with CaptureQueriesContext(connection) as second:
            assert _stored(kind, model, counted, user, terms) == hits
        expected = textsearch.substring_matches_in_parts(parts(user), "subject", terms, 10)
        assert sorted(row["id"] for row in hits) == sorted(row["id"] for row in expected) and hits
        assert len(second) == len(first) == len(parts(user)) + (terms == ["鑫磊"])
        assert [q["sql"] for q in second.captured_queries] == [q["sql"] for q in first.captured_queries]
    assert len(built) == 2  # once per shape (ordinary, rare), not per search


@postgresql_only
def test_the_stored_statements_of_one_scope_never_answer_another(users, records):
    first = [row["id"] for row in _stored("tickets", Ticket, _ticket_parts, fresh(users.am1), ["计量"])]
    theirs = [row["id"] for row in _stored("tickets", Ticket, _ticket_parts, fresh(users.am3), ["计量"])]
    mine = Ticket.objects.filter(customer__owner=users.am1, customer__sensitive=False, subject__contains="计量")
    assert sorted(first) == sorted(mine.values_list("pk", flat=True))
    assert set(theirs) == set(
        Ticket.objects.filter(customer__owner=users.am3, subject__contains="计量").values_list("pk", flat=True)
    )
    assert not set(first) & set(theirs)


def test_the_search_kinds_answer_as_before(users, records):
    hits = {kind.key: kind for kind in search.kinds()}
    for _round in range(2):
        tickets = hits["tickets"].search(user=fresh(users.am1), q="计量", limit=10)
        assert [hit.title.split(" ", 1)[1] for hit in tickets] == ["甲一电力客户客户反映电表计量异常"]
        activities = hits["activities"].search(user=fresh(users.am1), q="鑫磊", limit=10)
        assert {hit.title for hit in activities} == {"鑫磊电表故障", "鑫磊计量回访"}


@postgresql_only
def test_a_placeholder_django_would_rewrite_is_refused(db):
    term = search_statements._placeholder(search_statements._Term, 0, "\x000\x00")
    with pytest.raises(ValueError, match="placeholder"):
        search_statements.compile_statement(Customer.objects.filter(name__icontains=term).values("pk"), [term])
