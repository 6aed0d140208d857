"""Assignment of tickets that reach a team's queue without a person behind them (email intake: the mailbox user
receives them), and its configuration: each team's rule, each agent's availability and skills.

First-contact responsibility (首问负责) is untouched where a person received the ticket: they own it. Only a queue's
ticket is handed to an agent, who then owns it; the receiver stays recorded. Choosing locks the team's rule row
(SELECT … FOR UPDATE), so two tickets assigned at the same moment take turns instead of both reading the same "last
assigned" agent.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import StaleVersion
from guanxi.core.models import OrgUnit
from guanxi.core.permissions import require
from guanxi.core.versioning import update_versioned
from guanxi.service import notices
from guanxi.service.models import AgentAvailability, AssignmentRule, Ticket, TicketEvent
from guanxi.service.models.config import Kind

CONFIGURE = "service.configure_service"
WORK = "service.change_ticket"
RULE_FIELDS = ("strategy", "match_skills", "active")


# --- assigning --------------------------------------------------------------------------------------------------


def assign_from_queue(ticket: Ticket):
    """Hand a queue's new ticket to an available agent of its team by the team's active rule; the agent (or None when
    the team has no rule or nobody is available: the ticket stays with its receiver) is returned. Call inside the
    transaction that created the ticket."""
    if ticket.team_id is None:
        return None
    rule = AssignmentRule.objects.select_for_update().filter(team_id=ticket.team_id, active=True).first()
    if rule is None:
        return None
    agents = candidates(team_id=ticket.team_id, ticket_type=ticket.ticket_type if rule.match_skills else None)
    if not agents:
        return None
    if rule.strategy == AssignmentRule.Strategy.LEAST_OPEN:
        agent = _fewest_open(agents)
    else:
        agent = next((a for a in agents if rule.last_assigned_id is None or a.pk > rule.last_assigned_id), agents[0])
    previous = ticket.owner_id
    ticket.owner = agent
    ticket.save(update_fields=["owner", "updated_at"])
    rule.last_assigned = agent
    rule.save(update_fields=["last_assigned", "updated_at"])
    name = agent.get_full_name() or agent.username
    TicketEvent.objects.create(
        ticket=ticket,
        at=timezone.now(),
        kind=TicketEvent.Kind.ASSIGNED,
        note=_("Assigned to %(name)s") % {"name": name},
    )
    audit.record(
        actor=None, action="assign", instance=ticket, changes={"owner": [previous, agent.pk], "rule": rule.strategy}
    )
    notices.assigned(ticket, actor=None)
    return agent


def candidates(*, team_id: int, ticket_type: str | None = None) -> list:
    """Active agents sitting in the team (or below it) who work on tickets and are available, by id; with a ticket
    type, only those who list it among their skills."""
    team = OrgUnit.objects.get(pk=team_id)
    may_work = (
        Q(groups__permissions__codename="change_ticket", groups__permissions__content_type__app_label="service")
        | Q(user_permissions__codename="change_ticket", user_permissions__content_type__app_label="service")
        | Q(is_superuser=True)
    )
    users = (
        get_user_model()
        .objects.filter(
            may_work,
            is_active=True,
            profile__org_unit_id__in=team.subtree_ids(),
            service_availability__available=True,
        )
        .select_related("service_availability")
        .distinct()
        .order_by("pk")
    )
    # Skills are a short JSON list; filtered here because SQLite has no JSON containment lookup.
    return [u for u in users if ticket_type is None or ticket_type in u.service_availability.skills]


def _fewest_open(agents: list):
    """The agent owning the fewest open tickets (the lowest id among equals)."""
    counts = dict(
        Ticket.objects.filter(owner__in=agents, status__in=Ticket.OPEN_STATUSES)
        .values("owner")
        .annotate(n=Count("id"))
        .values_list("owner", "n")
    )
    return min(agents, key=lambda agent: (counts.get(agent.pk, 0), agent.pk))


# --- configuration ------------------------------------------------------------------------------------------------


def rule_list(*, user) -> list[AssignmentRule]:
    require(user, CONFIGURE)
    return list(AssignmentRule.objects.select_related("team", "last_assigned"))


def rule_create(*, actor, team_id: int, data: dict) -> AssignmentRule:
    require(actor, CONFIGURE)
    team = OrgUnit.objects.filter(pk=team_id).first()
    if team is None:
        raise ValidationError({"team_id": _("No such team.")})
    with transaction.atomic():
        if AssignmentRule.objects.filter(team=team).exists():
            raise ValidationError({"team_id": _("This team already has an assignment rule.")})
        rule = AssignmentRule(team=team, **{key: data[key] for key in RULE_FIELDS if data.get(key) is not None})
        rule.full_clean(exclude=["team", "last_assigned"])
        rule.save()
        audit.record(actor=actor, action="create", instance=rule, changes=audit.snapshot(rule, list(RULE_FIELDS)))
    return rule


def rule_update(*, actor, rule_id: int, version: int, data: dict) -> AssignmentRule:
    require(actor, CONFIGURE)

    def apply(rule: AssignmentRule) -> None:
        for key in RULE_FIELDS:
            if data.get(key) is not None:
                setattr(rule, key, data[key])
        rule.full_clean(exclude=["team", "last_assigned"])

    return update_versioned(
        AssignmentRule.objects.all(),
        rule_id,
        actor=actor,
        version=version,
        apply=apply,
        fields=RULE_FIELDS,
        audit_fields=list(RULE_FIELDS),
    )


def availability_get(*, user) -> AgentAvailability:
    """The signed-in agent's own availability (not available until they say so)."""
    require(user, WORK)
    return AgentAvailability.objects.filter(user=user).first() or AgentAvailability(user=user, version=0)


def availability_set(*, actor, version: int, available: bool, skills: list[str] | None = None) -> AgentAvailability:
    """The agent marks themself available (on shift) or not, and lists the ticket types they handle. `version` is the
    one read (0 before the first change); a stale one is refused (409)."""
    require(actor, WORK)
    if skills is not None:
        unknown = sorted(set(skills) - set(Kind.values))
        if unknown:
            raise ValidationError({"skills": _("Unknown ticket type: %(types)s.") % {"types": ", ".join(unknown)}})
        skills = sorted(set(skills))
    with transaction.atomic():
        record, _created = AgentAvailability.objects.select_for_update().get_or_create(
            user=actor, defaults={"version": 0}
        )
        if record.version != version:
            raise StaleVersion(record.version)
        before = audit.snapshot(record, ["available", "skills"])
        record.available = available
        if skills is not None:
            record.skills = skills
        changes = audit.diff(before, audit.snapshot(record, ["available", "skills"]))
        if changes or version == 0:
            record.version = version + 1
            record.save()
            audit.record(actor=actor, action="update", instance=record, changes=changes)
    return record
