"""Return visits (回访) after a ticket is closed; periodic satisfaction surveys (满意度调查) of a customer segment."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.models import OrgUnit
from guanxi.service.models.config import Kind


class ContactChannel(models.TextChoices):
    """How a return visit or a survey reaches the customer (text messages go out through service.sms)."""

    PHONE = "phone", _("Phone")
    SMS = "sms", _("Text message")
    WECHAT = "wechat", _("WeChat")
    EMAIL = "email", _("Email")


class ReturnVisitRule(models.Model):
    """Per ticket type: how long after closing the return visit is due, how often an unreached customer is retried."""

    ticket_type = models.CharField(_("type"), max_length=32, choices=Kind.choices, unique=True)
    delay_hours = models.PositiveIntegerField(_("visit after (hours)"), default=24)
    retry_hours = models.PositiveIntegerField(_("retry after (hours)"), default=4)
    max_attempts = models.PositiveSmallIntegerField(_("attempts at most"), default=3)
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices, default="phone")

    class Meta:
        verbose_name = _("return visit rule")
        verbose_name_plural = _("return visit rules")
        ordering = ["ticket_type"]
        constraints = [models.CheckConstraint(condition=Q(max_attempts__gte=1), name="return_visit_rule_attempts")]

    def __str__(self) -> str:
        return str(self.get_ticket_type_display())


class ReturnVisit(models.Model):
    """One follow-up call or message after one closure of a ticket (a ticket closed again gets another one)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        DUE = "due", pgettext_lazy("return visit", "Due")
        COMPLETED = "completed", _("Completed")
        UNREACHABLE = "unreachable", _("Unreachable")
        CANCELLED = "cancelled", _("Cancelled")

    OPEN = (Status.SCHEDULED, Status.DUE)

    ticket = models.ForeignKey(
        "service.Ticket", verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="return_visits"
    )
    closed_at = models.DateTimeField(_("ticket closed at"))
    team = models.ForeignKey(
        OrgUnit, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("return visit agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="return_visits",
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices, default="phone")
    due_at = models.DateTimeField(_("due at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("attempts at most"), default=3)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reopened = models.BooleanField(_("reopened the ticket"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "closed_at"], name="one_return_visit_per_closure"),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="return_visit_satisfaction_1_5",
            ),
        ]
        indexes = [
            # The queue (open visits by due time, per team) and the sweep's range scan.
            models.Index(
                fields=["due_at", "id"], name="return_visit_open_idx", condition=Q(status__in=["scheduled", "due"])
            ),
            models.Index(fields=["ticket", "completed_at"], name="return_visit_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} @ {self.due_at:%Y-%m-%d %H:%M}"


class ReturnVisitAttempt(models.Model):
    """One call or message of a return visit: reached or not (the visit's history)."""

    visit = models.ForeignKey(ReturnVisit, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("at"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices)
    reached = models.BooleanField(_("reached"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("return visit attempt")
        verbose_name_plural = _("return visit attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.visit_id} @ {self.at:%Y-%m-%d %H:%M}"


class Survey(models.Model):
    """A periodic satisfaction survey of a customer segment (a saved customers filter)."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SENDING = "sending", _("Sending")  # invitations being created by the task service.survey_send
        SENT = "sent", _("Sent")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices, default="phone")
    # customers.filters.CustomerFilters as JSON: the segment, resolved within the sender's record scope when sent.
    segment = models.JSONField(_("customer segment"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    team = models.ForeignKey(
        OrgUnit, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    # Sending (surveys.survey_deliver): whose scope the segment is resolved in, the customers counted when sent and
    # those invited so far, and when the job last progressed (the sweep restarts a job that stopped).
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("sent by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    send_total = models.PositiveIntegerField(default=0)
    send_done = models.PositiveIntegerField(default=0)
    send_updated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")

    def __str__(self) -> str:
        return self.name


class SurveyInvitation(models.Model):
    """One customer asked in one survey; the answer: 0–10 "would recommend" (NPS) and 1–5 satisfaction."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Invited")
        ANSWERED = "answered", pgettext_lazy("survey", "Answered")

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="invitations")
    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.CASCADE, related_name="survey_invitations"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=ContactChannel.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.INVITED)
    invited_at = models.DateTimeField(_("invited at"))
    # When the invitation reached the customer: its text message was sent (sms._send), or, by phone, WeChat or email,
    # when it was created (the agents' to-do list). It may be answered from then on (surveys.answer_refusal), while
    # the rest of the survey is still being sent.
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    answered_at = models.DateTimeField(pgettext_lazy("survey", "answered at"), null=True, blank=True)
    recommend = models.PositiveSmallIntegerField(_("would recommend (0–10)"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("satisfaction"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        constraints = [
            models.UniqueConstraint(fields=["survey", "customer"], name="one_invitation_per_customer"),
            models.CheckConstraint(
                condition=Q(recommend__isnull=True) | Q(recommend__lte=10), name="survey_recommend_0_10"
            ),
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True) | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="survey_satisfaction_1_5",
            ),
        ]
        indexes = [models.Index(fields=["customer", "answered_at"], name="survey_customer_answer_idx")]

    def __str__(self) -> str:
        return f"{self.survey_id}/{self.customer_id}"
