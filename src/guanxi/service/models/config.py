"""What administrators configure: ticket types with their sub-types and causes, SLA targets, the holiday calendar."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    """The six ticket types of F1 (工单类型). Fixed in code: the SLA, the flows and the reports depend on them."""

    CONSULTATION = "consultation", _("Consultation")
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    TECHNICAL_SUPPORT = "technical_support", _("Technical support")
    FAULT_REPORT = "fault_report", _("Fault report")
    EMERGENCY_REPAIR = "emergency_repair", _("Emergency repair")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Grade(models.TextChoices):
    """The customer grades the SLA distinguishes (customers.Customer.Grade; an unknown caller counts as general)."""

    KEY = "key", _("Key")
    POTENTIAL = "potential", _("Potential")
    GENERAL = "general", _("General")


class TicketType(models.Model):
    """Per-type settings: whether its SLA clock runs around the clock (应急抢修 7×24) or in business hours."""

    code = models.CharField(_("type"), max_length=32, choices=Kind.choices, unique=True)
    around_the_clock = models.BooleanField(_("around the clock (24×7)"), default=False)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("ticket type")
        verbose_name_plural = _("ticket types")
        ordering = ["order", "code"]
        permissions = [("configure_service", _("Can configure ticket types, SLA targets and holidays"))]

    def __str__(self) -> str:
        return str(self.get_code_display())


class TicketSubType(models.Model):
    """A configurable sub-type of a type (e.g. complaint → 电费争议, 服务态度)."""

    ticket_type = models.ForeignKey(
        TicketType, verbose_name=_("type"), on_delete=models.CASCADE, related_name="sub_types"
    )
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("ticket sub-type")
        verbose_name_plural = _("ticket sub-types")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["ticket_type", "name"], name="unique_ticket_sub_type_name")]

    def __str__(self) -> str:
        return self.name


class TicketCause(models.Model):
    """A configurable cause, recorded at resolution (complaint analysis counts by it); a type's or any type's."""

    ticket_type = models.ForeignKey(
        TicketType, verbose_name=_("type"), null=True, blank=True, on_delete=models.CASCADE, related_name="causes"
    )
    name = models.CharField(_("name"), max_length=100)
    active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("ticket cause")
        verbose_name_plural = _("ticket causes")
        ordering = ["order", "id"]
        constraints = [models.UniqueConstraint(fields=["ticket_type", "name"], name="unique_ticket_cause_name")]

    def __str__(self) -> str:
        return self.name


class SlaTarget(models.Model):
    """Response and resolution targets, in minutes of the type's clock, for one type × priority × customer grade."""

    ticket_type = models.CharField(_("type"), max_length=32, choices=Kind.choices)
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices)
    grade = models.CharField(_("customer grade"), max_length=16, choices=Grade.choices)
    response_minutes = models.PositiveIntegerField(_("response target (minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution target (minutes)"))

    class Meta:
        verbose_name = _("SLA target")
        verbose_name_plural = _("SLA targets")
        ordering = ["ticket_type", "priority", "grade"]
        constraints = [
            models.UniqueConstraint(fields=["ticket_type", "priority", "grade"], name="one_sla_target_per_key"),
            models.CheckConstraint(
                condition=models.Q(response_minutes__gt=0)
                & models.Q(resolution_minutes__gte=models.F("response_minutes")),
                name="sla_target_positive_and_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_type}/{self.priority}/{self.grade}"


class Holiday(models.Model):
    """One day of the holiday calendar: a day off (法定节假日) or a weekend day worked in lieu (调休上班)."""

    class DayKind(models.TextChoices):
        OFF = "off", _("Holiday (no business hours)")
        WORKDAY = "workday", _("Working day in lieu (business hours)")

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DayKind.choices, default=DayKind.OFF)
    name = models.CharField(_("name"), max_length=100, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("holiday")
        verbose_name_plural = _("holiday calendar")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
