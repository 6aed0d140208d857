"""The global search's "tickets" kind: any substring of a subject, found through the subject's bigram index (service
migration 0012: FTS5 on SQLite, GIN on guanxi_bigrams() on PostgreSQL), every word required, within scope."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.search import kinds as search_kinds
from tests.conftest import fresh
from tests.service.factories import make_ticket


def tickets_kind():
    return next(k for k in search_kinds() if k.key == "tickets")


def titles(user, q: str, limit: int = 10) -> list[str]:
    return [hit.title.split(" ", 1)[1] for hit in tickets_kind().search(user=fresh(user), q=q, limit=limit)]


@pytest.fixture
def subjects(users, customers):
    for subject in ("客户反映电表计量异常", "居民停电投诉", "Meter READING disputed", "电表箱门损坏"):
        make_ticket(users.agent1, customers.c1, subject=subject)
    make_ticket(users.agent1, customers.c2, subject="另一户电表计量异常")  # c2: not am1's customer


def test_it_finds_a_substring_from_the_middle_of_a_subject(users, subjects):
    assert titles(users.agent1, "计量") == ["另一户电表计量异常", "客户反映电表计量异常"]  # newest first
    assert titles(users.agent1, "停电") == ["居民停电投诉"]
    assert titles(users.agent1, "reading") == ["Meter READING disputed"]  # case does not matter


def test_every_word_must_be_in_the_subject(users, subjects):
    assert titles(users.agent1, "电表 损坏") == ["电表箱门损坏"]
    assert titles(users.agent1, "电表 投诉") == []


def test_it_searches_only_the_tickets_in_scope(users, subjects):
    assert titles(users.am1, "计量") == ["客户反映电表计量异常"]  # am1 owns c1, not c2
    assert titles(users.am3, "计量") == []  # another branch


def test_it_stops_at_the_limit(users, subjects):
    assert len(titles(users.agent1, "电表", limit=2)) == 2


def test_the_api_answers_with_the_same_hits(users, subjects, api):
    found = api(users.am1).get("/search", {"q": "计量"}).json()
    assert [hit["title"].split(" ", 1)[1] for hit in found["results"]["tickets"]] == ["客户反映电表计量异常"]


def _search_sql(user, q: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        tickets_kind().search(user=fresh(user), q=q, limit=10)
    return [item["sql"] for item in queries.captured_queries if "service_ticket" in item["sql"]]


def _plan(sql: str) -> str:
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return "\n".join(str(row[-1] if connection.vendor == "sqlite" else row[0]) for row in cursor.fetchall())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5")
def test_sqlite_searches_subjects_through_the_fts5_bigram_table(users, subjects):
    plans = "\n".join(_plan(sql) for sql in _search_sql(users.admin, "计量"))

    assert "service_ticket_subject_bigrams VIRTUAL TABLE" in plans


@pytest.mark.postgresql
def test_postgresql_asks_a_condition_the_subject_bigram_index_serves(users, subjects):
    [sql] = _search_sql(users.admin, "计量")
    [found] = set(re.findall(r'guanxi_bigrams\("service_ticket"."subject"\) @> guanxi_bigrams\(\S+\)', sql))
    assert "ORDER BY" not in sql  # a frequent word stops at the LIMIT instead of sorting all its tickets
    with connection.cursor() as cursor:
        # Tiny tables would be scanned; with bitmap scans only, the plan shows which index serves the condition.
        for scan in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        plan = _plan(f"SELECT id FROM service_ticket WHERE {found}")

    assert "ticket_subject_bigram_idx" in plan


@pytest.mark.parametrize("username", ["am1", "am3", "agent1", "lead1", "bm1", "exec1"])
def test_the_scope_parts_together_are_the_users_scope(users, customers, username):
    from guanxi.service import services
    from guanxi.service.selectors import ticket_queryset, ticket_scope_parts

    mine = make_ticket(users.agent1, customers.c1)
    make_ticket(users.agent1, customers.c2)
    make_ticket(users.bm1, customers.sensitive)
    make_ticket(users.am3, customers.c3)
    received = make_ticket(users.am1)  # an unknown caller's ticket am1 took: theirs as receiver and owner
    handed = make_ticket(users.agent1)
    services.handover_request(
        actor=fresh(users.agent1), ticket_id=handed.pk, version=handed.version, to_user_id=users.am1.pk, reason="转交"
    )
    user = fresh(getattr(users, username))

    union = set().union(*(set(part.values_list("pk", flat=True)) for part in ticket_scope_parts(user=user)))

    assert union == set(ticket_queryset(user=user).values_list("pk", flat=True))
    if username == "am1":
        assert {mine.pk, received.pk, handed.pk} <= union
