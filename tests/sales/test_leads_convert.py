"""Converting a lead (C1): into a new customer or the existing duplicate, contact and deal in one transaction."""

import pytest

from guanxi.core.models import AuditLog
from guanxi.customers.models import Contact, Customer
from guanxi.sales.models import Lead, Opportunity
from tests.conftest import credit_code, errors_by_field, make_contact, make_customer
from tests.sales.pipeline_factories import make_lead, pipeline, stage

pytestmark = pytest.mark.django_db

DEAL = {"expected_close": "2027-06-30"}


def counts() -> tuple[int, int, int]:
    return Customer.objects.count(), Contact.objects.count(), Opportunity.objects.count()


def test_it_converts_into_a_new_customer_contact_and_deal(api, users):
    lead = make_lead(
        users.am1,
        company_name="齐齐哈尔新材料有限公司",
        credit_code=credit_code(),
        contact_name="赵工",
        mobile="13700001111",
        need="新装 800 kVA",
        estimated_amount="560000.00",
    )
    response = api(users.am1).post(f"/leads/{lead.pk}/convert", {"version": lead.version, "opportunity": DEAL})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "converted" and body["converted_at"]
    customer = Customer.objects.get(pk=body["customer_id"])
    assert customer.name == "齐齐哈尔新材料有限公司" and customer.credit_code == lead.credit_code
    assert customer.owner_id == users.am1.pk and customer.stage == "prospect"
    contact = Contact.objects.get(pk=body["contact_id"])
    assert contact.customer_id == customer.pk and contact.name == "赵工" and contact.mobile == "13700001111"
    deal = Opportunity.objects.get(pk=body["opportunity_id"])
    assert deal.customer_id == customer.pk and deal.name == "新装 800 kVA" and str(deal.amount) == "560000.00"
    assert deal.pipeline == pipeline() and deal.stage == stage("enquiry") and deal.owner_id == users.am1.pk
    assert str(deal.weighted_amount) == "56000.00"  # 10 % of the estimate
    assert AuditLog.objects.filter(object_type="sales.lead", object_id=str(lead.pk), action="convert").exists()


def test_it_converts_into_the_existing_customer_with_the_same_credit_code(api, users):
    code = credit_code()
    existing = make_customer(users.am1, name="已有客户有限公司", credit_code=code)
    contact = make_contact(users.am1, existing, name="钱主任", mobile="13600002222")
    lead = make_lead(users.am1, company_name="已有客户", credit_code=code, contact_name="钱主任", mobile="13600002222")
    before = counts()
    response = api(users.am1).post(f"/leads/{lead.pk}/convert", {"opportunity": {**DEAL, "amount": "1000"}})
    assert response.status_code == 200, response.content
    assert response.json()["customer_id"] == existing.pk
    assert response.json()["contact_id"] == contact.pk  # same mobile: the existing contact, no duplicate
    assert counts() == (before[0], before[1], before[2] + 1)


def test_a_merely_similar_customer_makes_the_user_choose(api, users):
    existing = make_customer(users.am1, name="某某钢铁厂")
    make_contact(users.am1, existing, name="孙", mobile="13500003333")
    lead = make_lead(users.am1, company_name="完全不同的名字", contact_name="孙", mobile="13500003333")
    client = api(users.am1)
    before = counts()
    response = client.post(f"/leads/{lead.pk}/convert", {"opportunity": DEAL})
    assert response.status_code == 422
    assert "某某钢铁厂" in errors_by_field(response)["customer_id"][0]
    assert counts() == before
    response = client.post(f"/leads/{lead.pk}/convert", {"opportunity": DEAL, "new_customer": True})
    assert response.status_code == 200 and response.json()["customer_id"] != existing.pk


def test_it_converts_into_a_chosen_customer_but_not_an_invisible_one(api, users, customers):
    lead = make_lead(users.am1, company_name="另一个名字")
    client = api(users.am1)
    response = client.post(f"/leads/{lead.pk}/convert", {"opportunity": DEAL, "customer_id": customers.c2.pk})
    assert response.status_code == 422 and "customer_id" in errors_by_field(response)
    response = client.post(f"/leads/{lead.pk}/convert", {"opportunity": DEAL, "customer_id": customers.c1.pk})
    assert response.status_code == 200 and response.json()["customer_id"] == customers.c1.pk


def test_converting_twice_is_a_conflict(api, users):
    lead = make_lead(users.am1, company_name="两次转换公司")
    client = api(users.am1)
    assert client.post(f"/leads/{lead.pk}/convert", {"opportunity": DEAL}).status_code == 200
    before = counts()
    assert client.post(f"/leads/{lead.pk}/convert", {"opportunity": DEAL, "new_customer": True}).status_code == 409
    assert client.patch(f"/leads/{lead.pk}", {"version": 2, "company_name": "改名"}).status_code == 409
    assert counts() == before


@pytest.mark.parametrize(
    ("opportunity", "field"),
    [
        ({"pipeline_id": 999999, **DEAL}, "pipeline_id"),
        ({"stage_id": 999999, **DEAL}, "stage_id"),
        ({"amount": "-5", **DEAL}, "opportunity.amount"),
        ({}, "opportunity.expected_close"),
    ],
)
def test_a_failure_leaves_nothing_behind(api, users, opportunity, field):
    lead = make_lead(users.am1, company_name="原子性测试公司", contact_name="周", mobile="13400004444")
    before = counts()
    audits = AuditLog.objects.count()
    response = api(users.am1).post(f"/leads/{lead.pk}/convert", {"opportunity": opportunity})
    assert response.status_code == 422, response.content
    assert field in errors_by_field(response)
    assert counts() == before and AuditLog.objects.count() == audits
    lead.refresh_from_db()
    assert lead.status == Lead.Status.NEW and lead.customer_id is None and lead.version == 1


def test_a_stale_version_and_a_disqualified_lead_do_not_convert(api, users):
    lead = make_lead(users.am1, company_name="过期版本公司")
    client = api(users.am1)
    client.patch(f"/leads/{lead.pk}", {"version": 1, "status": "contacted"})
    assert client.post(f"/leads/{lead.pk}/convert", {"version": 1, "opportunity": DEAL}).status_code == 409
    client.patch(f"/leads/{lead.pk}", {"version": 2, "status": "disqualified", "disqualified_reason": "重复"})
    assert client.post(f"/leads/{lead.pk}/convert", {"opportunity": DEAL}).status_code == 409


def test_others_cannot_convert_a_lead_out_of_their_scope(api, users):
    lead = make_lead(users.am1)
    assert api(users.am2).post(f"/leads/{lead.pk}/convert", {"opportunity": DEAL}).status_code == 404
    assert api(users.exec1).post(f"/leads/{lead.pk}/convert", {"opportunity": DEAL}).status_code == 403
