"""Duplicate candidates: each reason, record scope, pagination, the create-time warning (API and form)."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.customers import duplicates
from guanxi.customers.duplicates import duplicate_pairs, likely_duplicates_of, similar_pairs
from guanxi.customers.models import Customer, Region
from guanxi.customers.normalize import name_key
from tests.conftest import credit_code, fresh, make_contact, make_customer


@pytest.fixture
def chaoyang(db):
    return Region.objects.get(code="110105")


@pytest.fixture
def dongcheng(db):
    return Region.objects.get(code="110101")


def pairs(user, **kwargs) -> set[tuple[int, int, str]]:
    """Every pair the user sees (all pages), as (first id, second id, reason)."""
    found, cursor = [], None
    while True:
        page = duplicate_pairs(user=fresh(user), cursor=cursor, **kwargs)
        found += [(p.first.pk, p.second.pk, p.reason) for p in page.items]
        if not page.next:
            break
        cursor = page.next
    assert len(found) == len(set(found)), "a pair came twice"
    return set(found)


def ordered(a, b) -> tuple[int, int]:
    return (min(a.pk, b.pk), max(a.pk, b.pk))


# --- normalised names ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("齐齐哈尔钢铁有限公司", "齐齐哈尔钢铁"),
        ("齐齐哈尔钢铁有限责任公司", "齐齐哈尔钢铁"),
        ("齐齐哈尔钢铁股份有限公司", "齐齐哈尔钢铁"),
        ("齐齐哈尔钢铁（集团）有限公司", "齐齐哈尔钢铁"),
        ("齐齐哈尔 钢铁 股份", "齐齐哈尔钢铁"),
        ("ＡＢＣ科技（北京）有限公司", "abc科技北京"),
        ("ABC Trading Co., Ltd.", "abctrading"),
        ("华为技术有限公司北京分公司", "华为技术有限公司北京分公司"),
        ("公司", "公司"),
        ("", ""),
    ],
)
def test_name_key_folds_width_legal_forms_brackets_and_spaces(name, key):
    assert name_key(name) == key


# --- reasons ----------------------------------------------------------------------------------------------------


def test_it_pairs_customers_with_the_same_organisation_code(users):
    a = make_customer(users.bm1, name="甲钢铁厂", credit_code=credit_code(serial=4401, region="110105"))
    b = make_customer(users.bm1, name="乙钢铁厂", credit_code=credit_code(serial=4401, region="310101"))
    make_customer(users.bm1, name="丙钢铁厂", credit_code=credit_code(serial=4402, region="110105"))

    page = duplicate_pairs(user=fresh(users.bm1), reason="credit_code")

    assert [(p.first.pk, p.second.pk) for p in page.items] == [ordered(a, b)]
    assert page.items[0].score == duplicates.SCORE_SAME_ORGANISATION_CODE
    assert page.items[0].evidence == a.credit_code[8:17]


def test_a_case_variant_of_the_same_credit_code_scores_highest(users):
    code = credit_code(serial=4403)
    a = make_customer(users.bm1, name="大写公司", credit_code=code)
    b = make_customer(users.bm1, name="小写公司")
    Customer.objects.filter(pk=b.pk).update(credit_code=code.lower())  # as a bulk path once wrote it

    (pair,) = duplicate_pairs(user=fresh(users.bm1), reason="credit_code").items

    assert (pair.first.pk, pair.second.pk, pair.score) == (*ordered(a, b), 1.0)


def test_it_pairs_customers_with_the_same_normalised_name(users):
    a = make_customer(users.bm1, name="齐齐哈尔钢铁有限公司")
    b = make_customer(users.bm1, name="齐齐哈尔钢铁（集团）有限责任公司", owner_id=users.am2.pk)
    make_customer(users.bm1, name="齐齐哈尔化工有限公司")

    assert pairs(users.bm1, reason="name") == {(*ordered(a, b), "name")}


def test_individuals_with_the_same_name_pair_only_in_the_same_region(users, chaoyang, dongcheng):
    a = make_customer(users.bm1, name="王伟", kind="individual", region_id=chaoyang.pk)
    b = make_customer(users.bm1, name="王伟", kind="individual", region_id=chaoyang.pk)
    make_customer(users.bm1, name="王伟", kind="individual", region_id=dongcheng.pk)
    make_customer(users.bm1, name="王伟", kind="individual")

    (pair,) = duplicate_pairs(user=fresh(users.bm1), reason="name").items

    assert (pair.first.pk, pair.second.pk) == ordered(a, b)
    assert pair.score == duplicates.SCORE_SAME_NAME_INDIVIDUAL


def test_it_pairs_customers_sharing_a_contact_mobile(users):
    a, b, c = (make_customer(users.bm1, name=f"共用手机{i}") for i in range(3))
    make_contact(users.bm1, a, mobile="13800138000")
    make_contact(users.bm1, b, mobile="138 0013 8000")
    make_contact(users.bm1, c, mobile="13900139000")
    make_contact(users.bm1, c, mobile="13900139000")  # twice on one customer is not a pair

    page = duplicate_pairs(user=fresh(users.bm1), reason="phone")

    assert [(p.first.pk, p.second.pk, p.evidence) for p in page.items] == [(*ordered(a, b), "13800138000")]


def test_a_switchboard_mobile_on_many_customers_is_ignored_and_masked_when_shown(users):
    shared = [make_customer(users.bm1, name=f"总机{i}") for i in range(duplicates.MAX_PHONE_GROUP + 1)]
    for customer in shared:
        make_contact(users.bm1, customer, mobile="13700137000")
    a, b = make_customer(users.am1, name="甲户"), make_customer(users.am1, name="乙户")
    make_contact(users.am1, a, mobile="13600136000")
    make_contact(users.am1, b, mobile="13600136000")

    assert pairs(users.bm1, reason="phone") == {(*ordered(a, b), "phone")}
    (pair,) = duplicate_pairs(user=fresh(users.am1), reason="phone").items
    assert pair.evidence == "136****6000"  # account managers see phones masked


def test_it_pairs_similar_names_in_the_same_region_only(users, chaoyang, dongcheng):
    a = make_customer(users.bm1, name="恒聪百汇化工有限公司", region_id=chaoyang.pk)
    b = make_customer(users.bm1, name="恒聪百汇化工厂", region_id=chaoyang.pk)
    c = make_customer(users.bm1, name="北京恒聪百汇化工", region_id=chaoyang.pk)  # found by the reversed sort
    make_customer(users.bm1, name="恒聪百汇化工二厂", region_id=dongcheng.pk)
    make_customer(users.bm1, name="立信电子科技有限公司", region_id=chaoyang.pk)

    found = pairs(users.bm1, reason="similar_name")

    assert found == {(*ordered(x, y), "similar_name") for x, y in ((a, b), (a, c), (b, c))}
    score = next(p.score for p in duplicate_pairs(user=fresh(users.bm1), reason="similar_name").items)
    assert 0.7 < score < duplicates.SCORE_SAME_NAME


def test_similar_names_compare_each_key_with_a_window_of_neighbours_only(monkeypatch):
    calls = []
    real = duplicates.similarity
    monkeypatch.setattr(duplicates, "similarity", lambda a, b: calls.append(1) or real(a, b))
    rows = [(i, f"客户名称{i:05d}") for i in range(2000)]

    similar_pairs(rows)

    assert len(calls) <= 2 * duplicates.WINDOW * len(rows)  # never all pairs (that would be ~2 million)


def test_tombstones_and_archived_customers_are_not_candidates(users):
    a = make_customer(users.bm1, name="归档测试有限公司")
    b = make_customer(users.bm1, name="归档测试有限责任公司")
    c = make_customer(users.bm1, name="归档测试股份有限公司")
    Customer.objects.filter(pk=b.pk).update(merged_into=a)
    Customer.objects.filter(pk=c.pk).update(archived_at="2026-01-01T00:00:00Z")

    assert pairs(users.bm1) == set()


# --- scope --------------------------------------------------------------------------------------------------------


def test_a_user_never_sees_a_pair_with_a_customer_outside_their_scope(users):
    mine = make_customer(users.am1, name="范围测试有限公司")
    make_contact(users.am1, mine, mobile="13500135000")
    theirs = make_customer(users.am3, name="范围测试有限责任公司")  # another branch
    make_contact(users.am3, theirs, mobile="13500135000")
    hidden = make_customer(users.bm1, name="范围测试股份公司", owner_id=users.am1.pk, sensitive=True)

    assert pairs(users.am1) == set()
    assert pairs(users.bm1) == {(*ordered(mine, hidden), "name")}  # bm2's customer is in another branch
    assert pairs(users.admin) >= {(*ordered(mine, theirs), "name"), (*ordered(mine, theirs), "phone")}
    for user in (users.am1, users.am2, users.lead1, users.bm1, users.agent1, users.bm2):
        ids = {pk for pair in pairs(user) for pk in pair[:2]}
        assert ids <= set(duplicates.customer_queryset(user=fresh(user)).values_list("pk", flat=True))


def test_the_create_check_only_names_customers_the_user_may_see(users):
    make_customer(users.am3, name="他人客户有限公司")
    make_customer(users.am1, name="本人客户有限公司")

    assert likely_duplicates_of(user=fresh(users.am1), name="他人客户股份有限公司") == []
    (match,) = likely_duplicates_of(user=fresh(users.am1), name="本人客户股份有限公司")
    assert match.reasons == ("name",)


# --- pagination ---------------------------------------------------------------------------------------------------


def test_pages_cover_every_pair_once_across_groups_and_reasons(users, monkeypatch):
    monkeypatch.setattr(duplicates, "GROUP_BATCH", 2)
    expected = set()
    for index in range(3):
        group = [make_customer(users.bm1, name=f"分页测试{index}号有限公司") for _ in range(3)]
        expected |= {(*ordered(x, y), "name") for i, x in enumerate(group) for y in group[i + 1 :]}
    a = make_customer(users.bm1, name="分页电话甲")
    b = make_customer(users.bm1, name="分页电话乙")
    make_contact(users.bm1, a, mobile="13300133000")
    make_contact(users.bm1, b, mobile="13300133000")
    expected.add((*ordered(a, b), "phone"))

    for limit in (1, 2, 4, 50):
        assert pairs(users.bm1, limit=limit) == expected


def test_similar_names_page_across_regions_read_in_small_batches(users, monkeypatch, chaoyang, dongcheng):
    monkeypatch.setattr(duplicates, "SIMILAR_BATCH", 2)  # regions cut short and read again whole
    first = [make_customer(users.bm1, name=f"恒聪百汇化工{suffix}", region_id=chaoyang.pk) for suffix in "甲乙丙"]
    second = [make_customer(users.bm1, name=f"立信电子科技{suffix}", region_id=dongcheng.pk) for suffix in "甲乙"]
    expected = {(x.pk, y.pk, "similar_name") for group in (first, second) for x in group for y in group if x.pk < y.pk}

    for limit in (1, 2, 50):
        assert pairs(users.bm1, reason="similar_name", limit=limit) == expected


def test_a_large_group_pairs_with_its_oldest_customer(users):
    group = [make_customer(users.bm1, name="连锁药店") for _ in range(duplicates.STAR_GROUP + 2)]

    found = pairs(users.bm1, reason="name")

    assert found == {(group[0].pk, other.pk, "name") for other in group[1:]}


def test_the_number_of_queries_does_not_grow_with_the_pairs(users):
    def queries_for(count: int) -> int:
        for index in range(count):
            a = make_customer(users.bm1, name=f"查询{count}-{index}有限公司")
            b = make_customer(users.bm1, name=f"查询{count}-{index}股份公司")
            make_contact(users.bm1, a, mobile=f"1310{count:03d}{index:04d}")
            make_contact(users.bm1, b, mobile=f"1310{count:03d}{index:04d}")
        user = fresh(users.bm1)
        with CaptureQueriesContext(connection) as captured:
            duplicate_pairs(user=user, limit=200)
        return len(captured)

    assert queries_for(2) == queries_for(20)


def test_a_bad_cursor_is_refused(users, api):
    response = api(users.bm1).get("/customers/duplicates", {"cursor": "not-a-cursor"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


# --- API ----------------------------------------------------------------------------------------------------------


def test_the_api_lists_pairs_by_reason(users, api):
    a = make_customer(users.bm1, name="接口测试有限公司")
    b = make_customer(users.bm1, name="接口测试有限责任公司")

    response = api(users.bm1).get("/customers/duplicates", {"reason": "name"})

    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None
    (item,) = body["items"]
    assert (item["first"]["id"], item["second"]["id"]) == ordered(a, b)
    assert item["reason"] == "name" and item["score"] == duplicates.SCORE_SAME_NAME
    assert item["first"]["version"] == 1 and item["evidence"] == "接口测试"
    assert api(users.bm1).get("/customers/duplicates", {"reason": "nonsense"}).status_code == 422
    assert api().get("/customers/duplicates").status_code == 401


def test_the_reason_label_is_translated(users, api):
    make_customer(users.bm1, name="翻译测试有限公司")
    make_customer(users.bm1, name="翻译测试股份公司")

    body = api(users.bm1, lang="zh-hans").get("/customers/duplicates").json()

    assert body["items"][0]["reason_label"] == "名称相同"


def test_duplicate_check_answers_candidates_with_their_reasons(users, api, chaoyang):
    code = credit_code(serial=4410)
    same = make_customer(users.bm1, name="预检钢铁有限公司", credit_code=code, region_id=chaoyang.pk)
    make_contact(users.bm1, same, mobile="13200132000")
    similar = make_customer(users.bm1, name="预检钢铁二厂", region_id=chaoyang.pk)

    response = api(users.bm1).post(
        "/customers/duplicate-check",
        {
            "name": "预检钢铁股份有限公司",
            "credit_code": code.lower(),
            "region_id": chaoyang.pk,
            "mobile": "132-0013-2000",
        },
    )

    assert response.status_code == 200
    items = response.json()["items"]
    assert [item["customer"]["id"] for item in items] == [same.pk, similar.pk]
    assert items[0]["reasons"] == ["credit_code", "name", "phone"] and items[0]["score"] == 1.0
    assert items[1]["reasons"] == ["similar_name"]


def test_creating_a_look_alike_customer_answers_201_with_warnings(users, api):
    existing = make_customer(users.am1, name="警告测试有限公司")

    response = api(users.am1).post("/customers", {"name": "警告测试有限责任公司", "kind": "organisation"})

    assert response.status_code == 201
    (warning,) = response.json()["warnings"]
    assert warning["customer"]["id"] == existing.pk and warning["reasons"] == ["name"]
    unique = api(users.am1).post("/customers", {"name": "完全不同的名字", "kind": "organisation"})
    assert unique.status_code == 201 and unique.json()["warnings"] == []


# --- pages --------------------------------------------------------------------------------------------------------


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_duplicates_page_lists_pairs_with_a_merge_link(users):
    a = make_customer(users.bm1, name="页面测试有限公司")
    b = make_customer(users.bm1, name="页面测试有限责任公司")

    response = web(users.bm1).get(reverse("customers:duplicates"))

    assert response.status_code == 200
    html = response.content.decode()
    assert a.number in html and b.number in html
    assert reverse("customers:merge", args=ordered(a, b)) in html


def test_the_duplicates_page_pages_with_htmx(users):
    for index in range(3):
        make_customer(users.bm1, name=f"翻页{index}有限公司")
        make_customer(users.bm1, name=f"翻页{index}股份公司")
    first = duplicate_pairs(user=fresh(users.bm1), limit=1)

    response = web(users.bm1).get(reverse("customers:duplicates"), {"cursor": first.next}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "<html" not in response.content.decode()
    assert 'data-reason="name"' in response.content.decode()


def test_the_create_form_warns_of_a_look_alike_and_creates_once_confirmed(users):
    existing = make_customer(users.am1, name="表单查重有限公司")
    client = web(users.am1)
    data = {"name": "表单查重股份有限公司", "kind": "organisation", "stage": "potential", "grade": "general"}

    warned = client.post(reverse("customers:create"), data)

    assert warned.status_code == 200
    html = warned.content.decode()
    assert "duplicate-warning" in html and existing.number in html
    assert reverse("customers:detail", args=[existing.pk]) in html
    assert not Customer.objects.filter(name="表单查重股份有限公司").exists()

    confirmed = client.post(reverse("customers:create"), {**data, "confirm_duplicates": "1"})

    created = Customer.objects.get(name="表单查重股份有限公司")
    assert confirmed.status_code == 302 and confirmed["Location"] == reverse("customers:detail", args=[created.pk])


def test_the_create_form_without_look_alikes_creates_at_once(users):
    response = web(users.am1).post(
        reverse("customers:create"),
        {"name": "独一无二", "kind": "organisation", "stage": "potential", "grade": "general"},
    )

    assert response.status_code == 302


def test_rebuild_name_keys_rewrites_stale_keys_only(users):
    stale = make_customer(users.bm1, name="旧规则钢铁集团有限公司")
    current = make_customer(users.bm1, name="新规则化工有限公司")
    Customer.objects.filter(pk=stale.pk).update(name_key="旧规则钢铁集团")  # as the old rules wrote it
    out = StringIO()

    call_command("rebuild_name_keys", stdout=out)

    assert Customer.objects.get(pk=stale.pk).name_key == "旧规则钢铁"
    assert Customer.objects.get(pk=current.pk).name_key == "新规则化工"
    assert "1 name keys updated" in out.getvalue()


def test_the_create_check_builds_only_the_customers_it_shows(users, chaoyang):
    same = [make_customer(users.am1, name="重名电力有限公司", region_id=chaoyang.pk) for _ in range(14)]
    coded = make_customer(users.am1, name="另一家公司", credit_code=credit_code(7))
    user = fresh(users.am1)
    likely_duplicates_of(user=user, name="重名电力有限公司")  # the user's roles and scope read before counting
    with CaptureQueriesContext(connection) as queries:
        matches = likely_duplicates_of(
            user=user, name="重名电力有限公司", kind="organisation", region_id=chaoyang.pk, credit_code=credit_code(7)
        )
    # The best first (the credit code, then the same names by id), ten of them.
    assert [match.customer.pk for match in matches] == [coded.pk, *(c.pk for c in same[:9])]
    assert [match.reasons for match in matches[:2]] == [("credit_code",), ("name",)]
    assert matches[1].customer.region.name == chaoyang.name and matches[1].customer.owner == users.am1
    [loaded] = [q["sql"] for q in queries.captured_queries if "INNER JOIN" in q["sql"] or "LEFT OUTER JOIN" in q["sql"]]
    ids = loaded.rsplit(" IN (", 1)[1].split(")")[0].split(", ")
    assert sorted(map(int, ids)) == sorted(match.customer.pk for match in matches)  # not all 15 found
    everyone = likely_duplicates_of(user=user, name="重名电力有限公司", credit_code=credit_code(7), limit=20)
    assert [match.customer.pk for match in everyone] == [coded.pk, *(c.pk for c in same)]
