"""A customer transfer (A5) takes the open sales work with it: open deals, quotes in play and live contracts move to
the new account manager in the same transaction, audited; closed work and colleagues' records keep their owner."""

import pytest

from guanxi.core.models import AuditLog
from guanxi.customers import services as customer_services
from guanxi.customers.models import Customer
from guanxi.customers.transfers import register_transfer_handler, unregister_transfer_handler
from guanxi.sales import contracts, deals_services, quotes
from guanxi.sales.models import Contract, Opportunity, Quote
from tests.conftest import fresh
from tests.sales.pipeline_factories import make_deal
from tests.sales.test_quotes_fixtures import (
    catalogue,  # noqa: F401  (fixture)
    make_contract,
    make_quote,
    sent_quote,
    signed_contract,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(users, customers, catalogue):  # noqa: F811
    """am1's customer c1 with open and closed deals, quotes and contracts, and a deal of a colleague (lead1)."""
    c1 = customers.c1
    open_deal = make_deal(users.am1, c1, name="二期增容")
    won = make_deal(users.am1, c1, name="一期")
    won = deals_services.opportunity_won(actor=fresh(users.am1), opportunity_id=won.pk, version=won.version)
    lost = make_deal(users.am1, c1, name="储能")
    lost = deals_services.opportunity_lost(
        actor=fresh(users.am1), opportunity_id=lost.pk, version=lost.version, reason="价格"
    )
    colleagues = make_deal(users.lead1, c1, name="组长跟进的机会", owner_id=users.lead1.pk)
    draft_quote = make_quote(users.am1, c1, title="二期报价")
    declined = sent_quote(users.am1, c1, catalogue.widget)
    declined = quotes.quote_decline(actor=fresh(users.am1), quote_id=declined.pk, version=declined.version)
    draft_contract = make_contract(users.am1, c1, title="二期合同")
    active = signed_contract(users.am1, c1, title="一期合同")
    ended = signed_contract(users.am1, c1, title="已终止合同")
    ended = contracts.contract_transition(
        actor=fresh(users.am1), contract_id=ended.pk, version=ended.version, to="terminated", reason="客户销户"
    )
    other = make_deal(users.am2, customers.c2, name="乙方机会")
    return {
        "open_deal": open_deal,
        "won": won,
        "lost": lost,
        "colleagues": colleagues,
        "draft_quote": draft_quote,
        "declined": declined,
        "draft_contract": draft_contract,
        "active": active,
        "ended": ended,
        "other": other,
    }


def _owners(book):
    models = {Opportunity: Opportunity.objects, Quote: Quote.objects, Contract: Contract.objects}
    return {name: models[type(row)].values_list("owner_id", flat=True).get(pk=row.pk) for name, row in book.items()}


def test_open_work_follows_the_customer_and_closed_work_stays(api, users, customers, book):
    response = api(users.bm1).post("/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am2.pk})

    assert response.status_code == 200, response.json()
    am1, am2, lead1 = users.am1.pk, users.am2.pk, users.lead1.pk
    assert _owners(book) == {
        "open_deal": am2,
        "won": am1,
        "lost": am1,
        "colleagues": lead1,
        "draft_quote": am2,
        "declined": am1,
        "draft_contract": am2,
        "active": am2,
        "ended": am1,
        "other": am2,
    }
    deal = Opportunity.objects.get(pk=book["open_deal"].pk)
    assert deal.org_unit_id == users.am2.profile.org_unit_id  # deals are scoped on their own unit
    assert deal.version == book["open_deal"].version + 1
    assert Quote.objects.get(pk=book["draft_quote"].pk).version == book["draft_quote"].version + 1
    assert Contract.objects.get(pk=book["active"].pk).version == book["active"].version + 1
    assert Opportunity.objects.get(pk=book["won"].pk).org_unit_id == users.am1.profile.org_unit_id


def test_the_new_owner_sees_the_moved_deal_and_the_old_one_no_longer(api, users, customers, book):
    deal = book["open_deal"]
    assert api(users.am2).get(f"/opportunities/{deal.pk}").status_code == 404

    api(users.bm1).post("/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am2.pk})

    assert api(users.am2).get(f"/opportunities/{deal.pk}").json()["owner_id"] == users.am2.pk
    assert api(users.am1).get(f"/opportunities/{deal.pk}").status_code == 404
    names = [item["name"] for item in api(users.am2).get("/opportunities").json()["items"]]
    assert "二期增容" in names and "一期" not in names
    # An edit based on the version read before the transfer is stale.
    stale = api(users.am2).patch(f"/opportunities/{deal.pk}", {"version": deal.version, "name": "改名"})
    assert stale.status_code == 409


def test_each_moved_record_is_audited_as_a_transfer(api, users, customers, book):
    api(users.bm1, ip="10.0.0.9").post(
        "/customers/transfer", {"from_user_id": users.am1.pk, "to_user_id": users.am2.pk}
    )

    entries = {
        (e.object_type, int(e.object_id)): e
        for e in AuditLog.objects.filter(action="transfer").exclude(object_type="customers.customer")
    }
    assert set(entries) == {
        ("sales.opportunity", book["open_deal"].pk),
        ("sales.quote", book["draft_quote"].pk),
        ("sales.contract", book["draft_contract"].pk),
        ("sales.contract", book["active"].pk),
    }
    deal_entry = entries["sales.opportunity", book["open_deal"].pk]
    assert deal_entry.actor_id == users.bm1.pk and deal_entry.ip == "10.0.0.9"
    assert deal_entry.object_repr == "二期增容"
    assert deal_entry.changes == {
        "owner": [users.am1.pk, users.am2.pk],
        "org_unit": [users.am1.profile.org_unit_id, users.am2.profile.org_unit_id],
    }
    assert entries["sales.contract", book["active"].pk].changes == {"owner": [users.am1.pk, users.am2.pk]}


def test_a_bulk_transfer_of_listed_customers_moves_only_their_deals(users, customers, book):
    """The list page's bulk action (no from_user_id): each customer's own previous owner is the one whose deals move."""
    sensitive_deal = make_deal(users.bm1, customers.sensitive, name="敏感客户机会", owner_id=users.am1.pk)

    moved = customer_services.customer_transfer(
        actor=fresh(users.bm1), from_user_id=None, to_user_id=users.am2.pk, customer_ids=[customers.sensitive.pk]
    )

    assert moved == 1
    assert Opportunity.objects.get(pk=sensitive_deal.pk).owner_id == users.am2.pk
    assert Opportunity.objects.get(pk=book["open_deal"].pk).owner_id == users.am1.pk  # c1 did not move


def test_a_failing_follower_rolls_the_whole_transfer_back(users, customers, book):
    def refuse(**_kwargs):
        raise RuntimeError("another app refuses")

    register_transfer_handler(refuse)
    try:
        with pytest.raises(RuntimeError):
            customer_services.customer_transfer(
                actor=fresh(users.bm1), from_user_id=users.am1.pk, to_user_id=users.am2.pk
            )
    finally:
        unregister_transfer_handler(refuse)

    assert Customer.objects.get(pk=customers.c1.pk).owner_id == users.am1.pk
    assert Opportunity.objects.get(pk=book["open_deal"].pk).owner_id == users.am1.pk
    assert not AuditLog.objects.filter(action="transfer").exists()


def test_the_followers_cost_a_fixed_number_of_queries(users, customers, django_assert_max_num_queries):
    """The transfer's own reads and writes (16 here, savepoint included), then per model one locking read and one
    update, whatever the number of rows (audit entries are one bulk insert)."""
    for i in range(6):
        make_deal(users.am1, customers.c1, name=f"机会{i}")
        make_quote(users.am1, customers.c1, title=f"报价{i}")
        make_contract(users.am1, customers.c1, title=f"合同{i}")
    with django_assert_max_num_queries(16 + 6):
        customer_services.customer_transfer(actor=fresh(users.bm1), from_user_id=users.am1.pk, to_user_id=users.am2.pk)
    assert Opportunity.objects.filter(owner=users.am2).count() == 6
    assert Contract.objects.filter(owner=users.am2).count() == 6
