"""Activities: calls, visits (拜访), meetings, emails, SMS and tasks, on a customer or on nothing in particular."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.core.models import OrgUnit


class Activity(models.Model):
    """One thing done (or to be done) with a customer: the rows of the customer timeline and of the calendar.

    Call details are columns here rather than a one-to-one CallDetail table: calls are the most frequent kind (the
    phone system logs one per call), the timeline and lists show number/result/duration on every call row, and a
    separate table would cost a join on each page and a second insert per call. Unused columns of a non-call row are
    NULL or empty, which PostgreSQL stores in the null bitmap at no cost.
    """

    class Kind(models.TextChoices):
        INBOUND_CALL = "inbound_call", _("Inbound call")
        OUTBOUND_CALL = "outbound_call", _("Outbound call")
        VISIT = "visit", _("Visit")
        MEETING = "meeting", _("Meeting")
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        TASK = "task", _("Task")

    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    class CallResult(models.TextChoices):
        CONNECTED = "connected", _("Connected")
        NO_ANSWER = "no_answer", _("No answer")
        BUSY = "busy", _("Busy")
        WRONG_NUMBER = "wrong_number", _("Wrong number")

    CALL_KINDS = (Kind.INBOUND_CALL, Kind.OUTBOUND_CALL)

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,  # customers are archived, not deleted: their history stays
        related_name="activities",
        db_index=False,  # activity_timeline_idx leads with customer_id
    )
    contacts = models.ManyToManyField(
        "customers.Contact", verbose_name=_("contacts"), blank=True, related_name="activities"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("activity", "owner"),
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,  # activity_owner_time_idx and activity_owner_calendar_idx lead with owner_id
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("participants"), blank=True, related_name="participating_activities"
    )
    # The owner's unit when the activity was created: team/branch scopes of customer-less activities (tasks).
    org_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,  # activity_unit_time_idx leads with org_unit_id
    )
    # A generic link to the object the activity is about (a deal, a ticket, an application …), reused by later apps.
    linked_type = models.ForeignKey(
        ContentType,
        verbose_name=_("linked object type"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # activity_linked_idx leads with linked_type_id
    )
    linked_id = models.PositiveBigIntegerField(_("linked object id"), null=True, blank=True)
    linked_object = GenericForeignKey("linked_type", "linked_id")
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PLANNED)
    # The timeline's ordering column, kept by save(): done_at, else planned_start, else the creation time. One
    # NOT NULL column (rather than COALESCE at query time) lets a keyset page walk activity_timeline_idx directly.
    happened_at = models.DateTimeField(_("time"), editable=False)
    outcome = models.CharField(_("outcome"), max_length=500, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    # The activity whose completion created this follow-up task.
    follow_up_of = models.ForeignKey(
        "self",
        verbose_name=_("follow-up of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
    )
    # Calls (kind inbound_call / outbound_call); the direction follows from the kind.
    phone_number = models.CharField(_("phone number"), max_length=32, blank=True)
    call_result = models.CharField(_("call result"), max_length=16, choices=CallResult.choices, blank=True)
    duration_seconds = models.PositiveIntegerField(_("duration (seconds)"), null=True, blank=True)
    recording_ref = models.CharField(_("recording reference"), max_length=500, blank=True)
    # The phone system's call id, for calls logged by telephony events (one activity per call).
    call_id = models.CharField(_("call id"), max_length=64, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        permissions = [
            ("post_telephony_events", _("Can post call events from the phone system")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["call_id"], condition=Q(call_id__isnull=False), name="activity_call_id"),
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gte=models.F("planned_start")),
                name="activity_planned_end_after_start",
            ),
        ]
        indexes = [
            # customer_timeline(): WHERE customer_id = ? ORDER BY happened_at DESC, id DESC, keyset on both.
            models.Index(fields=["customer", "-happened_at", "-id"], name="activity_timeline_idx"),
            # activity_list() for one owner ("my activities") newest first, keyset on (happened_at, id).
            models.Index(fields=["owner", "-happened_at", "-id"], name="activity_owner_time_idx"),
            # Team/branch lists of customer-less activities (org_unit IN subtree).
            models.Index(fields=["org_unit", "-happened_at", "-id"], name="activity_unit_time_idx"),
            # The per-owner calendar: WHERE owner_id = ? AND planned_start BETWEEN ? AND ?.
            models.Index(fields=["owner", "planned_start"], name="activity_owner_calendar_idx"),
            # Activities linked to one object (a deal's, a ticket's activities).
            models.Index(fields=["linked_type", "linked_id"], name="activity_linked_idx"),
            # Unfiltered wide-scope lists newest first.
            models.Index(fields=["-happened_at", "-id"], name="activity_time_idx"),
            # Done visits only (a tenth of the rows): visits.overdue_visits() reads each customer's last one (one
            # index-only probe per customer instead of every activity of it), visits.visit_plan() counts a month's
            # per owner.
            models.Index(
                fields=["customer", "-happened_at"],
                name="activity_done_visit_idx",
                condition=Q(kind="visit", status="done"),
            ),
            models.Index(
                fields=["owner", "happened_at"],
                name="activity_owner_visit_idx",
                condition=Q(kind="visit", status="done"),
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    def save(self, *args, **kwargs) -> None:
        self.happened_at = self.compute_happened_at()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "happened_at" not in update_fields:
            kwargs["update_fields"] = [*update_fields, "happened_at"]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        if self.planned_start and self.planned_end and self.planned_end < self.planned_start:
            errors["planned_end"] = _("The end must not be before the start.")
        if self.kind not in self.CALL_KINDS and (self.call_result or self.duration_seconds is not None):
            errors["call_result" if self.call_result else "duration_seconds"] = _(
                "Only calls have a call result or a duration."
            )
        if (self.linked_type_id is None) != (self.linked_id is None):
            errors["linked_id"] = _("A linked object needs both its type and its id.")
        if self.status == self.Status.DONE and self.done_at is None:
            errors["done_at"] = _("A done activity needs the time it was done.")
        if errors:
            raise ValidationError(errors)

    def compute_happened_at(self):
        return self.done_at or self.planned_start or self.happened_at or timezone.now()

    @property
    def is_call(self) -> bool:
        return self.kind in self.CALL_KINDS

    @property
    def direction(self) -> str:
        """ "inbound" / "outbound" for calls, "" otherwise."""
        if self.kind == self.Kind.INBOUND_CALL:
            return "inbound"
        if self.kind == self.Kind.OUTBOUND_CALL:
            return "outbound"
        return ""
