"""Text messages (短信): each outbound one recorded with its delivery status, so a failed gateway call is visible and
never undoes the business change that queued it; each inbound one (a customer's reply) recorded with what it did."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SmsMessage(models.Model):
    """One text message to one phone: queued in the caller's transaction, handed to a Celery worker after the commit
    (service.sms), claimed by one deliverer (status sending), then sent or failed; a retryable failure keeps
    `next_attempt_at` and is tried again by the beat sweep until GUANXI_SMS_MAX_ATTEMPTS."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
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
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # A failed send that may succeed later (gateway down, timeout) is tried again from this time; null: no retry.
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # The deliverer that claimed the message (a random token) and when: a claim older than GUANXI_SMS_CLAIM_SECONDS
    # belongs to a worker that died and is released by the sweep.
    claim = models.CharField(max_length=32, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The delivery of what is still queued (sms.deliver_queued) and the admin's status filter.
            models.Index(fields=["status", "created_at"], name="sms_status_idx"),
            # The retries that came due (sms.deliver_queued: status failed, next_attempt_at <= now).
            models.Index(fields=["status", "next_attempt_at"], name="sms_retry_idx"),
            # A reply matched to the latest message sent to its phone (sms_inbound.receive).
            models.Index(fields=["phone", "created_at"], name="sms_phone_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.status}"


class SmsReply(models.Model):
    """One inbound text message from the gateway (POST /sms/inbound): the phone, the text, the outbound message it
    answers (the latest one sent to that phone) and what it did (`outcome`)."""

    class Outcome(models.TextChoices):
        RECORDED = "recorded", _("Satisfaction recorded")
        NOT_A_SCORE = "not_a_score", _("Not a score")
        VISIT_CLOSED = "visit_closed", _("Return visit already finished")
        UNMATCHED = "unmatched", _("No message to this phone")
        STORED = "stored", _("Stored")

    phone = models.CharField(_("phone"), max_length=32)
    content = models.TextField(_("content"))
    provider_id = models.CharField(max_length=100, blank=True)  # the gateway's id: a redelivery is stored once
    received_at = models.DateTimeField(_("received"))
    reply_to = models.ForeignKey(
        SmsMessage,
        verbose_name=_("reply to"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="replies",
    )
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices, default=Outcome.STORED)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("text message reply")
        verbose_name_plural = _("text message replies")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider_id"], condition=~models.Q(provider_id=""), name="sms_reply_provider_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.outcome}"
