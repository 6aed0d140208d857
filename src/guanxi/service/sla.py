"""SLA with the database: targets, business hours and the holiday calendar, deadlines of a ticket, and the sweep that
warns and escalates.

The arithmetic itself is in clock.py (pure); `deadlines` is the one rule that turns a target, a calendar and a
ticket's clock history (its start, its last reopening, its pauses) into the two deadlines — at creation, on a new
priority, on reopening, and when the business hours or the holiday calendar change (reschedule.py moves the open
tickets' deadlines after such a change). The sweep is set-based: one indexed range query (ticket_sla_sweep_idx)
finds every running clock whose deadline is within WARN_BEFORE, a conditional UPDATE claims them (so two workers or a
re-run never warn or escalate twice), then events, escalations and audit entries are written in bulk.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.models import OrgUnit
from guanxi.service import clock, rollups
from guanxi.service.models import BusinessHours, Escalation, Holiday, SlaTarget, Ticket, TicketEvent, TicketType
from guanxi.service.models.config import Grade
from guanxi.service.models.hours import parse_week

logger = logging.getLogger(__name__)

WARN_BEFORE = timedelta(minutes=30)  # a warning this long before a deadline
ESCALATE_AFTER = timedelta(hours=2)  # a breach not dealt with this long after the deadline goes to the branch manager
TIMED = Ticket.TIMED_STATUSES


def calendar_for(*, around_the_clock: bool, team: OrgUnit | None = None) -> clock.WorkCalendar:
    """The working calendar of a team: its branch's business hours (else the default schedule, else clock's office
    week) under the holiday table. Two queries; a 24×7 clock needs none."""
    if around_the_clock:
        return clock.WorkCalendar(around_the_clock=True)
    off, worked = _holidays()
    return clock.WorkCalendar(days_off=off, days_worked=worked, week=week_for(team))


def _holidays() -> tuple[frozenset, frozenset]:
    """(days off, days worked in lieu) of the holiday table."""
    off, worked = set(), set()
    for day, kind in Holiday.objects.values_list("date", "kind"):
        (worked if kind == Holiday.DayKind.WORKDAY else off).add(day)
    return frozenset(off), frozenset(worked)


def week_for(team: OrgUnit | None) -> clock.Week | None:
    """The schedule that applies to `team`: the nearest enclosing unit's own (only branches have one), else the
    default (no branch); None when neither is configured (clock's office week then)."""
    units = team.ancestor_ids() if team is not None else []
    schedules = dict(
        BusinessHours.objects.filter(Q(branch_id__in=units) | Q(branch__isnull=True)).values_list("branch_id", "week")
    )
    return _nearest_week(units, schedules)


def _nearest_week(units: list[int], schedules: dict) -> clock.Week | None:
    for unit_id in reversed(units):
        if unit_id in schedules:
            return parse_week(schedules[unit_id])
    return parse_week(schedules[None]) if None in schedules else None


class Calendars:
    """The working calendars of many tickets (a rescheduling chunk): the holiday table and the schedules are read
    once, each team's calendar built once — the same answer as `calendar_for` per ticket."""

    def __init__(self) -> None:
        self.days_off, self.days_worked = _holidays()
        self.schedules = dict(BusinessHours.objects.values_list("branch_id", "week"))
        self._by_team: dict[int | None, clock.WorkCalendar] = {}

    def of(self, ticket: Ticket) -> clock.WorkCalendar:
        if ticket.around_the_clock:
            return clock.WorkCalendar(around_the_clock=True)
        if ticket.team_id not in self._by_team:
            units = ticket.team.ancestor_ids() if ticket.team_id else []
            self._by_team[ticket.team_id] = clock.WorkCalendar(
                days_off=self.days_off, days_worked=self.days_worked, week=_nearest_week(units, self.schedules)
            )
        return self._by_team[ticket.team_id]


def ticket_calendar(ticket: Ticket) -> clock.WorkCalendar:
    return calendar_for(around_the_clock=ticket.around_the_clock, team=ticket.team if ticket.team_id else None)


def is_around_the_clock(ticket_type: str) -> bool:
    return bool(TicketType.objects.filter(code=ticket_type).values_list("around_the_clock", flat=True).first())


def target_for(*, ticket_type: str, priority: str, grade: str) -> SlaTarget:
    """The target of type × priority × grade; the general grade's when the grade has none of its own."""
    targets = {
        t.grade: t
        for t in SlaTarget.objects.filter(ticket_type=ticket_type, priority=priority, grade__in=[grade, Grade.GENERAL])
    }
    target = targets.get(grade) or targets.get(Grade.GENERAL)
    if target is None:
        raise ValidationError({"ticket_type": _("No SLA target is configured for this type and priority.")})
    return target


@dataclass(frozen=True)
class ClockHistory:
    """What a ticket's deadlines count from besides its target and calendar: the response clock's start (creation),
    the resolution clock's start (the last reopening, else creation) and the finished pauses (waiting for the
    customer, [from, until)). A pause still running is not in it: the stored deadlines are those at the pause, and
    `resume_deadlines` adds the pause when the customer answers."""

    start: datetime
    resolution_start: datetime
    pauses: tuple[tuple[datetime, datetime], ...] = ()


def deadlines(*, target: SlaTarget, calendar: clock.WorkCalendar, history: ClockHistory) -> tuple[datetime, datetime]:
    """The one rule: (response due, resolution due) — each target in working time of `calendar` from its clock's
    start, the clock stopped during the pauses."""
    return (
        clock.due_time(history.start, target.response_minutes, calendar, history.pauses),
        clock.due_time(history.resolution_start, target.resolution_minutes, calendar, history.pauses),
    )


def set_deadlines(ticket: Ticket, *, start: datetime | None = None, history: ClockHistory | None = None) -> None:
    """Response and resolution deadlines of a new ticket from `start`, or of a re-prioritised one from its clock
    `history` (reschedule.clock_histories: its start, last reopening and pauses); resets the sweep state."""
    target = target_for(ticket_type=ticket.ticket_type, priority=ticket.priority, grade=ticket.sla_grade)
    ticket.around_the_clock = is_around_the_clock(ticket.ticket_type)
    calendar = ticket_calendar(ticket)
    history = history or ClockHistory(start=start, resolution_start=start)
    ticket.response_due_at, ticket.resolution_due_at = deadlines(target=target, calendar=calendar, history=history)
    ticket.sla_due_at = ticket.resolution_due_at if ticket.responded_at else ticket.response_due_at
    ticket.sla_state = Ticket.SlaState.ON_TIME


def resume_deadlines(ticket: Ticket, *, now: datetime) -> None:
    """The customer answered: both open deadlines move by the working time spent waiting."""
    calendar = ticket_calendar(ticket)
    paused_from = ticket.paused_at
    if ticket.responded_at is None:
        ticket.response_due_at = clock.resume(ticket.response_due_at, paused_from, now, calendar)
    ticket.resolution_due_at = clock.resume(ticket.resolution_due_at, paused_from, now, calendar)
    ticket.sla_due_at = ticket.resolution_due_at if ticket.responded_at else ticket.response_due_at
    ticket.paused_at = None
    if ticket.sla_due_at > now:
        ticket.sla_state = Ticket.SlaState.ON_TIME


def restart_resolution(ticket: Ticket, *, now: datetime) -> None:
    """A reopened ticket gets a fresh resolution target from now."""
    target = target_for(ticket_type=ticket.ticket_type, priority=ticket.priority, grade=ticket.sla_grade)
    calendar = ticket_calendar(ticket)
    _, ticket.resolution_due_at = deadlines(
        target=target, calendar=calendar, history=ClockHistory(start=ticket.created_at, resolution_start=now)
    )
    ticket.sla_due_at = ticket.resolution_due_at
    ticket.sla_state = Ticket.SlaState.ON_TIME


# --- the sweep ------------------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    escalated: int = 0


# Notification hook: the notification centre (J4, not built yet) registers a callable here; it gets
# (kind, [(ticket_id, user_id or None)]) with kind "sla_warning", "sla_breach" or "sla_escalation", after commit.
notify_hooks: list[Callable[[str, list[tuple[int, int | None]]], None]] = []


def sla_sweep(*, now: datetime | None = None) -> SweepResult:
    """Warn before a deadline, escalate to the team lead on a breach and to the branch manager ESCALATE_AFTER later.

    Idempotent: each step claims its tickets with UPDATE … WHERE sla_state = <previous>, so a ticket moves once.
    """
    now = now or timezone.now()
    result = SweepResult()
    with transaction.atomic():
        # Breach before escalating, so a deadline missed long ago (workers were down) is escalated in the same run.
        result.breached = _step(now, None, Ticket.SlaState.BREACHED, now)
        result.escalated = _step(now, Ticket.SlaState.BREACHED, Ticket.SlaState.ESCALATED, now - ESCALATE_AFTER)
        result.warned = _step(now, Ticket.SlaState.ON_TIME, Ticket.SlaState.WARNED, now + WARN_BEFORE)
    return result


def _step(now: datetime, from_state: int | None, to_state: int, due_before: datetime) -> int:
    """Move running clocks due by `due_before` from `from_state` (None: any state below `to_state`) to `to_state`."""
    state = Q(sla_state=from_state) if from_state is not None else Q(sla_state__lt=to_state)
    # Claim: lock the rows (skipping those another sweep holds); the UPDATE moves exactly the rows read.
    candidates = Ticket.objects.filter(state, status__in=TIMED, sla_due_at__lte=due_before).select_for_update(
        skip_locked=True,
        no_key=True,  # rows referencing the tickets (a rebuild's tallies) pass their FK check
    )
    rows = list(candidates.values_list("id", "number", "subject", "team_id", "sla_due_at", "responded_at", "sla_state"))
    if not rows:
        return 0
    Ticket.objects.filter(pk__in=[row[0] for row in rows]).update(sla_state=to_state)
    if to_state == Ticket.SlaState.BREACHED:
        _flag_breaches(rows)
    kind = {
        Ticket.SlaState.WARNED: TicketEvent.Kind.SLA_WARNING,
        Ticket.SlaState.BREACHED: TicketEvent.Kind.SLA_BREACH,
        Ticket.SlaState.ESCALATED: TicketEvent.Kind.ESCALATED,
    }[to_state]
    recipients: dict[int, int | None] = {}
    if to_state in (Ticket.SlaState.BREACHED, Ticket.SlaState.ESCALATED):
        level = 1 if to_state == Ticket.SlaState.BREACHED else 2
        bosses = _team_leads if level == 1 else _branch_managers
        boss_of = bosses({row[3] for row in rows if row[3]})
        Escalation.objects.bulk_create(
            [
                Escalation(
                    ticket_id=row[0],
                    level=level,
                    target=Escalation.Target.RESOLUTION if row[5] else Escalation.Target.RESPONSE,
                    team_id=row[3],
                    escalated_to_id=boss_of.get(row[3]),
                    due_at=row[4],
                    at=now,
                )
                for row in rows
            ],
            ignore_conflicts=True,
        )
        recipients = {row[0]: boss_of.get(row[3]) for row in rows}
    TicketEvent.objects.bulk_create([TicketEvent(ticket_id=row[0], at=now, kind=kind) for row in rows])
    audit.record_many(
        actor=None,
        action=kind,
        entries=[(_unsaved(row), {"sla_state": [row[6], int(to_state)]}) for row in rows],
    )
    hook_kind = {1: "sla_warning", 2: "sla_breach", 3: "sla_escalation"}[int(to_state)]
    pairs = [(row[0], recipients.get(row[0])) for row in rows]
    transaction.on_commit(lambda: _notify(hook_kind, pairs))
    return len(rows)


def _unsaved(row) -> Ticket:
    """Enough of a ticket (id, number, subject) for audit.record_many, without loading it."""
    return Ticket(pk=row[0], number=row[1], subject=row[2])


def _flag_breaches(rows) -> None:
    """Which target was missed: the response one while unanswered, else the resolution one."""
    unanswered = [row[0] for row in rows if row[5] is None]
    answered = [row[0] for row in rows if row[5] is not None]
    if unanswered:
        Ticket.objects.filter(pk__in=unanswered).update(response_breached=True)
    if answered:
        Ticket.objects.filter(pk__in=answered).update(resolution_breached=True)
    rollups.refresh(unanswered + answered)


def _notify(kind: str, pairs: list[tuple[int, int | None]]) -> None:
    for hook in notify_hooks:
        try:
            hook(kind, pairs)
        except Exception:  # a failing notifier must not undo the sweep  # noqa: BLE001
            logger.exception("SLA notification hook failed")


def _users_with_role_in(role: str, unit_ids: set[int]) -> dict[int, int]:
    """{unit id: the first active user with `role` sitting on that unit}."""
    found: dict[int, int] = {}
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=role, profile__org_unit_id__in=unit_ids)
        .order_by("pk")
        .values_list("profile__org_unit_id", "pk")
    )
    for unit_id, user_id in users:
        found.setdefault(unit_id, user_id)
    return found


def _team_leads(team_ids: set[int]) -> dict[int, int]:
    """The team lead of each team (the lead of the nearest unit above when the team has none)."""
    return _nearest_with_role("team_lead", team_ids)


def _branch_managers(team_ids: set[int]) -> dict[int, int]:
    return _nearest_with_role("branch_manager", team_ids)


def _nearest_with_role(role: str, team_ids: set[int]) -> dict[int, int]:
    if not team_ids:
        return {}
    units = {unit.pk: unit for unit in OrgUnit.objects.filter(pk__in=team_ids)}
    chains = {
        pk: [int(part) for part in reversed(unit.path.strip("/").split("/")) if part] for pk, unit in units.items()
    }
    holders = _users_with_role_in(role, {pk for chain in chains.values() for pk in chain})
    return {
        team: next((holders[pk] for pk in chain if pk in holders), None)
        for team, chain in chains.items()
        if any(pk in holders for pk in chain)
    }


def breaches_by_team(*, since: datetime | None = None) -> dict[int | None, int]:
    """{team id: number of SLA breaches} (level-1 escalations), optionally since a time."""
    from django.db.models import Count

    escalations = Escalation.objects.filter(level=1)
    if since is not None:
        escalations = escalations.filter(at__gte=since)
    return dict(escalations.values("team_id").annotate(n=Count("id")).values_list("team_id", "n"))
