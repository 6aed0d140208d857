"""The deal pages: list, new deal from the 360 view, detail with history/competitors/team, edit, close; the deals
panel on the customer 360 page; the call list pages."""

import pytest

from guanxi.sales.models import Opportunity
from tests.sales.pipeline_factories import make_deal, stage

pytestmark = pytest.mark.django_db


def test_a_deal_is_created_from_the_customer_page(api, users, customers):
    client = api(users.am1).client
    detail = client.get(f"/customers/{customers.c1.pk}/").content.decode()
    assert f"/sales/deals/new/?customer={customers.c1.pk}" in detail
    assert client.get("/sales/deals/new/", {"customer": customers.c2.pk}).status_code == 404
    form = client.get("/sales/deals/new/", {"customer": customers.c1.pk})
    assert form.status_code == 200
    pipeline_id = stage("enquiry").pipeline_id
    response = client.post(
        "/sales/deals/new/",
        {
            "customer_id": customers.c1.pk,
            "name": "页面新商机",
            "amount": "5000",
            "expected_close": "2027-01-31",
            "pipeline_id": pipeline_id,
        },
    )
    deal = Opportunity.objects.get(name="页面新商机")
    assert response.status_code == 302 and response["Location"] == f"/sales/deals/{deal.pk}/"
    panel = client.get(f"/customers/{customers.c1.pk}/").content.decode()
    assert "页面新商机" in panel


def test_detail_edit_close_competitors_and_team(api, users, customers):
    deal = make_deal(users.am1, customers.c1, name="详情商机")
    client = api(users.am1).client
    html = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert "详情商机" in html and 'data-panel="stage-history"' in html
    client.post(f"/sales/deals/{deal.pk}/competitors/", {"name": "竞争者甲", "strengths": "关系好"})
    client.post(f"/sales/deals/{deal.pk}/team/", {"user_id": users.lead1.pk, "role": "sponsor"})
    html = client.get(f"/sales/deals/{deal.pk}/").content.decode()
    assert "竞争者甲" in html and "LEAD1" in html
    response = client.post(
        f"/sales/deals/{deal.pk}/edit/",
        {"name": "改名商机", "amount": "7", "expected_close": "2027-02-01", "version": 1},
    )
    assert response.status_code == 302
    stale = client.post(
        f"/sales/deals/{deal.pk}/edit/", {"name": "旧版本", "amount": "7", "expected_close": "2027-02-01", "version": 1}
    )
    assert stale.status_code == 200 and 'role="alert"' in stale.content.decode()
    client.post(f"/sales/deals/{deal.pk}/close/", {"action": "lost", "version": 2, "reason": ""})
    deal.refresh_from_db()
    assert deal.status == "open"  # a lost deal needs a reason
    client.post(f"/sales/deals/{deal.pk}/close/", {"action": "lost", "version": 2, "reason": "预算取消"})
    deal.refresh_from_db()
    assert deal.status == "lost" and deal.close_reason == "预算取消"


def test_list_kanban_forecast_pages_are_scoped(api, users, customers):
    make_deal(users.am1, customers.c1, name="甲页面商机")
    make_deal(users.am2, customers.c2, name="乙页面商机")
    client = api(users.am1).client
    for url in ("/sales/deals/", "/sales/kanban/"):
        html = client.get(url).content.decode()
        assert "甲页面商机" in html and "乙页面商机" not in html
    lead2 = api(users.lead2).client.get("/sales/kanban/").content.decode()
    assert "乙页面商机" in lead2 and "甲页面商机" not in lead2
    more = client.get("/sales/kanban/column/", {"pipeline": stage("enquiry").pipeline_id, "stage": stage("enquiry").pk})
    assert more.status_code == 200 and "甲页面商机" in more.content.decode()


def test_the_call_list_pages(api, users, customers):
    client = api(users.am1).client
    assert client.get("/sales/call-lists/new/").status_code == 200
    response = client.post("/sales/call-lists/new/", {"name": "页面名单", "script": "开场白", "q": "甲一"})
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "页面名单" in html and "甲一电力客户" in html and "开场白" in html
    empty = client.post("/sales/call-lists/new/", {"name": "空名单", "q": "不存在的客户"})
    assert empty.status_code == 200 and 'data-field="filters"' in empty.content.decode()
    assert "页面名单" not in api(users.am2).client.get("/sales/call-lists/").content.decode()


def test_pipelines_are_configured_in_the_back_office(api, users):
    client = api(users.admin).client
    listing = client.get("/admin/sales/pipeline/")
    assert listing.status_code == 200 and "新装增容" in listing.content.decode()
    first = stage("enquiry").pipeline_id
    assert "需求受理" in client.get(f"/admin/sales/pipeline/{first}/change/").content.decode()
