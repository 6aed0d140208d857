"""Optimistic locking (409 on a stale version) and the audit log of every write."""

import re

import pytest
from django.core.exceptions import ValidationError

from guanxi.core.errors import StaleVersion
from guanxi.core.models import AuditLog
from guanxi.customers import services
from guanxi.customers.models import Contact, Customer
from tests.conftest import credit_code, fresh, make_contact, make_customer


def _history(obj):
    return list(AuditLog.objects.filter(object_type=obj._meta.label_lower, object_id=str(obj.pk)).order_by("id"))


# --- 409 on stale versions ----------------------------------------------------------------------------------


def test_it_refuses_a_customer_update_with_a_stale_version(users, api, customers):
    client = api(users.am1)
    url = f"/customers/{customers.c1.pk}"
    assert client.patch(url, {"version": 1, "name": "第一次修改"}).status_code == 200
    row_before = Customer.objects.filter(pk=customers.c1.pk).values().get()
    audit_before = AuditLog.objects.count()

    response = client.patch(url, {"version": 1, "name": "基于旧版本的修改", "grade": "key"})

    assert response.status_code == 409
    body = response.json()
    assert body["current_version"] == 2
    assert body["detail"] and body["errors"][0]["field"] == "version"
    assert Customer.objects.filter(pk=customers.c1.pk).values().get() == row_before
    assert AuditLog.objects.count() == audit_before


def test_it_explains_a_conflict_in_the_users_language(users, api, customers):
    url = f"/customers/{customers.c1.pk}"

    english = api(users.am1, lang="en").patch(url, {"version": 9, "name": "x"}).json()
    chinese = api(users.am1, lang="zh-hans").patch(url, {"version": 9, "name": "x"}).json()

    assert english["detail"] == "This record was changed by someone else. Reload it and apply your change again."
    assert re.search(r"[\u4e00-\u9fff]", chinese["detail"])
    assert chinese["current_version"] == english["current_version"] == 1


def test_it_refuses_a_version_from_the_future(users, api, customers):
    response = api(users.am1).patch(f"/customers/{customers.c1.pk}", {"version": 99, "name": "未来"})

    assert response.status_code == 409
    assert response.json()["current_version"] == 1
    assert Customer.objects.get(pk=customers.c1.pk).name == customers.c1.name


def test_it_checks_the_version_before_the_data(users, api, customers):
    response = api(users.am1).patch(f"/customers/{customers.c1.pk}", {"version": 5, "credit_code": "bad"})

    assert response.status_code == 409


def test_it_refuses_a_contact_update_with_a_stale_version(users, api, customers):
    contact = make_contact(users.am1, customers.c1, name="赵六")
    client = api(users.am1)
    assert client.patch(f"/contacts/{contact.pk}", {"version": 1, "title": "经理"}).status_code == 200
    row_before = Contact.objects.filter(pk=contact.pk).values().get()
    audit_before = AuditLog.objects.count()

    response = client.patch(f"/contacts/{contact.pk}", {"version": 1, "title": "总经理"})

    assert response.status_code == 409
    assert response.json()["current_version"] == 2
    assert Contact.objects.filter(pk=contact.pk).values().get() == row_before
    assert AuditLog.objects.count() == audit_before


def test_it_lets_exactly_one_of_two_writers_holding_the_same_version_win(users, customers):
    """The service re-checks the version in its UPDATE, so a writer that read before the other wrote loses."""
    services.customer_update(actor=fresh(users.am1), customer_id=customers.c1.pk, version=1, data={"name": "甲"})

    with pytest.raises(StaleVersion):
        services.customer_update(actor=fresh(users.lead1), customer_id=customers.c1.pk, version=1, data={"name": "乙"})

    assert Customer.objects.get(pk=customers.c1.pk).name == "甲"
    assert [e.action for e in _history(customers.c1)] == ["create", "update"]


# --- audit entries ----------------------------------------------------------------------------------------------


def test_it_audits_a_create_with_actor_fields_and_client_ip(users, api):
    response = api(users.am1, ip="10.20.30.40").post(
        "/customers", {"name": "审计客户", "kind": "organisation", "grade": "key", "tags": ["医院"]}
    )
    customer = Customer.objects.get(pk=response.json()["id"])

    (entry,) = _history(customer)
    assert (entry.action, entry.actor_id, entry.ip) == ("create", users.am1.pk, "10.20.30.40")
    assert entry.object_repr == str(customer)
    assert entry.changes["name"] == [None, "审计客户"]
    assert entry.changes["grade"] == [None, "key"]
    assert entry.changes["owner"] == [None, users.am1.pk]
    assert entry.changes["tags"] == [None, ["医院"]]


def test_it_audits_an_update_with_before_and_after_of_changed_fields_only(users, api, customers):
    code = credit_code()
    response = api(users.am1, ip="192.168.1.9").patch(
        f"/customers/{customers.c1.pk}",
        {"version": 1, "name": "改名后", "credit_code": code, "stage": customers.c1.stage, "tags": ["学校"]},
    )
    assert response.status_code == 200

    entry = _history(customers.c1)[-1]
    assert (entry.action, entry.actor_id, entry.ip) == ("update", users.am1.pk, "192.168.1.9")
    assert entry.changes == {
        "name": ["甲一电力客户", "改名后"],
        "credit_code": [None, code],
        "tags": [[], ["学校"]],
    }


def test_it_audits_archive_and_restore(users, api, customers):
    client = api(users.am1)
    client.delete(f"/customers/{customers.c1.pk}")
    client.post(f"/customers/{customers.c1.pk}/restore")

    archive, restore = _history(customers.c1)[-2:]
    assert archive.action == "archive" and archive.changes["archived_at"][0] is None
    assert archive.changes["archived_at"][1] is not None
    assert restore.action == "restore" and restore.changes["archived_at"][1] is None
    assert {archive.actor_id, restore.actor_id} == {users.am1.pk}


def test_it_audits_contact_writes(users, api, customers):
    client = api(users.am1)
    contact = client.post(f"/customers/{customers.c1.pk}/contacts", {"name": "孙七", "mobile": "13900139000"}).json()
    client.patch(f"/contacts/{contact['id']}", {"version": 1, "mobile": "13900139001"})
    client.delete(f"/contacts/{contact['id']}")

    entries = list(
        AuditLog.objects.filter(object_type="customers.contact", object_id=str(contact["id"])).order_by("id")
    )
    assert [e.action for e in entries] == ["create", "update", "delete"]
    assert entries[0].changes["mobile"] == [None, "13900139000"]
    assert entries[1].changes == {"mobile": ["13900139000", "13900139001"]}
    assert entries[2].changes["name"] == [None, "孙七"]  # what was deleted stays on record
    assert all(e.actor_id == users.am1.pk and e.ip == "127.0.0.1" for e in entries)


def test_it_writes_no_audit_entry_for_a_rejected_write(users, customers):
    before = AuditLog.objects.count()

    with pytest.raises(ValidationError):
        services.customer_update(
            actor=fresh(users.am1), customer_id=customers.c1.pk, version=1, data={"credit_code": "bad"}
        )

    assert AuditLog.objects.count() == before


def test_it_serves_the_history_of_a_customer_newest_first(users, api, customers):
    client = api(users.am1)
    client.patch(f"/customers/{customers.c1.pk}", {"version": 1, "grade": "key"})
    client.delete(f"/customers/{customers.c1.pk}")

    response = client.get("/audit", {"object_type": "customers.customer", "object_id": customers.c1.pk})

    assert response.status_code == 200
    items = response.json()["items"]
    assert [i["action"] for i in items] == ["archive", "update", "create"]
    assert items[1]["changes"] == {"grade": ["general", "key"]}
    assert items[1]["actor"] == "am1" and items[1]["actor_id"] == users.am1.pk
    assert items[1]["ip"] == "127.0.0.1"
    assert items[1]["object_id"] == str(customers.c1.pk)


def test_it_pages_through_a_long_history(users, api):
    customer = make_customer(users.am1)
    for version in range(1, 8):
        services.customer_update(
            actor=fresh(users.am1), customer_id=customer.pk, version=version, data={"address": f"地址{version}"}
        )
    client = api(users.am1)
    seen, cursor = [], None
    while True:
        params = {"object_type": "customers.customer", "object_id": customer.pk, "limit": 3}
        page = client.get("/audit", {**params, **({"cursor": cursor} if cursor else {})}).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == [e.pk for e in reversed(_history(customer))]


def test_it_serves_the_history_of_a_contact(users, api, customers):
    contact = make_contact(users.am1, customers.c1)

    response = api(users.am1).get("/audit", {"object_type": "customers.contact", "object_id": contact.pk})

    assert [i["action"] for i in response.json()["items"]] == ["create"]


@pytest.mark.parametrize(
    "object_type, object_id",
    [
        ("customers.customer", "c3"),  # another branch
        ("customers.customer", "sensitive"),  # am1 owns it but may not see sensitive customers
        ("customers.customer", "999999"),
        ("customers.customer", "abc"),
        ("core.apitoken", "1"),  # no app registered a visibility rule: nobody reads it here
        ("nothing.at_all", "1"),
    ],
)
def test_it_answers_404_for_a_history_out_of_scope(users, api, customers, object_type, object_id):
    object_id = str(getattr(customers, object_id).pk) if hasattr(customers, object_id) else object_id

    response = api(users.am1).get("/audit", {"object_type": object_type, "object_id": object_id})

    assert response.status_code == 404


def test_it_answers_404_for_a_contact_history_out_of_scope(users, api, customers):
    contact = make_contact(users.am3, customers.c3)

    params = {"object_type": "customers.contact", "object_id": contact.pk}
    assert api(users.am1).get("/audit", params).status_code == 404
    assert api(users.bm2).get("/audit", params).status_code == 200
