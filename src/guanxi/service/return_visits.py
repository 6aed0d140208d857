"""Return visits (回访): closing a ticket schedules a follow-up call or message; its result may reopen the ticket.

- Scheduling: `schedule()` (called by the state machine when a ticket is closed) creates one visit per closure, due
  `ReturnVisitRule.delay_hours` after closing (per ticket type; emergency repair sooner; GUANXI_RETURN_VISIT_HOURS
  without a rule).
- Who calls: the visit belongs to the team of the ticket's **receiver** (the first-contact desk, e.g. the 95598 team
  that took the call), so the customer is called back by someone other than the person who resolved it. It is assigned
  to that team's service agent (role `service_agent`, not the ticket's owner) with the fewest open visits; a team
  without one gets the receiver (when they did not resolve it themself) or nobody (the team's pool: any colleague in
  scope may take it, leads always may).
- Result: not reached → tried again `retry_hours` later, at most `max_attempts` times, then closed as unreachable;
  reached → satisfaction 1–5, comment, channel; 1 or 2 reopens the ticket through the state machine and notifies the
  team lead (and the owner) with kind "return_visit".
- `return_visits_sweep()` (Celery `service.sweep`, every minute): scheduled visits whose time came become due (their
  agent is told), open visits of a ticket reopened in the meantime are cancelled. Set-based and idempotent.

Reads: a visit is visible exactly where its ticket is (selectors.ticket_queryset); out of scope is 404.
"""

from collections import defaultdict
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from guanxi.core import audit
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.permissions import require
from guanxi.core.selectors import org_unit_of
from guanxi.service import rollups, selectors, sms
from guanxi.service.models import ContactChannel, ReturnVisit, ReturnVisitAttempt, ReturnVisitRule, Ticket

V = ReturnVisit.Status
DEFAULT_HOURS = int(getattr(settings, "GUANXI_RETURN_VISIT_HOURS", 24))
# An open visit this long past its due time counts as overdue (the queue's red rows).
OVERDUE_AFTER = timedelta(hours=int(getattr(settings, "GUANXI_RETURN_VISIT_OVERDUE_HOURS", 24)))
DISSATISFIED = 2  # satisfaction 1–2 reopens the ticket
QUEUES = ("due", "overdue", "upcoming", "open", "done")


# --- reads ----------------------------------------------------------------------------------------------------------


def visit_queryset(*, user) -> QuerySet[ReturnVisit]:
    """The return visits of the tickets `user` may see."""
    return ReturnVisit.objects.filter(ticket_id__in=selectors.ticket_queryset(user=user).values("pk"))


def visit_queue(
    *,
    user,
    queue: str = "due",
    team_id: int | None = None,
    assignee_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
    now=None,
) -> Page:
    """Open visits by due time (keyset): `due` (time has come), `overdue` (OVERDUE_AFTER past), `upcoming`, `open`
    (all open), or `done` (completed, unreachable, cancelled — latest due first)."""
    now = now or timezone.now()
    visits = visit_queryset(user=user).select_related("ticket__customer", "assignee", "team")
    if queue == "done":
        visits = visits.exclude(status__in=ReturnVisit.OPEN)
    else:
        visits = visits.filter(status__in=ReturnVisit.OPEN)
    if queue == "due":
        visits = visits.filter(due_at__lte=now)
    elif queue == "overdue":
        visits = visits.filter(due_at__lte=now - OVERDUE_AFTER)
    elif queue == "upcoming":
        visits = visits.filter(due_at__gt=now)
    if team_id is not None:
        visits = visits.filter(team_id=team_id)
    if assignee_id is not None:
        visits = visits.filter(assignee_id=assignee_id)
    return keyset_page(visits, ordering="-due_at" if queue == "done" else "due_at", cursor=cursor, limit=limit)


def visit_get(*, user, visit_id: int, for_update: bool = False) -> ReturnVisit:
    """One visit; 404 when absent or its ticket is outside the user's scope. `for_update` locks the visit row."""
    visits = visit_queryset(user=user).filter(pk=visit_id)
    if for_update:
        ids = list(visits.values_list("pk", flat=True))
        if not ids:
            raise Http404
        ReturnVisit.objects.select_for_update().filter(pk=ids[0]).values_list("pk").first()
        visits = ReturnVisit.objects.filter(pk=ids[0])
    visit = visits.select_related("ticket__customer", "ticket__owner", "ticket__team", "assignee", "team").first()
    if visit is None:
        raise Http404
    return visit


def visit_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and visit_queryset(user=user).filter(pk=int(object_id)).exists()


def visits_of_ticket(*, ticket: Ticket) -> list[ReturnVisit]:
    """The visits of a visible ticket, newest first, with their attempts."""
    return list(
        ticket.return_visits.select_related("assignee", "completed_by")
        .prefetch_related("attempt_log__by")
        .order_by("-closed_at", "-id")
    )


def attempts_of(*, visit: ReturnVisit) -> list[ReturnVisitAttempt]:
    return list(visit.attempt_log.select_related("by"))


def may_record(user, visit: ReturnVisit) -> bool:
    """The assigned agent records the result; a lead (service.manage_ticket) may for them; an unassigned visit is the
    team's pool: anyone who works on tickets and sees it."""
    if visit.assignee_id == user.pk or user.has_perm("service.manage_ticket"):
        return True
    return visit.assignee_id is None and user.has_perm("service.change_ticket")


# --- scheduling -----------------------------------------------------------------------------------------------------


def rule_for(ticket_type: str) -> tuple[int, int, int, str]:
    """(delay hours, retry hours, attempts at most, channel) for a ticket type."""
    rule = ReturnVisitRule.objects.filter(ticket_type=ticket_type).first()
    if rule is None:
        return DEFAULT_HOURS, 4, 3, ContactChannel.PHONE
    return rule.delay_hours, rule.retry_hours, rule.max_attempts, rule.channel


def schedule(ticket: Ticket, *, closed_at) -> ReturnVisit:
    """The return visit of a closure (inside the closing transaction). Idempotent per (ticket, closed_at)."""
    delay, _retry, attempts, channel = rule_for(ticket.ticket_type)
    team, assignee = _visit_team_and_agent(ticket)
    visit, created = ReturnVisit.objects.get_or_create(
        ticket=ticket,
        closed_at=closed_at,
        defaults={
            "team": team,
            "assignee": assignee,
            "channel": channel,
            "due_at": closed_at + timedelta(hours=delay),
            "max_attempts": attempts,
        },
    )
    if created:
        audit.record(
            actor=None,
            action="return_visit_schedule",
            instance=visit,
            changes={"due_at": [None, visit.due_at.isoformat()], "assignee": [None, visit.assignee_id]},
        )
    return visit


def _visit_team_and_agent(ticket: Ticket):
    """The receiver's team, and its service agent (not the owner who resolved it) with the fewest open visits."""
    team = org_unit_of(ticket.receiver) or ticket.team
    agent = None
    if team is not None:
        agent = (
            get_user_model()
            .objects.filter(is_active=True, groups__name="service_agent", profile__org_unit=team)
            .exclude(pk=ticket.owner_id)
            .annotate(load=Count("return_visits", filter=Q(return_visits__status__in=ReturnVisit.OPEN)))
            .order_by("load", "pk")
            .first()
        )
    if agent is None and ticket.receiver_id != ticket.owner_id and ticket.receiver.is_active:
        agent = ticket.receiver
    return team, agent


# --- the result -----------------------------------------------------------------------------------------------------


def visit_record(
    *,
    actor,
    visit_id: int,
    version: int,
    reached: bool,
    channel: str,
    satisfaction: int | None = None,
    comment: str = "",
) -> ReturnVisit:
    """Record one attempt. Reached: the satisfaction (1–5) completes the visit, 1–2 reopens the ticket and tells the
    team lead. Not reached: tried again later, or closed as unreachable after the last attempt.

    Two people recording the same visit at once: the row lock serialises them, the second one's version is stale
    (409)."""
    require(actor, "service.change_ticket")
    comment = (comment or "").strip()
    errors = {}
    if channel not in ContactChannel.values:
        errors["channel"] = _("Choose phone, text message, WeChat or email.")
    if reached:
        if satisfaction is None:
            errors["satisfaction"] = _("Record the customer's satisfaction (1–5).")
        elif not 1 <= satisfaction <= 5:
            errors["satisfaction"] = _("Satisfaction is from 1 (very dissatisfied) to 5 (very satisfied).")
    elif satisfaction is not None:
        errors["satisfaction"] = _("A customer who was not reached gives no satisfaction.")
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    with transaction.atomic():
        visit = visit_get(user=actor, visit_id=visit_id, for_update=True)
        if visit.version != version:
            raise StaleVersion(visit.version)
        if visit.status not in ReturnVisit.OPEN:
            raise Conflict(_("This return visit is already finished."))
        if not may_record(actor, visit):
            raise PermissionDenied(_("This return visit is assigned to a colleague."))
        before = audit.snapshot(visit)
        ReturnVisitAttempt.objects.create(visit=visit, at=now, by=actor, channel=channel, reached=reached, note=comment)
        visit.attempts += 1
        visit.channel = channel
        if reached:
            visit.status = V.COMPLETED
            visit.satisfaction = satisfaction
            visit.comment = comment
            visit.completed_at = now
            visit.completed_by = actor
        elif visit.attempts >= visit.max_attempts:
            visit.status = V.UNREACHABLE
            visit.comment = comment
            visit.completed_at = now
            visit.completed_by = actor
        else:
            _delay, retry, _attempts, _channel = rule_for(visit.ticket.ticket_type)
            visit.status = V.SCHEDULED
            visit.due_at = now + timedelta(hours=retry)
        reopen = reached and satisfaction <= DISSATISFIED and visit.ticket.status == Ticket.Status.CLOSED
        visit.reopened = reopen
        visit.version = version + 1
        changes = audit.diff(before, audit.snapshot(visit))
        fields = ("status", "satisfaction", "comment", "completed_at", "completed_by_id", "channel", "attempts")
        saved = ReturnVisit.objects.filter(pk=visit.pk, version=version).update(
            **{name: getattr(visit, name) for name in (*fields, "due_at", "reopened", "version")}
        )
        if saved != 1:
            raise StaleVersion(visit.version)
        rollups.visit_completed(visit)
        audit.record(actor=actor, action="return_visit_record", instance=visit, changes=changes)
        if reopen:
            _reopen(actor, visit, satisfaction=satisfaction, comment=comment)
    return visit


def _reopen(actor, visit: ReturnVisit, *, satisfaction: int, comment: str) -> None:
    """An unhappy customer: the ticket reopens (state machine) and its team lead and owner are told."""
    from guanxi.activities.notifications import notify
    from guanxi.service import services, sla

    ticket = visit.ticket
    note = _("Return visit: the customer is dissatisfied (%(score)s/5). %(comment)s") % {
        "score": satisfaction,
        "comment": comment,
    }
    services.ticket_transition(
        actor=actor,
        ticket_id=ticket.pk,
        version=ticket.version,
        action="reopen",
        note=note.strip(),
        for_return_visit=True,
    )
    leads = {}
    if ticket.team_id is not None:
        leads = sla._team_leads({ticket.team_id}) or sla._branch_managers({ticket.team_id})
    recipient_ids = {ticket.owner_id, *leads.values()} - {None}
    number, subject = ticket.number, ticket.subject
    notify(
        recipients=get_user_model().objects.filter(pk__in=recipient_ids),
        kind="return_visit",
        title=lambda: _("Return visit: %(number)s reopened, the customer is dissatisfied") % {"number": number},
        body=lambda: (
            _("%(subject)s — satisfaction %(score)s/5. %(comment)s")
            % {"subject": subject, "score": satisfaction, "comment": comment}
        ),
        url=reverse("service:detail", args=[ticket.pk]),
        actor=actor,
    )


# --- the sweep ------------------------------------------------------------------------------------------------------


def return_visits_sweep(*, now=None) -> dict:
    """Scheduled visits whose time came become due (each agent told once, with the count); open visits of a ticket
    that was reopened meanwhile are cancelled. Set-based (one range scan, one UPDATE each), idempotent, and two
    workers never take the same row (SKIP LOCKED)."""
    from guanxi.activities.notifications import notify

    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            ReturnVisit.objects.filter(status=V.SCHEDULED, due_at__lte=now)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", "ticket_id", "due_at", "assignee_id")
        )
        if due:
            ReturnVisit.objects.filter(pk__in=[row[0] for row in due], status=V.SCHEDULED).update(status=V.DUE)
            sms.return_visit_messages([row[0] for row in due])  # visits by text message ask the customer now
            audit.record_many(
                actor=None,
                action="return_visit_due",
                entries=[
                    (ReturnVisit(pk=row[0], ticket_id=row[1], due_at=row[2]), {"status": [V.SCHEDULED, V.DUE]})
                    for row in due
                ],
            )
            per_agent = defaultdict(int)
            for row in due:
                if row[3] is not None:
                    per_agent[row[3]] += 1
            agents = get_user_model().objects.in_bulk(list(per_agent))
            url = reverse("service:return_visits")
            for agent_id, count in per_agent.items():
                notify(
                    recipients=[agents[agent_id]],
                    kind="return_visit",
                    title=lambda count=count: (
                        ngettext("%(count)d return visit is due", "%(count)d return visits are due", count)
                        % {"count": count}
                    ),
                    url=url,
                )
        stale = list(
            ReturnVisit.objects.filter(status__in=ReturnVisit.OPEN)
            .exclude(ticket__status=Ticket.Status.CLOSED)
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("id", "ticket_id", "due_at", "status")
        )
        if stale:
            ReturnVisit.objects.filter(pk__in=[row[0] for row in stale]).update(status=V.CANCELLED, completed_at=now)
            audit.record_many(
                actor=None,
                action="return_visit_cancel",
                entries=[
                    (ReturnVisit(pk=row[0], ticket_id=row[1], due_at=row[2]), {"status": [row[3], V.CANCELLED]})
                    for row in stale
                ],
            )
    return {"return_visits_due": len(due), "return_visits_cancelled": len(stale)}
