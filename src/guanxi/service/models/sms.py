"""Outbound text messages (短信): each one recorded with its delivery status, so a failed gateway call is visible and
never undoes the business change that queued it."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsMessage(models.Model):
    """One text message to one phone: queued in the caller's transaction, handed to the SMS backend after the commit
    (service.sms), then sent or failed with the gateway's answer or error."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    class Purpose(models.TextChoices):
        RETURN_VISIT = "return_visit", _("Return visit")
        SURVEY = "survey", _("Satisfaction survey")

    phone = models.CharField(_("phone"), max_length=32)
    template = models.CharField(_("template"), max_length=64, blank=True)  # the gateway's template code, if any
    content = models.TextField(_("content"))
    purpose = models.CharField(_("purpose"), max_length=32, choices=Purpose.choices)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)  # the return visit or survey invitation
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    backend = models.CharField(max_length=200, blank=True)
    provider_id = models.CharField(max_length=100, blank=True)  # the gateway's id of the message
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The delivery of what is still queued (sms.deliver_queued) and the admin's status filter.
            models.Index(fields=["status", "created_at"], name="sms_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.status}"
