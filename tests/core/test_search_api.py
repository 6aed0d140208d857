"""GET /api/v1/search and the /search/ page: one box, hits grouped by kind, scoped and masked."""

import pytest
from django.test import Client

from guanxi.core import search
from tests.conftest import credit_code, make_contact, make_customer


@pytest.fixture
def world(users):
    mine = make_customer(users.am1, name="齐齐哈尔钢铁有限公司", credit_code=credit_code())
    theirs = make_customer(users.am3, name="上海钢铁有限公司")
    secret = make_customer(users.bm1, name="敏感钢铁集团", owner_id=users.am1.pk, sensitive=True)
    make_contact(users.am1, mine, name="王芳", mobile="13812345678")
    make_contact(users.am3, theirs, name="钱芳", mobile="13600005678")
    make_contact(users.bm1, secret, name="孙芳", mobile="13500005678")
    return mine, theirs, secret


def test_it_answers_one_key_per_registered_kind(users, api, world):
    mine, _theirs, _secret = world

    response = api(users.am1).get("/search", {"q": "钢铁"})

    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["results"]
    assert list(body["results"]) == [kind.key for kind in search.kinds()]
    assert body["results"]["customers"] == [
        {
            "id": mine.pk,
            "title": "齐齐哈尔钢铁有限公司",
            "subtitle": mine.number,
            "url": f"/customers/{mine.pk}/",
            "match": "name",
        }
    ]
    assert body["results"]["contacts"] == []


def test_it_finds_numbers_credit_codes_and_phones(users, api, world):
    mine, _theirs, _secret = world
    client = api(users.admin)

    by_number = client.get("/search", {"q": mine.number.lower()}).json()["results"]["customers"]
    by_code = client.get("/search", {"q": mine.credit_code}).json()["results"]["customers"]
    by_mobile = client.get("/search", {"q": "138-1234-5678"}).json()["results"]["contacts"]
    by_tail = client.get("/search", {"q": "5678"}).json()["results"]["contacts"]

    assert [(hit["id"], hit["match"]) for hit in by_number] == [(mine.pk, "number")]
    assert [(hit["id"], hit["match"]) for hit in by_code] == [(mine.pk, "credit_code")]
    assert [(hit["title"], hit["match"]) for hit in by_mobile] == [("王芳", "mobile")]
    assert sorted(hit["title"] for hit in by_tail) == ["孙芳", "王芳", "钱芳"]


def test_it_shows_an_account_manager_only_their_own_records_with_phones_masked(users, api, world):
    client = api(users.am1)

    by_tail = client.get("/search", {"q": "5678"}).json()["results"]
    by_name = client.get("/search", {"q": "钢铁", "limit": 50}).json()["results"]
    by_full = client.get("/search", {"q": "13600005678"}).json()["results"]  # am3's contact: not found

    assert [(hit["title"], hit["subtitle"]) for hit in by_tail["contacts"]] == [
        ("王芳", "齐齐哈尔钢铁有限公司 · 138****5678")
    ]
    assert [hit["title"] for hit in by_name["customers"]] == ["齐齐哈尔钢铁有限公司"]
    assert {"customers", "contacts"} <= set(by_full) and not any(by_full.values())
    assert "13812345678" not in str(by_tail)


def test_it_shows_whole_phones_to_roles_with_the_permission(users, api, world):
    hits = api(users.bm1).get("/search", {"q": "王芳"}).json()["results"]["contacts"]

    assert [hit["subtitle"] for hit in hits] == ["齐齐哈尔钢铁有限公司 · 13812345678"]


def test_it_limits_hits_per_kind(users, api, world):
    for n in range(6):
        make_customer(users.admin, name=f"钢铁{n}厂")

    hits = api(users.admin).get("/search", {"q": "钢铁", "limit": 3}).json()["results"]["customers"]

    assert len(hits) == 3


@pytest.mark.parametrize("q", ["钢", " ", "a"])
def test_it_answers_a_short_query_with_empty_lists(users, api, world, q):
    response = api(users.admin).get("/search", {"q": q})

    assert response.status_code == 200
    results = response.json()["results"]
    assert {"customers", "contacts"} <= set(results)  # and the other apps' kinds, all empty
    assert not any(results.values())


@pytest.mark.parametrize(
    "params, field",
    [({}, "q"), ({"q": "钢" * 201}, "q"), ({"q": "钢铁", "limit": 0}, "limit"), ({"q": "钢铁", "limit": 51}, "limit")],
)
def test_it_rejects_bad_parameters_naming_the_field(users, api, params, field):
    response = api(users.admin, lang="en").get("/search", params)

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == [field]


def test_it_needs_authentication(db, api):
    response = api().get("/search", {"q": "钢铁"})

    assert response.status_code == 401


def test_it_documents_the_hit_schema(db, api):
    schema = Client().get("/api/v1/openapi.json").json()

    hit = schema["components"]["schemas"]["SearchHitOut"]
    assert set(hit["properties"]) == {"id", "title", "subtitle", "url", "match"}
    assert all(prop.get("description") for prop in hit["properties"].values())
    assert "/api/v1/search" in schema["paths"]


# --- the page -----------------------------------------------------------------------------------------------------


def test_the_page_groups_hits_by_kind_within_scope(users, world):
    client = Client()
    client.force_login(users.am1)

    page = client.get("/search/", {"q": "钢铁"})
    fragment = client.get("/search/", {"q": "5678"}, headers={"HX-Request": "true"})

    assert page.status_code == 200
    assert "齐齐哈尔钢铁有限公司" in page.content.decode() and "上海钢铁" not in page.content.decode()
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert "138****5678" in fragment.content.decode() and "钱芳" not in fragment.content.decode()
