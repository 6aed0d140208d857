"""Calls reported by the phone system (CTI): their state, the screen pop for the agent and the logged activity."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models.activity import Activity


class PhoneCall(models.Model):
    """One call as the phone system reports it (ringing → answered → ended), keyed by the system's call id.

    A ringing event opens a screen pop for the agent (pending until dismissed); the ended event logs the call as an
    Activity (`activity`).
    """

    class State(models.TextChoices):
        RINGING = "ringing", _("Ringing")
        ANSWERED = "answered", _("Answered")
        ENDED = "ended", _("Ended")

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")

    call_id = models.CharField(_("call id"), max_length=64, unique=True)
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    caller_number = models.CharField(_("caller number"), max_length=32)
    called_number = models.CharField(_("called number"), max_length=32, blank=True)
    # The customer's side of the call, normalised (the caller for inbound calls, the called number for outbound).
    number = models.CharField(_("number"), max_length=32)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="phone_calls",
    )
    extension = models.CharField(_("extension"), max_length=32, blank=True)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact = models.ForeignKey(
        "customers.Contact",
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.RINGING)
    rang_at = models.DateTimeField(_("rang at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    recording_ref = models.CharField(_("recording reference"), max_length=500, blank=True)
    activity = models.OneToOneField(
        Activity, verbose_name=_("activity"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    pop_dismissed_at = models.DateTimeField(_("screen pop dismissed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("phone call")
        verbose_name_plural = _("phone calls")
        indexes = [
            # pending_screen_pops(): the agent's recent calls whose pop is still open.
            models.Index(fields=["agent", "pop_dismissed_at", "created_at"], name="phonecall_pending_pop_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.call_id} {self.number}"
