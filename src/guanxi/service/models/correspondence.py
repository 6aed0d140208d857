"""A ticket's correspondence (来往记录): messages from and to the customer and internal comments, their attachments, and
the complaint handling record (acknowledgement, the formal reply and the customer's acceptance)."""

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.service.models.ticket import Ticket


class TicketMessage(models.Model):
    """One message of a ticket's thread: from the customer (inbound), to the customer (outbound) or between colleagues
    (internal). Inbound email keeps its Message-ID, so a message delivered twice is stored once."""

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("From the customer")
        OUTBOUND = "outbound", _("To the customer")
        INTERNAL = "internal", _("Internal comment")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")
        LETTER = "letter", _("Letter")
        IN_PERSON = "in_person", _("In person")
        NOTE = "note", _("Note")  # internal comments only

    class Delivery(models.TextChoices):
        NONE = "", _("Not sent by the system")
        PENDING = "pending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Sending failed")

    ticket = models.ForeignKey(Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    at = models.DateTimeField(_("time"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Who wrote an inbound message: "Name <address>" for email, a phone number, a name.
    sender = models.CharField(_("sender"), max_length=300, blank=True)
    recipient = models.CharField(_("recipient"), max_length=300, blank=True)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    content = models.TextField(_("content"))
    # The formal reply to the customer (答复) of the complaint flow, as opposed to an acknowledgement or a question.
    is_reply = models.BooleanField(_("formal reply"), default=False)
    # Email threading: the RFC 5322 Message-ID (inbound: the sender's; outbound: ours) and what it answers.
    message_id = models.CharField(_("Message-ID"), max_length=300, blank=True)
    in_reply_to = models.CharField(max_length=300, blank=True)
    # An email about a ticket that could not be reopened starts a new ticket; this names the one it referred to.
    refers_to = models.ForeignKey(
        Ticket, verbose_name=_("refers to"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    delivery = models.CharField(_("delivery"), max_length=16, choices=Delivery.choices, blank=True, default="")
    delivery_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        ordering = ["at", "id"]
        constraints = [
            # Email intake is idempotent: the same Message-ID delivered twice (SMTP retry, IMAP re-fetch) is one row.
            models.UniqueConstraint(fields=["message_id"], condition=~Q(message_id=""), name="ticket_message_mid_uniq"),
            models.CheckConstraint(
                condition=Q(direction="outbound") | Q(is_reply=False), name="ticket_message_reply_is_outbound"
            ),
        ]
        indexes = [
            # message_list(): a ticket's thread in time order.
            models.Index(fields=["ticket", "at", "id"], name="ticket_message_thread_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.direction} {self.at:%Y-%m-%d %H:%M}"


def message_attachment_path(instance: "MessageAttachment", filename: str) -> str:
    """A random name below service/messages/: the sender's file name is kept in `name`, never used as a path."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"service/messages/{uuid.uuid4().hex}{suffix}"


class MessageAttachment(models.Model):
    """A file that came with (or was sent with) a ticket message, stored under GUANXI_HOME/media and served only
    through a view that checks the ticket's scope."""

    message = models.ForeignKey(TicketMessage, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=message_attachment_path, max_length=300)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(default=0)

    class Meta:
        verbose_name = _("message attachment")
        verbose_name_plural = _("message attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ComplaintHandling(models.Model):
    """Where a ticket stands in the complaint flow: when the customer was first answered, the formal reply (答复) and
    whether it came before the resolution deadline, and the customer's acceptance of it (latest answer)."""

    class Acceptance(models.TextChoices):
        NONE = "", _("Not asked yet")
        ACCEPTED = "accepted", pgettext_lazy("customer acceptance", "Accepted")
        NOT_ACCEPTED = "not_accepted", pgettext_lazy("customer acceptance", "Not accepted")

    ticket = models.OneToOneField(Ticket, on_delete=models.CASCADE, related_name="handling")
    acknowledged_at = models.DateTimeField(_("acknowledged"), null=True, blank=True)
    reply = models.ForeignKey(
        TicketMessage, verbose_name=_("reply"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    replied_at = models.DateTimeField(_("replied"), null=True, blank=True)
    reply_on_time = models.BooleanField(_("replied before the deadline"), null=True, blank=True)
    acceptance = models.CharField(
        _("customer's acceptance"), max_length=16, choices=Acceptance.choices, blank=True, default=""
    )
    acceptance_reason = models.TextField(_("reason"), blank=True)
    acceptance_at = models.DateTimeField(_("answered"), null=True, blank=True)
    acceptance_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    not_accepted_count = models.PositiveSmallIntegerField(_("times not accepted"), default=0)

    class Meta:
        verbose_name = _("complaint handling")
        verbose_name_plural = _("complaint handling")

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.acceptance or '-'}"
