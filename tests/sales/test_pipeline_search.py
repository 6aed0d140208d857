"""The global search's "leads" and "opportunities" kinds: Chinese substrings found through the bigram indexes (sales
migration 0005) on SQLite (FTS5 tables kept by triggers) and PostgreSQL (GIN on guanxi_bigrams()), within scope."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.search import kinds as search_kinds
from guanxi.sales.models import Lead, Opportunity
from tests.conftest import fresh, make_customer
from tests.sales.pipeline_factories import make_deal, make_lead

pytestmark = pytest.mark.django_db


def kind(key: str):
    return next(k for k in search_kinds() if k.key == key)


def find(user, key: str, q: str, limit: int = 10) -> list[str]:
    return [hit.title for hit in kind(key).search(user=fresh(user), q=q, limit=limit)]


@pytest.fixture
def book(users, customers):
    hospital = make_customer(users.am1, name="齐齐哈尔第一医院")
    return {
        "steel": make_lead(users.am1, company_name="齐齐哈尔钢铁有限公司", contact_name="王建国", mobile="13812345678"),
        "latin": make_lead(users.am1, company_name="ABC Steel Trading", contact_name="Li Lei"),
        "theirs": make_lead(users.am3, company_name="上海钢铁有限公司", contact_name="王芳"),
        "expansion": make_deal(users.am1, customers.c1, name="二期增容工程"),
        "hospital": make_deal(users.am1, hospital, name="备用电源"),
        "far": make_deal(users.am3, customers.c3, name="三期增容工程"),
    }


def test_it_finds_leads_by_a_two_character_substring_of_either_name(users, book):
    assert find(users.am1, "leads", "钢铁") == ["齐齐哈尔钢铁有限公司"]
    assert find(users.am1, "leads", "建国") == ["齐齐哈尔钢铁有限公司"]  # the contact's name
    assert find(users.am1, "leads", "steel") == ["ABC Steel Trading"]  # case folded
    assert find(users.am1, "leads", "钢铁 有限") == ["齐齐哈尔钢铁有限公司"]  # every word
    assert find(users.am1, "leads", "钢铁 上海") == []


def test_it_finds_a_lead_by_its_whole_mobile(users, book):
    [hit] = kind("leads").search(user=fresh(users.am1), q="138 1234 5678", limit=10)
    assert hit.id == book["steel"].pk and hit.match == "mobile"


def test_it_finds_deals_by_their_name_and_by_their_customers_name(users, customers, book):
    assert find(users.am1, "opportunities", "增容") == ["二期增容工程"]
    assert find(users.am1, "opportunities", "医院") == ["备用电源"]  # the customer's name
    assert find(users.am1, "opportunities", customers.c1.name[:2]) == ["二期增容工程"]


def test_it_finds_only_what_the_user_may_see(users, book):
    assert find(users.am3, "leads", "钢铁") == ["上海钢铁有限公司"]
    assert find(users.am3, "opportunities", "增容") == ["三期增容工程"]
    assert find(users.am3, "opportunities", "医院") == []
    assert sorted(find(users.admin, "opportunities", "增容")) == ["三期增容工程", "二期增容工程"]


def test_it_finds_rows_written_without_the_orm_and_follows_renames(users, book):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE sales_lead SET company_name = %s WHERE id = %s", ["哈尔滨电缆厂", book["steel"].pk])
    Opportunity.objects.filter(pk=book["expansion"].pk).update(name="二期储能项目")
    [bulk] = Lead.objects.bulk_create([Lead(company_name="批量导入水泥厂", owner=users.am1, org_unit_id=None)])

    assert find(users.am1, "leads", "电缆") == ["哈尔滨电缆厂"]
    assert find(users.am1, "leads", "钢铁") == []
    assert find(users.am1, "opportunities", "储能") == ["二期储能项目"]
    assert find(users.am1, "opportunities", "增容") == []
    assert find(users.admin, "leads", "水泥") == ["批量导入水泥厂"] and bulk.pk


def test_it_searches_in_a_bounded_number_of_queries(users, customers):
    for n in range(15):
        make_lead(users.am1, company_name=f"钢铁{n:02d}号公司", contact_name=f"周芳{n:02d}")
        make_deal(users.am1, customers.c1, name=f"钢铁{n:02d}号增容")
    user = fresh(users.am1)
    kind("leads").search(user=user, q="钢铁", limit=10)  # the user's scope and permissions are cached on the user

    # Leads: one exact mobile lookup, two name searches; deals: deal names, customer names, their deals. SQLite may
    # repeat a name search over all FTS5 candidates when the first ones are not enough.
    bounds = {
        "leads": 5 if connection.vendor == "sqlite" else 3,
        "opportunities": 6 if connection.vendor == "sqlite" else 3,
    }
    for key, bound in bounds.items():
        for q in ("钢铁", "周芳", "13800000001"):
            with CaptureQueriesContext(connection) as queries:
                hits = kind(key).search(user=user, q=q, limit=10)
            assert len(queries) <= bound, (key, q, [item["sql"] for item in queries.captured_queries])
            assert len(hits) <= 10


# --- the indexes themselves ---------------------------------------------------------------------------------------


def _plan(sql: str) -> str:
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return "\n".join(str(row[-1] if connection.vendor == "sqlite" else row[0]) for row in cursor.fetchall())


def _search_sql(user, key: str, q: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        kind(key).search(user=fresh(user), q=q, limit=10)
    return [item["sql"] for item in queries.captured_queries if "sales_" in item["sql"]]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5")
def test_sqlite_searches_names_through_the_fts5_bigram_tables(users, book):
    plans = "\n".join(_plan(sql) for key in ("leads", "opportunities") for sql in _search_sql(users.admin, key, "钢铁"))

    for table in (
        "sales_lead_company_name_bigrams",
        "sales_lead_contact_name_bigrams",
        "sales_opportunity_name_bigrams",
    ):
        assert f"{table} VIRTUAL TABLE" in plans


BIGRAMS = r'guanxi_bigrams\("sales_{}"."{}"\) @> guanxi_bigrams\(\S+\)'


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "key, table, column, index",
    [
        ("leads", "lead", "company_name", "sales_lead_company_bigram_idx"),
        ("leads", "lead", "contact_name", "sales_lead_contact_bigram_idx"),
        ("opportunities", "opportunity", "name", "sales_opp_name_bigram_idx"),
    ],
)
def test_postgresql_writes_conditions_its_bigram_indexes_serve(users, book, key, table, column, index):
    [found] = {
        m.group(0)
        for sql in _search_sql(users.admin, key, "齐齐哈尔")
        for m in re.finditer(BIGRAMS.format(table, column), sql)
    }
    with connection.cursor() as cursor:
        # Tiny tables would be scanned; with bitmap scans only, the plan shows which index serves the condition.
        for scan in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        plan = _plan(f"SELECT id FROM sales_{table} WHERE {found}")

    assert index in plan
