"""The 360 view's own panels read plain rows (contacts, history) and customer_get reads no parent customer: the
panels show what the model instances showed, in the request's language, masked as before."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from guanxi.core.scope import record_scope
from guanxi.customers import selectors, services
from guanxi.customers.models import Contact, Customer
from tests.conftest import fresh, make_contact, make_customer


@pytest.fixture
def described(users, customers):
    """c1 with a parent, two tags, a primary contact with role, channel and opt-outs, a plain one, and a change."""
    parent = make_customer(users.am1, name="甲集团")
    c1 = customers.c1
    services.customer_update(
        actor=fresh(users.am1),
        customer_id=c1.pk,
        version=c1.version,
        data={"parent_id": parent.pk, "tags": ["重点", "大客户"], "address": "哈尔滨市道里区"},
    )
    boss = make_contact(
        users.am1,
        c1,
        name="王经理",
        role="decision_maker",
        title="总经理",
        mobile="13812341234",
        email="wang@example.com",
        preferred_channel="wechat",
        opt_out_sms=True,
        opt_out_email=True,
        primary=True,
    )
    plain = make_contact(users.am1, c1, name="李四")
    return Customer.objects.get(pk=c1.pk), [boss, plain]


def _expected_contact(contact: Contact, mobile: str) -> dict:
    return {
        "id": contact.pk,
        "name": contact.name,
        "role": contact.get_role_display() if contact.role else "",
        "title": contact.title,
        "mobile": mobile,
        "landline": contact.landline,
        "email": contact.email,
        "wechat": contact.wechat,
        "preferred_channel": contact.get_preferred_channel_display() if contact.preferred_channel else "",
        "opt_outs": [ch for ch in ("phone", "sms", "email", "wechat") if getattr(contact, f"opt_out_{ch}")],
        "primary": contact.primary,
        "version": contact.version,
    }


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_the_contacts_panel_shows_every_field_in_the_requests_language(users, api, described, lang):
    customer, (boss, plain) = described
    for user, mobile in ((users.am1, "138****1234"), (users.admin, "13812341234")):
        panels = api(user, lang=lang).get(f"/customers/{customer.pk}/overview", {"panels": "all"}).json()["panels"]
        with translation.override(lang):
            expected = [_expected_contact(boss, mobile), _expected_contact(plain, "")]
        assert panels["contacts"] == expected
    assert expected[0]["role"] and expected[0]["preferred_channel"]  # labels, not empty


def test_the_history_panel_shows_the_changes_with_labels_and_the_actor(users, api, described):
    customer, _contacts = described
    users.am1.first_name, users.am1.last_name = "晓明", "王"
    users.am1.save(update_fields=["first_name", "last_name"])
    history = api(users.admin).get(f"/customers/{customer.pk}/overview", {"panels": "all"}).json()["panels"]["history"]
    change, creation = history  # newest first
    assert creation["action"] == "create" and creation["fields"] == [] and creation["actor"] == "晓明 王"
    assert change["action"] == "update" and change["action_label"] == "修改"
    fields = {field["field"]: field for field in change["fields"]}
    assert fields["address"]["label"] == str(Customer._meta.get_field("address").verbose_name)
    assert fields["address"]["after"] == "哈尔滨市道里区"
    assert change["changes"]["tags"] == [[], ["大客户", "重点"]]


def test_customer_get_reads_tags_with_it_and_no_parent(users, described):
    customer, _contacts = described
    am1 = fresh(users.am1)
    record_scope(am1)  # the user's roles and unit, read once per request
    with CaptureQueriesContext(connection) as queries:
        loaded = selectors.customer_get(user=am1, customer_id=customer.pk)
        names = [tag.name for tag in loaded.tags.all()]
        team, owner = loaded.org_unit.name, loaded.owner.username
    # The customer with its references and, on PostgreSQL, its tags (an array column); elsewhere a second statement.
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2), [q["sql"] for q in queries]
    assert 'JOIN "customers_customer"' not in queries[0]["sql"]  # no parent
    assert names == ["大客户", "重点"] and team and owner == "am1"
    assert [tag.pk for tag in loaded.tags.all()] == [tag.pk for tag in Customer.objects.get(pk=customer.pk).tags.all()]
    assert not hasattr(loaded, "tag_names")
    assert loaded.parent_id  # the column is there for whoever needs the parent
    # A write through the manager drops the read tags, as it does with prefetch_related.
    loaded.tags.set([])
    assert list(loaded.tags.all()) == []
