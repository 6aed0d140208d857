"""The complaint analysis' daily rollups (service.analysis reads them, service.rollups keeps them exact).

Ids of teams, causes and sub-types are plain integers with 0 for "none" rather than nullable foreign keys: the unique
key of a rollup row must treat "no team" as one value, so the additive upsert (INSERT … ON CONFLICT … DO UPDATE
SET n = n + excluded.n) finds it on SQLite and PostgreSQL alike (NULLs are distinct in a unique index).
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RollupCounts(models.Model):
    """The key beyond the period and the counts of the two ticket rollups (by day and by month)."""

    team_id = models.BigIntegerField(default=0)
    ticket_type = models.CharField(max_length=32)
    channel = models.CharField(max_length=16)
    priority = models.CharField(max_length=16, default="normal")
    grade = models.CharField(max_length=16, default="general")  # the ticket's sla_grade: the customer's when linked
    cause_id = models.BigIntegerField(default=0)
    # A repeat recognised by its sub-type (no cause known yet): the sub-type, for the "repeats by cause" chart.
    repeat_sub_type_id = models.BigIntegerField(default=0)
    # 1…MAX_REPEAT_DAYS: a repeat within that many days and more; 0: not a repeat complaint.
    repeat_gap = models.PositiveSmallIntegerField(default=0)
    tickets = models.IntegerField(default=0)
    complaints = models.IntegerField(default=0)  # complaints of a known customer (the repeat rate's denominator)
    response_met = models.IntegerField(default=0)
    response_breached = models.IntegerField(default=0)
    resolution_met = models.IntegerField(default=0)
    resolution_breached = models.IntegerField(default=0)
    reopens = models.IntegerField(default=0)  # times the tickets were reopened (their "reopened" events)

    class Meta:
        abstract = True


KEY_REST = ["team_id", "ticket_type", "channel", "priority", "grade", "cause_id", "repeat_sub_type_id", "repeat_gap"]


class TicketRollup(RollupCounts):
    """The tickets created on one local day, per team, type, channel, priority, grade and cause, with their SLA outcomes
    and reopens; the repeat complaints among them by how many days (rounded up) after the customer's matching earlier
    complaint they came. The analysis reads it for the days of a period that do not fill a month."""

    day = models.DateField(_("day"))

    class Meta:
        verbose_name = _("ticket rollup")
        verbose_name_plural = _("ticket rollups")
        constraints = [
            # The upsert's conflict target; leading with the day, it also serves the analysis' period range scan.
            models.UniqueConstraint(fields=["day", *KEY_REST], name="ticket_rollup_key"),
        ]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.ticket_type}/{self.channel}: {self.tickets}"


class TicketMonthRollup(RollupCounts):
    """TicketRollup summed by local month (the first day): the whole months of a period are read from here, a
    thirtieth of the rows."""

    month = models.DateField(_("month"))

    class Meta:
        verbose_name = _("ticket month rollup")
        verbose_name_plural = _("ticket month rollups")
        constraints = [models.UniqueConstraint(fields=["month", *KEY_REST], name="ticket_month_rollup_key")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} team {self.team_id} {self.ticket_type}/{self.channel}: {self.tickets}"


class SatisfactionRollup(models.Model):
    """Completed return visits with a satisfaction, by the local day their ticket was created, its team and the local
    month the visit was completed in (the trend's x axis)."""

    day = models.DateField(_("day"))
    team_id = models.BigIntegerField(default=0)
    month = models.DateField(_("month"))  # the first day of the month
    visits = models.IntegerField(default=0)
    satisfaction_sum = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("satisfaction rollup")
        verbose_name_plural = _("satisfaction rollups")
        constraints = [models.UniqueConstraint(fields=["day", "team_id", "month"], name="satisfaction_rollup_key")]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} {self.month:%Y-%m}: {self.visits}"


class TicketTally(models.Model):
    """What one ticket adds to TicketRollup now (its key and 0/1 counts): a change subtracts this and adds the new
    tally, so no write needs to know the ticket's state before it; the customer finds the complaints whose repeat
    gap depends on this one."""

    ticket = models.OneToOneField("service.Ticket", primary_key=True, on_delete=models.CASCADE, related_name="+")
    customer_id = models.BigIntegerField(null=True)
    day = models.DateField()
    team_id = models.BigIntegerField(default=0)
    ticket_type = models.CharField(max_length=32)
    channel = models.CharField(max_length=16)
    priority = models.CharField(max_length=16, default="normal")
    grade = models.CharField(max_length=16, default="general")
    cause_id = models.BigIntegerField(default=0)
    repeat_sub_type_id = models.BigIntegerField(default=0)
    repeat_gap = models.PositiveSmallIntegerField(default=0)
    complaints = models.SmallIntegerField(default=0)
    response_met = models.SmallIntegerField(default=0)
    response_breached = models.SmallIntegerField(default=0)
    resolution_met = models.SmallIntegerField(default=0)
    resolution_breached = models.SmallIntegerField(default=0)
    reopens = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("ticket tally")
        verbose_name_plural = _("ticket tallies")
        indexes = [
            # Rebuilding a day range deletes and re-adds its tallies.
            models.Index(fields=["day"], name="ticket_tally_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.day}"
