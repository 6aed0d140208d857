"""The complaint analysis read from the daily rollups: after every kind of ticket write made through the services the
figures equal the direct aggregation over the tickets each user may see (all, a branch, a team without the
sensitive-customer permission, the other branch), and equal a full rebuild; the rebuild command is idempotent."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from guanxi.customers import services as customer_services
from guanxi.service import analysis, return_visits, rollups, services, sla
from guanxi.service.models import (
    ReturnVisit,
    SatisfactionRollup,
    TicketCause,
    TicketMonthRollup,
    TicketRollup,
    TicketTally,
)
from tests.conftest import errors_by_field, fresh, make_customer
from tests.service.factories import Clock, at, ensure_reference_data, make_ticket, move

YEAR = {"date_from": "2026-01-01", "date_to": "2026-12-31", "team": None}


def _filters(repeat_days=30, **period):
    return analysis.filters_from(**{**YEAR, **period}, repeat_days=repeat_days)


def _rollup_rows() -> set[tuple]:
    fields = [f.attname for f in TicketRollup._meta.concrete_fields if f.name != "id"]
    visits = [f.attname for f in SatisfactionRollup._meta.concrete_fields if f.name != "id"]
    months = [f.attname for f in TicketMonthRollup._meta.concrete_fields if f.name != "id"]
    return (
        {("t", *row) for row in TicketRollup.objects.values_list(*fields)}
        | {("m", *row) for row in TicketMonthRollup.objects.values_list(*months)}
        | {("s", *row) for row in SatisfactionRollup.objects.values_list(*visits)}
    )


def _assert_exact(users, *, repeat_days=30, **period) -> dict:
    """Every user's figures from the rollups equal the direct aggregation; returns them by username."""
    figures = {}
    for user in (users.admin, users.bm1, users.bm2, users.lead1):
        filters = _filters(repeat_days, **period)
        from_rollups = analysis.complaint_analysis(user=fresh(user), filters=filters).as_dict()
        direct = analysis.complaint_analysis_direct(user=fresh(user), filters=filters).as_dict()
        assert from_rollups == direct, user.username
        figures[user.username] = from_rollups
    return figures


def _complaint_cause():
    return TicketCause.objects.filter(ticket_type__code="complaint").order_by("id").first()


@pytest.fixture
def story(users, customers, monkeypatch):
    """The writes of a year, checked after each step (see the test)."""
    return Clock(monkeypatch, at(2026, 1, 5, 9, 0))


def test_the_rollups_equal_the_direct_aggregation_after_every_service_write(users, customers, story):
    clock, cause = story, _complaint_cause()
    # Created: agent1 (95598, B01-T3) takes c1's complaint; lead1's team gets it by an accepted hand-over.
    first = make_ticket(users.agent1, customers.c1, ticket_type="complaint", channel="web")
    _assert_exact(users)
    services.handover_request(
        actor=fresh(users.agent1), ticket_id=first.pk, version=first.version, to_user_id=users.lead1.pk, reason="转"
    )
    services.handover_accept(actor=fresh(users.lead1), ticket_id=first.pk)
    assert _assert_exact(users)["lead1"]["total"] == 1
    # Ten days later a second complaint of c1, resolved with the cause while the first has none: not a repeat yet.
    clock.set(at(2026, 1, 15, 9, 0))
    second = make_ticket(users.am1, customers.c1, ticket_type="complaint")
    move(second, users.am1, "accept", "resolve", cause_id=cause.pk)
    assert _assert_exact(users)["bm1"]["repeats"]["repeats"] == 0
    # The first is resolved with the same cause: the second becomes its repeat (a later ticket's figure changed).
    move(first, users.lead1, "accept", "resolve", cause_id=cause.pk)
    assert _assert_exact(users)["bm1"]["repeats"]["repeats"] == 1
    assert _assert_exact(users, repeat_days=9)["bm1"]["repeats"]["repeats"] == 0
    # Closed, then a dissatisfied return visit reopens it; the satisfaction counts under the first's day and team.
    move(first, users.lead1, "close")
    visit = ReturnVisit.objects.get(ticket=first)
    return_visits.visit_record(
        actor=fresh(users.agent1),
        visit_id=visit.pk,
        version=visit.version,
        reached=True,
        channel="phone",
        satisfaction=2,
    )
    figures = _assert_exact(users)
    assert figures["bm1"]["satisfaction_by_month"] == [
        {"key": "2026-01", "label": "2026-01", "visits": 1, "satisfaction": 2.0}
    ]
    move(first, users.lead1, "start", "resolve", "close")
    # A customer of am1's with a complaint becomes sensitive: lead1 (no such permission) stops counting it, bm1 not.
    turned = make_customer(users.am1, name="后来敏感的客户")
    sensitive = make_ticket(users.am1, turned, ticket_type="complaint")
    assert _assert_exact(users)["lead1"]["total"] == 3
    customer_services.customer_update(
        actor=fresh(users.bm1), customer_id=turned.pk, version=turned.version, data={"sensitive": True}
    )
    figures = _assert_exact(users)
    assert (figures["lead1"]["total"], figures["bm1"]["total"]) == (2, 3)
    # B02's agent hands a ticket to bm1: while pending bm1 sees it beyond their branch; accepted, it moves to B01.
    other = make_ticket(users.agent2, customers.c3, channel="wechat")
    services.handover_request(
        actor=fresh(users.agent2), ticket_id=other.pk, version=other.version, to_user_id=users.bm1.pk, reason="请协助"
    )
    figures = _assert_exact(users)
    assert (figures["bm1"]["total"], figures["bm2"]["total"]) == (4, 1)
    services.handover_accept(actor=fresh(users.bm1), ticket_id=other.pk)
    figures = _assert_exact(users)
    assert (figures["bm1"]["total"], figures["bm2"]["total"]) == (4, 0)
    # The SLA sweep flags a missed response (an UPDATE of many tickets at once).
    clock.set(at(2026, 3, 20, 9, 0))
    sla.sla_sweep()
    figures = _assert_exact(users)
    assert sum(row["response_breached"] for row in figures["admin"]["sla_by_month"]) >= 1
    # Updated: the unknown caller's ticket is linked to a customer.
    caller = make_ticket(users.agent1, None, ticket_type="complaint")
    caller.refresh_from_db()
    services.ticket_update(
        actor=fresh(users.agent1), ticket_id=caller.pk, version=caller.version, data={"customer_id": customers.c2.pk}
    )
    figures = _assert_exact(users)
    assert figures["admin"]["total"] == 5 and figures["admin"]["repeats"]["complaints"] == 4
    assert _assert_exact(users, date_from="2026-01-15", date_to="2026-01-15")["admin"]["total"] == 3
    # Whole months come from the month rollup, the days around them from the day rollup.
    assert _assert_exact(users, date_from="2026-01-10", date_to="2026-03-31")["admin"]["total"] == 4
    assert _assert_exact(users, date_from="2025-12-31", date_to="2026-02-28")["admin"]["total"] == 4
    assert sensitive.pk and TicketRollup.objects.exists()
    # The incremental upkeep left exactly what a full rebuild computes.
    kept = _rollup_rows()
    rollups.rebuild()
    assert _rollup_rows() == kept


def test_rebuilding_is_idempotent_and_limited_to_its_days(users, customers, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 2, 1, 9, 0))
    make_ticket(users.am1, customers.c1, ticket_type="complaint")
    clock.set(at(2026, 2, 3, 9, 0))
    make_ticket(users.am2, customers.c2)
    built = _rollup_rows()
    call_command("service_analysis_rebuild")
    call_command("service_analysis_rebuild")
    assert _rollup_rows() == built and TicketTally.objects.count() == 2
    TicketRollup.objects.all().delete()  # lost, say, by a restore
    call_command("service_analysis_rebuild", "--from", "2026-02-03", "--to", "2026-02-03")
    assert {row.day.isoformat() for row in TicketRollup.objects.all()} == {"2026-02-03"}
    call_command("service_analysis_rebuild", "--from", "2026-02-01", "--to", "2026-02-02")
    assert _rollup_rows() == built
    with pytest.raises(CommandError, match="--from"):
        call_command("service_analysis_rebuild", "--from", "2026-02-30")
    with pytest.raises(CommandError, match="--to"):
        call_command("service_analysis_rebuild", "--from", "2026-02-03", "--to", "2026-02-01")


def test_another_branch_sees_nothing_of_these_tickets(api, users, customers, monkeypatch, org):
    Clock(monkeypatch, at(2026, 2, 1, 9, 0))
    make_ticket(users.am1, customers.c1, ticket_type="complaint")
    period = {"from": "2026-01-01", "to": "2026-12-31"}
    assert api(users.bm1).get("/tickets/analysis", period).json()["total"] == 1
    other = api(users.bm2).get("/tickets/analysis", period).json()
    assert other["total"] == 0 and other["by_team"] == [] and other["repeats"]["complaints"] == 0
    chosen = api(users.bm2).get("/tickets/analysis", {**period, "team": org.B01_T1.pk}).json()
    assert chosen["total"] == 0


def test_a_bad_day_is_422_naming_the_field(api, users):
    response = api(users.bm1).get("/tickets/analysis", {"from": "2026-02-30"})
    assert response.status_code == 422 and "from" in errors_by_field(response)


def test_the_repeat_gap_rounds_up_so_a_window_of_whole_days_stays_exact():
    day = timedelta(days=1)
    start = at(2026, 1, 1, 9, 0)

    def complaint(pk, moment, cause=1):
        return {"id": pk, "customer_id": 7, "created_at": moment, "cause_id": cause, "sub_type_id": None}

    history = [complaint(1, start)]
    exactly = complaint(2, start + 3 * day)
    later = complaint(3, start + 3 * day + timedelta(microseconds=1))
    other_cause = complaint(4, start + day, cause=2)
    gaps = rollups.repeat_gaps([exactly, later, other_cause], history)
    assert gaps == {2: (3, 0), 3: (4, 0)}  # within 3 days: the first only; within 4: both


def _keys(rows):
    return {row["key"]: row["count"] for row in rows}


def test_priority_grade_and_reopens_follow_every_write(users, customers, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 2, 2, 9, 0))
    key = make_customer(users.am1, name="重点客户", grade="key")
    urgent = make_ticket(users.am1, key, ticket_type="complaint", priority="urgent")
    plain = make_ticket(users.am1, customers.c1)
    caller = make_ticket(users.am1, None)
    figures = _assert_exact(users)["bm1"]
    assert _keys(figures["by_priority"]) == {"urgent": 1, "normal": 2}
    assert _keys(figures["by_grade"]) == {"key": 1, "general": 2}
    assert (figures["reopens"], figures["reopens_by_month"]) == (0, [])
    # A new priority; an unknown caller linked to a key customer takes the customer's grade.
    plain.refresh_from_db()
    services.ticket_update(actor=fresh(users.am1), ticket_id=plain.pk, version=plain.version, data={"priority": "high"})
    caller.refresh_from_db()
    services.ticket_update(
        actor=fresh(users.am1), ticket_id=caller.pk, version=caller.version, data={"customer_id": key.pk}
    )
    figures = _assert_exact(users)["bm1"]
    assert _keys(figures["by_priority"]) == {"urgent": 1, "high": 1, "normal": 1}
    assert _keys(figures["by_grade"]) == {"key": 2, "general": 1}
    # Reopened twice in March: counted under the month the ticket was created in (the period is by creation).
    clock.set(at(2026, 3, 3, 9, 0))
    move(urgent, users.am1, "accept", "resolve", "reopen", "start", "resolve", "reopen")
    move(plain, users.am1, "accept", "resolve", "reopen")
    figures = _assert_exact(users)
    assert figures["bm1"]["reopens"] == 3 and figures["bm2"]["reopens"] == 0
    assert figures["bm1"]["reopens_by_month"] == [{"key": "2026-02", "label": "2026-02", "count": 3}]
    assert _assert_exact(users, date_from="2026-02-02", date_to="2026-02-02")["lead1"]["reopens"] == 3
    kept = _rollup_rows()
    rollups.rebuild()
    assert _rollup_rows() == kept


def test_the_rebuild_works_one_day_then_one_month_per_unit(users, customers, monkeypatch):
    clock = Clock(monkeypatch, at(2026, 1, 30, 9, 0))
    make_ticket(users.am1, customers.c1)
    clock.set(at(2026, 2, 2, 9, 0))
    make_ticket(users.am1, customers.c1)
    kept = _rollup_rows()
    days, months = [], []
    monkeypatch.setattr(rollups, "_rebuild_day", _recording(rollups._rebuild_day, days))
    monkeypatch.setattr(rollups, "_rebuild_month", _recording(rollups._rebuild_month, months))
    assert rollups.rebuild()["units"] == 4 + 2
    assert [day.isoformat() for day in days] == ["2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"]
    assert [month.isoformat() for month in months] == ["2026-01-01", "2026-02-01"]
    assert _rollup_rows() == kept


def _recording(function, calls: list):
    def recorded(argument):
        calls.append(argument)
        return function(argument)

    return recorded


# --- concurrency (PostgreSQL) ---------------------------------------------------------------------------------------


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ticket_writes_during_a_rebuild_wait_one_unit_and_are_counted_once(users, customers, monkeypatch):
    """Writes of every kind land while the rebuild holds a unit's lock (each unit made slow): each waits for that
    unit only, and afterwards the rollups equal the direct aggregation and a quiet rebuild."""
    import threading
    import time
    from datetime import date

    from django.db import connection

    ensure_reference_data()  # an earlier transactional test in a full run may have flushed the seeded SLA targets
    clock = Clock(monkeypatch, at(2026, 3, 1, 9, 0))
    cause = _complaint_cause()
    made = []
    for day in range(1, 9):
        clock.set(at(2026, 3, day, 9, 0))
        made.append(make_ticket(users.am1, customers.c1, ticket_type="complaint"))
        made.append(make_ticket(users.am2, customers.c2))
    unit_started = threading.Event()
    insert_tallies = rollups._insert_tallies

    def slow_insert(tickets):
        unit_started.set()
        time.sleep(0.25)  # inside the unit's transaction, after its lock
        return insert_tallies(tickets)

    monkeypatch.setattr(rollups, "_insert_tallies", slow_insert)
    waits: list[float] = []
    finished, errors = {}, []

    def timed(write):
        started = time.monotonic()
        write()
        waits.append(time.monotonic() - started)
        finished.setdefault("first write", time.monotonic())

    def rebuild():
        try:
            rollups.rebuild(date_from=date(2026, 3, 1), date_to=date(2026, 3, 10))
        except Exception as exc:  # noqa: BLE001 - the test asserts there was none
            errors.append(exc)
        finally:
            finished["rebuild"] = time.monotonic()
            connection.close()

    def write():
        try:
            unit_started.wait(timeout=30)
            timed(lambda: make_ticket(users.am1, customers.c1, ticket_type="complaint"))  # on 8 March
            for ticket in made[:6]:
                owner = users.am1 if ticket.customer_id == customers.c1.pk else users.am2
                ticket.refresh_from_db()
                timed(
                    lambda t=ticket, o=owner: services.ticket_update(
                        actor=fresh(o), ticket_id=t.pk, version=t.version, data={"priority": "high"}
                    )
                )
                found = {"cause_id": cause.pk} if ticket.ticket_type == "complaint" else {}
                for action in ("accept", "resolve", "reopen"):
                    timed(lambda t=ticket, o=owner, a=action, f=found: move(t, o, a, **f))
        except Exception as exc:  # noqa: BLE001 - the test asserts there was none
            errors.append(exc)
        finally:
            finished["writes"] = time.monotonic()
            connection.close()

    threads = [threading.Thread(target=rebuild), threading.Thread(target=write)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    took = finished["rebuild"] - started
    assert took > 2.5  # ten slow day units
    assert finished["first write"] < finished["rebuild"] - 1  # the writes went on during the rebuild …
    assert len(waits) == 1 + 6 * 4 and max(waits) < 1.0  # … each waiting for one unit at most
    monkeypatch.setattr(rollups, "_insert_tallies", insert_tallies)
    figures = _assert_exact(users, date_from="2026-03-01", date_to="2026-03-31")
    assert figures["admin"]["total"] == 17 and figures["admin"]["reopens"] == 6
    kept = _rollup_rows()
    rollups.rebuild()
    assert _rollup_rows() == kept


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_write_holding_its_ticket_while_the_unit_of_its_day_starts_waits_and_is_counted_once(
    users, customers, monkeypatch
):
    """The unit inserts the tally of a ticket a write has locked (the foreign key check takes KEY SHARE on it) while
    the write waits for the unit's lock: the services lock tickets FOR NO KEY UPDATE, so this is no deadlock."""
    import threading
    import time
    from datetime import date

    from django.db import connection

    ensure_reference_data()  # an earlier transactional test in a full run may have flushed the seeded SLA targets
    Clock(monkeypatch, at(2026, 3, 2, 9, 0))
    ticket = make_ticket(users.am1, customers.c1)
    ticket_locked, unit_locked = threading.Event(), threading.Event()
    refresh, insert_tallies = rollups.refresh, rollups._insert_tallies

    def refresh_after_the_unit_started(ids):
        ticket_locked.set()  # the write holds its ticket …
        unit_locked.wait(timeout=30)  # … while the unit of its day holds the tally table
        refresh(ids)

    def slow_insert(tickets):
        unit_locked.set()
        time.sleep(0.5)
        return insert_tallies(tickets)

    monkeypatch.setattr(rollups, "refresh", refresh_after_the_unit_started)
    monkeypatch.setattr(rollups, "_insert_tallies", slow_insert)
    errors = []

    def write():
        try:
            services.ticket_update(
                actor=fresh(users.am1), ticket_id=ticket.pk, version=ticket.version, data={"priority": "urgent"}
            )
        except Exception as exc:  # noqa: BLE001 - the test asserts there was none
            errors.append(exc)
        finally:
            connection.close()

    def rebuild():
        try:
            ticket_locked.wait(timeout=30)
            rollups.rebuild(date_from=date(2026, 3, 2), date_to=date(2026, 3, 2))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write), threading.Thread(target=rebuild)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    monkeypatch.setattr(rollups, "refresh", refresh)
    monkeypatch.setattr(rollups, "_insert_tallies", insert_tallies)
    figures = _assert_exact(users, date_from="2026-03-01", date_to="2026-03-31")
    assert _keys(figures["admin"]["by_priority"]) == {"urgent": 1}
