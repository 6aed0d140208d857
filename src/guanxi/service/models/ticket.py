"""Tickets (工单), their first-contact hand-over chain (首问负责), their event log and their SLA escalations."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.models import OrgUnit
from guanxi.service.models.config import Grade, Kind, Priority, TicketCause, TicketSubType


class Ticket(models.Model):
    """A customer's request, complaint or fault, owned at every moment by exactly one person (the first-contact owner
    until a hand-over is accepted)."""

    class Channel(models.TextChoices):
        HOTLINE = "hotline", _("95598 hotline")
        WEB = "web", _("Web")
        EMAIL = "email", _("Email")
        FAX = "fax", _("Fax")
        COUNTER = "counter", _("Service counter")
        WECHAT = "wechat", _("WeChat")
        ACCOUNT_MANAGER = "account_manager", _("Account manager")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        ACCEPTED = "accepted", pgettext_lazy("ticket", "Accepted")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING = "waiting", _("Waiting for customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")

    class SlaState(models.IntegerChoices):
        """How far the SLA sweep has gone on the current deadline (reset whenever the deadline changes)."""

        ON_TIME = 0, _("On time")
        WARNED = 1, _("Warned")
        BREACHED = 2, _("Breached, escalated to the team lead")
        ESCALATED = 3, _("Escalated to the branch manager")

    number = models.CharField(_("ticket number"), max_length=32, unique=True, editable=False)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tickets",
        db_index=False,  # ticket_customer_idx leads with customer_id
    )
    # An unknown caller (no customer yet): what they told us; the ticket is linked to a customer later.
    caller_name = models.CharField(_("caller name"), max_length=100, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=32, blank=True)
    caller_address = models.CharField(_("caller address"), max_length=300, blank=True)
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    ticket_type = models.CharField(_("type"), max_length=32, choices=Kind.choices)
    sub_type = models.ForeignKey(
        TicketSubType, verbose_name=_("sub-type"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    priority = models.CharField(_("priority"), max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    receiver = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("received by"), on_delete=models.PROTECT, related_name="+"
    )
    # NOT NULL: a ticket is never without an owner (首问负责); only an accepted hand-over changes it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("ticket", "owner"),
        on_delete=models.PROTECT,
        related_name="owned_tickets",
    )
    team = models.ForeignKey(
        OrgUnit, verbose_name=_("team"), null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.NEW)
    # SLA: the grade and clock the targets were taken from, the two deadlines and the one that counts now.
    sla_grade = models.CharField(_("SLA grade"), max_length=16, choices=Grade.choices, default=Grade.GENERAL)
    around_the_clock = models.BooleanField(_("around the clock (24×7)"), default=False)
    response_due_at = models.DateTimeField(_("response due"))
    resolution_due_at = models.DateTimeField(_("resolution due"))
    sla_due_at = models.DateTimeField(_("SLA due"))  # response_due_at until responded, then resolution_due_at
    sla_state = models.PositiveSmallIntegerField(_("SLA state"), choices=SlaState.choices, default=SlaState.ON_TIME)
    paused_at = models.DateTimeField(_("paused since"), null=True, blank=True)  # waiting for the customer
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    response_breached = models.BooleanField(_("response target missed"), default=False)
    resolution_breached = models.BooleanField(_("resolution target missed"), default=False)
    resolution = models.TextField(_("resolution"), blank=True)
    cause = models.ForeignKey(
        TicketCause, verbose_name=_("cause"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A duplicate merged into another ticket of the same customer (closed, its history kept; see service.merge).
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        db_index=False,  # ticket_merged_into_idx: partial, only the few merged tickets
    )
    merged_at = models.DateTimeField(_("merged"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    OPEN_STATUSES = ("new", "accepted", "in_progress", "waiting", "reopened")
    TIMED_STATUSES = ("new", "accepted", "in_progress", "reopened")  # the SLA clock runs (not waiting, not done)

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [("manage_ticket", _("Can act on tickets owned by others (leads and managers)"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="waiting", paused_at__isnull=False)
                | (~Q(status="waiting") & Q(paused_at__isnull=True)),
                name="ticket_paused_only_while_waiting",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["resolved", "closed"]) | Q(resolved_at__isnull=False),
                name="ticket_resolved_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(customer__isnull=True) | ~Q(caller_name="") | ~Q(caller_phone=""),
                name="ticket_customer_or_caller",
            ),
        ]
        indexes = [
            # The team queue (ticket_list with team=…): open tickets of a team by SLA due time, keyset on (due, id).
            models.Index(
                fields=["team", "sla_due_at", "id"],
                name="ticket_team_queue_idx",
                condition=Q(status__in=["new", "accepted", "in_progress", "waiting", "reopened"]),
            ),
            # "My tickets" (owner=…) in the same order.
            models.Index(
                fields=["owner", "sla_due_at", "id"],
                name="ticket_owner_queue_idx",
                condition=Q(status__in=["new", "accepted", "in_progress", "waiting", "reopened"]),
            ),
            # The SLA sweep (sla.sweep): running clocks whose deadline is near, one range scan.
            models.Index(
                fields=["sla_due_at"],
                name="ticket_sla_sweep_idx",
                condition=Q(status__in=["new", "accepted", "in_progress", "reopened"], sla_state__lt=3),
            ),
            # The 360 panel and the timeline: a customer's tickets, newest first.
            models.Index(fields=["customer", "created_at", "id"], name="ticket_customer_idx"),
            # "Merged from" on a ticket's page (merge.merge_links): only merged duplicates are indexed.
            models.Index(fields=["merged_into"], name="ticket_merged_into_idx", condition=Q(merged_into__isnull=False)),
            # The analysis rebuild's units: one local day's tickets (service.rollups._rebuild_day; without it each of
            # a full rebuild's ~1,000 days read the whole table).
            models.Index(fields=["created_at"], name="ticket_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.subject}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def caller_label(self) -> str:
        return self.customer.name if self.customer_id else (self.caller_name or self.caller_phone)


class Handover(models.Model):
    """One formal hand-over request of a ticket (转办): to a person or to a team, with a reason; the owner changes only
    when the receiver accepts. Kept forever: the chain of a ticket is its hand-overs in order."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("hand-over", "Pending")
        ACCEPTED = "accepted", pgettext_lazy("ticket", "Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired, returned to the sender")
        CANCELLED = "cancelled", _("Cancelled")

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="handovers")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("hand-over", "from"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("hand-over", "to"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    to_team = models.ForeignKey(
        OrgUnit, verbose_name=_("to team"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.TextField(_("reason"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    requested_at = models.DateTimeField(_("requested"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("hand-over")
        verbose_name_plural = _("hand-overs")
        ordering = ["requested_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(to_user__isnull=False, to_team__isnull=True)
                | Q(to_user__isnull=True, to_team__isnull=False),
                name="handover_to_user_or_team",
            ),
            # At most one open request per ticket: two could both be accepted.
            models.UniqueConstraint(fields=["ticket"], condition=Q(status="pending"), name="one_pending_handover"),
        ]
        indexes = [
            # The expiry sweep (handovers_expire): pending requests past their time.
            models.Index(fields=["expires_at"], condition=Q(status="pending"), name="handover_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.from_user_id} → {self.to_user_id or self.to_team_id} ({self.status})"


class TicketEvent(models.Model):
    """What happened to a ticket, in order: status changes, hand-overs, SLA warnings and escalations (its history)."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        ACCEPTED = "accepted", pgettext_lazy("ticket", "Accepted")
        STARTED = "started", _("Work started")
        WAITING = "waiting", _("Waiting for customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        REOPENED = "reopened", _("Reopened")
        UPDATED = "updated", _("Updated")
        HANDOVER_REQUESTED = "handover_requested", _("Hand-over requested")
        HANDOVER_ACCEPTED = "handover_accepted", _("Hand-over accepted")
        HANDOVER_DECLINED = "handover_declined", _("Hand-over declined")
        HANDOVER_EXPIRED = "handover_expired", _("Hand-over expired")
        SLA_WARNING = "sla_warning", _("SLA warning")
        SLA_BREACH = "sla_breach", _("SLA breached")
        ESCALATED = "escalated", _("Escalated")
        MERGED = "merged", _("Merged into another ticket")
        MERGED_FROM = "merged_from", _("Duplicate merged in")
        ASSIGNED = "assigned", _("Assigned from the team queue")
        DEADLINE_MOVED = "deadline_moved", _("SLA deadlines moved")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.TextField(_("note"), blank=True)
    # Structured facts of an event whose text is written in the reader's language when shown: a deadline move's old
    # and new deadlines and its reason (reschedule.move_note).
    details = models.JSONField(null=True, blank=True)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at", "id"], name="ticket_event_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class Escalation(models.Model):
    """An SLA escalation on a breach: level 1 to the team lead, level 2 to the branch manager. Level-1 rows are the
    breaches counted per team."""

    class Target(models.TextChoices):
        RESPONSE = "response", _("Response")
        RESOLUTION = "resolution", _("Resolution")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField(_("level"))
    target = models.CharField(_("target"), max_length=16, choices=Target.choices)
    team = models.ForeignKey(OrgUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_at = models.DateTimeField(_("due"))
    at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["at", "id"]
        constraints = [
            # The sweep may run twice: one escalation per ticket, level, target and deadline.
            models.UniqueConstraint(fields=["ticket", "level", "target", "due_at"], name="one_escalation_per_deadline"),
        ]
        indexes = [models.Index(fields=["team", "level", "at"], name="escalation_team_idx")]

    def __str__(self) -> str:
        return f"{self.ticket_id} L{self.level} {self.target}"
