"""Business hours as data: the weekly schedule the SLA clocks count (one default, optionally one per branch)."""

from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OrgUnit
from guanxi.service import clock

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_week(raw) -> clock.Week:
    """The stored shape (seven lists of ["HH:MM", "HH:MM"], Monday first) as clock.Week; ValueError when malformed."""
    if not isinstance(raw, list | tuple) or len(raw) != 7:
        raise ValueError("a week has seven days")
    week = []
    for day in raw:
        if not isinstance(day, list | tuple):
            raise ValueError("each day is a list of intervals")
        intervals = []
        for interval in day:
            if not isinstance(interval, list | tuple) or len(interval) != 2:
                raise ValueError("an interval is [start, end]")
            intervals.append(tuple(time.fromisoformat(part) if isinstance(part, str) else part for part in interval))
        week.append(tuple(intervals))
    clock.check_week(tuple(week))
    return tuple(week)


def format_week(week: clock.Week) -> list[list[list[str]]]:
    return [[[start.strftime("%H:%M"), end.strftime("%H:%M")] for start, end in day] for day in week]


class BusinessHours(models.Model):
    """A weekly schedule of business hours: the default one (no branch) or a branch's own (a 供电所 keeping counter
    hours on Saturday). Tickets count SLA time in the schedule of their team's branch, else in the default one."""

    branch = models.OneToOneField(
        OrgUnit,
        verbose_name=_("branch"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="business_hours",
    )
    # Seven lists (Monday first) of ["HH:MM", "HH:MM"] intervals, in order, not overlapping.
    week = models.JSONField(_("weekly hours"), default=list)
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")
        ordering = ["id"]
        constraints = [
            # One default schedule: NULL branches would not collide under a plain unique constraint.
            models.UniqueConstraint(Coalesce("branch", models.Value(0)), name="one_business_hours_per_branch"),
        ]

    def __str__(self) -> str:
        return str(self.branch.name) if self.branch_id else str(_("Default business hours"))

    def clean(self) -> None:
        try:
            week = parse_week(self.week)
        except (ValueError, TypeError):
            raise ValidationError(
                {"week": _("Give seven days of intervals, each “HH:MM”–“HH:MM”, in order and not overlapping.")}
            ) from None
        if not any(week):
            raise ValidationError({"week": _("A schedule needs business hours on at least one day.")})
        self.week = format_week(week)
        if self.branch_id and self.branch.kind != OrgUnit.Kind.BRANCH:
            raise ValidationError({"branch_id": _("Business hours belong to a branch.")})

    @property
    def parsed_week(self) -> clock.Week:
        return parse_week(self.week)
