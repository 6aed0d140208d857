"""Agent tools: one-click reply templates (话术模板) with merge fields, global or for one team."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OrgUnit


class ReplyTemplate(models.Model):
    """A reply an agent inserts with one click; `{customer}`, `{ticket_number}`, `{due}` … are filled in from the ticket
    (service.reply_templates.MERGE_FIELDS). Without a team it is offered to everyone, with one to the team and its
    sub-units."""

    name = models.CharField(_("name"), max_length=100)
    body = models.TextField(_("text"))
    team = models.ForeignKey(
        OrgUnit,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["team", "name"], name="reply_template_team_idx")]

    def __str__(self) -> str:
        return self.name
