"""Bulk transfer of owner (A5): all customers of one manager to another, audited per customer, nothing else changed."""

import pytest

from guanxi.core.models import AuditLog
from guanxi.customers import services
from guanxi.customers.models import Contact, Customer
from tests.conftest import credit_code, fresh, make_contact, make_customer

MOVED_FIELDS = {"owner_id", "org_unit_id", "version", "updated_at"}


def _rows():
    return {row["id"]: row for row in Customer.objects.values()}


@pytest.fixture
def book(users):
    """am1 owns five customers (varied fields, tags, contacts); am2 two; am3 (another branch) one."""
    mine = [
        make_customer(users.am1, name=f"甲方{i}", grade=grade, tags=tags, credit_code=credit_code(), address=f"路{i}号")
        for i, (grade, tags) in enumerate(
            [("key", ["医院"]), ("general", []), ("potential", ["学校", "高耗能"]), ("key", []), ("general", ["医院"])]
        )
    ]
    make_contact(users.am1, mine[0], name="甲方联系人", mobile="13800138000")
    services.customer_update(actor=fresh(users.am1), customer_id=mine[1].pk, version=1, data={"stage": "active"})
    theirs = [make_customer(users.am2, name=f"乙方{i}") for i in range(2)]
    far = make_customer(users.am3, name="丙方")
    return mine, theirs, far


def test_it_transfers_all_customers_of_one_manager_to_another(users, api, book):
    mine, theirs, far = book
    before = _rows()
    contacts_before = list(Contact.objects.order_by("id").values())
    tags_before = {c.pk: sorted(t.name for t in c.tags.all()) for c in Customer.objects.prefetch_related("tags")}

    response = api(users.bm1, ip="10.0.0.8").post(
        "/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am2.pk}
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {"transferred": 5}
    after = _rows()
    for customer in mine:
        old, new = before[customer.pk], after[customer.pk]
        assert new["owner_id"] == users.am2.pk
        assert new["org_unit_id"] == users.am2.profile.org_unit_id  # the customer follows its owner's team
        assert new["version"] == old["version"] + 1
        assert new["updated_at"] >= old["updated_at"]
        assert {k: v for k, v in new.items() if k not in MOVED_FIELDS} == {
            k: v for k, v in old.items() if k not in MOVED_FIELDS
        }
    for customer in [*theirs, far]:
        assert after[customer.pk] == before[customer.pk]
    assert list(Contact.objects.order_by("id").values()) == contacts_before
    assert {
        c.pk: sorted(t.name for t in c.tags.all()) for c in Customer.objects.prefetch_related("tags")
    } == tags_before
    assert Customer.objects.filter(owner=users.am1).count() == 0


def test_it_audits_a_transfer_once_per_customer(users, api, book):
    mine, _theirs, _far = book
    old_unit, new_unit = users.am1.profile.org_unit_id, users.am2.profile.org_unit_id

    api(users.bm1, ip="10.0.0.8").post(
        "/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am2.pk}
    )

    entries = AuditLog.objects.filter(action="transfer").order_by("object_id")
    assert sorted(int(e.object_id) for e in entries) == sorted(c.pk for c in mine)
    for entry in entries:
        assert entry.object_type == "customers.customer"
        assert entry.actor_id == users.bm1.pk and entry.ip == "10.0.0.8"
        assert entry.changes == {"owner": [users.am1.pk, users.am2.pk], "org_unit": [old_unit, new_unit]}
    history = api(users.am2).get("/audit", {"object_type": "customers.customer", "object_id": mine[0].pk}).json()
    assert history["items"][0]["action"] == "transfer"


def test_it_transfers_only_the_listed_customers(users, api, book):
    mine, _theirs, _far = book

    response = api(users.lead1).post(
        "/customers/transfer",
        {"from_user_id": users.am1.pk, "to_user_id": users.lead1.pk, "customer_ids": [mine[0].pk, mine[2].pk]},
    )

    assert response.json() == {"transferred": 2}
    assert set(Customer.objects.filter(owner=users.lead1).values_list("pk", flat=True)) == {mine[0].pk, mine[2].pk}
    assert Customer.objects.filter(owner=users.am1).count() == 3
    assert AuditLog.objects.filter(action="transfer").count() == 2


def test_it_transfers_only_within_the_actors_scope(users, api, book):
    mine, _theirs, far = book
    # bm2 (branch B02) cannot reach am1's customers, nor hand anything to a B01 manager.
    response = api(users.bm2).post("/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am3.pk})
    assert response.json() == {"transferred": 0}
    assert Customer.objects.filter(owner=users.am1).count() == 5

    to_other_branch = api(users.bm1).post(
        "/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am3.pk}
    )
    assert to_other_branch.status_code == 422
    assert to_other_branch.json()["errors"][0]["field"] == "to_user_id"

    listed_out_of_scope = api(users.bm1).post(
        "/customers/transfer",
        {"from_user_id": users.am3.pk, "to_user_id": users.am2.pk, "customer_ids": [far.pk]},
    )
    assert listed_out_of_scope.status_code == 422
    assert listed_out_of_scope.json()["errors"][0]["field"] == "customer_ids"

    # A team lead reaches only their own team: lead2 cannot take am1's (team 1) customers.
    assert api(users.lead2).post(
        "/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am2.pk}
    ).json() == {"transferred": 0}
    assert Customer.objects.get(pk=far.pk).owner_id == users.am3.pk
    assert not AuditLog.objects.filter(action="transfer").exists()


def test_it_leaves_sensitive_customers_to_users_allowed_to_see_them(users, api, book):
    hidden = make_customer(users.bm1, name="敏感", owner_id=users.am1.pk, sensitive=True)

    api(users.lead1).post("/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.lead1.pk})
    assert Customer.objects.get(pk=hidden.pk).owner_id == users.am1.pk

    api(users.bm1).post("/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am2.pk})
    assert Customer.objects.get(pk=hidden.pk).owner_id == users.am2.pk


@pytest.mark.parametrize("username", ["am1", "am2", "agent1", "analyst1", "exec1"])
def test_it_refuses_transfers_to_roles_without_the_permission(users, api, book, username):
    before = _rows()

    response = api(getattr(users, username)).post(
        "/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am2.pk}
    )

    assert response.status_code == 403
    assert _rows() == before
    assert not AuditLog.objects.filter(action="transfer").exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"from_user_id": "am1", "to_user_id": "am1"}, "to_user_id"),
        ({"from_user_id": "am1", "to_user_id": 987654}, "to_user_id"),
        ({"from_user_id": 987654, "to_user_id": "am2"}, "from_user_id"),
        ({"to_user_id": "am2"}, "from_user_id"),
        ({"from_user_id": "am1", "to_user_id": "am2", "customer_ids": [987654]}, "customer_ids"),
        ({"from_user_id": "am1", "to_user_id": "am2", "customer_ids": "all"}, "customer_ids"),
    ],
)
def test_it_rejects_a_bad_transfer_request(users, api, book, body, field):
    body = {
        key: getattr(users, value).pk if isinstance(value, str) and key != "customer_ids" else value
        for key, value in body.items()
    }
    before = _rows()

    response = api(users.bm1).post("/customers/transfer", body)

    assert response.status_code == 422
    assert field in {error["field"] for error in response.json()["errors"]}
    assert _rows() == before
    assert not AuditLog.objects.filter(action="transfer").exists()


def test_it_makes_reads_of_the_old_version_stale_after_a_transfer(users, api, book):
    mine, _theirs, _far = book
    api(users.bm1).post("/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am2.pk})

    response = api(users.bm1).patch(f"/customers/{mine[0].pk}", {"version": 1, "name": "旧版本"})

    assert response.status_code == 409
