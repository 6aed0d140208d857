"""A change of the holiday calendar or of business hours moves the deadlines of the open tickets that count it
(service/reschedule.py): examples through the API, the job's chunks and idempotence, the after-commit hand-off, and
hypothesis properties of the one rule (sla.deadlines) against the clock arithmetic."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test import Client
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from guanxi.core.models import AuditLog, OrgUnit
from guanxi.service import reschedule, services, sla, tasks
from guanxi.service.clock import SHANGHAI, WorkCalendar, add_working_time, due_time, resume
from guanxi.service.models import Holiday, RescheduleJob, SlaTarget, Ticket, TicketEvent
from tests.conftest import fresh, race
from tests.service.factories import Clock, at, ensure_reference_data, make_ticket, move

REAL_HAND_OFF = reschedule.hand_off  # taken before the autouse fixture replaces it
FRIDAY_17 = at(
    2026, 3, 6, 17, 0
)  # consultation, normal, general: 60 / 480 minutes → response Mon 09:00, resolution Mon 16:00
LUNCH_JSON = [[["08:30", "12:00"], ["13:30", "17:30"]]] * 5 + [[], []]
COUNTER_JSON = [[["08:30", "12:00"], ["13:30", "17:30"]]] * 5 + [[["09:00", "12:00"]], []]


def _fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


def _deadlines(ticket: Ticket) -> tuple:
    ticket = _fresh(ticket)
    return ticket.response_due_at, ticket.resolution_due_at, ticket.sla_due_at, ticket.sla_state


def _declare(api, users, day: str, kind: str = "off"):
    response = api(users.bm1).post("/holidays", {"date": day, "kind": kind, "name": "示范停业日"})
    assert response.status_code == 201, response.content
    return response.json()


def _default_hours(api, users, week):
    client = api(users.admin)
    default = client.get("/business-hours").json()[0]
    response = client.patch(f"/business-hours/{default['id']}", {"version": default["version"], "week": week})
    assert response.status_code == 200, response.content


# --- the holiday calendar -----------------------------------------------------------------------------------------


def test_a_holiday_inside_the_window_moves_the_deadlines_by_one_business_day(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, FRIDAY_17)
    ticket = make_ticket(users.agent1, customers.c1)
    assert ticket.resolution_due_at == at(2026, 3, 9, 16, 0)
    clock.set(at(2026, 3, 6, 17, 10))
    holiday = _declare(api, users, "2026-03-09")  # Monday off
    moved = _fresh(ticket)
    assert moved.response_due_at == at(2026, 3, 10, 9, 0) and moved.resolution_due_at == at(2026, 3, 10, 16, 0)
    assert moved.sla_due_at == moved.response_due_at  # not accepted yet: the response deadline counts
    entry = AuditLog.objects.get(action="sla_reschedule", object_type="service.ticket", object_id=str(ticket.pk))
    old, new = (datetime.fromisoformat(value) for value in entry.changes["resolution_due_at"])
    assert (old, new) == (at(2026, 3, 9, 16, 0), moved.resolution_due_at)
    assert "2026-03-09" in entry.changes["reason"]
    summary = AuditLog.objects.get(action="sla_reschedule", object_type="service.holiday")
    assert summary.object_id == str(holiday["id"]) and summary.changes["tickets_moved"] == 1
    # The day is given back: the deadlines return to where they were.
    assert api(users.bm1).delete(f"/holidays/{holiday['id']}").status_code == 204
    assert _fresh(ticket).resolution_due_at == at(2026, 3, 9, 16, 0)


def test_a_day_worked_in_lieu_brings_the_deadline_forward(users, customers, api, monkeypatch):
    Clock(monkeypatch, FRIDAY_17)
    ticket = make_ticket(users.agent1, customers.c1)
    saturday = _declare(api, users, "2026-03-07")  # off on a Saturday: nothing moves
    assert _fresh(ticket).resolution_due_at == at(2026, 3, 9, 16, 0)
    assert not AuditLog.objects.filter(action="sla_reschedule").exists()
    changed = api(users.bm1).patch(f"/holidays/{saturday['id']}", {"version": saturday["version"], "kind": "workday"})
    assert changed.status_code == 200, changed.content
    moved = _fresh(ticket)  # 30 minutes on Friday, 450 on the 调休 Saturday
    assert moved.response_due_at == at(2026, 3, 7, 9, 0) and moved.resolution_due_at == at(2026, 3, 7, 16, 0)
    renamed = api(users.bm1).patch(
        f"/holidays/{saturday['id']}", {"version": changed.json()["version"], "name": "调休"}
    )
    assert renamed.status_code == 200
    assert (
        AuditLog.objects.filter(action="sla_reschedule", object_type="service.holiday").count() == 1
    )  # a name moves nothing


def test_a_holiday_outside_the_window_moves_nothing(users, customers, api, monkeypatch):
    Clock(monkeypatch, FRIDAY_17)
    ticket = make_ticket(users.agent1, customers.c1)
    before = _deadlines(ticket)
    _declare(api, users, "2026-03-11")  # after the resolution deadline
    _declare(api, users, "2026-03-05")  # before the ticket
    assert _deadlines(ticket) == before


# --- business hours -----------------------------------------------------------------------------------------------


def test_shorter_hours_move_the_deadline_later(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 9, 0))  # Monday
    ticket = make_ticket(users.agent1, customers.c1)  # resolution Monday 17:00
    clock.set(at(2026, 3, 2, 9, 30))
    _default_hours(api, users, LUNCH_JSON)  # a lunch break from 12:00 to 13:30
    moved = _fresh(ticket)
    assert moved.response_due_at == at(2026, 3, 2, 10, 0)  # before the break: unchanged
    assert moved.resolution_due_at == at(2026, 3, 3, 9, 30)  # 180 + 240 on Monday, 60 on Tuesday


def test_a_24x7_ticket_ignores_hours_and_holidays(users, customers, api, monkeypatch):
    Clock(monkeypatch, FRIDAY_17)
    ticket = make_ticket(users.agent1, customers.c1, ticket_type="emergency_repair")
    before = _deadlines(ticket)
    _default_hours(api, users, LUNCH_JSON)
    _declare(api, users, "2026-03-07")
    assert _deadlines(ticket) == before


def test_a_branch_schedule_moves_only_that_branchs_tickets(users, customers, api, monkeypatch):
    Clock(monkeypatch, FRIDAY_17)
    b01 = make_ticket(users.agent1, customers.c1)  # agent1 sits on B01-T3
    b02 = make_ticket(users.agent2)  # agent2 on B02-T3 (an unknown caller)
    before = _deadlines(b02)
    branch = OrgUnit.objects.get(code="B01")
    response = api(users.bm1).post("/business-hours", {"branch_id": branch.pk, "week": COUNTER_JSON})
    assert response.status_code == 201, response.content
    assert _fresh(b01).resolution_due_at == at(2026, 3, 9, 14, 30)  # the counter is open on Saturday 09:00–12:00
    assert _deadlines(b02) == before
    # The default hours no longer govern B01: a change to them moves B02's ticket only.
    b01_before = _deadlines(b01)
    _default_hours(api, users, LUNCH_JSON)
    assert _deadlines(b01) == b01_before and _deadlines(b02) != before
    # B01's schedule deleted: its tickets count the default hours again.
    assert api(users.bm1).delete(f"/business-hours/{response.json()['id']}").status_code == 204
    assert _fresh(b01).resolution_due_at == _fresh(b02).resolution_due_at


# --- what does not move -------------------------------------------------------------------------------------------


def test_a_breached_ticket_keeps_its_deadlines(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, FRIDAY_17)
    ticket = make_ticket(users.agent1, customers.c1)
    clock.set(at(2026, 3, 9, 9, 5))  # the response deadline passed
    assert sla.sla_sweep().breached == 1
    before = _deadlines(ticket)
    _declare(api, users, "2026-03-10")
    _default_hours(api, users, LUNCH_JSON)
    assert _deadlines(ticket) == before and before[3] == Ticket.SlaState.BREACHED


def test_a_resolved_ticket_keeps_its_deadlines(users, customers, api, monkeypatch):
    Clock(monkeypatch, FRIDAY_17)
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "start", "resolve")
    before = _deadlines(ticket)
    _declare(api, users, "2026-03-09")
    assert _deadlines(ticket) == before


def test_a_met_response_stays_and_the_resolution_moves(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, FRIDAY_17)
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "start")
    clock.set(at(2026, 3, 6, 17, 20))
    _declare(api, users, "2026-03-09")
    moved = _fresh(ticket)
    assert moved.response_due_at == at(2026, 3, 9, 9, 0)  # met on Friday: a fact, not moved
    assert moved.resolution_due_at == moved.sla_due_at == at(2026, 3, 10, 16, 0)


def test_a_waiting_ticket_gets_the_right_deadline_when_it_resumes(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, FRIDAY_17)
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "start")
    clock.set(at(2026, 3, 6, 17, 10))
    move(ticket, users.agent1, "wait")  # 10 minutes used, 470 left
    clock.set(at(2026, 3, 6, 17, 20))
    _declare(api, users, "2026-03-09")
    paused = _fresh(ticket)
    assert paused.status == "waiting" and paused.resolution_due_at == at(2026, 3, 10, 16, 0)  # as at the pause
    clock.set(at(2026, 3, 10, 10, 0))
    resumed = move(ticket, users.agent1, "start")  # 470 minutes from Tuesday 10:00: 450 on Tuesday, 20 on Wednesday
    assert resumed.resolution_due_at == resumed.sla_due_at == at(2026, 3, 11, 8, 50)


def test_a_finished_pause_and_a_reopening_count_in_the_recomputation(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 9, 0))  # Monday
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "start", "resolve")
    clock.set(at(2026, 3, 3, 9, 0))
    move(ticket, users.agent1, "reopen")  # resolution: 480 minutes from Tuesday 09:00
    clock.set(at(2026, 3, 3, 10, 0))
    move(ticket, users.agent1, "start", "wait")
    clock.set(at(2026, 3, 3, 11, 0))
    ticket = move(ticket, users.agent1, "start")  # Tuesday 17:00 and an hour paused: Wednesday 09:00
    assert ticket.resolution_due_at == at(2026, 3, 4, 9, 0)
    _declare(api, users, "2026-03-04")
    assert _fresh(ticket).resolution_due_at == at(2026, 3, 5, 9, 0)


def test_a_warning_may_fire_again_for_a_deadline_that_moved_later(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, FRIDAY_17)
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "start")
    clock.set(at(2026, 3, 9, 15, 40))  # 20 minutes before the resolution deadline
    assert sla.sla_sweep().warned == 1
    _declare(api, users, "2026-03-10", kind="off")  # after the deadline: nothing moves, still warned
    assert _fresh(ticket).sla_state == Ticket.SlaState.WARNED
    _default_hours(api, users, LUNCH_JSON)  # shorter: Monday 17:30
    moved = _fresh(ticket)
    assert moved.sla_due_at > clock.now + sla.WARN_BEFORE and moved.sla_state == Ticket.SlaState.ON_TIME
    clock.set(moved.sla_due_at - timedelta(minutes=10))
    assert sla.sla_sweep().warned == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.SLA_WARNING).count() == 2


# --- the job ------------------------------------------------------------------------------------------------------


def test_the_job_runs_in_chunks_and_twice_moves_nothing_twice(users, customers, api, monkeypatch, reschedule_tasks):
    Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(5)]
    reschedule_tasks.eager = False
    _declare(api, users, "2026-03-09")
    scope = RescheduleJob.objects.get(pk=reschedule_tasks.pending[0]).scope
    assert all(_fresh(t).resolution_due_at == at(2026, 3, 9, 16, 0) for t in tickets)  # not before the job
    assert reschedule.reschedule(scope, chunk=2) == {"checked": 5, "moved": 5}
    assert all(_fresh(t).resolution_due_at == at(2026, 3, 10, 16, 0) for t in tickets)
    assert reschedule.reschedule(scope, chunk=2) == {"checked": 5, "moved": 0}
    assert AuditLog.objects.filter(action="sla_reschedule", object_type="service.ticket").count() == 5
    assert AuditLog.objects.filter(action="sla_reschedule", object_type="service.holiday").count() == 1


def test_a_chunk_reads_a_constant_number_of_queries(users, customers, monkeypatch, django_assert_max_num_queries):
    Clock(monkeypatch, FRIDAY_17)
    for _ in range(30):
        make_ticket(users.agent1, customers.c1)
    make_ticket(users.agent2)
    Holiday.objects.create(date=date(2026, 3, 9), kind=Holiday.DayKind.OFF)
    scope = {"day": "2026-03-09", "object": ["holiday", 1, "x"]}
    # ids, lock + tickets, holidays, schedules, targets, events, bulk update, audit, history events; then the empty
    # read and summary
    with django_assert_max_num_queries(15):
        assert reschedule.reschedule(scope)["moved"] == 31


def test_the_task_calls_the_job(users, customers, monkeypatch):
    Clock(monkeypatch, FRIDAY_17)
    ticket = make_ticket(users.agent1, customers.c1)
    Holiday.objects.create(date=date(2026, 3, 9), kind=Holiday.DayKind.OFF)
    assert tasks.sla_reschedule({"day": "2026-03-09"}) == {"checked": 1, "moved": 1}
    assert _fresh(ticket).resolution_due_at == at(2026, 3, 10, 16, 0)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_job_starts_after_the_commit_and_runs_here_when_the_broker_is_down(users, customers, api, monkeypatch):
    ensure_reference_data()
    monkeypatch.setattr(reschedule, "hand_off", REAL_HAND_OFF)
    sent: list = []
    monkeypatch.setattr(tasks.sla_reschedule, "apply_async", lambda args, **kw: sent.append(args[0]))
    Clock(monkeypatch, FRIDAY_17)
    ticket = make_ticket(users.agent1, customers.c1)
    _declare(api, users, "2026-03-09")
    assert len(sent) == 1
    job = RescheduleJob.objects.get(pk=sent[0])  # committed with the holiday
    assert job.scope["day"] == "2026-03-09" and job.status == RescheduleJob.Status.PENDING
    assert _fresh(ticket).resolution_due_at == at(2026, 3, 9, 16, 0)  # the worker has not run it yet

    def down(args, **kw):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.sla_reschedule, "apply_async", down)
    _declare(api, users, "2026-03-07", kind="workday")  # run in the committing process: both days count now
    assert _fresh(ticket).resolution_due_at == at(2026, 3, 7, 16, 0)
    assert RescheduleJob.objects.latest("pk").status == RescheduleJob.Status.DONE


# --- durable jobs: a job lost with its worker is resumed by the sweep ----------------------------------------------


class WorkerDied(Exception):
    pass


def _die_after_first_chunk(monkeypatch) -> None:
    real, calls = reschedule._reschedule_chunk, []

    def chunk(ids, **kwargs):
        calls.append(ids)
        if len(calls) > 1:
            raise WorkerDied
        return real(ids, **kwargs)

    monkeypatch.setattr(reschedule, "_reschedule_chunk", chunk)


def _moves(ticket: Ticket) -> int:
    return TicketEvent.objects.filter(ticket=ticket, kind=TicketEvent.Kind.DEADLINE_MOVED).count()


def test_a_job_that_died_is_resumed_by_the_sweep_and_completes_once(
    users, customers, api, monkeypatch, reschedule_tasks
):
    clock = Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(5)]
    reschedule_tasks.eager = False
    _declare(api, users, "2026-03-09")
    [job_id] = reschedule_tasks.pending
    with monkeypatch.context() as m:  # the worker dies in its second chunk
        _die_after_first_chunk(m)
        with pytest.raises(WorkerDied):
            reschedule.run(job_id, chunk=2)
    job = RescheduleJob.objects.get(pk=job_id)
    assert (job.status, job.last_ticket_id, job.checked, job.moved) == ("pending", tickets[1].pk, 2, 2)
    assert (job.started_at, job.attempts) == (FRIDAY_17, 1)
    assert [_fresh(t).resolution_due_at.day for t in tickets] == [10, 10, 9, 9, 9]
    # Within RESUME_AFTER of the last chunk the runner may still be alive: neither the sweep nor a redelivered
    # message takes the job.
    clock.set(FRIDAY_17 + timedelta(minutes=4))
    assert reschedule.reschedules_resume() == 0
    assert reschedule.run(job_id) is None
    clock.set(FRIDAY_17 + timedelta(minutes=6))
    # The sweep only claims the job anew and sends it to the task, with its claim: it moves no ticket itself.
    assert tasks.sla_reschedule_resume() == {"reschedules_resumed": 1}
    assert [_fresh(t).resolution_due_at.day for t in tickets] == [10, 10, 9, 9, 9]
    job.refresh_from_db()
    assert reschedule_tasks.sent == [(job_id, job.claim)] and job.attempts == 2
    assert reschedule_tasks.deliver() == [{"checked": 5, "moved": 5}]  # the worker continues after ticket 2
    assert all(_fresh(t).resolution_due_at == at(2026, 3, 10, 16, 0) for t in tickets)
    assert [_moves(t) for t in tickets] == [1] * 5
    assert AuditLog.objects.filter(action="sla_reschedule", object_type="service.ticket").count() == 5
    job.refresh_from_db()
    assert (job.status, job.checked, job.moved) == ("done", 5, 5) and job.finished_at is not None
    assert job.started_at == FRIDAY_17  # the first claim's
    summary = AuditLog.objects.get(action="sla_reschedule", object_type="service.holiday")
    assert summary.changes["tickets_moved"] == 5
    # A re-run changes nothing: the sweep finds no job, the task's message delivered again does nothing, the scope
    # run again moves nothing.
    clock.set(FRIDAY_17 + timedelta(minutes=30))
    assert reschedule.reschedules_resume() == 0
    assert tasks.sla_reschedule(job_id) is None
    assert tasks.sla_reschedule(job_id, job.claim) is None
    assert reschedule.reschedule(job.scope) == {"checked": 5, "moved": 0}
    assert [_moves(t) for t in tickets] == [1] * 5
    assert AuditLog.objects.filter(action="sla_reschedule").count() == 6


def test_a_job_whose_message_was_lost_is_run_by_the_sweep(users, customers, api, monkeypatch, reschedule_tasks):
    from django.conf import settings as django_settings

    beat = [e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "service.sla_reschedule_resume"]
    assert len(beat) == 1 and beat[0]["schedule"] <= 60  # the sweep runs every minute
    clock = Clock(monkeypatch, FRIDAY_17)
    ticket = make_ticket(users.agent1, customers.c1)
    reschedule_tasks.eager = False
    _declare(api, users, "2026-03-09")  # the message never reaches a worker
    clock.set(FRIDAY_17 + timedelta(minutes=2))
    assert reschedule.reschedules_resume() == 0  # young: its message may still be on its way
    clock.set(FRIDAY_17 + timedelta(minutes=6))
    assert tasks.sla_reschedule_resume.apply().get() == {"reschedules_resumed": 1}
    assert RescheduleJob.objects.get().status == "pending" and len(reschedule_tasks.sent) == 1
    assert reschedule_tasks.deliver() == [{"checked": 1, "moved": 1}]
    assert _fresh(ticket).resolution_due_at == at(2026, 3, 10, 16, 0)
    assert RescheduleJob.objects.get().status == "done"
    assert reschedule_tasks.run() == [None]  # the message arrives late: the job is done


def test_the_sweep_runs_the_job_itself_only_when_the_broker_is_down(
    users, customers, api, monkeypatch, reschedule_tasks
):
    clock = Clock(monkeypatch, FRIDAY_17)
    ticket = make_ticket(users.agent1, customers.c1)
    reschedule_tasks.eager = False
    _declare(api, users, "2026-03-09")

    def down(args, **kw):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.sla_reschedule, "apply_async", down)
    clock.set(FRIDAY_17 + timedelta(minutes=6))
    assert reschedule.reschedules_resume() == 1
    assert _fresh(ticket).resolution_due_at == at(2026, 3, 10, 16, 0)
    assert RescheduleJob.objects.get().status == "done"


def test_a_message_whose_claim_was_taken_over_while_queued_does_nothing(
    users, customers, api, monkeypatch, reschedule_tasks
):
    """The sweep's message waited longer than RESUME_AFTER in the queue: the next sweep claimed the job again; the
    first message finds its claim gone and leaves the job to the second."""
    clock = Clock(monkeypatch, FRIDAY_17)
    make_ticket(users.agent1, customers.c1)
    reschedule_tasks.eager = False
    _declare(api, users, "2026-03-09")
    clock.set(FRIDAY_17 + timedelta(minutes=6))
    assert reschedule.reschedules_resume() == 1
    clock.set(FRIDAY_17 + timedelta(minutes=12))
    assert reschedule.reschedules_resume() == 1
    first, second = reschedule_tasks.sent
    assert first[1] != second[1] and RescheduleJob.objects.get().attempts == 2
    assert tasks.sla_reschedule(*first) is None
    assert tasks.sla_reschedule(*second) == {"checked": 1, "moved": 1}


def test_a_rolled_back_change_leaves_no_job(users, customers, monkeypatch, reschedule_tasks):
    Clock(monkeypatch, FRIDAY_17)
    reschedule_tasks.eager = False
    with pytest.raises(WorkerDied), transaction.atomic():
        services.holiday_create(actor=users.bm1, day=date(2026, 3, 9), kind="off")
        raise WorkerDied
    assert not RescheduleJob.objects.exists()


# --- the lease: after a takeover only one runner's chunks commit ----------------------------------------------------


def _once(tickets: list[Ticket], job_id: int) -> None:
    """Every ticket moved once, counted once, on the job and in the audit."""
    assert all(_fresh(t).resolution_due_at == at(2026, 3, 10, 16, 0) for t in tickets)
    assert [_moves(t) for t in tickets] == [1] * len(tickets)
    assert AuditLog.objects.filter(action="sla_reschedule", object_type="service.ticket").count() == len(tickets)
    [summary] = AuditLog.objects.filter(action="sla_reschedule", object_type="service.holiday")
    assert summary.changes == {"tickets_moved": len(tickets), "tickets_checked": len(tickets)}
    job = RescheduleJob.objects.get(pk=job_id)
    assert (job.status, job.checked, job.moved) == ("done", len(tickets), len(tickets))


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_runner_taken_over_between_chunks_stops_without_writing(users, customers, api, monkeypatch, reschedule_tasks):
    """Runner A's first chunk outlives RESUME_AFTER; right after that chunk commits the sweep claims the job anew for
    runner B (the sweep's message). A, still alive, finds its claim gone at its next chunk and stops without writing;
    B continues from A's last committed chunk and finishes."""
    ensure_reference_data()
    clock = Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(6)]
    sent: list = []
    monkeypatch.setattr(reschedule, "hand_off", sent.append)
    _declare(api, users, "2026-03-09")
    [job_id] = sent
    real, calls = reschedule._reschedule_chunk, []

    def takeover():
        clock.set(FRIDAY_17 + timedelta(minutes=10))  # A looks dead
        assert reschedule.reschedules_resume() == 1

    def chunk(ids, **kwargs):
        calls.append(ids)
        if len(calls) == 1:
            transaction.on_commit(takeover)  # between A's first chunk and its second
        return real(ids, **kwargs)

    monkeypatch.setattr(reschedule, "_reschedule_chunk", chunk)
    assert reschedule.run(job_id, chunk=2) is None  # A stopped quietly
    assert len(calls) == 1 and [_moves(t) for t in tickets] == [1, 1, 0, 0, 0, 0]
    job = RescheduleJob.objects.get(pk=job_id)
    assert (job.status, job.last_ticket_id, job.checked, job.moved, job.attempts) == ("pending", tickets[1].pk, 2, 2, 2)
    assert reschedule_tasks.deliver() == [{"checked": 6, "moved": 6}]  # B
    assert calls[1:] == [[t.pk for t in tickets[2:]]]  # B's one chunk (of CHUNK), after A's last
    _once(tickets, job_id)


def test_a_chunk_that_lost_its_claim_rolls_back(users, customers, api, monkeypatch, reschedule_tasks):
    """Belt and braces: the chunk records its progress only under its claim; a claim gone before the chunk commits
    (another runner's write) rolls the chunk's moves back, and the runner stops."""
    clock = Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(4)]
    reschedule_tasks.eager = False
    _declare(api, users, "2026-03-09")
    [job_id] = reschedule_tasks.pending
    real, calls = reschedule._reschedule_chunk, []

    def chunk(ids, **kwargs):
        calls.append(ids)
        moved = real(ids, **kwargs)
        if len(calls) == 2:
            RescheduleJob.objects.filter(pk=job_id).update(claim="taken-over")
        return moved

    with monkeypatch.context() as m:
        m.setattr(reschedule, "_reschedule_chunk", chunk)
        assert reschedule.run(job_id, chunk=2) is None
    assert len(calls) == 2
    assert [_moves(t) for t in tickets] == [1, 1, 0, 0]  # the second chunk's moves were rolled back
    assert [_fresh(t).resolution_due_at.day for t in tickets] == [10, 10, 9, 9]
    job = RescheduleJob.objects.get(pk=job_id)
    assert (job.status, job.last_ticket_id, job.checked, job.moved) == ("pending", tickets[1].pk, 2, 2)
    clock.set(FRIDAY_17 + timedelta(minutes=6))
    assert reschedule.reschedules_resume() == 1
    assert reschedule_tasks.deliver() == [{"checked": 4, "moved": 4}]
    assert [_moves(t) for t in tickets] == [1] * 4
    assert AuditLog.objects.filter(action="sla_reschedule", object_type="service.ticket").count() == 4


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_sweeps_and_a_late_message_run_a_lost_job_once(users, customers, api, monkeypatch, reschedule_tasks):
    ensure_reference_data()
    clock = Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(6)]
    sent: list = []
    monkeypatch.setattr(reschedule, "hand_off", sent.append)  # the message is lost
    _declare(api, users, "2026-03-09")
    [job_id] = sent
    clock.set(FRIDAY_17 + timedelta(minutes=10))
    results = race(reschedule.reschedules_resume, reschedule.reschedules_resume, lambda: reschedule.run(job_id))
    # Exactly one of the three claims the job (a sweep, sending it with its claim, or the late message, running it);
    # the others find it taken.
    assert [bool(result) for result in results].count(True) == 1, results
    assert all(result in (0, 1, None) or result == {"checked": 6, "moved": 6} for result in results), results
    assert len(reschedule_tasks.sent) == (1 if 1 in results[:2] else 0)
    assert all(result in (None, {"checked": 6, "moved": 6}) for result in reschedule_tasks.deliver())
    _once(tickets, job_id)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_slow_chunk_is_not_taken_over_while_it_runs(users, customers, api, monkeypatch, reschedule_tasks):
    """On PostgreSQL a chunk locks its job's row: a sweep while the chunk runs (past RESUME_AFTER) skips the job, a
    late message waits for the chunk and then finds the job alive; the one runner finishes it."""
    ensure_reference_data()
    clock = Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(4)]
    sent: list = []
    monkeypatch.setattr(reschedule, "hand_off", sent.append)
    _declare(api, users, "2026-03-09")
    [job_id] = sent
    inside, release = threading.Event(), threading.Event()
    real = reschedule._reschedule_chunk

    def chunk(ids, **kwargs):
        if ids[0] == tickets[2].pk:  # A's second chunk is slow
            inside.set()
            assert release.wait(30)
        return real(ids, **kwargs)

    monkeypatch.setattr(reschedule, "_reschedule_chunk", chunk)

    def runner_a():
        try:
            return reschedule.run(job_id, chunk=2)
        finally:
            connection.close()

    def late_message():
        try:
            return reschedule.run(job_id)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        a = pool.submit(runner_a)
        assert inside.wait(30)
        clock.set(FRIDAY_17 + timedelta(minutes=10))  # the chunk has been running for 10 minutes
        assert reschedule.reschedules_resume() == 0  # the sweep skips the locked job
        b = pool.submit(late_message)
        for _ in range(300):  # until the late message waits on the job's row lock
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the late message did not wait for the chunk")
        release.set()
        assert b.result(timeout=30) is None  # after the chunk the job is alive (its sign of life is fresh)
        assert a.result(timeout=30) == {"checked": 4, "moved": 4}
    assert reschedule_tasks.sent == []
    _once(tickets, job_id)
    assert RescheduleJob.objects.get(pk=job_id).attempts == 1


# --- finished jobs are deleted after a while ---------------------------------------------------------------------


def test_done_jobs_are_purged_after_the_keep_days_and_pending_ones_stay(db, monkeypatch, settings):
    from django.conf import settings as django_settings

    beat = [e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == "service.sla_reschedule_purge"]
    assert len(beat) == 1 and str(beat[0]["schedule"].hour) == "{4}"  # daily
    assert django_settings.GUANXI_RESCHEDULE_KEEP_DAYS == 30
    clock = Clock(monkeypatch, FRIDAY_17)
    done = RescheduleJob.Status.DONE
    old = RescheduleJob.objects.create(scope={}, status=done, finished_at=FRIDAY_17 - timedelta(days=31))
    recent = RescheduleJob.objects.create(scope={}, status=done, finished_at=FRIDAY_17 - timedelta(days=29))
    stuck = RescheduleJob.objects.create(scope={})  # pending, however old
    RescheduleJob.objects.filter(pk=stuck.pk).update(created_at=FRIDAY_17 - timedelta(days=90))
    assert tasks.sla_reschedule_purge() == {"reschedules_purged": 1}
    assert set(RescheduleJob.objects.values_list("pk", flat=True)) == {recent.pk, stuck.pk}
    settings.GUANXI_RESCHEDULE_KEEP_DAYS = 7
    clock.set(FRIDAY_17 + timedelta(days=1))
    assert reschedule.reschedules_purge() == 1
    assert list(RescheduleJob.objects.values_list("pk", flat=True)) == [stuck.pk]
    assert old.pk not in RescheduleJob.objects.values_list("pk", flat=True)


# --- the operator's view --------------------------------------------------------------------------------------------


def test_the_admin_lists_the_jobs_read_only_in_the_readers_language(users, customers, api, monkeypatch):
    Clock(monkeypatch, FRIDAY_17)
    make_ticket(users.agent1, customers.c1)
    _declare(api, users, "2026-03-09")
    job = RescheduleJob.objects.get()
    users.admin.is_staff = users.admin.is_superuser = True
    users.admin.save()
    client = Client()
    client.force_login(users.admin)
    page = client.get("/admin/service/reschedulejob/?status__exact=done", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    text = page.content.decode()
    labels = ("时限重算", "变更内容", "节假日安排变更：2026-03-09 示范停业日", "检查工单数", "开始时间", "最近活动时间")
    for label in (*labels, "尝试次数", "已完成", "待执行"):  # the status filter offers both
        assert label in text, label
    assert client.get("/admin/service/reschedulejob/?status__exact=pending").content.decode().count("2026-03-09") == 0
    detail = client.get(f"/admin/service/reschedulejob/{job.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert detail.status_code == 200 and "holiday calendar changed: 2026-03-09" in detail.content.decode()
    assert client.get("/admin/service/reschedulejob/add/").status_code == 403
    assert client.post(f"/admin/service/reschedulejob/{job.pk}/change/", {"status": "pending"}).status_code == 403
    assert client.post(f"/admin/service/reschedulejob/{job.pk}/delete/", {"post": "yes"}).status_code == 403
    assert RescheduleJob.objects.get().status == "done"


# --- a job whose runs raise: the error kept, retried by the sweep, failed after the last attempt --------------------


class BadData(Exception):
    pass


def _raise_in_chunk(monkeypatch, *, after: int = 0, times: int | None = None, message: str = "bad row") -> list:
    """From the chunk numbered `after` + 1 on (of each run), the chunk moves its tickets and then raises — `times`
    times in all (None: always), as a bug or bad data would."""
    real, calls, raised = reschedule._reschedule_chunk, [], []

    def chunk(ids, **kwargs):
        calls.append(ids)
        moved = real(ids, **kwargs)  # written, then rolled back with the chunk
        if len(calls) > after and (times is None or len(raised) < times):
            raised.append(ids)
            raise BadData(message)
        return moved

    monkeypatch.setattr(reschedule, "_reschedule_chunk", chunk)
    return calls


def _untouched(tickets: list[Ticket]) -> None:
    assert all(_fresh(t).resolution_due_at == at(2026, 3, 9, 16, 0) for t in tickets)
    assert [_moves(t) for t in tickets] == [0] * len(tickets)
    assert not AuditLog.objects.filter(action="sla_reschedule").exists()


def test_a_run_that_raises_keeps_the_error_on_the_pending_job_and_writes_nothing_of_its_chunk(
    users, customers, api, monkeypatch, reschedule_tasks
):
    clock = Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(4)]
    reschedule_tasks.eager = False
    _declare(api, users, "2026-03-09")
    [job_id] = reschedule_tasks.pending
    with monkeypatch.context() as m:
        _raise_in_chunk(m, after=1, message="bad row")  # the second chunk raises, every time
        clock.set(FRIDAY_17 + timedelta(minutes=1))
        with pytest.raises(BadData):
            reschedule.run(job_id, chunk=2)
        # The first chunk committed; the second's moves, events and audit entries were rolled back.
        assert [_moves(t) for t in tickets] == [1, 1, 0, 0]
        assert [_fresh(t).resolution_due_at.day for t in tickets] == [10, 10, 9, 9]
        assert AuditLog.objects.filter(action="sla_reschedule").count() == 2  # no summary either
        job = RescheduleJob.objects.get(pk=job_id)
        assert (job.status, job.attempts, job.last_ticket_id, job.checked, job.moved) == (
            "pending",
            1,
            tickets[1].pk,
            2,
            2,
        )
        assert (job.error, job.error_at) == ("BadData: bad row", FRIDAY_17 + timedelta(minutes=1))
        # Pending: the sweep retries it once silent; the task raises again (Celery logs the failure) and counts it.
        clock.set(FRIDAY_17 + timedelta(minutes=7))
        assert reschedule.reschedules_resume() == 1
        with pytest.raises(BadData):
            reschedule_tasks.deliver()
    job.refresh_from_db()
    assert (job.status, job.attempts, job.error_at) == ("pending", 2, FRIDAY_17 + timedelta(minutes=7))
    assert [_moves(t) for t in tickets] == [1, 1, 0, 0]


def test_after_the_last_attempt_the_job_fails_and_the_sweep_and_the_purge_leave_it(
    users, customers, api, monkeypatch, reschedule_tasks, settings, caplog
):
    from django.conf import settings as django_settings

    assert django_settings.GUANXI_RESCHEDULE_MAX_ATTEMPTS == 5
    settings.GUANXI_RESCHEDULE_MAX_ATTEMPTS = 3
    clock = Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(3)]
    reschedule_tasks.eager = False
    _declare(api, users, "2026-03-09")
    [job_id] = reschedule_tasks.pending
    _raise_in_chunk(monkeypatch, message="x" * 5000)  # every chunk raises: nothing ever commits
    with pytest.raises(BadData):
        reschedule.run(job_id)
    for attempt in (2, 3):
        clock.set(clock.now + reschedule.RESUME_AFTER + timedelta(minutes=1))
        assert reschedule.reschedules_resume() == 1
        with pytest.raises(BadData), caplog.at_level("WARNING", logger="guanxi.service.reschedule"):
            reschedule_tasks.deliver()
        assert RescheduleJob.objects.get(pk=job_id).attempts == attempt
    job = RescheduleJob.objects.get(pk=job_id)
    assert (job.status, job.attempts, job.claim, job.error_at) == ("failed", 3, "", clock.now)
    assert job.error.startswith("BadData: xxx") and len(job.error) == reschedule.ERROR_MAX
    errors = [r for r in caplog.records if r.levelname == "ERROR" and "given up" in r.getMessage()]
    assert len(errors) == 1 and f"job {job_id} " in errors[0].getMessage()
    _admins_told_once(users, job_id)
    _untouched(tickets)
    # The sweep no longer takes it, nor does a late message; the purge keeps it however old.
    clock.set(clock.now + timedelta(days=90))
    assert reschedule.reschedules_resume() == 0 and reschedule_tasks.sent == []
    assert reschedule.run(job_id) is None
    assert reschedule.reschedules_purge() == 0
    assert RescheduleJob.objects.get(pk=job_id).status == "failed"
    _untouched(tickets)


def _admins_told_once(users, job_id: int) -> None:
    """The administrators — and nobody else — got one in-app notice of the failed job, pointing at its admin page."""
    from django.urls import reverse

    from guanxi.activities.models import Notification

    notices = list(Notification.objects.filter(kind="job_failed"))
    assert [n.user_id for n in notices] == [users.admin.pk]
    assert str(job_id) in notices[0].title and notices[0].url == reverse(
        "admin:service_reschedulejob_change", args=[job_id]
    )


def test_a_job_whose_runner_dies_at_every_attempt_is_failed_by_the_sweep(
    users, customers, api, monkeypatch, reschedule_tasks, settings, caplog
):
    """A runner killed inside a chunk (memory, a hard time limit) records no error: after the last allowed attempt
    the sweep fails the silent job instead of claiming it once more."""
    settings.GUANXI_RESCHEDULE_MAX_ATTEMPTS = 2
    clock = Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(2)]
    reschedule_tasks.eager = False
    _declare(api, users, "2026-03-09")  # the first message is lost too
    for attempt in (1, 2):
        clock.set(clock.now + timedelta(minutes=6))
        assert reschedule.reschedules_resume() == 1  # claimed and sent; its worker dies without a word
        assert RescheduleJob.objects.get().attempts == attempt
    clock.set(clock.now + timedelta(minutes=6))
    with caplog.at_level("ERROR", logger="guanxi.service.reschedule"):
        assert reschedule.reschedules_resume() == 0
    job = RescheduleJob.objects.get()
    assert (job.status, job.attempts, job.claim, job.error_at) == ("failed", 2, "", clock.now)
    assert job.error.startswith("RunnerLost: ") and len(reschedule_tasks.sent) == 2
    assert [r.levelname for r in caplog.records if "given up" in r.getMessage()] == ["ERROR"]
    _admins_told_once(users, job.pk)
    assert [tasks.sla_reschedule(*message) for message in reschedule_tasks.sent] == [None, None]  # late: nothing
    _untouched(tickets)


def test_a_transient_error_gone_at_the_next_attempt_completes_the_job_once(
    users, customers, api, monkeypatch, reschedule_tasks
):
    """A database error in the first chunk (a real one: the chunk's transaction or savepoint is rolled back and the
    connection stays usable to record it); the sweep's retry finds the fault gone and finishes."""
    clock = Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(3)]
    reschedule_tasks.eager = False
    _declare(api, users, "2026-03-09")
    [job_id] = reschedule_tasks.pending
    real, failures = reschedule._reschedule_chunk, []

    def chunk(ids, **kwargs):
        moved = real(ids, **kwargs)
        if not failures:
            failures.append(ids)
            with connection.cursor() as cursor:
                cursor.execute("SELECT no_such_column FROM service_reschedulejob")
        return moved

    monkeypatch.setattr(reschedule, "_reschedule_chunk", chunk)
    with pytest.raises(Exception) as raised:
        reschedule.run(job_id)
    job = RescheduleJob.objects.get(pk=job_id)
    assert job.status == "pending" and job.error.startswith(type(raised.value).__name__ + ": ")
    assert "no_such_column" in job.error
    _untouched(tickets)
    clock.set(FRIDAY_17 + timedelta(minutes=6))
    assert reschedule.reschedules_resume() == 1
    assert reschedule_tasks.deliver() == [{"checked": 3, "moved": 3}]
    _once(tickets, job_id)
    job.refresh_from_db()
    assert job.attempts == 2 and "no_such_column" in job.error  # the last error stays, as history


def test_in_this_process_a_raising_run_is_recorded_and_logged_not_raised(
    users, customers, api, monkeypatch, reschedule_tasks
):
    """With the broker down the job runs in the caller's process: the committed change's request, the sweep's loop
    and an admin's retry do not fail for it; the job keeps the error for the next sweep."""
    monkeypatch.setattr(reschedule, "hand_off", reschedule.enqueue)  # no after-commit here: straight to the broker

    def down(args, **kw):
        raise ConnectionRefusedError("broker down")

    monkeypatch.setattr(tasks.sla_reschedule, "apply_async", down)
    _raise_in_chunk(monkeypatch, message="bad row")
    clock = Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(2)]
    _declare(api, users, "2026-03-09")  # 201: the change stands
    job = RescheduleJob.objects.get()
    assert (job.status, job.attempts, job.error) == ("pending", 1, "BadData: bad row")
    clock.set(FRIDAY_17 + timedelta(minutes=6))
    assert reschedule.reschedules_resume() == 1  # ran here, raised, recorded
    job.refresh_from_db()
    assert (job.attempts, job.error_at) == (2, FRIDAY_17 + timedelta(minutes=6))
    _untouched(tickets)


def test_an_administrator_retries_a_failed_job_from_the_admin_in_chinese(
    users, customers, api, monkeypatch, reschedule_tasks, settings
):
    settings.GUANXI_RESCHEDULE_MAX_ATTEMPTS = 1
    clock = Clock(monkeypatch, FRIDAY_17)
    tickets = [make_ticket(users.agent1, customers.c1) for _ in range(3)]
    reschedule_tasks.eager = False
    _declare(api, users, "2026-03-09")
    [job_id] = reschedule_tasks.pending
    with monkeypatch.context() as m:
        _raise_in_chunk(m, message="坏数据 in ticket 7")
        with pytest.raises(BadData):
            reschedule_tasks.run()
    assert RescheduleJob.objects.get(pk=job_id).status == "failed"
    users.admin.is_staff = users.admin.is_superuser = True
    users.admin.save()
    client = Client()
    client.force_login(users.admin)
    page = client.get("/admin/service/reschedulejob/?status__exact=failed", HTTP_ACCEPT_LANGUAGE="zh-hans")
    text = page.content.decode()
    for label in ("已失败", "最近错误", "最近错误时间", "BadData: 坏数据 in ticket 7", "重试所选的失败任务"):
        assert label in text, label
    detail = client.get(f"/admin/service/reschedulejob/{job_id}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "BadData: 坏数据 in ticket 7" in detail.content.decode() and "最近错误时间" in detail.content.decode()
    # Only an administrator may retry (the service says so too).
    with pytest.raises(PermissionDenied):
        reschedule.jobs_retry(actor=users.bm1, job_ids=[job_id])
    # The fault is gone; the retry puts the job back to pending (attempts from 0) and hands it to the task.
    clock.set(FRIDAY_17 + timedelta(minutes=1))
    done = RescheduleJob.objects.create(scope={}, status="done")  # selected too: left alone
    response = client.post(
        "/admin/service/reschedulejob/",
        {"action": "retry", "_selected_action": [job_id, done.pk]},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
        follow=True,
    )
    assert "已重新提交 1 个失败任务。" in response.content.decode()
    job = RescheduleJob.objects.get(pk=job_id)
    assert (job.status, job.attempts, job.claim, job.claimed_at) == ("pending", 0, "", None)
    assert reschedule_tasks.pending == [job_id] and RescheduleJob.objects.get(pk=done.pk).status == "done"
    entry = AuditLog.objects.get(action="sla_reschedule_retry")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        users.admin.pk,
        "service.reschedulejob",
        str(job_id),
    )
    assert entry.changes["status"] == ["failed", "pending"] and entry.changes["attempts"] == [1, 0]
    assert reschedule_tasks.run() == [{"checked": 3, "moved": 3}]
    _once(tickets, job_id)
    assert reschedule.jobs_retry(actor=users.admin, job_ids=[job_id]) == 0  # done: nothing to retry


# --- on the ticket's own history ----------------------------------------------------------------------------------


def _moved_event(api, user, ticket, lang):
    response = api(user, lang=lang).get(f"/tickets/{ticket.pk}")
    assert response.status_code == 200
    return [e for e in response.json()["events"] if e["kind"] == "deadline_moved"]


def test_a_deadline_move_is_on_the_tickets_history_in_the_readers_language(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, FRIDAY_17)
    ticket = make_ticket(users.agent1, customers.c1)
    clock.set(at(2026, 3, 6, 17, 10))
    _declare(api, users, "2026-03-09")
    [en] = _moved_event(api, users.agent1, ticket, "en")
    assert en["kind_label"] == "SLA deadlines moved" and en["actor"] == ""
    assert en["note"] == (
        "response deadline 2026-03-09 09:00 → 2026-03-10 09:00; resolution deadline 2026-03-09 16:00 → "
        "2026-03-10 16:00 (reason: holiday calendar changed: 2026-03-09 示范停业日)"
    )
    old, new = (datetime.fromisoformat(value) for value in en["details"]["resolution_due_at"])
    assert (old, new) == (at(2026, 3, 9, 16, 0), at(2026, 3, 10, 16, 0))
    [zh] = _moved_event(api, users.agent1, ticket, "zh-hans")
    assert zh["kind_label"] == "时限调整"
    assert zh["note"] == (
        "响应时限 2026-03-09 09:00 → 2026-03-10 09:00；办结时限 2026-03-09 16:00 → 2026-03-10 16:00"
        "（原因：节假日安排变更：2026-03-09 示范停业日）"
    )
    # The ticket page shows the same line.
    client = Client()
    client.force_login(users.agent1)
    page = client.get(f"/service/{ticket.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "时限调整" in page and "办结时限 2026-03-09 16:00 → 2026-03-10 16:00" in page
    # Nothing moved, nothing on the history: a day after the deadlines.
    _declare(api, users, "2026-03-12")
    assert len(_moved_event(api, users.agent1, ticket, "en")) == 1


def test_the_history_names_the_business_hours_that_moved_the_deadline(users, customers, api, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 3, 2, 9, 0))
    ticket = make_ticket(users.agent1, customers.c1)  # B01
    clock.set(at(2026, 3, 2, 9, 30))
    _default_hours(api, users, LUNCH_JSON)
    branch = OrgUnit.objects.get(code="B01")
    no_lunch = [[["08:30", "17:30"]]] * 5 + [[], []]
    created = api(users.bm1).post("/business-hours", {"branch_id": branch.pk, "week": no_lunch})
    assert created.status_code == 201, created.content
    assert api(users.bm1).delete(f"/business-hours/{created.json()['id']}").status_code == 204
    notes = [e["note"] for e in _moved_event(api, users.agent1, ticket, "en")]
    assert len(notes) == 3
    assert notes[0].startswith("resolution deadline 2026-03-02 17:00 → 2026-03-03 09:30 (")  # response before lunch
    assert notes[0].endswith("(reason: default business hours changed)")
    assert notes[1].endswith(f"(reason: business hours of {branch.name} changed)")
    assert notes[2].endswith(f"(reason: business hours of {branch.name} removed (the default hours apply))")
    zh = [e["note"] for e in _moved_event(api, users.agent1, ticket, "zh-hans")]
    assert zh[0].endswith("（原因：默认营业时间变更）")
    assert zh[2].endswith(f"（原因：{branch.name}营业时间删除（改用默认营业时间））")


def test_a_deadline_move_does_not_end_a_pause(users, customers, api, monkeypatch):
    """The history event of a move has no status: the clock history still sees the pause as running."""
    clock = Clock(monkeypatch, FRIDAY_17)
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "start", "wait")
    clock.set(at(2026, 3, 6, 17, 20))
    _declare(api, users, "2026-03-09")
    assert _moves(ticket) == 1
    history = reschedule.clock_histories([_fresh(ticket)])[ticket.pk]
    assert history.pauses == ()


# --- properties of the one rule -----------------------------------------------------------------------------------

MONDAY = datetime(2026, 3, 2, tzinfo=SHANGHAI)
moments = st.integers(min_value=0, max_value=14 * 24 * 60).map(lambda m: MONDAY + timedelta(minutes=m))
targets = st.tuples(st.integers(1, 600), st.integers(0, 3000)).map(
    lambda rr: SlaTarget(response_minutes=rr[0], resolution_minutes=rr[0] + rr[1])
)
days = st.integers(0, 27).map(lambda n: MONDAY.date() + timedelta(days=n))


def _calendar(off) -> WorkCalendar:
    return WorkCalendar(days_off=frozenset(off))


def _ticket(start, target, calendar, **fields) -> Ticket:
    response, resolution = sla.deadlines(
        target=target, calendar=calendar, history=sla.ClockHistory(start=start, resolution_start=start)
    )
    return Ticket(response_due_at=response, resolution_due_at=resolution, sla_due_at=response, **fields)


@settings(max_examples=150, deadline=None)
@given(start=moments, target=targets, off=st.sets(days, max_size=3), added=days, wait=st.integers(0, 5000))
def test_rescheduling_then_resuming_equals_the_new_calendar_from_the_start(start, target, off, added, wait):
    """A waiting ticket rescheduled under a new calendar, then resumed, is due when it would be had the calendar been
    the new one from the start, with the pause."""
    old, new = _calendar(off), _calendar(off | {added})
    paused_from = add_working_time(start, target.resolution_minutes / 2, old)
    paused_until = paused_from + timedelta(minutes=wait)
    ticket = _ticket(start, target, old, paused_at=paused_from, responded_at=start, sla_state=0)
    history = sla.ClockHistory(start=start, resolution_start=start)
    changes = reschedule.rescheduled(ticket, target=target, calendar=new, history=history, now=paused_until)
    due = changes.get("resolution_due_at", ticket.resolution_due_at)
    expected = due_time(start, target.resolution_minutes, new, [(paused_from, paused_until)])
    assert abs((resume(due, paused_from, paused_until, new) - expected).total_seconds()) < 2


@settings(max_examples=150, deadline=None)
@given(start=moments, target=targets, off=st.sets(days, max_size=3), added=days, elapsed=st.integers(0, 3000))
def test_a_day_off_never_brings_a_deadline_forward_and_a_re_run_moves_nothing(start, target, off, added, elapsed):
    old, new = _calendar(off), _calendar(off | {added})
    ticket = _ticket(start, target, old, sla_state=0)
    now = start + timedelta(minutes=elapsed)
    history = sla.ClockHistory(start=start, resolution_start=start)
    changes = reschedule.rescheduled(ticket, target=target, calendar=new, history=history, now=now)
    for name in ("response_due_at", "resolution_due_at"):
        assert changes.get(name, getattr(ticket, name)) >= getattr(ticket, name)
        if name in changes:
            assert getattr(ticket, name) > now  # only a deadline still ahead moves
    for name, value in changes.items():
        setattr(ticket, name, value)
    assert reschedule.rescheduled(ticket, target=target, calendar=new, history=history, now=now) == {}


@settings(max_examples=100, deadline=None)
@given(start=moments, target=targets, added=days)
def test_a_24x7_clock_never_moves(start, target, added):
    calendar = WorkCalendar(around_the_clock=True)
    ticket = _ticket(start, target, calendar, sla_state=0, around_the_clock=True)
    assume(ticket.resolution_due_at > start)
    history = sla.ClockHistory(start=start, resolution_start=start)
    assert reschedule.rescheduled(ticket, target=target, calendar=calendar, history=history, now=start) == {}


def test_a_new_priority_counts_the_pauses_and_the_reopening_too(users, customers, monkeypatch):
    """Re-prioritising goes through the same rule: from the last reopening, the pauses left out."""
    clock = Clock(monkeypatch, at(2026, 3, 2, 9, 0))  # Monday
    ticket = move(make_ticket(users.agent1, customers.c1), users.agent1, "accept", "start", "resolve")
    clock.set(at(2026, 3, 3, 9, 0))
    move(ticket, users.agent1, "reopen")
    clock.set(at(2026, 3, 3, 10, 0))
    move(ticket, users.agent1, "start", "wait")
    clock.set(at(2026, 3, 3, 11, 0))
    ticket = move(ticket, users.agent1, "start")
    assert ticket.resolution_due_at == at(2026, 3, 4, 9, 0)
    ticket = services.ticket_update(
        actor=fresh(users.agent1), ticket_id=ticket.pk, version=ticket.version, data={"priority": "low"}
    )  # 720 minutes from Tuesday 09:00 and an hour paused: Wednesday 13:00
    assert ticket.resolution_due_at == ticket.sla_due_at == at(2026, 3, 4, 13, 0)
