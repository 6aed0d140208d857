"""Assignment of tickets that arrive in a team's queue without a person (email intake): the team's rule and each
agent's availability and skills."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OrgUnit


class AgentAvailability(models.Model):
    """Whether an agent takes tickets handed out by assignment rules (set by the agent: on shift, away), and the ticket
    types they handle when a rule matches skills (none listed: no skill-matched ticket)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_availability")
    available = models.BooleanField(_("available for assignment"), default=False)
    skills = models.JSONField(_("skills (ticket types)"), default=list, blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("agent availability")
        verbose_name_plural = _("agent availability")

    def __str__(self) -> str:
        return str(self.user)


class AssignmentRule(models.Model):
    """How a team's queue hands a ticket to one of its available agents: in turn (round robin) or to whoever has the
    fewest open tickets; optionally only agents skilled in the ticket's type. The row is locked while choosing, so
    two tickets assigned at once take turns."""

    class Strategy(models.TextChoices):
        ROUND_ROBIN = "round_robin", _("Round robin")
        LEAST_OPEN = "least_open", _("Fewest open tickets")

    team = models.OneToOneField(OrgUnit, verbose_name=_("team"), on_delete=models.CASCADE, related_name="+")
    strategy = models.CharField(_("strategy"), max_length=16, choices=Strategy.choices, default=Strategy.ROUND_ROBIN)
    match_skills = models.BooleanField(_("match skills to the ticket type"), default=False)
    active = models.BooleanField(_("active"), default=True)
    # Round robin: the agent who got the last ticket; the next one goes to the agent after them (by id).
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.team} ({self.get_strategy_display()})"
