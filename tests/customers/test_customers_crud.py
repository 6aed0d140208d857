"""Customers and contacts through the API: create, read, update, archive/restore, contacts and primary switching."""

import re

import pytest

from guanxi.core.models import AuditLog
from guanxi.customers import services
from guanxi.customers.models import Category, Contact, Customer, CustomerSequence, Region
from tests.conftest import credit_code, errors_by_field, fresh, make_contact, make_customer

NUMBER = re.compile(r"^C(?P<branch>[A-Z0-9]+)(?P<seq>\d{7})$")


# --- customers --------------------------------------------------------------------------------------------------


def test_it_creates_a_customer_from_name_and_kind_only(users, api):
    response = api(users.am1).post("/customers", {"name": "  华能示范电厂  ", "kind": "organisation"})

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "华能示范电厂"  # trimmed
    assert body["kind"] == "organisation"
    assert body["owner_id"] == users.am1.pk  # an account manager owns what they create
    assert body["org_unit_id"] == users.am1.profile.org_unit_id
    assert body["stage"] == "potential"
    assert body["grade"] == "general"
    assert body["vip"] is False and body["sensitive"] is False
    assert body["tags"] == [] and body["credit_code"] is None and body["id_number"] is None
    assert body["version"] == 1
    assert NUMBER.match(body["number"]).group("branch") == "B01"
    assert Customer.objects.get(pk=body["id"]).created_by_id == users.am1.pk


def test_it_creates_an_individual_with_every_optional_field(users, api):
    category = Category.objects.get(code="P-RES-URB")
    region = Region.objects.get(code="110105")
    parent = make_customer(users.am1, name="集团总部")
    response = api(users.am1).post(
        "/customers",
        {
            "name": "张三",
            "kind": "individual",
            "category_id": category.pk,
            "region_id": region.pk,
            "area": "urban",
            "address": "朝阳区建国路1号",
            "id_number": "11010519491231002x",  # lower-case check character is accepted
            "parent_id": parent.pk,
            "stage": "active",
            "grade": "key",
            "vip": True,
            "tags": ["重要用户", "双电源", "重要用户"],
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["id_number"].endswith("2X")
    assert body["category"] == category.name and body["region"] == region.name
    assert body["parent_id"] == parent.pk
    assert sorted(body["tags"]) == ["双电源", "重要用户"]
    assert (body["stage"], body["grade"], body["vip"], body["area"]) == ("active", "key", True, "urban")


def test_it_leaves_the_owner_empty_when_the_creator_is_not_an_account_manager(users, api):
    response = api(users.lead1).post("/customers", {"name": "无主客户", "kind": "organisation"})

    assert response.status_code == 201
    assert response.json()["owner_id"] is None
    assert response.json()["org_unit_id"] == users.lead1.profile.org_unit_id


def test_it_places_a_customer_in_its_owners_team(users, api):
    response = api(users.bm1).post("/customers", {"name": "指派客户", "kind": "organisation", "owner_id": users.am2.pk})

    assert response.status_code == 201
    assert response.json()["owner_id"] == users.am2.pk
    assert response.json()["org_unit_id"] == users.am2.profile.org_unit_id


def test_it_numbers_customers_per_branch_without_gaps(users, api):
    numbers = []
    for user in (users.am1, users.am2, users.am3, users.am1, users.am3):
        response = api(user).post("/customers", {"name": "编号客户", "kind": "organisation"})
        assert response.status_code == 201
        numbers.append(response.json()["number"])
    # A failed create (here: a tag too long, detected after the number was taken) gives its number back.
    bad = api(users.am1).post("/customers", {"name": "失败", "kind": "organisation", "tags": ["长" * 51]})
    assert bad.status_code == 422
    numbers.append(api(users.am1).post("/customers", {"name": "编号客户", "kind": "organisation"}).json()["number"])

    assert numbers == [
        "CB010000001",
        "CB010000002",
        "CB020000001",
        "CB010000003",
        "CB020000002",
        "CB010000004",
    ]
    assert CustomerSequence.objects.get(branch_code="B01").last == 4


def test_it_numbers_customers_above_branch_level_with_the_unit_code(users, api):
    response = api(users.admin).post("/customers", {"name": "总部客户", "kind": "organisation"})

    assert response.json()["number"] == "CGX0000001"


def test_it_reads_one_customer(users, api, customers):
    response = api(users.am1).get(f"/customers/{customers.c1.pk}")

    assert response.status_code == 200
    assert response.json()["number"] == customers.c1.number
    assert response.json()["owner"] == "AM1"


def test_it_answers_404_for_a_customer_that_does_not_exist(users, api):
    assert api(users.admin).get("/customers/999999").status_code == 404


def test_it_patches_only_the_fields_sent(users, api, customers):
    client = api(users.am1)
    before = client.get(f"/customers/{customers.c1.pk}").json()

    response = client.patch(
        f"/customers/{customers.c1.pk}", {"version": 1, "grade": "key", "address": "新地址", "tags": ["医院"]}
    )

    assert response.status_code == 200, response.json()
    after = response.json()
    assert (after["grade"], after["address"], after["tags"], after["version"]) == ("key", "新地址", ["医院"], 2)
    for field in ("name", "kind", "number", "owner_id", "stage", "credit_code", "created_at"):
        assert after[field] == before[field]
    assert client.get(f"/customers/{customers.c1.pk}").json() == after


def test_the_patch_answer_shows_changed_references_and_tags_as_a_later_read_does(users, api, customers):
    """The answer is built from the instance the service changed, not read again: it must not keep stale names."""
    client = api(users.bm1)
    category = Category.objects.get(code="P-LI")
    region = Region.objects.get(code="110105")
    client.patch(f"/customers/{customers.c1.pk}", {"version": 1, "tags": ["旧标签"]})

    response = client.patch(
        f"/customers/{customers.c1.pk}",
        {"version": 2, "category_id": category.pk, "region_id": region.pk, "tags": ["医院"], "owner_id": users.am2.pk},
    )

    assert response.status_code == 200, response.json()
    after = response.json()
    assert (after["category"], after["region"], after["tags"]) == (category.name, region.name, ["医院"])
    assert after["owner"] == (users.am2.get_full_name() or users.am2.username) and after["version"] == 3
    assert client.get(f"/customers/{customers.c1.pk}").json() == after  # updated_at included


def test_it_moves_a_customer_to_its_new_owners_team_on_reassignment(users, api, customers):
    response = api(users.bm1).patch(f"/customers/{customers.c1.pk}", {"version": 1, "owner_id": users.am2.pk})

    assert response.status_code == 200, response.json()
    assert response.json()["owner_id"] == users.am2.pk
    assert response.json()["org_unit_id"] == users.am2.profile.org_unit_id
    assert api(users.am1).get(f"/customers/{customers.c1.pk}").status_code == 404
    assert api(users.am2).get(f"/customers/{customers.c1.pk}").status_code == 200
    assert api(users.lead2).get(f"/customers/{customers.c1.pk}").status_code == 200
    entry = AuditLog.objects.get(object_type="customers.customer", object_id=str(customers.c1.pk), action="update")
    assert entry.changes == {
        "owner": [users.am1.pk, users.am2.pk],
        "org_unit": [users.am1.profile.org_unit_id, users.am2.profile.org_unit_id],
    }


def test_it_clears_optional_fields_with_null(users, api):
    customer = make_customer(users.am1, credit_code=credit_code(), address="旧地址", area="rural")
    response = api(users.am1).patch(
        f"/customers/{customer.pk}", {"version": 1, "credit_code": None, "address": None, "area": None}
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["credit_code"], response.json()["address"], response.json()["area"]) == (None, "", "")


def test_it_does_not_bump_the_version_when_nothing_changes(users, api, customers):
    response = api(users.am1).patch(f"/customers/{customers.c1.pk}", {"version": 1, "name": customers.c1.name})

    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert not AuditLog.objects.filter(action="update").exists()


def test_it_archives_and_restores_a_customer(users, api, customers):
    client = api(users.am1)
    url = f"/customers/{customers.c1.pk}"

    archived = client.delete(url)
    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None and archived.json()["version"] == 2
    assert customers.c1.pk not in [c["id"] for c in client.get("/customers").json()["items"]]
    assert [c["id"] for c in client.get("/customers", {"archived": True}).json()["items"]] == [customers.c1.pk]
    assert client.get(url).status_code == 200  # still readable: history is kept
    assert client.delete(url).status_code == 200  # archiving twice changes nothing
    assert Customer.objects.get(pk=customers.c1.pk).version == 2

    restored = client.post(f"{url}/restore")
    assert restored.status_code == 200
    assert restored.json()["archived_at"] is None and restored.json()["version"] == 3
    assert customers.c1.pk in [c["id"] for c in client.get("/customers").json()["items"]]
    actions = list(
        AuditLog.objects.filter(object_type="customers.customer", object_id=str(customers.c1.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == ["create", "archive", "restore"]


def test_it_refuses_to_archive_with_a_stale_version(users, api, customers):
    response = api(users.am1).delete(f"/customers/{customers.c1.pk}?version=7")

    assert response.status_code == 409
    assert response.json()["current_version"] == 1
    assert Customer.objects.get(pk=customers.c1.pk).archived_at is None


# --- list filters -----------------------------------------------------------------------------------------------


def test_it_filters_the_list(users, api):
    beijing = Region.objects.get(code="110000")
    chaoyang = Region.objects.get(code="110105")
    tianjin = Region.objects.get(code="120000")
    residents = Category.objects.get(code="P-RES")
    rural = Category.objects.get(code="P-RES-RUR")
    a = make_customer(
        users.bm1,
        name="朝阳医院",
        region_id=chaoyang.pk,
        category_id=rural.pk,
        grade="key",
        tags=["医院"],
        owner_id=users.am1.pk,
        vip=True,
        credit_code=credit_code(),
    )
    b = make_customer(users.bm1, name="天津钢铁有限公司", region_id=tianjin.pk, grade="key", owner_id=users.am2.pk)
    c = make_customer(users.bm1, name="城东中学", category_id=residents.pk, stage="active", kind="organisation")
    client = api(users.bm1)

    def ids(**params):
        response = client.get("/customers", params)
        assert response.status_code == 200, response.json()
        return sorted(item["id"] for item in response.json()["items"])

    assert ids() == sorted([a.pk, b.pk, c.pk])
    assert ids(q="医院") == [a.pk]  # Chinese substring
    assert ids(q=a.number.lower()) == [a.pk]
    assert ids(q=a.credit_code) == [a.pk]
    assert ids(region=beijing.pk) == [a.pk]  # sub-regions included
    assert ids(category=residents.pk) == sorted([a.pk, c.pk])  # sub-categories included
    assert ids(grade="key") == sorted([a.pk, b.pk])
    assert ids(grade="key", region=tianjin.pk) == [b.pk]
    assert ids(owner=users.am2.pk) == [b.pk]
    assert ids(stage="active") == [c.pk]
    assert ids(vip=True) == [a.pk]
    assert ids(tag="医院") == [a.pk]
    assert ids(category=999999) == []


def test_it_lists_categories_regions_and_me(users, api):
    client = api(users.am1)
    categories = client.get("/categories").json()
    power = next(c for c in categories if c["code"] == "POWER")
    assert any(c["code"] == "P-LI" and c["parent_id"] == power["id"] for c in categories)

    beijing = Region.objects.get(code="110000")
    children = client.get("/regions", {"parent": beijing.pk}).json()
    assert children and all(r["parent_id"] == beijing.pk for r in children)
    assert all(r["level"] == "province" for r in client.get("/regions", {"level": "province"}).json())

    me = client.get("/me").json()
    assert me["username"] == "am1" and me["roles"] == ["account_manager"]
    assert me["org_unit"]["code"] == "B01-T1"
    assert "customers.add_customer" in me["permissions"]


# --- contacts ---------------------------------------------------------------------------------------------------


def test_it_creates_reads_updates_and_deletes_contacts(users, api, customers):
    client = api(users.bm1)  # bm1 sees unmasked phones
    url = f"/customers/{customers.c1.pk}/contacts"

    created = client.post(
        url,
        {
            "name": "李四",
            "role": "electrician",
            "mobile": "+86 138-0013-8000",
            "landline": "0452-2345678",
            "email": "lisi@example.com",
            "birthday": "1980-02-29",
            "preferred_channel": "wechat",
            "opt_out_sms": True,
        },
    )
    assert created.status_code == 201, created.json()
    contact = created.json()
    assert contact["mobile"] == "13800138000"  # +86 and separators dropped
    assert contact["primary"] is True  # the first contact becomes the primary one
    assert (contact["role"], contact["preferred_channel"], contact["opt_out_sms"]) == ("electrician", "wechat", True)

    assert client.get(f"/contacts/{contact['id']}").json() == contact
    assert [c["id"] for c in client.get(url).json()["items"]] == [contact["id"]]

    patched = client.patch(f"/contacts/{contact['id']}", {"version": 1, "title": "电工班长", "opt_out_sms": False})
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["title"], patched.json()["opt_out_sms"], patched.json()["version"]) == ("电工班长", False, 2)
    assert patched.json()["name"] == "李四"

    assert client.delete(f"/contacts/{contact['id']}").status_code == 204
    assert client.get(f"/contacts/{contact['id']}").status_code == 404
    assert client.get(url).json()["items"] == []
    assert list(
        AuditLog.objects.filter(object_type="customers.contact").order_by("id").values_list("action", flat=True)
    ) == ["create", "update", "delete"]


def test_it_keeps_exactly_one_primary_contact(users, api, customers):
    client = api(users.am1)
    url = f"/customers/{customers.c1.pk}/contacts"
    first = client.post(url, {"name": "甲"}).json()
    second = client.post(url, {"name": "乙"}).json()
    assert (first["primary"], second["primary"]) == (True, False)

    third = client.post(url, {"name": "丙", "primary": True}).json()
    assert third["primary"] is True
    assert Contact.objects.get(pk=first["id"]).primary is False

    switched = client.patch(f"/contacts/{second['id']}", {"version": 1, "primary": True})
    assert switched.status_code == 200, switched.json()
    primaries = list(Contact.objects.filter(customer=customers.c1, primary=True).values_list("id", flat=True))
    assert primaries == [second["id"]]
    listed = client.get(url).json()["items"]
    assert listed[0]["id"] == second["id"]  # the primary contact comes first


def test_it_lists_contacts_of_one_customer_only(users, api, customers):
    mine = make_contact(users.am1, customers.c1, name="本客户联系人")
    make_contact(users.am2, customers.c2, name="别家联系人")

    items = api(users.bm1).get(f"/customers/{customers.c1.pk}/contacts").json()["items"]

    assert [c["id"] for c in items] == [mine.pk]


def test_it_offers_the_same_rules_to_direct_service_callers(users, customers):
    customer = services.customer_update(
        actor=fresh(users.am1), customer_id=customers.c1.pk, version=1, data={"name": "服务层改名"}
    )

    assert customer.version == 2
    assert Customer.objects.get(pk=customers.c1.pk).name == "服务层改名"


@pytest.mark.parametrize("new_owner", [None, "am2"])
def test_an_account_manager_cannot_hand_away_or_orphan_their_customer(users, api, customers, new_owner):
    owner_id = getattr(users, new_owner).pk if new_owner else None
    response = api(users.am1).patch(f"/customers/{customers.c1.pk}", {"version": 1, "owner_id": owner_id})

    assert response.status_code == 403
    customers.c1.refresh_from_db()
    assert (customers.c1.owner_id, customers.c1.version) == (users.am1.pk, 1)
    assert api(users.am1).get(f"/customers/{customers.c1.pk}").status_code == 200


def test_an_account_manager_may_send_their_own_id_as_owner_with_other_changes(users, api, customers):
    response = api(users.am1).patch(
        f"/customers/{customers.c1.pk}", {"version": 1, "owner_id": users.am1.pk, "address": "新地址"}
    )

    assert response.status_code == 200, response.json()
    assert (response.json()["owner_id"], response.json()["address"]) == (users.am1.pk, "新地址")


def test_deleting_the_primary_contact_makes_the_longest_standing_one_primary(users, api, customers):
    first = make_contact(users.am1, customers.c1, name="张一")
    second = make_contact(users.am1, customers.c1, name="李二")
    make_contact(users.am1, customers.c1, name="王三")

    assert api(users.am1).delete(f"/contacts/{first.pk}").status_code == 204

    primaries = list(Contact.objects.filter(customer=customers.c1, primary=True).values_list("pk", flat=True))
    assert primaries == [second.pk]
    assert AuditLog.objects.filter(object_type="customers.contact", object_id=str(second.pk), action="update").exists()


def test_unsetting_the_primary_flag_passes_it_on_and_the_only_contact_keeps_it(users, api, customers):
    only = make_contact(users.am1, customers.c1, name="张一")
    response = api(users.am1).patch(f"/contacts/{only.pk}", {"version": only.version, "primary": False})
    assert response.status_code == 422
    assert "primary" in errors_by_field(response)

    other = make_contact(users.am1, customers.c1, name="李二")
    response = api(users.am1).patch(f"/contacts/{only.pk}", {"version": only.version, "primary": False})
    assert response.status_code == 200, response.json()
    assert list(Contact.objects.filter(customer=customers.c1, primary=True).values_list("pk", flat=True)) == [other.pk]
