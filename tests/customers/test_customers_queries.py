"""No N+1: the number of queries of the hot paths does not grow with the page size or the amount of related data."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.customers.models import Category, Contact, Customer, Region, Tag
from tests.conftest import PASSWORD, Api


@pytest.fixture
def sixty(users):
    """60 customers of am1's branch, spread over two owners, each with a category, region, two tags and 2 contacts."""
    tags = Tag.objects.bulk_create([Tag(name=f"标签{i}") for i in range(6)])
    category = Category.objects.get(code="P-LI")
    region = Region.objects.get(code="110105")
    owners = [users.am1, users.am2]
    customers = Customer.objects.bulk_create(
        Customer(
            number=f"CB01{i:07d}",
            name=f"客户{i:03d}",
            kind="organisation",
            category=category,
            region=region,
            owner=owners[i % 2],
            org_unit_id=owners[i % 2].profile.org_unit_id,
        )
        for i in range(60)
    )
    Customer.tags.through.objects.bulk_create(
        Customer.tags.through(customer_id=c.pk, tag_id=tags[(i + k) % 6].pk)
        for i, c in enumerate(customers)
        for k in range(2)
    )
    Contact.objects.bulk_create(
        Contact(customer=c, name=f"联系人{k}", mobile=f"1380013{i:02d}{k:02d}", primary=k == 0)
        for i, c in enumerate(customers)
        for k in range(2)
    )
    return customers


def _count(client, path, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content
    return len(queries), response.json()


@pytest.fixture(params=["session", "token"])
def bm1_client(request, users, api):
    if request.param == "session":
        return api(users.bm1)
    token = api().post("/auth/token", {"username": "bm1", "password": PASSWORD}).json()["token"]
    client = Api(token=token)
    client.get("/me")  # the first use records last_used_at (one UPDATE a minute, not per request)
    return client


@pytest.mark.parametrize("ordering", ["name", "-created_at", "number"])
def test_it_lists_any_page_size_with_the_same_number_of_queries(users, sixty, bm1_client, ordering):
    small, small_page = _count(bm1_client, "/customers", {"limit": 5, "ordering": ordering})
    large, large_page = _count(bm1_client, "/customers", {"limit": 50, "ordering": ordering})
    deep, _deep_page = _count(
        bm1_client, "/customers", {"limit": 50, "ordering": ordering, "cursor": small_page["next"]}
    )

    assert len(small_page["items"]) == 5 and len(large_page["items"]) == 50
    assert all(len(item["tags"]) == 2 and item["owner"] and item["category"] for item in large_page["items"])
    assert small == large == deep
    assert large <= 12  # auth, scope, permissions, the page and one batch of tags


def test_it_filters_with_the_same_number_of_queries(users, sixty, bm1_client):
    region = Region.objects.get(code="110000")
    plain, _page = _count(bm1_client, "/customers", {"limit": 5})
    filtered, page = _count(
        bm1_client, "/customers", {"limit": 50, "region": region.pk, "grade": "general", "tag": "标签1", "q": "客户"}
    )

    assert len(page["items"]) == 20
    assert filtered <= plain + 2  # the region subtree is looked up once; nothing per row


@pytest.mark.parametrize("username", ["am1", "lead1", "agent1", "admin"])
def test_it_lists_for_every_scope_without_n_plus_one(users, api, sixty, username):
    client = api(getattr(users, username))

    small, small_page = _count(client, "/customers", {"limit": 5})
    large, large_page = _count(client, "/customers", {"limit": 50})

    assert len(large_page["items"]) > len(small_page["items"]) == 5
    assert small == large


def test_it_reads_a_detail_and_its_contacts_with_a_fixed_number_of_queries(users, sixty, bm1_client):
    few = sixty[0]
    many = sixty[1]
    Contact.objects.bulk_create(Contact(customer=many, name=f"额外{k}", mobile=f"139001390{k:02d}") for k in range(30))

    detail_few, _body = _count(bm1_client, f"/customers/{few.pk}")
    detail_many, _body = _count(bm1_client, f"/customers/{many.pk}")
    contacts_few, body_few = _count(bm1_client, f"/customers/{few.pk}/contacts")
    contacts_many, body_many = _count(bm1_client, f"/customers/{many.pk}/contacts")

    assert len(body_few["items"]) == 2 and len(body_many["items"]) == 32
    assert detail_few == detail_many <= 12  # auth and scope (~9), the customer, its tags
    assert contacts_few == contacts_many <= 13


def test_the_tags_come_in_the_customer_statement_on_postgresql(users, sixty, bm1_client):
    """On PostgreSQL a list page and a detail read the tags in the customers' own statement (an ARRAY column), with
    the same names in the same order as the separate statement SQLite uses."""
    Customer.tags.through.objects.create(customer=sixty[0], tag=Tag.objects.create(name="A-先"))  # sorts first
    with CaptureQueriesContext(connection) as queries:
        page = bm1_client.get("/customers", {"limit": 50, "ordering": "number"}).json()
        detail = bm1_client.get(f"/customers/{sixty[0].pk}").json()

    separate = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().startswith("SELECT l.customer_id")]
    expected = {c.pk: [t.name for t in c.tags.order_by("name", "id")] for c in Customer.objects.all()}
    assert [item["tags"] for item in page["items"]] == [expected[item["id"]] for item in page["items"]]
    assert detail["tags"][0] == "A-先" and detail["tags"] == expected[sixty[0].pk]
    assert len(separate) == (0 if connection.vendor == "postgresql" else 2)


def test_it_masks_without_extra_queries_per_row(users, api, sixty):
    client = api(users.am1)  # masked: the permission check must not run once per contact

    few, _body = _count(client, f"/customers/{sixty[0].pk}/contacts")
    Contact.objects.bulk_create(
        Contact(customer=sixty[0], name=f"额外{k}", mobile=f"1390013{k:04d}") for k in range(20)
    )
    many, body = _count(client, f"/customers/{sixty[0].pk}/contacts")

    assert len(body["items"]) == 22 and all("****" in c["mobile"] for c in body["items"])
    assert few == many


def test_it_serves_a_history_page_with_a_fixed_number_of_queries(users, api, sixty):
    from guanxi.core.models import AuditLog

    customer = sixty[0]
    AuditLog.objects.bulk_create(
        AuditLog(
            actor=[users.am1, users.bm1, users.lead1][i % 3],
            action="update",
            object_type="customers.customer",
            object_id=str(customer.pk),
            changes={"name": [str(i), str(i + 1)]},
        )
        for i in range(40)
    )
    client = api(users.bm1)
    params = {"object_type": "customers.customer", "object_id": customer.pk}

    small, _page = _count(client, "/audit", {**params, "limit": 3})
    large, page = _count(client, "/audit", {**params, "limit": 40})

    assert len(page["items"]) == 40
    assert small == large


def _statements(run):
    with CaptureQueriesContext(connection) as queries:
        result = run()
    return [q["sql"] for q in queries.captured_queries], result


def test_a_create_checks_each_reference_once_and_takes_its_number_in_one_statement(users, sixty):
    from guanxi.customers import services
    from guanxi.customers.models import CustomerSequence

    CustomerSequence.objects.create(branch_code="B01", last=len(sixty))  # the fixture's customers took 0–59
    category = Category.objects.get(code="P-LI")
    region = Region.objects.get(code="110105")
    data = {"name": "新客户", "kind": "organisation", "category_id": category.pk, "region_id": region.pk}
    services.customer_create(actor=users.am1, data=data)  # the actor's permissions and scope are cached from here
    sql, customer = _statements(lambda: services.customer_create(actor=users.am1, data=data))

    assert customer.number.startswith("CB01") and customer.owner_id == users.am1.pk
    category_reads = [s for s in sql if "customers_category" in s and s.lstrip().startswith("SELECT")]
    sequence = [s for s in sql if "customers_customersequence" in s]
    assert len(category_reads) == 1 and len(sequence) == 1, sql
    assert not any("PENDING" in s for s in sql), sql
    assert sum(s.startswith("SAVEPOINT") for s in sql) <= 1, sql  # the service's transaction (a savepoint in tests)
    assert len(sql) <= 9, sql  # transaction, 2 references, owner's unit branch, sequence, insert, audit


def test_an_update_of_one_field_reads_the_row_writes_it_and_audits(users, sixty):
    from guanxi.customers import services

    services.customer_update(actor=users.am1, customer_id=sixty[2].pk, version=1, data={"area": "urban"})  # warm
    customer = Customer.objects.get(pk=sixty[0].pk)
    Customer.objects.filter(pk=customer.pk).update(credit_code="91350100M000100Y43", id_number=None)
    sql, updated = _statements(
        lambda: services.customer_update(
            actor=users.am1, customer_id=customer.pk, version=customer.version, data={"address": "新地址 1 号"}
        )
    )

    assert updated.address == "新地址 1 号" and updated.version == customer.version + 1
    # No existence query for the unchanged category/region/owner, no uniqueness query for the unchanged credit code.
    assert not any(s.lstrip().startswith("SELECT 1") for s in sql), sql
    assert len(sql) <= 6, sql  # transaction, the customer and its tags, the versioned UPDATE, the audit entry
