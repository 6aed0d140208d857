"""Keyset pagination: following `next` yields every visible customer exactly once, in order; bad cursors get 422."""

import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from guanxi.customers.models import Customer
from tests.conftest import make_customer

ORDERINGS = ["name", "-name", "number", "-number", "created_at", "-created_at", "updated_at", "-updated_at"]


@pytest.fixture
def crowd(users):
    """23 customers of am1 and 7 of am2 (bulk-inserted); many share a name, many share created_at/updated_at."""
    names = ["同名客户"] * 9 + ["阿尔法", "贝塔", "Zeta", "alpha", "同名客户A", "日光"]
    names += [f"客户{i:02d}" for i in range(8)]
    owners = [(users.am1, name) for name in names] + [(users.am2, "同名客户")] * 7
    # Numbers deliberately out of step with ids, so ordering by number differs from ordering by id.
    Customer.objects.bulk_create(
        Customer(
            number=f"CB01{(i * 7919) % 1000:07d}",
            name=name,
            kind="organisation",
            owner=owner,
            org_unit_id=owner.profile.org_unit_id,
        )
        for i, (owner, name) in enumerate(owners)
    )
    mine = list(Customer.objects.filter(owner=users.am1).order_by("id"))
    theirs = list(Customer.objects.filter(owner=users.am2).order_by("id"))
    moment = timezone.now() - timedelta(days=3)
    Customer.objects.filter(pk__in=[c.pk for c in mine[::2]]).update(created_at=moment, updated_at=moment)
    return mine, theirs


def _walk(client, limit, **params):
    ids, pages, cursor = [], 0, None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        response = client.get("/customers", query)
        assert response.status_code == 200, response.json()
        page = response.json()
        assert len(page["items"]) <= limit
        ids += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            return ids, pages
        assert pages < 100


def _expected(queryset, ordering):
    field = ordering.lstrip("-")
    tie = "-id" if ordering.startswith("-") else "id"
    return list(queryset.order_by(ordering, tie).values_list("id", flat=True)), field


@pytest.mark.parametrize("ordering", ORDERINGS)
@pytest.mark.parametrize("limit", [1, 4, 7])
def test_it_yields_every_visible_customer_once_in_order(users, api, crowd, ordering, limit):
    mine, _theirs = crowd

    ids, pages = _walk(api(users.am1), limit, ordering=ordering)

    expected, _field = _expected(Customer.objects.filter(owner=users.am1), ordering)
    assert ids == expected
    assert len(ids) == len(set(ids)) == len(mine)
    assert pages == -(-len(mine) // limit)  # no empty trailing page


@pytest.mark.parametrize("ordering", ["name", "-created_at", "number"])
def test_it_pages_a_wider_scope_with_filters(users, api, crowd, ordering):
    ids, _pages = _walk(api(users.bm1), 5, ordering=ordering, q="同名")

    expected, _field = _expected(Customer.objects.filter(name__contains="同名"), ordering)
    assert ids == expected and len(expected) == 17


def test_it_answers_an_empty_last_page_without_next(users, api, crowd):
    page = api(users.am3).get("/customers").json()

    assert page == {"items": [], "next": None}


def test_it_keeps_going_after_a_row_of_the_previous_page_is_archived(users, api, crowd):
    mine, _theirs = crowd
    client = api(users.am1)
    first = client.get("/customers", {"limit": 5}).json()
    client.delete(f"/customers/{first['items'][-1]['id']}")

    rest, _pages = _walk(client, 5, cursor=first["next"])

    expected, _field = _expected(Customer.objects.filter(owner=users.am1, archived_at__isnull=True), "name")
    assert [i["id"] for i in first["items"][:-1]] + rest == expected


def _cursor(value, last_id) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, last_id]).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "!!!",
        "e30",  # {}
        _cursor(None, 1),
        _cursor("a", "1"),
        _cursor("a", None),
        base64.urlsafe_b64encode(b"[1, 2, 3]").decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
        base64.urlsafe_b64encode(b"5").decode(),
        "x" * 501,
    ],
)
@pytest.mark.parametrize("ordering", ["name", "-created_at", "number"])
def test_it_answers_a_garbage_cursor_with_422_naming_cursor(users, api, cursor, ordering):
    response = api(users.am1).get("/customers", {"cursor": cursor, "ordering": ordering})

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


@pytest.mark.parametrize(
    "ordering, value, last_id",
    [
        ("-created_at", "not a date", 1),
        ("created_at", {"a": 1}, 1),
        ("updated_at", [2020, 1, 1], 1),
        ("created_at", 12345, 1),
        ("name", {"a": 1}, 1),
        ("name", "x", 10**30),
        ("number", "C", -(10**30)),
    ],
)
def test_it_answers_a_well_formed_cursor_with_a_wrong_value_with_422(users, api, ordering, value, last_id):
    response = api(users.am1).get("/customers", {"cursor": _cursor(value, last_id), "ordering": ordering})

    assert response.status_code == 422, response.content
    assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cursor=st.text(min_size=1, max_size=120), ordering=st.sampled_from(ORDERINGS))
def test_it_never_fails_on_an_arbitrary_cursor(users, api, cursor, ordering):
    response = api(users.am1).get("/customers", {"cursor": cursor, "ordering": ordering})

    assert response.status_code in (200, 422)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    value=st.one_of(
        st.text(max_size=30),
        st.integers(),
        st.floats(allow_nan=False),
        st.booleans(),
        st.lists(st.integers(), max_size=3),
    ),
    last_id=st.integers(min_value=-(2**70), max_value=2**70),
    ordering=st.sampled_from(ORDERINGS),
)
@example(value="\x00", last_id=0, ordering="name")  # PostgreSQL refuses NUL in a query (was a 422 on __all__)
def test_it_never_fails_on_a_decodable_cursor(users, api, value, last_id, ordering):
    response = api(users.am1).get("/customers", {"cursor": _cursor(value, last_id), "ordering": ordering})

    assert response.status_code in (200, 422)
    if response.status_code == 422:
        assert [e["field"] for e in response.json()["errors"]] == ["cursor"]


def test_it_pages_the_audit_history_with_the_same_cursor_rules(users, api, crowd):
    mine, _theirs = crowd
    response = api(users.am1).get(
        "/audit", {"object_type": "customers.customer", "object_id": mine[0].pk, "cursor": "garbage"}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "cursor"


def test_it_reads_the_cursor_it_wrote_for_a_chinese_name(users, api):
    for name in ["北京", "北京", "上海", "广州"]:
        make_customer(users.am1, name=name)

    ids, _pages = _walk(api(users.am1), 1, ordering="-name")

    assert ids == list(Customer.objects.order_by("-name", "-id").values_list("id", flat=True))
