"""Who hears of what on tickets (J4), through the notification centre (activities.notifications.notify).

Called by service.services inside the change's transaction (the in-app notice rolls back with it, email goes after the
commit) and by the SLA sweep's hook after its commit. Titles are callables, so each recipient reads their language.
"""

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.service.models import Handover, Ticket


def _notify(**kwargs) -> int:
    if not apps.is_installed("guanxi.activities"):
        return 0
    from guanxi.activities.notifications import notify

    return notify(**kwargs)


def _url(ticket_id: int) -> str:
    return reverse("service:detail", args=[ticket_id])


def _workers_in(team) -> list:
    """Active people in `team` (and the units below it) who work on tickets: the addressees of a team hand-over."""
    may_work = (
        Q(groups__permissions__codename="change_ticket", groups__permissions__content_type__app_label="service")
        | Q(user_permissions__codename="change_ticket", user_permissions__content_type__app_label="service")
        | Q(is_superuser=True)
    )
    users = get_user_model().objects.filter(is_active=True, profile__org_unit_id__in=team.subtree_ids())
    return list(users.filter(may_work).distinct())


def assigned(ticket: Ticket, *, actor) -> int:
    """The ticket's owner was set or changed to someone else than the actor: tell the new owner."""
    number, subject = ticket.number, ticket.subject
    return _notify(
        recipients=[ticket.owner],
        kind="assignment",
        title=lambda: _("Ticket %(number)s is now yours: %(subject)s") % {"number": number, "subject": subject},
        url=_url(ticket.pk),
        actor=actor,
    )


def handover_requested(handover: Handover, *, actor) -> int:
    """A hand-over request: the addressee person, or every member of the addressee team who works on tickets."""
    ticket = handover.ticket
    number, subject, reason = ticket.number, ticket.subject, handover.reason
    sender = actor.get_full_name() or actor.username
    recipients = [handover.to_user] if handover.to_user_id else _workers_in(handover.to_team)
    return _notify(
        recipients=recipients,
        kind="handover_request",
        title=lambda: (
            _("%(sender)s asks you to take over ticket %(number)s: %(subject)s")
            % {"sender": sender, "number": number, "subject": subject}
        ),
        body=lambda: _("Reason: %(reason)s") % {"reason": reason},
        url=_url(ticket.pk),
        actor=actor,
    )


def handover_answered(handover: Handover, *, actor) -> int:
    """Accepted or declined: the sender is told (kind handover_answer)."""
    ticket = handover.ticket
    number, subject, note = ticket.number, ticket.subject, handover.note
    person = actor.get_full_name() or actor.username
    accepted = handover.status == Handover.Status.ACCEPTED

    def title():
        values = {"person": person, "number": number, "subject": subject}
        if accepted:
            return _("%(person)s took over ticket %(number)s: %(subject)s") % values
        return _("%(person)s declined to take over ticket %(number)s: %(subject)s") % values

    return _notify(
        recipients=[handover.from_user],
        kind="handover_answer",
        title=title,
        body=(lambda: _("Note: %(note)s") % {"note": note}) if note else "",
        url=_url(ticket.pk),
        actor=actor,
    )


def handovers_expired(handover_ids: list[int]) -> int:
    """Nobody answered in time: each sender is told the ticket stays with them."""
    sent = 0
    for handover in Handover.objects.filter(pk__in=handover_ids).select_related("ticket", "from_user"):
        number, subject = handover.ticket.number, handover.ticket.subject
        sent += _notify(
            recipients=[handover.from_user],
            kind="handover_answer",
            title=lambda number=number, subject=subject: (
                _("Nobody took over ticket %(number)s in time; it stays with you: %(subject)s")
                % {"number": number, "subject": subject}
            ),
            url=_url(handover.ticket_id),
        )
    return sent


def sla_hook(kind: str, pairs: list[tuple[int, int | None]]) -> None:
    """service.sla.notify_hooks: a warning goes to the owner; a breach or an escalation to the owner and to the lead
    or manager it was escalated to."""
    if not pairs:
        return
    targets = dict(pairs)
    people = get_user_model().objects.in_bulk([user_id for user_id in targets.values() if user_id])
    tickets = (
        Ticket.objects.filter(pk__in=list(targets)).select_related("owner").only("id", "number", "subject", "owner")
    )
    for ticket in tickets:
        values = {"number": ticket.number, "subject": ticket.subject}
        url = _url(ticket.pk)
        if kind == "sla_warning":
            _notify(
                recipients=[ticket.owner],
                kind="sla_warning",
                title=lambda values=values: _("Ticket %(number)s is close to its SLA deadline: %(subject)s") % values,
                url=url,
            )
            continue
        escalated = kind == "sla_escalation"
        _notify(
            recipients=[ticket.owner],
            kind="sla_breach",
            title=(
                (lambda values=values: _("Ticket %(number)s was escalated to the branch manager: %(subject)s") % values)
                if escalated
                else (lambda values=values: _("Ticket %(number)s missed its SLA deadline: %(subject)s") % values)
            ),
            url=url,
        )
        target = people.get(targets.get(ticket.pk))
        if target is not None and target.pk != ticket.owner_id:
            _notify(
                recipients=[target],
                kind="sla_breach",
                title=lambda values=values: _("Ticket %(number)s was escalated to you: %(subject)s") % values,
                body=lambda: _("It missed its SLA deadline."),
                url=url,
            )


def reschedule_failed(job_id: int, error: str) -> int:
    """A deadline rescheduling job was given up (service/reschedule.py): tell the administrators, who alone can retry
    it (the admin's "retry" action). Until then the open tickets keep deadlines of the old calendar."""
    from guanxi.core.roles import ADMIN

    admins = get_user_model().objects.filter(Q(groups__name=ADMIN) | Q(is_superuser=True), is_active=True).distinct()
    return _notify(
        recipients=list(admins),
        kind="job_failed",
        title=lambda: (
            _("Deadline rescheduling job %(id)s failed: open tickets keep their old deadlines") % {"id": job_id}
        ),
        body=lambda: _("Last error: %(error)s") % {"error": error},
        url=reverse("admin:service_reschedulejob_change", args=[job_id]),
    )
