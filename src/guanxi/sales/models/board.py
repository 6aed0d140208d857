"""The kanban's stage totals, stored (sales.board_totals keeps them; docs/sales.md, "Kanban board")."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BoardTotal(models.Model):
    """Count, amount and weighted amount of the open deals of one (team, pipeline, stage, owner, sensitive customer
    or not). The board of a team, a branch, an account manager or everyone sums a few of these rows instead of
    aggregating every deal. Kept in the same transaction as every write of a deal (and every change of a customer's
    sensitive flag) by database triggers (sales migration 0008); `board_totals.rebuild()` recomputes them.

    Plain integer columns, not foreign keys: the key is a copy of the deal's own columns, `org_unit_id` 0 stands for a
    deal without a unit (a NULL would defeat the unique key the triggers' upsert relies on), and amounts are in fen
    so that adding and subtracting stays exact on SQLite too."""

    org_unit_id = models.BigIntegerField(_("team"))
    pipeline_id = models.BigIntegerField(_("pipeline"))
    stage_id = models.BigIntegerField(_("stage"))
    owner_id = models.BigIntegerField(_("owner"))
    sensitive = models.BooleanField(_("sensitive"))
    deals = models.BigIntegerField(_("deals"), default=0)
    amount_fen = models.BigIntegerField(_("amount (fen)"), default=0)
    weighted_fen = models.BigIntegerField(_("weighted amount (fen)"), default=0)

    class Meta:
        verbose_name = _("kanban stage total")
        verbose_name_plural = _("kanban stage totals")
        constraints = [
            # The board of a team or branch reads (org_unit, pipeline) ranges; the triggers upsert on this key.
            models.UniqueConstraint(
                fields=["org_unit_id", "pipeline_id", "stage_id", "owner_id", "sensitive"], name="sales_boardtotal_key"
            )
        ]
        indexes = [
            models.Index(fields=["owner_id", "pipeline_id"], name="sales_boardtotal_owner_idx"),  # an account manager
            models.Index(fields=["pipeline_id", "stage_id"], name="sales_boardtotal_pipe_idx"),  # scope ALL
        ]

    def __str__(self) -> str:
        return f"{self.org_unit_id}/{self.pipeline_id}/{self.stage_id}/{self.owner_id}: {self.deals}"
