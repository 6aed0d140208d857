"""Issue 5 in the browser: a 95598 agent records a complaint of a key customer and hands it over; the receiver accepts
it, resolves and closes it; the return visit finds the customer dissatisfied and the ticket reopens."""

import re
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.management.sql import emit_post_migrate_signal
from django.utils import timezone

from guanxi.activities.models import Notification
from guanxi.service import reference_data, return_visits
from guanxi.service.models import ReturnVisit, ReturnVisitRule, Ticket, TicketType
from tests.conftest import PASSWORD, build_org, build_users, make_customer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def people(transactional_db):
    # A flush before this test may have removed the roles and the seeded ticket types, SLA targets and visit rules.
    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    if not TicketType.objects.exists():
        reference_data.seed(apps)
    if not ReturnVisitRule.objects.exists():
        from importlib import import_module

        import_module("guanxi.service.migrations.0004_return_visits").seed_rules(apps, None)
    build_org()
    return build_users()


def log_in(context, username: str):
    page = context.new_page()
    page.set_default_timeout(60_000)  # generous: the shared machine is sometimes heavily loaded
    page.set_default_navigation_timeout(60_000)
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/customers/")
    return page


def test_a_complaint_is_handed_over_resolved_closed_and_reopened_by_an_unhappy_return_visit(
    browser, live_server, people, shot
):
    customer = make_customer(people["am1"], name="浏览器重点客户", grade="key")
    contexts = {
        name: browser.new_context(viewport={"width": 1366, "height": 860}, locale="zh-CN", base_url=live_server.url)
        for name in ("agent1", "lead1")
    }
    try:
        # 1. The 95598 agent records the complaint while the customer is on the line.
        agent = log_in(contexts["agent1"], "agent1")
        agent.goto("/service/new/")
        agent.select_option("select[name=channel]", "hotline")
        agent.select_option("select[name=ticket_type]", "complaint")
        agent.select_option("select[name=priority]", "high")
        agent.fill("input[name=customer]", customer.number)
        agent.fill("input[name=subject]", "电费异常偏高")
        agent.fill("textarea[name=description]", "客户反映本月电费比上月高出三倍")
        agent.click("button[type=submit].primary")
        agent.wait_for_url(re.compile(r".*/service/\d+/$"))
        ticket = Ticket.objects.get(subject="电费异常偏高")
        assert ticket.customer_id == customer.pk and ticket.sla_grade == "key" and ticket.owner.username == "agent1"

        # 2. … and hands it over to the team lead (首问负责: the agent stays the owner until accepted).
        agent.select_option("select[name=to_user_id]", str(people["lead1"].pk))
        agent.fill("input[name=reason]", "需要班长核查计量装置")
        agent.locator(f"form[action='/service/{ticket.pk}/handover/'] button").click()
        agent.wait_for_url(re.compile(rf".*/service/{ticket.pk}/$"))
        ticket.refresh_from_db()
        assert ticket.owner.username == "agent1" and ticket.handovers.get().status == "pending"

        # 3. The receiver accepts the hand-over, accepts the ticket, resolves and closes it.
        lead = log_in(contexts["lead1"], "lead1")
        lead.goto(f"/service/{ticket.pk}/")
        lead.locator(f"form[action='/service/{ticket.pk}/handover/accept/'] button").click()
        lead.wait_for_url(re.compile(rf".*/service/{ticket.pk}/$"))
        ticket.refresh_from_db()
        assert ticket.owner.username == "lead1"
        lead.locator(f"form[action='/service/{ticket.pk}/accept/'] button").click()
        lead.wait_for_url(re.compile(rf".*/service/{ticket.pk}/$"))
        lead.fill("textarea[name=resolution]", "现场校验电能表,误差超差已更换,退补电费")
        lead.locator(f"form[action='/service/{ticket.pk}/resolve/'] button").click()
        lead.wait_for_url(re.compile(rf".*/service/{ticket.pk}/$"))
        lead.locator(f"form[action='/service/{ticket.pk}/close/'] button").click()
        lead.wait_for_url(re.compile(rf".*/service/{ticket.pk}/$"))
        ticket.refresh_from_db()
        assert ticket.status == "closed"
        visit = ReturnVisit.objects.get(ticket=ticket)
        assert visit.assignee.username == "agent1" and visit.status == "scheduled"

        # 4. A day later the beat sweep makes the return visit due (the clock is moved by putting the visit back).
        ReturnVisit.objects.filter(pk=visit.pk).update(due_at=timezone.now() - timedelta(minutes=1))
        assert return_visits.return_visits_sweep()["return_visits_due"] == 1

        # 5. The agent calls the customer back: dissatisfied.
        agent.goto("/service/return-visits/")
        row = agent.locator(f"#visit-{visit.pk}")
        assert ticket.number in row.inner_text()
        row.locator("select[name=reached]").select_option("yes")
        row.locator("select[name=satisfaction]").select_option("1")
        row.locator("input[name=comment]").fill("换表后电费仍然偏高")
        shot(agent, "return-visit")
        row.get_by_role("button", name="记录").click()
        agent.wait_for_url("**/service/return-visits/**")
        assert "回访已记录" in agent.content()

        # 6. The ticket is reopened (state machine) and the lead is told.
        ticket.refresh_from_db()
        visit.refresh_from_db()
        assert visit.status == "completed" and visit.satisfaction == 1 and visit.reopened
        assert ticket.status == "reopened" and ticket.owner.username == "lead1"
        assert Notification.objects.filter(user=people["lead1"], kind="return_visit").exists()
        lead.goto(f"/service/{ticket.pk}/")
        assert "已重开" in lead.locator("h1").inner_text()
        assert "换表后电费仍然偏高" in lead.content()
    finally:
        for context in contexts.values():
            context.close()
