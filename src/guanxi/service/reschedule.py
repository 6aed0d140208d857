"""Deadlines after a schedule change: a new, changed or deleted holiday (day off or 调休 working day) or business-hour
schedule moves the deadlines of the open tickets whose clock counts it.

Each ticket's deadlines are computed again by the one rule (sla.deadlines) from its clock history — the start
(creation), the last reopening, the finished pauses (TicketEvent) — under the calendar as it is now, with the SLA
target as configured now (as a new priority does). So the new calendar counts for the ticket's whole window, past days
included: a holiday declared for a day already behind the ticket gives that day back, longer hours count on the days
already elapsed too. What does not move:

- a breached ticket (sla_state ≥ breached): the breach is a recorded fact, its deadlines stay;
- a deadline that had passed when the clock last ran (now, or the start of the current pause): due is due, the sweep
  records it;
- a met response (the ticket was accepted);
- 24×7 clocks (no business hours, no holidays);
- a waiting ticket keeps the deadlines of its pause moment, recomputed: when the customer answers, `resume_deadlines`
  adds the pause under the calendar of then, as always.

A warning belongs to a deadline: a warned ticket whose deadline moved out of the warning window (`sla.WARN_BEFORE`)
is on time again, and the sweep warns again before the new deadline; moved earlier, it stays warned (no second
warning).

The change's service calls `holiday_changed`/`hours_changed` inside its transaction; after the commit the Celery task
`service.sla_reschedule` (`reschedule`) walks the affected tickets in id order, `CHUNK` at a time, each chunk one
transaction that locks its tickets, recomputes, writes only what moved (bulk) with one audit entry per moved ticket
(action `sla_reschedule`, old and new deadlines, the reason) and, at the end, when any moved, one entry on the holiday
or schedule counting them (`tickets_moved`). The result is a function of the tickets and the calendar: running the job
twice, or at once with itself, or with another change's job, moves nothing twice. With the broker down the job runs in
the committing process instead (slow for a large change, but the deadlines move).

The job is durable: the change's transaction writes a `RescheduleJob` row (pending), the task claims it, each chunk
records its progress and the runner's sign of life in the chunk's transaction, and the end marks it done. A job lost
with its worker or its message (pending, silent for RESUME_AFTER: no chunk running or committed meanwhile) is claimed
anew by the beat sweep (`reschedules_resume`, `service.sla_reschedule_resume`), which only claims it and sends it to
`service.sla_reschedule` with its claim — the worker continues after the last finished chunk; the sweep runs a job
itself only when the broker is down. On PostgreSQL the sweeps skip each other's locked rows, and the claim is a
conditional UPDATE, so one runner takes a job.

Each claim is a lease: a new token on the job (and one more attempt). Every chunk's transaction starts with a
conditional UPDATE on its runner's token — which also locks the job's row for the chunk, so a sweep skips a job whose
chunk is running and a late message waits for it — and records its progress through another at its end; when the
token is no longer the job's (taken over between two chunks: a runner stalled longer than RESUME_AFTER), the chunk
rolls back and the runner stops quietly (logged). So after a takeover only one runner's chunks commit, and no ticket
is moved or counted twice.

A run that raises (a bug, bad data: the same chunk would raise again) rolls its chunk back as any error does; the job
then records the error (`error`: class and message, truncated to ERROR_MAX; `error_at`) in its own transaction under
the runner's claim and stays pending, so the sweep retries it once silent for RESUME_AFTER — until its `attempts`
reach `GUANXI_RESCHEDULE_MAX_ATTEMPTS` (5): then it is `failed`, logged at ERROR, and the sweep no longer takes it.
A job whose runner dies inside a chunk (killed: memory, a hard time limit) records no error: the sweep fails it
instead of claiming it once it is silent after its last allowed attempt (error `RunnerLost: …`).
The exception goes on to the caller: the Celery task fails with its traceback (no Celery retry: the sweep is the
retry); only the in-process fallback (`enqueue` with the broker down) logs it and returns, so a committed change's
request, the sweep's loop or an admin's retry does not fail for it. An administrator's admin action "retry"
(`jobs_retry`, audited `sla_reschedule_retry`) puts failed jobs back to pending with attempts from 0 and hands them to
the task like new ones. A job given up tells the administrators (`notices.reschedule_failed`: a `job_failed` notice
in the app and by email, linking to the job's admin page), besides the ERROR log line and the admin's status filter.

Done jobs are deleted after `GUANXI_RESCHEDULE_KEEP_DAYS` (30) by the daily `reschedules_purge`
(`service.sla_reschedule_purge`); pending and failed ones stay. The admin lists the jobs read-only (the change,
status, counts, started, last sign of life, attempts, last error and when).

Each moved ticket also gets a `deadline_moved` event on its own history (old and new deadlines, the reason), written
in the reader's language when shown (`move_note`).
"""

import logging
import uuid
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from guanxi.core import audit
from guanxi.core.models import OrgUnit
from guanxi.core.roles import ADMIN, user_roles
from guanxi.core.tree import subtree_ids
from guanxi.service import clock, notices, sla
from guanxi.service.models import BusinessHours, Holiday, RescheduleJob, SlaTarget, Ticket, TicketEvent
from guanxi.service.models.config import Grade

logger = logging.getLogger(__name__)
CHUNK = 500  # tickets recomputed per transaction of the job
SAME = timedelta(seconds=1)  # closer than this is the same deadline (float minutes in the incremental arithmetic)
BREACHED = Ticket.SlaState.BREACHED
E = TicketEvent.Kind
PENDING = RescheduleJob.Status.PENDING
FAILED = RescheduleJob.Status.FAILED
RESUME_AFTER = timedelta(minutes=5)  # a pending job silent this long (runner or message lost) is claimed anew
RESUME_BATCH = 10  # jobs one sweep claims at most
ERROR_MAX = 1000  # characters of a run's error kept on the job
LOST = "RunnerLost"  # the error of a job given up without one from its last run (no exception reached it)


# --- what changed -------------------------------------------------------------------------------------------------


def holiday_changed(holiday: Holiday) -> None:
    """A day was added to or changed in the holiday calendar (call inside the change's transaction, after the
    write)."""
    start(holiday_scope(holiday))


def hours_changed(schedule: BusinessHours) -> None:
    """A schedule was created or changed (call inside the change's transaction, after the write)."""
    start(hours_scope(schedule))


def holiday_scope(holiday: Holiday, *, removed: bool = False) -> dict:
    """What a job needs to know of the change (JSON: stored on the job); taken before a delete."""
    return {
        "day": holiday.date.isoformat(),
        "object": ["holiday", holiday.pk, str(holiday)],
        "reason": {"holiday": holiday.date.isoformat(), "name": holiday.name, "removed": removed},
    }


def hours_scope(schedule: BusinessHours, *, removed: bool = False) -> dict:
    branch = schedule.branch.name if schedule.branch_id else ""
    return {
        "branch_id": schedule.branch_id,
        "object": ["businesshours", schedule.pk, str(schedule)],
        "reason": {"hours": branch, "removed": removed},
    }


def start(scope: dict) -> RescheduleJob:
    """Inside the change's transaction: the job's row (it commits or rolls back with the change), handed to Celery
    after the commit."""
    job = RescheduleJob.objects.create(scope=scope)
    hand_off(job.pk)
    return job


def hand_off(job_id: int) -> None:
    """After the commit, send the job to the task `service.sla_reschedule` (tests replace this to run it in-process
    or keep it)."""
    transaction.on_commit(lambda: enqueue(job_id))


def enqueue(job_id: int, claim: str = "") -> bool:
    """Send the job to the broker (with the sweep's `claim` when it took the job over); with the broker down, run it
    here."""
    from guanxi.service.tasks import sla_reschedule as task

    try:
        task.apply_async((job_id, claim) if claim else (job_id,), retry=False)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many kinds for an unreachable broker
        logger.warning("SLA rescheduling: broker unavailable, running job %s in this process: %s", job_id, exc)
        try:
            run(job_id, claim=claim)
        except Exception:  # noqa: BLE001 - recorded on the job and logged by the run; the caller (a committed
            # change's request, the sweep's loop, an admin's retry) must not fail for it
            logger.exception("SLA rescheduling: job %s raised in this process; the sweep retries it", job_id)
        return False
    return True


# --- claiming a job -----------------------------------------------------------------------------------------------


class Superseded(Exception):
    """The runner's claim is no longer the job's: another runner took it over (the chunk rolls back)."""


def _silent(now: datetime) -> Q:
    """Pending jobs nobody has worked on for RESUME_AFTER: claimed long ago, or never claimed since created."""
    cutoff = now - RESUME_AFTER
    return Q(claimed_at__lt=cutoff) | Q(claimed_at__isnull=True, created_at__lt=cutoff)


def _claim(jobs: QuerySet[RescheduleJob], now: datetime) -> str:
    """The claiming conditional UPDATE: a new lease token on the job if `jobs` still matches; "" when it did not."""
    token = uuid.uuid4().hex
    taken = jobs.update(
        claim=token, claimed_at=now, started_at=Coalesce("started_at", Value(now)), attempts=F("attempts") + 1
    )
    return token if taken else ""


def run(job_id: int, *, claim: str = "", chunk: int | None = None) -> dict | None:
    """The task: claim the job — or, with the sweep's `claim`, check it still holds — and run it to the end; None
    when it is done, another runner is alive on it, or another runner took it over meanwhile."""
    now = timezone.now()
    jobs = RescheduleJob.objects.filter(pk=job_id, status=PENDING)
    if claim:  # the sweep claimed it for this message: a sign of life, unless it was taken over while queued
        held = jobs.filter(claim=claim).update(claimed_at=now)
    else:
        held = claim = _claim(jobs.filter(Q(claimed_at__isnull=True) | _silent(now)), now)
    if not held:
        return None
    job = RescheduleJob.objects.get(pk=job_id)
    return reschedule(job.scope, chunk=chunk, job=job, claim=claim)


def reschedules_resume(*, limit: int = RESUME_BATCH) -> int:
    """The sweep (every minute): pending jobs silent for RESUME_AFTER — their worker died or stalled, their message
    was lost — are claimed anew (a new lease: a runner still alive stops at its next chunk) and sent to
    `service.sla_reschedule` with the claim, to continue from their last finished chunk; the sweep itself runs none
    (unless the broker is down). One silent after its last allowed attempt is failed instead (see _given_up).
    Returns how many it claimed."""
    now = timezone.now()
    claimed, given_up = [], []
    with transaction.atomic():
        # Concurrent sweeps on PostgreSQL skip each other's rows, and a job whose chunk is committing (the chunk locks
        # its job's row); the conditional UPDATE decides on SQLite (and against a task claiming at the same moment).
        ids = list(
            RescheduleJob.objects.filter(_silent(now), status=PENDING)
            .order_by("pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        for pk in ids:
            silent = RescheduleJob.objects.filter(_silent(now), pk=pk, status=PENDING)
            if _given_up(silent, now):
                given_up.append(pk)
            elif token := _claim(silent, now):
                claimed.append((pk, token))
    for pk in given_up:
        logger.error("SLA rescheduling: job %s lost its runner at every attempt, given up (retry it in the admin)", pk)
        notices.reschedule_failed(pk, RescheduleJob.objects.get(pk=pk).error)
    for pk, token in claimed:  # after the commit: the task finds the claim
        logger.warning("SLA rescheduling: job %s was left unfinished, sending it again", pk)
        enqueue(pk, token)
    return len(claimed)


def _given_up(jobs: QuerySet[RescheduleJob], now: datetime) -> bool:
    """A job silent after GUANXI_RESCHEDULE_MAX_ATTEMPTS runs whose last one recorded no error: its runner died each
    time (killed inside a chunk: memory, a hard time limit) or its messages were lost — failed rather than claimed
    forever."""
    error = f"{LOST}: no sign of life since the last attempt (the worker was killed or the message lost)"
    return bool(
        jobs.filter(attempts__gte=settings.GUANXI_RESCHEDULE_MAX_ATTEMPTS).update(
            status=FAILED, claim="", error=error, error_at=now
        )
    )


def reschedules_purge(*, now: datetime | None = None) -> int:
    """Daily: done jobs finished more than GUANXI_RESCHEDULE_KEEP_DAYS ago are deleted (their audit entries stay);
    pending and failed ones are kept whatever their age. Returns how many were deleted."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.GUANXI_RESCHEDULE_KEEP_DAYS)
    return RescheduleJob.objects.filter(status=RescheduleJob.Status.DONE, finished_at__lt=cutoff).delete()[0]


# --- which tickets ------------------------------------------------------------------------------------------------


def affected(scope: dict) -> QuerySet[Ticket]:
    """Open, not breached, business-hour tickets whose deadlines may depend on the changed holiday or schedule.

    A day counts in a window that began before the day ends and whose resolution deadline (the later one) is not
    before the day begins — a waiting ticket's stored deadline is that of its pause, and its resumption counts the
    calendar of then. A schedule counts for the tickets of its branch's teams; the default one for every team under
    no branch with its own."""
    tickets = Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES, around_the_clock=False, sla_state__lt=BREACHED)
    if "day" in scope:
        day = date.fromisoformat(scope["day"])
        begins = timezone.make_aware(datetime.combine(day, datetime.min.time()), clock.SHANGHAI)
        return tickets.filter(created_at__lt=begins + timedelta(days=1), resolution_due_at__gte=begins)
    if scope["branch_id"] is not None:
        return tickets.filter(team_id__in=subtree_ids(OrgUnit, scope["branch_id"]))
    own = BusinessHours.objects.filter(branch__isnull=False).values_list("branch_id", flat=True)
    elsewhere = {unit for branch_id in own for unit in subtree_ids(OrgUnit, branch_id)}
    return tickets.exclude(team_id__in=elsewhere) if elsewhere else tickets


# --- the job ------------------------------------------------------------------------------------------------------


def reschedule(
    scope: dict, *, chunk: int | None = None, job: RescheduleJob | None = None, claim: str = ""
) -> dict | None:
    """The job: recompute the affected tickets' deadlines `chunk` at a time (see the module docstring); returns
    {"checked": tickets looked at, "moved": tickets whose deadlines moved}. With `job` (claimed with `claim`), from its
    last finished chunk, each chunk's progress recorded with the chunk while the claim holds, and the job marked done
    at the end (counts over all its runs); None when another runner took the job over (this one's chunk rolled back)."""
    chunk = chunk or CHUNK
    kind, object_id, label = scope.get("object") or ["", None, ""]
    reason = f"{kind} {label}".strip()
    last, checked, moved = (job.last_ticket_id, job.checked, job.moved) if job else (0, 0, 0)
    try:
        while True:
            with transaction.atomic():
                now = timezone.now()
                # First the lease, which locks the job's row for the chunk: a sweep skips the job meanwhile, and a
                # takeover between two chunks is seen here before anything is written.
                _hold(job, claim, claimed_at=now)
                ids = list(affected(scope).filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk])
                if not ids:
                    _finish(job, claim, kind=kind, object_id=object_id, label=label, checked=checked, moved=moved)
                    break
                moved += _reschedule_chunk(ids, scope=scope, reason=reason, now=now)
                checked += len(ids)
                last = ids[-1]
                _hold(job, claim, last_ticket_id=last, checked=checked, moved=moved, claimed_at=timezone.now())
    except Superseded:
        logger.warning("SLA rescheduling: job %s was taken over by another runner; this one stops here", job.pk)
        return None
    except Exception as exc:
        # The chunk rolled back; the job keeps the error (and fails for good after the last attempt). The exception
        # goes on: the Celery task fails with its traceback (no Celery retry: the sweep is the retry).
        if job is not None:
            try:
                _failed_run(job, claim, exc)
            except Exception:  # noqa: BLE001 - the database itself may be what failed: the run's error goes on
                logger.exception("SLA rescheduling: could not record the error of job %s", job.pk)
        raise
    return {"checked": checked, "moved": moved}


def _failed_run(job: RescheduleJob, claim: str, exc: Exception) -> None:
    """A run of `job` raised: record the error in its own transaction under the runner's claim (a runner taken over
    meanwhile records nothing); at GUANXI_RESCHEDULE_MAX_ATTEMPTS attempts the job is failed and the sweep leaves it."""
    error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
    now = timezone.now()
    with transaction.atomic():
        held = RescheduleJob.objects.filter(pk=job.pk, status=PENDING, claim=claim)
        if not held.update(error=error, error_at=now):
            logger.warning("SLA rescheduling: job %s raised after it was taken over: %s", job.pk, error)
            return
        failed = held.filter(attempts__gte=settings.GUANXI_RESCHEDULE_MAX_ATTEMPTS).update(status=FAILED, claim="")
        if failed:
            logger.error(
                "SLA rescheduling: job %s failed at attempt %s, given up (retry it in the admin): %s",
                job.pk,
                settings.GUANXI_RESCHEDULE_MAX_ATTEMPTS,
                error,
            )
            notices.reschedule_failed(job.pk, error)  # the in-app notice commits with the failure
            return
    logger.warning("SLA rescheduling: job %s raised, the sweep retries it: %s", job.pk, error)


def jobs_retry(*, actor, job_ids: list[int]) -> int:
    """An administrator sends failed jobs to run again: pending, attempts from 0, unclaimed (the error stays until the
    next one), each audited (`sla_reschedule_retry`) and handed to the task after the commit like a new job. Jobs not
    failed are left alone. Returns how many were retried."""
    if ADMIN not in user_roles(actor):
        raise PermissionDenied
    with transaction.atomic():
        jobs = list(RescheduleJob.objects.filter(pk__in=job_ids, status=FAILED).select_for_update().order_by("pk"))
        for job in jobs:
            RescheduleJob.objects.filter(pk=job.pk).update(status=PENDING, attempts=0, claim="", claimed_at=None)
            audit.record(
                actor=actor,
                action="sla_reschedule_retry",
                instance=job,
                object_repr=describe(job.scope),
                changes={"status": [FAILED.value, PENDING.value], "attempts": [job.attempts, 0], "error": job.error},
            )
            hand_off(job.pk)
    return len(jobs)


def _hold(job: RescheduleJob | None, claim: str, **progress) -> None:
    """Record the runner's progress through the conditional UPDATE on its lease; Superseded (rolling the chunk back)
    when the job is no longer pending under this claim."""
    if job is not None and not RescheduleJob.objects.filter(pk=job.pk, status=PENDING, claim=claim).update(**progress):
        raise Superseded


def _finish(
    job: RescheduleJob | None, claim: str, *, kind: str, object_id, label: str, checked: int, moved: int
) -> None:
    """The end: the job done (under its claim, so once) and, when any moved, one entry on the holiday or schedule
    counting them."""
    _hold(job, claim, status=RescheduleJob.Status.DONE, finished_at=timezone.now(), checked=checked, moved=moved)
    if moved and object_id is not None:  # a re-run that moved nothing adds nothing
        model = Holiday if kind == "holiday" else BusinessHours
        audit.record(
            actor=None,
            action="sla_reschedule",
            instance=model(pk=object_id),
            object_repr=label,
            changes={"tickets_moved": moved, "tickets_checked": checked},
        )


def _reschedule_chunk(ids: list[int], *, scope: dict, reason: str, now: datetime) -> int:
    # Lock, then check again: a ticket may have been resolved or breached since the ids were read. The calendar and
    # the targets are read under the lock, per chunk, so a later change's job never loses to this one's older read.
    tickets = list(
        affected(scope).filter(pk__in=ids).select_related("team").select_for_update(of=("self",)).order_by("pk")
    )
    calendars = sla.Calendars()
    targets = {(t.ticket_type, t.priority, t.grade): t for t in SlaTarget.objects.all()}
    histories = clock_histories(tickets)
    changed, entries, events = [], [], []
    why = scope.get("reason") or {"label": reason}
    for ticket in tickets:
        key = (ticket.ticket_type, ticket.priority)
        target = targets.get((*key, ticket.sla_grade)) or targets.get((*key, Grade.GENERAL))
        if target is None:
            continue  # no target configured any more: leave the deadlines as they are
        changes = rescheduled(
            ticket, target=target, calendar=calendars.of(ticket), history=histories[ticket.pk], now=now
        )
        if not changes:
            continue
        before = {name: getattr(ticket, name) for name in changes}
        for name, value in changes.items():
            setattr(ticket, name, value)
        changed.append(ticket)
        moves = {name: [audit.to_json(before[name]), audit.to_json(value)] for name, value in changes.items()}
        entries.append((ticket, {**moves, "reason": reason}))
        # On the ticket's own history too; no from_status (an event leaving `waiting` ends a pause in clock_histories).
        shown = {name: moves[name] for name in ("response_due_at", "resolution_due_at") if name in moves}
        if shown:
            events.append(TicketEvent(ticket=ticket, at=now, kind=E.DEADLINE_MOVED, details={**shown, "reason": why}))
    if changed:
        fields = ["response_due_at", "resolution_due_at", "sla_due_at", "sla_state"]
        Ticket.objects.bulk_update(changed, fields, batch_size=CHUNK)
        audit.record_many(actor=None, action="sla_reschedule", entries=entries)
        TicketEvent.objects.bulk_create(events, batch_size=CHUNK)
    return len(changed)


def rescheduled(
    ticket: Ticket, *, target: SlaTarget, calendar: clock.WorkCalendar, history: sla.ClockHistory, now: datetime
) -> dict:
    """{field: new value} of the deadlines of `ticket` (not breached) that move under `calendar`; {} when none."""
    ran_until = ticket.paused_at or now  # the clock's last running moment
    response, resolution = sla.deadlines(target=target, calendar=calendar, history=history)
    changes = {}
    if ticket.responded_at is None and ticket.response_due_at > ran_until and _moved(response, ticket.response_due_at):
        changes["response_due_at"] = response
    if ticket.resolution_due_at > ran_until and _moved(resolution, ticket.resolution_due_at):
        changes["resolution_due_at"] = resolution
    if not changes:
        return {}
    response = changes.get("response_due_at", ticket.response_due_at)
    resolution = changes.get("resolution_due_at", ticket.resolution_due_at)
    due = resolution if ticket.responded_at else response
    if due != ticket.sla_due_at:
        changes["sla_due_at"] = due
        # The warning was for the old deadline; out of the warning window the new one gets its own. A waiting
        # ticket's state is settled when it resumes (resume_deadlines).
        if ticket.paused_at is None and ticket.sla_state == Ticket.SlaState.WARNED and due > now + sla.WARN_BEFORE:
            changes["sla_state"] = Ticket.SlaState.ON_TIME
    return changes


def _moved(new: datetime, old: datetime) -> bool:
    return abs(new - old) >= SAME


def clock_histories(tickets: list[Ticket]) -> dict[int, sla.ClockHistory]:
    """{ticket id: its clock history} from the tickets' events (one query): the creation, the last reopening, and the
    finished pauses — from a `waiting` event to the next event leaving waiting. A ticket without a creation event
    (imported) starts at its `created_at`."""
    events = (
        TicketEvent.objects.filter(ticket_id__in=[ticket.pk for ticket in tickets])
        .filter(Q(kind__in=[E.CREATED, E.WAITING, E.REOPENED]) | Q(from_status=Ticket.Status.WAITING))
        .order_by("ticket_id", "at", "id")
        .values_list("ticket_id", "kind", "from_status", "at")
    )
    found: dict[int, dict] = {
        ticket.pk: {"start": None, "reopened": None, "pauses": [], "paused": None} for ticket in tickets
    }
    for ticket_id, kind, from_status, at in events:
        seen = found[ticket_id]
        if from_status == Ticket.Status.WAITING and seen["paused"] is not None:
            seen["pauses"].append((seen["paused"], at))
            seen["paused"] = None
        if kind == E.CREATED and seen["start"] is None:
            seen["start"] = at
        elif kind == E.WAITING:
            seen["paused"] = at
        elif kind == E.REOPENED:
            seen["reopened"] = at
    histories = {}
    for ticket in tickets:
        seen = found[ticket.pk]
        begun = seen["start"] or ticket.created_at
        histories[ticket.pk] = sla.ClockHistory(
            start=begun, resolution_start=seen["reopened"] or begun, pauses=tuple(seen["pauses"])
        )
    return histories


# --- on the ticket's history --------------------------------------------------------------------------------------


def move_note(details: dict) -> str:
    """A `deadline_moved` event in the reader's language: which deadline moved from when to when, and why."""
    labels = {
        "response_due_at": _("response deadline %(old)s → %(new)s"),
        "resolution_due_at": _("resolution deadline %(old)s → %(new)s"),
    }
    moves = [
        labels[name] % {"old": _local(details[name][0]), "new": _local(details[name][1])}
        for name in labels
        if name in details
    ]
    separator = pgettext("between list items", "; ")
    return _("%(moves)s (reason: %(reason)s)") % {"moves": separator.join(moves), "reason": _why(details.get("reason"))}


def describe(scope: dict) -> str:
    """The change a job follows, in the reader's language (the admin's list of jobs)."""
    kind, _pk, label = scope.get("object") or ["", None, ""]
    return _why(scope.get("reason") or {"label": f"{kind} {label}".strip()})


def _local(value: str | None) -> str:
    if not value:
        return "—"
    return timezone.localtime(datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")


def _why(reason: dict | None) -> str:
    reason = reason or {}
    if "holiday" in reason:
        names = {"day": reason["holiday"], "name": reason.get("name") or ""}
        if reason.get("removed"):
            text = _("holiday %(day)s %(name)s removed from the calendar") % names
        else:
            text = _("holiday calendar changed: %(day)s %(name)s") % names
        return " ".join(text.split())  # a day without a name
    if "hours" in reason:
        if not reason["hours"]:
            return _("default business hours changed")
        if reason.get("removed"):
            return _("business hours of %(branch)s removed (the default hours apply)") % {"branch": reason["hours"]}
        return _("business hours of %(branch)s changed") % {"branch": reason["hours"]}
    return reason.get("label", "")
