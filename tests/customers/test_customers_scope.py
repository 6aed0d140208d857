"""The scope matrix: each role against customers inside and outside its scope, on every read and write path.

Customers (fixture `customers`): c1 (am1, B01-T1), c2 (am2, B01-T2), c3 (am3, B02-T1) and `sensitive` (am1, B01-T1,
marked sensitive). Inside the scope → visible; outside → 404, exactly as if it did not exist (never 403 on a read).
Read-only roles get 403 on every write. Sensitive customers need customers.access_sensitive_customer.
"""

import pytest

from guanxi.core.models import AuditLog
from guanxi.customers.models import Contact, Customer
from tests.conftest import id_number, make_contact, make_customer

ALL = {"c1", "c2", "c3", "sensitive"}
VISIBLE = {
    "admin": ALL,
    "exec1": ALL,
    "bm1": {"c1", "c2", "sensitive"},  # own branch, sensitive allowed
    "bm2": {"c3"},
    "lead1": {"c1"},  # own team; no sensitive permission
    "lead2": {"c2"},
    "lead3": {"c3"},
    "am1": {"c1"},  # own customers; even their own sensitive customer is hidden
    "am2": {"c2"},
    "am3": {"c3"},
    "agent1": {"c1", "c2"},  # branch, read-only
    "agent2": {"c3"},
    "analyst1": {"c1", "c2"},
    "analyst2": {"c3"},
}
WRITERS = {"admin", "bm1", "bm2", "lead1", "lead2", "lead3", "am1", "am2", "am3"}
TRANSFERRERS = {"admin", "bm1", "bm2", "lead1", "lead2", "lead3"}
ROLES = sorted(VISIBLE)


def _ids(page):
    return {item["id"] for item in page["items"]}


@pytest.fixture
def world(users, customers):
    """The customers plus one contact each (with a mobile, to check masking)."""
    contacts = {
        name: make_contact(users.admin, getattr(customers, name), name=f"{name}联系人", mobile="13812341234")
        for name in sorted(ALL)
    }
    return customers, contacts


@pytest.mark.parametrize("username", ROLES)
def test_it_lists_exactly_the_customers_in_scope(users, api, world, username):
    customers, _contacts = world
    expected = {getattr(customers, name).pk for name in VISIBLE[username]}

    response = api(getattr(users, username)).get("/customers", {"limit": 200})

    assert response.status_code == 200
    assert _ids(response.json()) == expected
    for filters in ({"q": "客户"}, {"grade": "general"}, {"archived": True}, {"kind": "organisation"}):
        filtered = _ids(api(getattr(users, username)).get("/customers", filters).json())
        assert filtered <= expected  # no filter widens the scope


READS = ["detail", "overview", "contacts", "contact", "history", "contact history"]


@pytest.mark.parametrize("username", ROLES)
def test_it_shows_customers_and_their_contacts_only_in_scope(users, api, world, username):
    customers, contacts = world
    client = api(getattr(users, username))
    seen, expected = {}, {}

    for name in sorted(ALL):
        customer, contact = getattr(customers, name), contacts[name]
        responses = {
            "detail": client.get(f"/customers/{customer.pk}"),
            "overview": client.get(f"/customers/{customer.pk}/overview"),
            "contacts": client.get(f"/customers/{customer.pk}/contacts"),
            "contact": client.get(f"/contacts/{contact.pk}"),
            "history": client.get("/audit", {"object_type": "customers.customer", "object_id": customer.pk}),
            "contact history": client.get("/audit", {"object_type": "customers.contact", "object_id": contact.pk}),
        }
        seen[name] = {path: r.status_code for path, r in responses.items()}
        expected[name] = dict.fromkeys(READS, 200 if name in VISIBLE[username] else 404)
        if name in VISIBLE[username]:
            assert [c["id"] for c in responses["contacts"].json()["items"]] == [contact.pk]
        else:  # nothing of the record leaks into the 404 answers
            assert customer.number not in b"".join(r.content for r in responses.values()).decode()

    assert seen == expected


def _tables():
    return list(Customer.objects.order_by("id").values()), list(Contact.objects.order_by("id").values())


@pytest.mark.parametrize("username", ROLES)
def test_it_lets_only_writers_change_customers_in_scope(users, api, world, username):
    customers, contacts = world
    client = api(getattr(users, username))
    seen, expected = {}, {}

    for name in sorted(ALL):
        customer, contact = getattr(customers, name), contacts[name]
        before, audit_before = _tables(), AuditLog.objects.count()
        seen[name] = {
            "patch": client.patch(f"/customers/{customer.pk}", {"version": 1, "address": "改过的地址"}).status_code
        }
        if username in WRITERS and name in VISIBLE[username]:
            expected[name] = {"patch": 200}
            assert Customer.objects.get(pk=customer.pk).address == "改过的地址"
            continue
        seen[name].update(
            {
                "add contact": client.post(f"/customers/{customer.pk}/contacts", {"name": "新"}).status_code,
                "patch contact": client.patch(f"/contacts/{contact.pk}", {"version": 1, "title": "x"}).status_code,
                "delete contact": client.delete(f"/contacts/{contact.pk}").status_code,
                "archive": client.delete(f"/customers/{customer.pk}").status_code,
                "restore": client.post(f"/customers/{customer.pk}/restore").status_code,
            }
        )
        # Read-only roles: 403 whatever the record; writers: 404 outside their scope, as if absent.
        expected[name] = dict.fromkeys(seen[name], 404 if username in WRITERS else 403)
        assert _tables() == before
        assert AuditLog.objects.count() == audit_before

    assert seen == expected
    created = client.post("/customers", {"name": "新建客户", "kind": "organisation"}).status_code
    assert created == (201 if username in WRITERS else 403)


@pytest.mark.parametrize("username", ROLES)
def test_it_lets_only_transferrers_move_customers_in_scope(users, api, world, username):
    customers, _contacts = world
    actor = getattr(users, username)
    # A target the actor may hand work to: itself for team leads and above (always in its own scope).
    target = actor if username in TRANSFERRERS else users.admin
    seen, expected = {}, {}

    for name in sorted(ALL):
        customer = Customer.objects.get(pk=getattr(customers, name).pk)
        body = {"from_user_id": customer.owner_id, "to_user_id": target.pk}
        listed = api(actor).post("/customers/transfer", {**body, "customer_ids": [customer.pk]})
        if username not in TRANSFERRERS:
            expected[name] = (403, customer.owner_id)
        elif name in VISIBLE[username]:
            expected[name] = (200, target.pk)
        else:
            expected[name] = (422, customer.owner_id)  # listed but invisible: named in `customer_ids`
            assert listed.json()["errors"][0]["field"] == "customer_ids"
            # Without a list (all of that owner's customers the actor sees) it is not moved either.
            assert api(actor).post("/customers/transfer", body).status_code == 200
        seen[name] = (listed.status_code, Customer.objects.get(pk=customer.pk).owner_id)

    assert seen == expected


# --- sensitive customers ----------------------------------------------------------------------------------------


def test_it_hides_sensitive_customers_from_their_own_account_manager(users, api, customers):
    client = api(users.am1)

    assert client.get(f"/customers/{customers.sensitive.pk}").status_code == 404
    assert client.patch(f"/customers/{customers.sensitive.pk}", {"version": 1, "name": "x"}).status_code == 404
    assert customers.sensitive.pk not in _ids(client.get("/customers", {"q": "敏感"}).json())


@pytest.mark.parametrize("username, allowed", [("am1", False), ("lead1", False), ("bm1", True), ("admin", True)])
def test_it_lets_only_privileged_users_mark_a_customer_sensitive(users, api, customers, username, allowed):
    client = api(getattr(users, username))
    created = client.post("/customers", {"name": "新敏感客户", "kind": "organisation", "sensitive": True})
    patched = client.patch(f"/customers/{customers.c1.pk}", {"version": 1, "sensitive": True})

    if allowed:
        assert (created.status_code, patched.status_code) == (201, 200)
        assert Customer.objects.get(pk=customers.c1.pk).sensitive is True
    else:
        assert (created.status_code, patched.status_code) == (403, 403)
        assert not Customer.objects.filter(name="新敏感客户").exists()
        assert Customer.objects.get(pk=customers.c1.pk).sensitive is False


# --- masking ----------------------------------------------------------------------------------------------------

MASKED = {"am1": True, "lead1": True, "agent1": True, "analyst1": True, "bm1": False, "exec1": False, "admin": False}


@pytest.mark.parametrize("username, masked", sorted(MASKED.items()))
def test_it_masks_phones_and_id_numbers_for_roles_without_the_permission(users, api, username, masked):
    number = id_number(birth="19850615")
    person = make_customer(users.bm1, kind="individual", name="周八", id_number=number, owner_id=users.am1.pk)
    contact = make_contact(users.am1, person, mobile="13812341234", landline="0452-2345678")
    client = api(getattr(users, username))

    detail = client.get(f"/customers/{person.pk}").json()
    listed = next(c for c in client.get("/customers").json()["items"] if c["id"] == person.pk)
    contact_out = client.get(f"/contacts/{contact.pk}").json()
    contacts_out = client.get(f"/customers/{person.pk}/contacts").json()["items"][0]
    overview = client.get(f"/customers/{person.pk}/overview", {"panels": "all"}).json()
    history = client.get("/audit", {"object_type": "customers.contact", "object_id": contact.pk}).json()["items"]
    customer_history = client.get("/audit", {"object_type": "customers.customer", "object_id": person.pk}).json()

    if masked:
        masked_id = number[0] + "*" * 15 + number[-2:]
        assert detail["id_number"] == listed["id_number"] == masked_id
        assert contact_out["mobile"] == contacts_out["mobile"] == "138****1234"
        assert overview["panels"]["profile"]["id_number"] == masked_id
        assert overview["panels"]["contacts"][0]["mobile"] == "138****1234"
        assert history[0]["changes"]["mobile"] == [None, "138****1234"]
        assert customer_history["items"][0]["changes"]["id_number"] == [None, masked_id]
        assert contact_out["landline"].endswith("5678") and contact_out["landline"] != "0452-2345678"
        assert "13812341234" not in str([contact_out, contacts_out, overview, history])
        assert number not in str([detail, listed, overview, customer_history])
    else:
        assert detail["id_number"] == listed["id_number"] == number
        assert contact_out["mobile"] == contacts_out["mobile"] == "13812341234"
        assert contact_out["landline"] == "0452-2345678"
        assert history[0]["changes"]["mobile"] == [None, "13812341234"]
    assert Contact.objects.get(pk=contact.pk).mobile == "13812341234"  # masking is for display only


def test_it_masks_the_answer_to_an_account_managers_own_write(users, api, customers):
    response = api(users.am1).post(f"/customers/{customers.c1.pk}/contacts", {"name": "吴九", "mobile": "13912345678"})

    assert response.status_code == 201
    assert response.json()["mobile"] == "139****5678"
    assert Contact.objects.get(pk=response.json()["id"]).mobile == "13912345678"


def test_it_does_not_write_back_a_masked_value_on_an_unrelated_patch(users, api, customers):
    contact = make_contact(users.am1, customers.c1, mobile="13912345678")

    response = api(users.am1).patch(f"/contacts/{contact.pk}", {"version": 1, "title": "主任"})

    assert response.status_code == 200
    assert Contact.objects.get(pk=contact.pk).mobile == "13912345678"
