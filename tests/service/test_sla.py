"""SLA with the database: deadlines by type × priority × grade, business hours and the holiday calendar, pauses, and the
sweep that warns, escalates (team lead, then branch manager) and counts breaches per team."""

from datetime import date

from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.models import AuditLog
from guanxi.service import services, sla, tasks
from guanxi.service.models import Escalation, Holiday, Ticket, TicketEvent
from tests.conftest import fresh
from tests.service.factories import Clock, at, make_ticket, move

MONDAY_9 = at(2026, 3, 2, 9, 0)  # an ordinary working Monday


def test_deadlines_follow_business_hours(users, customers, monkeypatch):
    Clock(monkeypatch, at(2026, 3, 6, 17, 0))  # Friday 17:00
    ticket = make_ticket(users.agent1, customers.c1)  # consultation, normal, general: 60 / 480 minutes
    assert ticket.response_due_at == at(2026, 3, 9, 9, 0)  # 30 min on Friday, 30 on Monday from 08:30
    assert ticket.sla_due_at == ticket.response_due_at


def test_the_resolution_deadline_spans_the_weekend(users, customers, monkeypatch):
    Clock(monkeypatch, at(2026, 3, 6, 17, 0))
    ticket = make_ticket(users.agent1, customers.c1)
    assert ticket.resolution_due_at == at(2026, 3, 9, 16, 0)  # 30 min Friday + 450 min Monday from 08:30


def test_key_customers_are_served_faster(users, customers, monkeypatch):
    Clock(monkeypatch, MONDAY_9)
    customers.c2.grade = "key"
    customers.c2.save(update_fields=["grade"])
    general = make_ticket(users.agent1, customers.c1, ticket_type="complaint")
    key = make_ticket(users.agent1, customers.c2, ticket_type="complaint")
    assert key.sla_grade == "key" and general.sla_grade == "general"
    assert key.response_due_at < general.response_due_at
    assert key.resolution_due_at < general.resolution_due_at


def test_emergency_repair_runs_around_the_clock(users, customers, monkeypatch):
    Clock(monkeypatch, at(2026, 2, 15, 23, 30))  # Spring Festival, Sunday night
    ticket = make_ticket(users.agent1, customers.c1, ticket_type="emergency_repair")
    assert ticket.around_the_clock
    assert ticket.response_due_at == at(2026, 2, 16, 0, 15)  # 45 minutes later, holiday or not


def test_the_holiday_calendar_in_the_database_counts(users, customers, monkeypatch, api):
    assert Holiday.objects.filter(date=date(2026, 10, 1), kind="off").exists()  # seeded (chinesecalendar)
    assert Holiday.objects.filter(date=date(2026, 2, 28), kind="workday").exists()  # 调休 Saturday
    Clock(monkeypatch, at(2026, 3, 6, 17, 0))
    response = api(users.bm1).post("/holidays", {"date": "2026-03-09", "name": "示范停业日"})
    assert response.status_code == 201, response.content
    ticket = make_ticket(users.agent1, customers.c1)
    assert ticket.response_due_at == at(2026, 3, 10, 9, 0)  # Monday is now off


def test_waiting_for_the_customer_pauses_the_clock(users, customers, monkeypatch):
    clock = Clock(monkeypatch, MONDAY_9)
    ticket = make_ticket(users.agent1, customers.c1)  # resolution due Monday 17:00 (480 working minutes)
    assert ticket.resolution_due_at == at(2026, 3, 2, 17, 0)
    move(ticket, users.agent1, "accept", "start")
    clock.set(at(2026, 3, 2, 10, 0))
    move(ticket, users.agent1, "wait")  # 420 working minutes left
    clock.set(at(2026, 3, 3, 10, 0))
    ticket = move(ticket, users.agent1, "start")
    assert ticket.resolution_due_at == at(2026, 3, 3, 17, 0)
    assert ticket.sla_due_at == ticket.resolution_due_at


def test_waiting_tickets_are_not_swept(users, customers, monkeypatch):
    clock = Clock(monkeypatch, MONDAY_9)
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "start", "wait")
    clock.set(at(2026, 3, 20, 9, 0))
    assert sla.sla_sweep() == sla.SweepResult()
    ticket.refresh_from_db()
    assert ticket.sla_state == Ticket.SlaState.ON_TIME


def test_the_sweep_warns_then_escalates_to_the_lead_then_the_branch_manager(users, customers, org, monkeypatch):
    clock = Clock(monkeypatch, MONDAY_9)
    ticket = make_ticket(users.am1, customers.c1)  # team B01-T1 (lead1), response due 10:00
    clock.set(at(2026, 3, 2, 9, 29))
    assert sla.sla_sweep().warned == 0
    clock.set(at(2026, 3, 2, 9, 30))
    assert sla.sla_sweep() == sla.SweepResult(warned=1)
    assert sla.sla_sweep() == sla.SweepResult()  # idempotent
    clock.set(at(2026, 3, 2, 10, 0))
    assert sla.sla_sweep() == sla.SweepResult(breached=1)
    ticket.refresh_from_db()
    assert ticket.sla_state == Ticket.SlaState.BREACHED and ticket.response_breached
    first = Escalation.objects.get(ticket=ticket)
    assert (first.level, first.target, first.escalated_to_id, first.team_id) == (
        1,
        "response",
        users.lead1.pk,
        org.B01_T1.pk,
    )
    clock.set(at(2026, 3, 2, 11, 59))
    assert sla.sla_sweep() == sla.SweepResult()
    clock.set(at(2026, 3, 2, 12, 0))
    assert sla.sla_sweep() == sla.SweepResult(escalated=1)
    second = Escalation.objects.get(ticket=ticket, level=2)
    assert second.escalated_to_id == users.bm1.pk
    assert sla.sla_sweep() == sla.SweepResult()
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == ["created", "sla_warning", "sla_breach", "escalated"]
    assert (
        AuditLog.objects.filter(object_type="service.ticket", object_id=str(ticket.pk), action="sla_breach").count()
        == 1
    )
    breach = AuditLog.objects.get(object_type="service.ticket", object_id=str(ticket.pk), action="sla_breach")
    assert breach.object_repr == str(ticket)
    assert sla.breaches_by_team() == {org.B01_T1.pk: 1}
    # Accepting late: the response target stays missed, the clock moves on to the resolution target.
    ticket = move(ticket, users.am1, "accept")
    assert ticket.response_breached and ticket.sla_state == Ticket.SlaState.ON_TIME
    assert ticket.sla_due_at == ticket.resolution_due_at


def test_the_notification_hook_is_called_after_commit(
    users, customers, monkeypatch, django_capture_on_commit_callbacks
):
    clock = Clock(monkeypatch, MONDAY_9)
    ticket = make_ticket(users.am1, customers.c1)
    calls = []
    monkeypatch.setattr(sla, "notify_hooks", [lambda kind, pairs: calls.append((kind, pairs))])
    clock.set(at(2026, 3, 2, 10, 0))
    with django_capture_on_commit_callbacks(execute=True):
        sla.sla_sweep()
    assert calls == [("sla_breach", [(ticket.pk, users.lead1.pk)])]


def test_the_sweep_is_set_based(users, customers, monkeypatch):
    """The same number of queries for 1 and for 25 tickets breaching at once."""
    clock = Clock(monkeypatch, MONDAY_9)
    make_ticket(users.am1, customers.c1)
    clock.set(at(2026, 3, 2, 10, 0))
    with CaptureQueriesContext(connection) as one:
        assert sla.sla_sweep().breached == 1
    clock.set(MONDAY_9)
    for _ in range(25):
        make_ticket(users.am1, customers.c1)
    clock.set(at(2026, 3, 2, 10, 0))
    with CaptureQueriesContext(connection) as many:
        assert sla.sla_sweep().breached == 25
    assert len(many) == len(one)


def test_the_task_expires_hand_overs_and_sweeps(users, customers, monkeypatch):
    clock = Clock(monkeypatch, MONDAY_9)
    ticket = make_ticket(users.am1, customers.c1)
    services.handover_request(
        actor=fresh(users.am1), ticket_id=ticket.pk, version=ticket.version, to_user_id=users.lead1.pk, reason="x"
    )
    clock.set(at(2026, 3, 2, 12, 0))
    assert tasks.sweep() == {"handovers_expired": 1, "warned": 0, "breached": 1, "escalated": 1}


def test_reopening_starts_a_fresh_resolution_target(users, customers, monkeypatch):
    clock = Clock(monkeypatch, MONDAY_9)
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "resolve", "close")
    clock.set(at(2026, 3, 4, 9, 0))
    ticket = move(ticket, users.agent1, "reopen")
    assert ticket.resolution_due_at == at(2026, 3, 4, 17, 0)  # 480 working minutes from Wednesday 09:00
    assert ticket.resolved_at is None and ticket.closed_at is None


# --- the holiday calendar API ---------------------------------------------------------------------------------------


def test_admins_edit_the_holiday_calendar(users, api):
    agent, manager = api(users.agent1), api(users.bm1)
    listed = agent.get("/holidays", {"year": 2026}).json()
    assert {"2026-10-01", "2026-02-28"} <= {day["date"] for day in listed}
    assert agent.post("/holidays", {"date": "2027-01-01", "name": "元旦"}).status_code == 403
    created = manager.post("/holidays", {"date": "2027-01-01", "name": "元旦"})
    assert created.status_code == 201
    duplicate = manager.post("/holidays", {"date": "2027-01-01"})
    assert duplicate.status_code == 422 and duplicate.json()["errors"][0]["field"] == "date"
    holiday = created.json()
    changed = manager.patch(f"/holidays/{holiday['id']}", {"version": holiday["version"], "name": "元旦节"})
    assert changed.status_code == 200 and changed.json()["version"] == holiday["version"] + 1
    stale = manager.patch(f"/holidays/{holiday['id']}", {"version": holiday["version"], "name": "旧"})
    assert stale.status_code == 409
    assert manager.delete(f"/holidays/{holiday['id']}").status_code == 204
    assert AuditLog.objects.filter(object_type="service.holiday", object_id=str(holiday["id"])).count() == 3
