"""Merging two customers: everything moves, nothing is lost, the tombstone resolves, failures roll back."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from guanxi.core.models import AuditLog
from guanxi.customers import merge
from guanxi.customers.models import Contact, Customer, Region
from tests.conftest import credit_code, fresh, make_contact, make_customer


@pytest.fixture
def pair(users):
    """Two records of one company in bm1's branch: the older one (survivor) and a newer one with more data."""
    survivor = make_customer(users.bm1, name="合并测试有限公司", owner_id=users.am1.pk, tags=["重要用户"])
    merged = make_customer(
        users.bm1,
        name="合并测试有限责任公司",
        owner_id=users.am2.pk,
        credit_code=credit_code(serial=5501),
        address="建国路1号",
        grade="key",
        tags=["双电源", "重要用户"],
    )
    return survivor, merged


def do_merge(actor, survivor, merged, **fields):
    survivor.refresh_from_db()
    merged.refresh_from_db()
    return merge.customer_merge(
        actor=fresh(actor),
        survivor_id=survivor.pk,
        merged_id=merged.pk,
        survivor_version=survivor.version,
        merged_version=merged.version,
        fields=fields,
    )


def entry(customer, action) -> AuditLog:
    return AuditLog.objects.get(object_type="customers.customer", object_id=str(customer.pk), action=action)


# --- what moves ---------------------------------------------------------------------------------------------------


def test_merge_moves_every_contact_and_loses_none(users, pair):
    survivor, merged = pair
    kept = [make_contact(users.bm1, survivor, name=f"留{i}") for i in range(2)]
    moving = [make_contact(users.bm1, merged, name=f"移{i}", mobile=f"1390000000{i}") for i in range(3)]
    before = Contact.objects.count()

    result = do_merge(users.bm1, survivor, merged)

    assert Contact.objects.count() == before
    assert set(survivor.contacts.values_list("pk", flat=True)) == {c.pk for c in kept + moving}
    assert not Contact.objects.filter(customer=merged).exists()
    assert result.moved["contacts"] == sorted(c.pk for c in moving)


def test_merge_leaves_a_tombstone_that_leads_to_the_survivor(users, api, pair):
    survivor, merged = pair

    do_merge(users.bm1, survivor, merged)

    merged.refresh_from_db()
    assert merged.merged_into_id == survivor.pk and merged.archived
    assert merged.number and merged.name == "合并测试有限责任公司"  # number and name stay
    body = api(users.bm1).get(f"/customers/{merged.pk}").json()
    assert body["merged_into_id"] == survivor.pk and body["archived_at"] is not None
    assert api(users.bm1).get(f"/customers/{survivor.pk}").json()["merged_into_id"] is None
    client = Client()
    client.force_login(users.bm1)
    response = client.get(reverse("customers:detail", args=[merged.pk]))
    assert response.status_code == 302 and response["Location"] == reverse("customers:detail", args=[survivor.pk])


def test_a_tombstone_whose_survivor_is_out_of_scope_shows_itself(users, pair):
    survivor, merged = pair
    do_merge(users.bm1, survivor, merged)
    Customer.objects.filter(pk=survivor.pk).update(owner=users.am1)  # am2 sees the tombstone only (its owner)
    client = Client()
    client.force_login(users.am2)

    response = client.get(reverse("customers:detail", args=[merged.pk]))

    assert response.status_code == 200
    assert merged.number in response.content.decode()


def test_merge_is_audited_on_both_records_with_enough_to_undo_it(users, pair):
    survivor, merged = pair
    contact = make_contact(users.bm1, merged, name="审计联系人")
    member = make_customer(users.bm1, name="审计成员", parent_id=merged.pk)
    old_code = merged.credit_code

    do_merge(users.bm1, survivor, merged, name="merged", credit_code="merged")

    on_survivor, on_merged = entry(survivor, "merge"), entry(merged, "merge")
    assert on_survivor.actor_id == users.bm1.pk
    assert on_survivor.changes["merged_from"] == [None, merged.pk]
    assert on_survivor.changes["name"] == ["合并测试有限公司", "合并测试有限责任公司"]
    assert on_survivor.changes["credit_code"] == [None, old_code]
    assert on_survivor.changes["moved_contacts"] == [None, [contact.pk]]
    assert on_survivor.changes["moved_members"] == [None, [member.pk]]
    assert on_merged.changes["merged_into"] == [None, survivor.pk]
    assert on_merged.changes["credit_code"] == [old_code, None]
    assert on_merged.changes["moved_contacts"] == [[contact.pk], None]
    assert on_merged.changes["archived_at"][0] is None
    moved_contact = AuditLog.objects.get(object_type="customers.contact", object_id=str(contact.pk), action="merge")
    assert moved_contact.changes == {"customer": [merged.pk, survivor.pk]}


def test_the_survivor_takes_chosen_fields_and_fills_its_blanks(users, pair):
    survivor, merged = pair

    do_merge(users.bm1, survivor, merged, owner_id="merged")

    survivor.refresh_from_db()
    assert survivor.name == "合并测试有限公司"  # its own value by default
    assert survivor.grade == "general"  # its own value by default, even if the other's is "better"
    assert survivor.address == "建国路1号"  # blank: filled from the merged customer
    assert survivor.credit_code == credit_code(serial=5501)  # blank: filled (the tombstone gives it up)
    assert survivor.owner_id == users.am2.pk and survivor.org_unit_id == merged.org_unit_id
    assert survivor.name_key == "合并测试"
    merged.refresh_from_db()
    assert merged.credit_code is None


def test_a_code_the_survivor_gives_up_stays_on_the_tombstone(users, pair):
    survivor, merged = pair
    Customer.objects.filter(pk=survivor.pk).update(credit_code=credit_code(serial=5502))

    do_merge(users.bm1, survivor, merged, credit_code="merged")

    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert survivor.credit_code == credit_code(serial=5501)
    assert merged.credit_code == credit_code(serial=5502)  # looking it up still leads to the survivor


def test_a_sensitive_customer_keeps_the_survivor_sensitive(users, pair):
    survivor, merged = pair
    Customer.objects.filter(pk=merged.pk).update(sensitive=True)

    do_merge(users.bm1, survivor, merged)

    survivor.refresh_from_db()
    assert survivor.sensitive


def test_tags_are_unioned(users, pair):
    survivor, merged = pair

    do_merge(users.bm1, survivor, merged)

    assert sorted(survivor.tags.values_list("name", flat=True)) == ["双电源", "重要用户"]
    assert entry(survivor, "merge").changes["tags"] == [["重要用户"], ["双电源", "重要用户"]]


@pytest.mark.parametrize(("choice", "stays"), [(None, "survivor"), ("survivor", "survivor"), ("merged", "merged")])
def test_only_one_primary_contact_remains(users, pair, choice, stays):
    survivor, merged = pair
    primaries = {
        "survivor": make_contact(users.bm1, survivor, name="主甲"),
        "merged": make_contact(users.bm1, merged, name="主乙"),
    }
    make_contact(users.bm1, merged, name="次乙")
    fields = {"primary_contact": choice} if choice else {}

    do_merge(users.bm1, survivor, merged, **fields)

    assert list(survivor.contacts.filter(primary=True).values_list("pk", flat=True)) == [primaries[stays].pk]
    demoted = primaries["merged" if stays == "survivor" else "survivor"]
    demoted.refresh_from_db()
    assert demoted.primary is False and demoted.customer_id == survivor.pk
    assert entry(survivor, "merge").changes["primary_contact_demoted"] == [None, demoted.pk]


def test_a_merged_primary_contact_stays_primary_when_the_survivor_has_none(users, pair):
    survivor, merged = pair
    primary = make_contact(users.bm1, merged, name="唯一主联系人")

    do_merge(users.bm1, survivor, merged)

    primary.refresh_from_db()
    assert primary.primary and primary.customer_id == survivor.pk


def test_members_are_reparented_even_outside_the_actors_scope(users, pair):
    survivor, merged = pair
    near = make_customer(users.bm1, name="成员甲", parent_id=merged.pk)
    far = make_customer(users.admin, name="成员乙", owner_id=users.am3.pk)  # another branch
    Customer.objects.filter(pk=far.pk).update(parent=merged)

    result = do_merge(users.bm1, survivor, merged)

    assert set(Customer.objects.filter(parent=survivor).values_list("pk", flat=True)) == {near.pk, far.pk}
    assert result.moved["members"] == sorted([near.pk, far.pk])


def test_a_survivor_that_was_a_member_of_the_merged_customer_takes_its_place(users):
    group = make_customer(users.bm1, name="集团总部")
    merged = make_customer(users.bm1, name="子公司有限公司", parent_id=group.pk)
    survivor = make_customer(users.bm1, name="子公司有限责任公司", parent_id=merged.pk)

    do_merge(users.bm1, survivor, merged)

    survivor.refresh_from_db()
    assert survivor.parent_id == group.pk


def test_a_parent_chosen_among_the_merged_members_is_refused_as_a_cycle(users, pair):
    survivor, merged = pair
    member = make_customer(users.bm1, name="成员丙", parent_id=merged.pk)
    Customer.objects.filter(pk=survivor.pk).update(parent=member)

    with pytest.raises(merge.ValidationError) as error:
        do_merge(users.bm1, survivor, merged)

    assert "parent_id" in error.value.message_dict
    member.refresh_from_db()
    assert member.parent_id == merged.pk  # rolled back


def test_earlier_tombstones_are_repointed_at_the_survivor(users, pair):
    survivor, merged = pair
    older = make_customer(users.bm1, name="更早的重复")
    do_merge(users.bm1, merged, older)

    do_merge(users.bm1, survivor, merged)

    older.refresh_from_db()
    assert older.merged_into_id == survivor.pk


def test_the_number_of_queries_does_not_grow_with_the_records_moved(users):
    def queries_for(count: int) -> int:
        survivor = make_customer(users.bm1, name=f"计数{count}有限公司")
        merged = make_customer(users.bm1, name=f"计数{count}股份公司")
        for index in range(count):
            make_contact(users.bm1, merged, name=f"计数联系人{index}")
            make_customer(users.bm1, name=f"计数成员{count}-{index}", parent_id=merged.pk)
        with CaptureQueriesContext(connection) as captured:
            do_merge(users.bm1, survivor, merged)
        return len(captured)

    assert queries_for(2) == queries_for(25)


# --- handlers registered by other apps ------------------------------------------------------------------------------


def test_registered_handlers_run_inside_the_merge_transaction(users, pair):
    survivor, merged = pair
    seen = {}

    def move_widgets(*, actor, survivor, merged):
        seen.update(
            actor=actor.pk,
            ids=(survivor.pk, merged.pk),
            in_transaction=connection.in_atomic_block,
            tombstone=Customer.objects.get(pk=merged.pk).merged_into_id,
        )
        return {"widgets": [7, 3]}

    merge.register_merge_handler(move_widgets)
    try:
        result = do_merge(users.bm1, survivor, merged)
    finally:
        merge.unregister_merge_handler(move_widgets)

    assert seen == {
        "actor": users.bm1.pk,
        "ids": (survivor.pk, merged.pk),
        "in_transaction": True,
        "tombstone": survivor.pk,
    }
    assert result.moved["widgets"] == [3, 7]
    assert entry(survivor, "merge").changes["moved_widgets"] == [None, [3, 7]]
    assert move_widgets not in merge.merge_handlers()


def test_a_failing_handler_rolls_everything_back(users, pair):
    survivor, merged = pair
    contact = make_contact(users.bm1, merged, name="不动")
    member = make_customer(users.bm1, name="不动成员", parent_id=merged.pk)
    audit_before = AuditLog.objects.count()
    versions = (fresh_version(survivor), fresh_version(merged))

    def broken(**kwargs):
        raise RuntimeError("the other app failed")

    merge.register_merge_handler(broken)
    try:
        with pytest.raises(RuntimeError):
            do_merge(users.bm1, survivor, merged, name="merged")
    finally:
        merge.unregister_merge_handler(broken)

    merged.refresh_from_db()
    survivor.refresh_from_db()
    contact.refresh_from_db()
    member.refresh_from_db()
    assert merged.merged_into_id is None and not merged.archived and merged.credit_code
    assert survivor.name == "合并测试有限公司" and survivor.tags.count() == 1
    assert contact.customer_id == merged.pk and member.parent_id == merged.pk
    assert (survivor.version, merged.version) == versions
    assert AuditLog.objects.count() == audit_before


def fresh_version(customer) -> int:
    return Customer.objects.get(pk=customer.pk).version


# --- refusals -------------------------------------------------------------------------------------------------------


def merge_body(survivor, merged, **extra):
    return {"merged_id": merged.pk, "version": fresh_version(survivor), "merged_version": fresh_version(merged)} | extra


def test_the_api_merges_and_answers_both_records(users, api, pair):
    survivor, merged = pair
    contact = make_contact(users.bm1, merged)

    response = api(users.bm1).post(
        f"/customers/{survivor.pk}/merge", merge_body(survivor, merged, fields={"name": "merged", "grade": "merged"})
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["customer"]["id"] == survivor.pk and body["customer"]["name"] == "合并测试有限责任公司"
    assert body["customer"]["grade"] == "key" and body["customer"]["version"] == 2
    assert body["merged"]["merged_into_id"] == survivor.pk
    assert body["moved"] == {"contacts": [contact.pk]}


@pytest.mark.parametrize("stale", ["version", "merged_version"])
def test_a_stale_version_gets_409_and_changes_nothing(users, api, pair, stale):
    survivor, merged = pair
    make_contact(users.bm1, merged)
    body = merge_body(survivor, merged)
    body[stale] -= 1 if body[stale] > 1 else -1

    response = api(users.bm1).post(f"/customers/{survivor.pk}/merge", body)

    assert response.status_code == 409
    assert Customer.objects.get(pk=merged.pk).merged_into_id is None
    assert Contact.objects.get(customer=merged) is not None


def test_merging_needs_the_change_permission(users, api, pair):
    survivor, merged = pair

    response = api(users.agent1).post(f"/customers/{survivor.pk}/merge", merge_body(survivor, merged))

    assert response.status_code == 403


def test_both_customers_must_be_in_scope(users, api, pair):
    survivor, merged = pair  # owned by am1 and am2
    other_branch = make_customer(users.am3, name="合并测试（外地）有限公司")

    assert api(users.am1).post(f"/customers/{survivor.pk}/merge", merge_body(survivor, merged)).status_code == 404
    assert api(users.am2).post(f"/customers/{survivor.pk}/merge", merge_body(survivor, merged)).status_code == 404
    response = api(users.bm1).post(f"/customers/{survivor.pk}/merge", merge_body(survivor, other_branch))
    assert response.status_code == 404
    assert Customer.objects.get(pk=merged.pk).merged_into_id is None


def test_a_customer_cannot_be_merged_with_itself(users, api, pair):
    survivor, _merged = pair

    response = api(users.bm1).post(f"/customers/{survivor.pk}/merge", merge_body(survivor, survivor))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "merged_id"


def test_a_tombstone_cannot_take_part_in_a_merge(users, api, pair):
    survivor, merged = pair
    third = make_customer(users.bm1, name="第三个")
    do_merge(users.bm1, survivor, merged)

    into_tombstone = api(users.bm1).post(f"/customers/{merged.pk}/merge", merge_body(merged, third))
    from_tombstone = api(users.bm1).post(f"/customers/{third.pk}/merge", merge_body(third, merged))

    for response in (into_tombstone, from_tombstone):
        assert response.status_code == 409
        assert merged.number in response.json()["detail"]


def test_unknown_fields_and_sides_are_422(users, api, pair):
    survivor, merged = pair
    url = f"/customers/{survivor.pk}/merge"

    unknown = api(users.bm1).post(url, merge_body(survivor, merged, fields={"number": "merged"}))
    bad_side = api(users.bm1).post(url, merge_body(survivor, merged, fields={"name": "both"}))

    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "fields.number"
    assert bad_side.status_code == 422


# --- the merge page -------------------------------------------------------------------------------------------------


def web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_merge_page_compares_both_side_by_side(users, pair):
    survivor, merged = pair

    response = web(users.bm1).get(reverse("customers:merge", args=[survivor.pk, merged.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert survivor.number in html and merged.number in html
    assert 'name="field_name" value="survivor" checked' in html
    assert 'name="field_address" value="merged" checked' in html  # blank on the survivor: filled by default
    assert reverse("customers:merge", args=[merged.pk, survivor.pk]) in html  # keep the other one instead


def test_the_merge_page_merges_and_redirects_to_the_survivor(users, pair):
    survivor, merged = pair
    contact = make_contact(users.bm1, merged)

    response = web(users.bm1).post(
        reverse("customers:merge", args=[survivor.pk, merged.pk]),
        {"version": fresh_version(survivor), "merged_version": fresh_version(merged), "field_name": "merged"},
    )

    assert response.status_code == 302 and response["Location"] == reverse("customers:detail", args=[survivor.pk])
    survivor.refresh_from_db()
    assert survivor.name == "合并测试有限责任公司"
    assert Contact.objects.get(pk=contact.pk).customer_id == survivor.pk


def test_the_merge_page_reloads_on_a_stale_version(users, pair):
    survivor, merged = pair
    url = reverse("customers:merge", args=[survivor.pk, merged.pk])

    response = web(users.bm1).post(url, {"version": 99, "merged_version": fresh_version(merged)})

    assert response.status_code == 302 and response["Location"] == url
    assert Customer.objects.get(pk=merged.pk).merged_into_id is None


def test_the_merge_page_is_refused_without_permission_or_scope(users, pair):
    survivor, merged = pair
    url = reverse("customers:merge", args=[survivor.pk, merged.pk])

    assert web(users.agent1).get(url).status_code == 403
    assert web(users.am1).get(url).status_code == 404


def test_region_choice_is_shown_by_name(users, pair):
    survivor, merged = pair
    region = Region.objects.get(code="110105")
    Customer.objects.filter(pk=merged.pk).update(region=region)

    html = web(users.bm1).get(reverse("customers:merge", args=[survivor.pk, merged.pk])).content.decode()

    assert region.name in html
