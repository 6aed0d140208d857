"""A salesperson in the browser: create a lead, convert it, drag the deal on the kanban, log a call."""

import importlib
import re

import pytest
from django.apps import apps
from django.core.management.sql import emit_post_migrate_signal
from playwright.sync_api import expect

from guanxi.activities.models import Activity
from guanxi.sales.models import Lead
from tests.conftest import PASSWORD, build_org, build_users

# serialized_rollback: the flush after each test then leaves no post_migrate rows behind, so the next test that
# restores the seeded data (groups, regions, categories) does not collide with them.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def people(transactional_db):
    # Like test_browser.py: a flush before this test may have removed the roles and the seeded pipelines.
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    importlib.import_module("guanxi.sales.migrations.0002_seed_pipelines").seed(apps, None)
    build_org()
    return build_users()


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/customers/")


def test_a_lead_becomes_a_deal_that_moves_on_the_kanban_and_gets_a_call(page, people, shot):
    page.set_default_timeout(60_000)  # generous: the shared CI machine is sometimes heavily loaded
    page.set_default_navigation_timeout(60_000)
    log_in(page, "am1")

    # 1. A new lead (the form the telephony screen pop opens).
    page.goto("/sales/leads/new/?mobile=13712345678")
    page.fill("input[name=company_name]", "浏览器新材料有限公司")
    page.fill("input[name=contact_name]", "郑工")
    page.fill("input[name=estimated_amount]", "300000")
    page.fill("textarea[name=need]", "新装 630 kVA")
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/sales/leads/\d+/$"))
    assert "新建" in page.locator("h1").inner_text()

    # 2. Convert it: a new customer (the duplicate check finds none), its contact and the deal.
    page.get_by_role("link", name="转换").click()
    page.fill("input[name=expected_close]", "2027-06-30")
    shot(page, "lead-convert")
    page.click("button[type=submit].primary")
    page.wait_for_selector("[data-panel=conversion]")
    lead = Lead.objects.get(company_name="浏览器新材料有限公司")
    assert lead.status == "converted" and lead.customer.name == "浏览器新材料有限公司"
    assert lead.contact.mobile == "13712345678" and lead.opportunity.name == "新装 630 kVA"

    # 3. Drag the deal from 需求受理 to 现场勘查 on the kanban; the column totals follow.
    page.goto("/sales/kanban/")
    card = page.locator(f".kanban-card[data-deal='{lead.opportunity_id}']")
    target = page.locator(".kanban-col[aria-label='现场勘查']")
    assert "新装 630 kVA" in page.locator(".kanban-col[aria-label='需求受理']").inner_text()
    card.drag_to(target)
    expect(target).to_contain_text("新装 630 kVA")
    assert "75,000.00" in target.locator("[data-totals]").inner_text() or "75000.00" in target.inner_text()
    shot(page, "kanban")
    lead.opportunity.refresh_from_db()
    assert lead.opportunity.stage.code == "survey" and lead.opportunity.version == 2

    # 4. Log the call from the deal (the activities app's form), then see it on the customer's timeline.
    page.goto(f"/sales/deals/{lead.opportunity_id}/")
    page.get_by_role("link", name="记录活动").click()
    page.fill("input[name=subject]", "电话确认勘查时间")
    page.check("input[name=done]")
    page.select_option("select[name=call_result]", "connected")
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(rf".*/customers/{lead.customer_id}/.*"))
    call = Activity.objects.get(subject="电话确认勘查时间")
    assert call.kind == "outbound_call" and call.customer_id == lead.customer_id and call.status == "done"
    assert "电话确认勘查时间" in page.content()
