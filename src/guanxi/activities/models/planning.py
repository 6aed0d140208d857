"""Time management around activities: visit rules (D2), work reports (D3), reminders, in-app notices, calendar feeds."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import OrgUnit


class VisitRule(models.Model):
    """How often a customer of a grade must be visited (每月拜访任务): `visits` visits every `period_months` months.

    A rule without owner is the company default for the grade; a rule with an owner overrides it for that account
    manager's customers (a senior manager with fewer, larger key accounts may visit them twice a month)."""

    grade = models.CharField(_("customer grade"), max_length=16)  # customers.Customer.Grade values
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account manager"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="visit_rules",
    )
    visits = models.PositiveSmallIntegerField(
        _("visits"), default=1, validators=[MinValueValidator(1), MaxValueValidator(31)]
    )
    period_months = models.PositiveSmallIntegerField(
        _("every (months)"), default=1, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("visit rule")
        verbose_name_plural = _("visit rules")
        ordering = ["grade", "owner_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["grade"], condition=Q(owner__isnull=True), name="visit_rule_one_default_per_grade"
            ),
            models.UniqueConstraint(fields=["grade", "owner"], name="visit_rule_one_per_grade_and_owner"),
        ]

    def __str__(self) -> str:
        return f"{self.grade}: {self.visits}/{self.period_months}"

    def clean(self) -> None:
        from guanxi.customers.models import Customer

        if self.grade not in Customer.Grade.values:
            raise ValidationError({"grade": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Customer.Grade)}})
        if self.period_months and 12 % self.period_months:
            # Periods are aligned to the calendar year (months, 2-month blocks, quarters, half-years, years).
            raise ValidationError({"period_months": _("Choose 1, 2, 3, 4, 6 or 12 months.")})


class WorkReport(models.Model):
    """A daily or weekly work report (工作报告) of one user: their activities of the period plus free text, submitted
    to the team lead who reviews it with a comment."""

    class Period(models.TextChoices):
        DAILY = "daily", _("Daily")
        WEEKLY = "weekly", _("Weekly")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        REVIEWED = "reviewed", _("Reviewed")

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT, related_name="work_reports"
    )
    # The author's unit when the report was written: the team lead's and branch manager's scope.
    org_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="work_reports"
    )
    period = models.CharField(_("period"), max_length=8, choices=Period.choices)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    summary = models.TextField(_("summary"), blank=True)
    plans = models.TextField(_("plans"), blank=True)
    problems = models.TextField(_("problems"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    # The activities of the period as they were when the report was submitted: a submitted report does not change
    # when an activity is edited later.
    activity_snapshot = models.JSONField(_("activities"), default=list, blank=True)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("work report")
        verbose_name_plural = _("work reports")
        permissions = [("review_workreport", _("Can review the work reports of their people"))]
        constraints = [
            models.UniqueConstraint(fields=["author", "period", "period_start"], name="work_report_one_per_period"),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="work_report_end"),
        ]
        indexes = [
            # report_list() of one author (scope OWN), newest period first.
            models.Index(fields=["author", "-period_start", "-id"], name="work_report_author_idx"),
            # report_list() of a team or branch (org_unit IN subtree), newest period first.
            models.Index(fields=["org_unit", "-period_start", "-id"], name="work_report_unit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.author} {self.get_period_display()} {self.period_start}"


class ActivityReminder(models.Model):
    """A user's own reminder lead time for one activity; `minutes_before` NULL switches the reminder off.

    Without a row the user's default (preference `activities.reminders`) applies."""

    activity = models.ForeignKey("activities.Activity", on_delete=models.CASCADE, related_name="reminder_settings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    minutes_before = models.PositiveIntegerField(
        _("minutes before"), null=True, blank=True, validators=[MaxValueValidator(7 * 24 * 60)]
    )

    class Meta:
        verbose_name = _("activity reminder")
        verbose_name_plural = _("activity reminders")
        constraints = [models.UniqueConstraint(fields=["activity", "user"], name="one_reminder_per_activity_user")]

    def __str__(self) -> str:
        return f"{self.activity_id}/{self.user_id}: {self.minutes_before}"


class ReminderDelivery(models.Model):
    """One reminder sent: the unique key (activity, user, start) is what makes sending idempotent — a second worker,
    a re-delivered task or a re-run sweep cannot insert it again. A rescheduled activity has a new start, so its
    reminder fires again for the new time."""

    activity = models.ForeignKey("activities.Activity", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    sent_at = models.DateTimeField(auto_now_add=True)
    emailed = models.BooleanField(default=False)
    email_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [
            models.UniqueConstraint(fields=["activity", "user", "starts_at"], name="one_reminder_delivery"),
        ]

    def __str__(self) -> str:
        return f"{self.activity_id}/{self.user_id} @ {self.starts_at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """An in-app notice for one user (activities.notifications.notify writes them; sales adds its own): unread until
    read_at."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32)  # e.g. "activity_reminder"
    title = models.CharField(max_length=200)
    body = models.CharField(max_length=500, blank=True)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            # The header badge and its list: WHERE user_id = ? AND read_at IS NULL ORDER BY created_at DESC.
            models.Index(
                fields=["user", "-created_at"], condition=Q(read_at__isnull=True), name="notification_unread_idx"
            ),
            # The notification centre: WHERE user_id = ? ORDER BY created_at DESC, id DESC (keyset pages).
            models.Index(fields=["user", "-created_at", "-id"], name="notification_user_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """How one user wants to hear of one kind of event: in the app (the header bell) and/or by email.

    Without a row the kind's default applies (in-app for every kind; email for hand-over requests, SLA breaches,
    return-visit results and failed background jobs, see activities.notifications.EMAIL_BY_DEFAULT)."""

    class Kind(models.TextChoices):
        ASSIGNMENT = "assignment", _("Ticket assigned to me")
        HANDOVER_REQUEST = "handover_request", _("Hand-over request")
        HANDOVER_ANSWER = "handover_answer", _("Answer to my hand-over request")
        SLA_WARNING = "sla_warning", _("SLA deadline approaching")
        SLA_BREACH = "sla_breach", _("SLA breached or escalated")
        RETURN_VISIT = "return_visit", _("Return-visit result")
        MENTION = "mention", _("Mentioned in a note")
        ACTIVITY_REMINDER = "activity_reminder", _("Activity reminder")
        TICKET_REPLY = "ticket_reply", _("Reply on a ticket")
        JOB_FAILED = "job_failed", _("Background job failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    in_app = models.BooleanField(_("in the app"), default=True)
    email = models.BooleanField(_("by email"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("notification preference")
        verbose_name_plural = _("notification preferences")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="one_notification_preference_per_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}/{self.kind}: app={self.in_app} email={self.email}"


class CalendarFeed(models.Model):
    """A private iCalendar feed URL of one user. Only the token's SHA-256 is kept; rotating revokes the old one."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(revoked_at__isnull=True), name="one_active_calendar_feed"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
