"""The global search's customer and contact kinds: what they find, in which order, and what they never show.

Runs on SQLite (FTS5 bigram tables kept by triggers) and PostgreSQL (GIN index on guanxi_bigrams()); the last tests
check each backend's index itself.
"""

import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from guanxi.core import textsearch
from guanxi.core.search import kinds as search_kinds
from guanxi.core.search import parse, search_all
from guanxi.customers.models import Contact, Customer
from tests.conftest import credit_code, fresh, id_number, make_contact, make_customer


def titles(hits) -> list[str]:
    return [hit.title for hit in hits]


def find(user, q, limit=10) -> dict[str, list]:
    return search_all(user=fresh(user), q=q, limit=limit)


@pytest.fixture
def world(users):
    """am1's, am2's (same branch) and am3's (other branch) customers, one sensitive, one archived, with contacts."""
    code = credit_code()
    person_id = id_number(birth="19790301")
    w = SimpleNamespace(
        qiqihar=make_customer(users.am1, name="齐齐哈尔钢铁有限公司", credit_code=code),
        steel=make_customer(users.am1, name="钢铁"),
        beijing=make_customer(users.am2, name="北京钢铁厂（集团）"),
        shanghai=make_customer(users.am3, name="上海钢铁有限公司"),
        secret=make_customer(users.bm1, name="敏感钢铁集团", owner_id=users.am1.pk, sensitive=True),
        latin=make_customer(users.am1, name="ABC Steel Trading"),
        person=make_customer(users.am1, name="周八", kind="individual", id_number=person_id),
        code=code,
        person_id=person_id,
    )
    w.wang = make_contact(users.am1, w.qiqihar, name="王芳", mobile="13812345678")
    w.li = make_contact(users.am1, w.steel, name="李四", mobile="13900001111", landline="0452-7654321")
    w.zhao = make_contact(users.am2, w.beijing, name="赵芳芳", mobile="13700005678")
    w.qian = make_contact(users.am3, w.shanghai, name="钱芳", mobile="13600002222")
    w.hidden = make_contact(users.bm1, w.secret, name="孙芳", mobile="13500003333")
    return w


# --- what it finds ------------------------------------------------------------------------------------------------


def test_it_finds_a_two_character_chinese_substring(users, world):
    found = titles(find(users.admin, "钢铁")["customers"])

    assert "齐齐哈尔钢铁有限公司" in found
    assert set(found) >= {"钢铁", "北京钢铁厂（集团）", "上海钢铁有限公司", "敏感钢铁集团"}


def test_it_finds_longer_substrings_anywhere_in_the_name(users, world):
    assert titles(find(users.admin, "哈尔钢铁有")["customers"]) == ["齐齐哈尔钢铁有限公司"]
    assert titles(find(users.admin, "（集团）")["customers"]) == ["北京钢铁厂（集团）"]
    assert titles(find(users.admin, "有限公司")["customers"]) == ["上海钢铁有限公司", "齐齐哈尔钢铁有限公司"]


def test_it_needs_the_characters_in_order_not_just_the_same_bigrams(users, world):
    make_customer(users.admin, name="天地人地")

    assert titles(find(users.admin, "地人地")["customers"]) == ["天地人地"]
    assert find(users.admin, "地人地人")["customers"] == []  # bigrams 地人, 人地 are all there, the text is not


def test_it_ignores_case_in_latin_names(users, world):
    assert titles(find(users.admin, "steel")["customers"]) == ["ABC Steel Trading"]
    assert titles(find(users.admin, "abc STEEL")["customers"]) == ["ABC Steel Trading"]


def test_it_wants_every_word_of_the_query(users, world):
    assert titles(find(users.admin, "钢铁 有限")["customers"]) == ["上海钢铁有限公司", "齐齐哈尔钢铁有限公司"]
    assert titles(find(users.admin, "齐齐 公司")["customers"]) == ["齐齐哈尔钢铁有限公司"]
    assert find(users.admin, "钢铁 没有")["customers"] == []


def test_it_ranks_the_whole_name_first_then_names_starting_with_the_query(users, world):
    make_customer(users.admin, name="钢铁研究院")

    found = titles(find(users.admin, "钢铁")["customers"])

    assert found[:2] == ["钢铁", "钢铁研究院"]
    assert found.index("上海钢铁有限公司") < found.index("齐齐哈尔钢铁有限公司")  # shorter first


def test_it_returns_at_most_limit_hits_of_a_frequent_substring(users, world):
    for n in range(30):
        make_customer(users.admin, name=f"第{n:02d}有限公司")

    hits = find(users.admin, "有限", limit=5)["customers"]

    assert len(hits) == 5
    assert all("有限" in hit.title for hit in hits)


def test_it_finds_wildcard_characters_literally(users, world):
    make_customer(users.admin, name="百分之百_100%公司")

    assert titles(find(users.admin, "_100%")["customers"]) == ["百分之百_100%公司"]
    assert find(users.admin, "%%")["customers"] == []
    make_customer(users.admin, name="某某（）公司")
    assert titles(find(users.admin, "（）")["customers"]) == ["某某（）公司"]


@pytest.mark.parametrize("typed", ["{number}", "{number_lower}", "{number_fullwidth}", " {number} "])
def test_it_finds_a_customer_by_number(users, world, typed):
    number = world.qiqihar.number
    fullwidth = "".join(chr(ord(c) + 0xFEE0) for c in number)
    q = typed.format(number=number, number_lower=number.lower(), number_fullwidth=fullwidth)

    hits = find(users.admin, q)["customers"]

    assert [(hit.id, hit.match) for hit in hits] == [(world.qiqihar.pk, "number")]


def test_it_finds_a_customer_by_credit_code_and_by_id_number(users, world):
    by_code = find(users.admin, world.code.lower())["customers"]
    by_id = find(users.admin, world.person_id)["customers"]

    assert [(hit.id, hit.match) for hit in by_code] == [(world.qiqihar.pk, "credit_code")]
    assert [(hit.id, hit.match) for hit in by_id] == [(world.person.pk, "id_number")]


@pytest.mark.parametrize("q", ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "5678"])
def test_it_finds_a_contact_by_mobile_whole_or_by_its_last_four_digits(users, world, q):
    hits = find(users.admin, q)["contacts"]

    assert world.wang.pk in [hit.id for hit in hits]
    assert all(hit.match == "mobile" for hit in hits)
    if q == "5678":
        assert {hit.id for hit in hits} == {world.wang.pk, world.zhao.pk}
    else:
        assert [hit.id for hit in hits] == [world.wang.pk]


def test_it_finds_a_contact_by_landline_with_or_without_the_hyphen(users, world):
    for q in ("0452-7654321", "04527654321", "4321"):
        hits = find(users.admin, q)["contacts"]
        assert [(hit.id, hit.match) for hit in hits] == [(world.li.pk, "landline")]


def test_it_finds_contacts_by_name(users, world):
    assert titles(find(users.admin, "王芳")["contacts"]) == ["王芳"]
    assert set(titles(find(users.admin, "芳芳")["contacts"])) == {"赵芳芳"}


def test_it_hides_archived_customers_from_name_search_but_finds_them_by_number(users, world):
    Customer.objects.filter(pk=world.steel.pk).update(archived_at=timezone.now())

    by_name = find(users.admin, "钢铁")["customers"]
    by_number = find(users.admin, world.steel.number)["customers"]

    assert world.steel.pk not in [hit.id for hit in by_name]
    assert [hit.id for hit in by_number] == [world.steel.pk]
    with translation.override("en"):
        assert find(users.admin, world.steel.number)["customers"][0].subtitle.endswith(" · archived")
    assert "李四" not in titles(find(users.admin, "李四")["contacts"])
    assert [hit.id for hit in find(users.admin, "13900001111")["contacts"]] == [world.li.pk]


# --- short queries ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["", " ", "钢", " 钢 ", "a"])
def test_it_answers_short_queries_with_nothing(users, world, q):
    with CaptureQueriesContext(connection) as queries:
        results = find(users.admin, q)

    assert {"customers", "contacts"} <= set(results)
    assert all(hits == [] for hits in results.values())  # every kind, the other apps' included
    assert not [sql for sql in queries.captured_queries if "customers_" in sql["sql"]]


def test_one_character_words_only_filter_beside_a_longer_one(users, world):
    assert titles(find(users.admin, "钢铁 京")["customers"]) == ["北京钢铁厂（集团）"]
    assert find(users.admin, "钢 铁")["customers"] == []  # no word long enough to search by


def test_it_parses_identifiers_and_phones_once_for_every_kind():
    assert parse("  齐齐哈尔   钢铁 ").terms == ("齐齐哈尔", "钢铁")
    assert parse("９１２３０２００ＭＡ").compact == "91230200MA"
    assert parse("+86 138-1234-5678").full_phone == "13812345678"
    assert parse("008613812345678").full_phone == "13812345678"
    assert parse("5678").phone_tail == "5678"
    assert parse("567").phone == "567" and not parse("567").phone_tail and not parse("567").full_phone
    assert parse("钢铁5678").phone == ""


# --- scope and masking ------------------------------------------------------------------------------------------

EVERYONE = ["admin", "exec1", "bm1", "bm2", "lead1", "lead2", "lead3", "am1", "am2", "am3", "agent1", "agent2"]
CUSTOMERS_SEEN = {
    "admin": {"qiqihar", "steel", "beijing", "shanghai", "secret"},
    "exec1": {"qiqihar", "steel", "beijing", "shanghai", "secret"},
    "bm1": {"qiqihar", "steel", "beijing", "secret"},
    "bm2": {"shanghai"},
    "lead1": {"qiqihar", "steel"},
    "lead2": {"beijing"},
    "lead3": {"shanghai"},
    "am1": {"qiqihar", "steel"},  # the sensitive customer is theirs, but they lack the permission
    "am2": {"beijing"},
    "am3": {"shanghai"},
    "agent1": {"qiqihar", "steel", "beijing"},
    "agent2": {"shanghai"},
}
CONTACTS_OF = {"qiqihar": "wang", "steel": "li", "beijing": "zhao", "shanghai": "qian", "secret": "hidden"}
SEES_PHONES = {"admin", "exec1", "bm1", "bm2"}


@pytest.mark.parametrize("username", EVERYONE)
def test_it_finds_only_what_the_user_may_see(users, world, username):
    user = getattr(users, username)
    expected = {getattr(world, name).pk for name in CUSTOMERS_SEEN[username]}
    expected_contacts = {getattr(world, CONTACTS_OF[name]).pk for name in CUSTOMERS_SEEN[username]}

    by_name = {hit.id for hit in find(user, "钢铁", limit=50)["customers"]}
    by_number = {hit.id for name in CONTACTS_OF for hit in find(user, getattr(world, name).number)["customers"]}
    contacts_by_name = {hit.id for q in ("王芳", "李四", "赵芳芳", "钱芳", "孙芳") for hit in find(user, q)["contacts"]}
    contacts_by_phone = {
        hit.id
        for name in CONTACTS_OF.values()
        for q in (getattr(world, name).mobile, getattr(world, name).mobile[-4:])
        for hit in find(user, q, limit=50)["contacts"]
    }

    assert by_name == expected
    assert by_number == expected
    assert contacts_by_name == expected_contacts
    assert contacts_by_phone == expected_contacts


@pytest.mark.parametrize("username", ["am1", "lead1", "agent1", "bm1", "admin"])
def test_it_masks_phones_in_contact_hits_for_roles_without_the_permission(users, world, username):
    for q in ("王芳", "13812345678", "5678"):
        hit = next(hit for hit in find(getattr(users, username), q)["contacts"] if hit.id == world.wang.pk)

        if username in SEES_PHONES:
            assert hit.subtitle == "齐齐哈尔钢铁有限公司 · 13812345678"
        else:
            assert hit.subtitle == "齐齐哈尔钢铁有限公司 · 138****5678"


def test_it_masks_the_landline_it_matched(users, world):
    hit = find(users.am1, "0452-7654321")["contacts"][0]

    assert hit.match == "landline"
    assert "7654321" not in hit.subtitle and hit.subtitle.endswith("4321")


def test_it_searches_in_a_bounded_number_of_queries(users, world):
    for n in range(20):
        customer = make_customer(users.am1, name=f"钢铁{n:02d}号公司")
        make_contact(users.am1, customer, name=f"周芳{n:02d}", mobile=f"1380000{n:04d}")
    user = fresh(users.am1)
    search_all(user=user, q="钢铁", limit=20)  # the user's scope and permissions are cached on the user
    ours = [kind for kind in search_kinds() if kind.key in ("customers", "contacts")]  # other apps count their own

    # Per kind one exact lookup and one name search; SQLite may repeat a name search over all FTS5 candidates.
    bound = 6 if connection.vendor == "sqlite" else 4
    for q in ("钢铁", "周芳", world.qiqihar.number, "13800000001", "0001"):
        with CaptureQueriesContext(connection) as queries:
            for kind in ours:
                kind.search(user=user, q=q, limit=20)
        assert len(queries) <= bound, (q, [item["sql"] for item in queries.captured_queries])


def test_it_finds_a_frequent_word_in_a_small_scope_beyond_the_first_candidates(users, world, monkeypatch):
    monkeypatch.setattr(textsearch, "SQLITE_CANDIDATES", 5)
    for n in range(12):
        make_customer(users.am2, name=f"乙方{n:02d}有限公司")
    late = make_customer(users.am1, name="最后的有限公司")

    found = titles(find(users.am1, "有限", limit=5)["customers"])

    assert found == ["最后的有限公司", "齐齐哈尔钢铁有限公司"]
    assert late.pk


# --- every write path keeps the index ---------------------------------------------------------------------------


UNIQUE_OR_CHANGED = {"id", "number", "name", "credit_code", "id_number"}


def test_it_finds_rows_written_by_bulk_create_and_raw_sql(users, world):
    [bulk] = Customer.objects.bulk_create(
        [Customer(number="CB019999999", name="批量导入钢材有限公司", kind="organisation")]
    )
    Contact.objects.bulk_create([Contact(customer=bulk, name="欧阳娜娜", mobile="13311117777")])
    # Raw SQL, as COPY and the importer write: a copy of an existing row under another number and name.
    copied = [f.column for f in Customer._meta.concrete_fields if f.column not in UNIQUE_OR_CHANGED]
    columns = ", ".join(copied)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO customers_customer (number, name, {columns}) "
            f"SELECT 'CB019999998', '直接写入电缆厂', {columns} FROM customers_customer WHERE id = %s",
            [world.steel.pk],
        )

    assert titles(find(users.admin, "钢材")["customers"]) == ["批量导入钢材有限公司"]
    assert titles(find(users.admin, "电缆")["customers"]) == ["直接写入电缆厂"]
    assert titles(find(users.admin, "娜娜")["contacts"]) == ["欧阳娜娜"]
    assert titles(find(users.admin, "7777")["contacts"]) == ["欧阳娜娜"]


def test_it_follows_renames_and_deletes(users, world):
    Customer.objects.filter(pk=world.qiqihar.pk).update(name="齐齐哈尔特殊钢有限公司")
    Contact.objects.filter(pk=world.wang.pk).update(name="王小芳", mobile="13812349999")
    Contact.objects.filter(pk=world.li.pk).delete()

    assert "齐齐哈尔钢铁有限公司" not in titles(find(users.admin, "钢铁")["customers"])
    assert titles(find(users.admin, "特殊钢")["customers"]) == ["齐齐哈尔特殊钢有限公司"]
    assert titles(find(users.admin, "小芳")["contacts"]) == ["王小芳"]
    assert find(users.admin, "13812345678")["contacts"] == []
    assert titles(find(users.admin, "9999")["contacts"]) == ["王小芳"]
    assert find(users.admin, "李四")["contacts"] == []


# --- the indexes themselves ---------------------------------------------------------------------------------------


def _plan(sql: str) -> str:
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return "\n".join(str(row[-1] if connection.vendor == "sqlite" else row[0]) for row in cursor.fetchall())


def _search_sql(user, q: str) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        search_all(user=fresh(user), q=q, limit=10)
    return [item["sql"] for item in queries.captured_queries if "customers_" in item["sql"]]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite FTS5")
def test_sqlite_searches_names_through_the_fts5_bigram_tables(users, world):
    plans = [_plan(sql) for sql in _search_sql(users.admin, "钢铁")]

    assert any("customers_customer_name_bigrams VIRTUAL TABLE" in plan for plan in plans)
    assert any("customers_contact_name_bigrams VIRTUAL TABLE" in plan for plan in plans)
    with connection.cursor() as cursor:
        table = "customers_customer_name_bigrams"
        cursor.execute(f"SELECT rowid FROM {table} WHERE {table} MATCH %s", ['"钢铁"'])
        assert {row[0] for row in cursor.fetchall()} == set(
            Customer.objects.filter(name__contains="钢铁").values_list("pk", flat=True)
        )


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite expression indexes")
def test_sqlite_finds_phone_tails_through_expression_indexes(users, world):
    plans = "\n".join(_plan(sql) for sql in _search_sql(users.admin, "5678"))

    assert "contact_mobile_tail_idx" in plans and "contact_landline_tail_idx" in plans


BIGRAMS = r'guanxi_bigrams\("customers_{}"."name"\) @> guanxi_bigrams\(\S+\)'


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "q, table, condition, index",
    [
        ("齐齐哈尔", "customer", BIGRAMS.format("customer"), "name_bigram"),
        ("王芳", "contact", BIGRAMS.format("contact"), "name_bigram"),
        ("5678", "contact", r"RIGHT\(\S+ 4\) = '\d+'", "mobile_tail"),
        ("0452-7654321", "contact", r"REPLACE\(\S+ '-', ''\) = '\d+' AND \S+ <> ''", "landline_digits"),
    ],
)
def test_postgresql_writes_conditions_its_indexes_serve(users, world, q, table, condition, index):
    [found] = {m.group(0) for sql in _search_sql(users.admin, q) for m in re.finditer(condition, sql)}
    with connection.cursor() as cursor:
        # Tiny tables would be scanned; with bitmap scans only, the plan shows which index serves the condition.
        for scan in ("seqscan", "indexscan", "indexonlyscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        plan = _plan(f"SELECT id FROM customers_{table} WHERE {found}")

    assert f"{table}_{index}_idx" in plan


@pytest.mark.postgresql
def test_postgresql_bigrams_are_lower_case_and_overlapping(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT guanxi_bigrams('齐齐哈尔 Steel'), guanxi_bigrams('钢'), guanxi_bigrams('')")
        assert cursor.fetchone() == (["齐齐", "齐哈", "哈尔", "尔 ", " s", "st", "te", "ee", "el"], [], [])


def test_it_looks_up_the_rarest_bigram_when_all_are_frequent():
    frequent = {"物业": 0.09, "业管": 0.08, "管理": 0.09, "有限": 0.5}

    assert textsearch.index_key("物业管理", frequent) == "业管"  # 9 % each, together: the planner needs one
    assert textsearch.index_key("物业管理局", frequent) == "物业管理局"  # 理局 is rare: it drives the index scan
    assert textsearch.index_key("有限", frequent) == "有限"
    assert textsearch.index_key("钢铁", {}) == "钢铁"


@pytest.mark.postgresql
def test_postgresql_reads_frequent_bigrams_from_the_index_statistics(users):
    for n in range(40):
        make_customer(users.admin, name=f"第{n:02d}物业管理有限公司")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE customers_customer")
    textsearch._statistics.clear()

    frequent = textsearch.frequent_bigrams("default", "customers_customer", "name")

    assert frequent["有限"] == pytest.approx(1.0) and frequent["业管"] == pytest.approx(1.0)
    assert "第0" in frequent
    textsearch._statistics.clear()
