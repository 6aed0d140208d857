"""The lead pages: list, the screen pop's new-lead form, detail, qualification, assignment and conversion."""

import pytest

from guanxi.sales.models import Lead
from tests.sales.pipeline_factories import make_lead, pipeline

pytestmark = pytest.mark.django_db


def test_the_sales_home_links_the_parts_the_user_may_use(api, users):
    html = api(users.am1).client.get("/sales/").content.decode()
    for url in ("/sales/leads/", "/sales/kanban/", "/sales/forecast/", "/sales/call-lists/", "/sales/quotes/"):
        assert url in html
    assert "/sales/leads/new/" not in api(users.exec1).client.get("/sales/").content.decode()  # read-only role


def test_the_screen_pop_prefills_the_new_lead_form(api, users):
    page = api(users.agent1).client.get("/sales/leads/new/", {"mobile": "13912345678"})
    html = page.content.decode()
    assert page.status_code == 200 and 'value="13912345678"' in html
    assert '<option value="inbound_call" selected>' in html


def test_creating_a_lead_from_the_form_shows_errors_in_place(api, users):
    client = api(users.am1).client
    response = client.post(
        "/sales/leads/new/",
        {"company_name": "表单线索", "kind": "organisation", "source": "website", "credit_code": "91110105000000001X"},
    )
    assert response.status_code == 200 and 'data-field="credit_code"' in response.content.decode()
    assert not Lead.objects.exists()
    response = client.post(
        "/sales/leads/new/", {"company_name": "表单线索", "kind": "organisation", "source": "website"}
    )
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/sales/leads/{lead.pk}/"
    assert lead.owner_id == users.am1.pk


def test_list_and_detail_are_scoped(api, users):
    mine = make_lead(users.am1, company_name="页面甲线索")
    theirs = make_lead(users.am2, company_name="页面乙线索")
    client = api(users.am1).client
    html = client.get("/sales/leads/").content.decode()
    assert "页面甲线索" in html and "页面乙线索" not in html
    assert client.get(f"/sales/leads/{mine.pk}/").status_code == 200
    assert client.get(f"/sales/leads/{theirs.pk}/").status_code == 404
    assert client.get(f"/sales/leads/{theirs.pk}/convert/").status_code == 404
    rows = client.get("/sales/leads/", {"q": "乙"}, HTTP_HX_REQUEST="true").content.decode()
    assert "页面甲线索" not in rows


def test_qualify_assign_and_convert_through_the_pages(api, users):
    lead = make_lead(users.agent1, company_name="页面转换公司", contact_name="吴", mobile="13312345678")
    bm = api(users.bm1).client
    response = bm.post(f"/sales/leads/{lead.pk}/assign/", {"owner_id": users.am1.pk, "version": 1})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner_id == users.am1.pk
    am = api(users.am1).client
    am.post(f"/sales/leads/{lead.pk}/status/", {"status": "qualified", "version": lead.version})
    lead.refresh_from_db()
    assert lead.status == "qualified"
    page = am.get(f"/sales/leads/{lead.pk}/convert/")
    assert page.status_code == 200 and "页面转换公司" in page.content.decode()
    response = am.post(
        f"/sales/leads/{lead.pk}/convert/",
        {
            "customer_choice": "new",
            "name": "页面商机",
            "amount": "120000",
            "expected_close": "2027-08-01",
            "pipeline_id": pipeline("value-added").pk,
            "version": lead.version,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.opportunity.pipeline.code == "value-added"
    detail = am.get(f"/sales/leads/{lead.pk}/").content.decode()
    assert f"/sales/deals/{lead.opportunity_id}/" in detail and f"/customers/{lead.customer_id}/" in detail


def test_disqualifying_without_a_reason_is_refused(api, users):
    lead = make_lead(users.am1)
    api(users.am1).client.post(f"/sales/leads/{lead.pk}/status/", {"status": "disqualified", "version": 1})
    lead.refresh_from_db()
    assert lead.status == "new"
