"""Replies to the customer by email, through Django's email backend (EMAIL_BACKEND; SMTP in production).

The subject carries the ticket number in brackets ("Re: [GD20261127000123] 电费异常"), so the customer's answer comes
back to the same ticket (intake.py); In-Reply-To and References thread it in the customer's mail client. Non-ASCII
headers (a Chinese subject, a Chinese sender name) are encoded by Django as RFC 2047 UTF-8 encoded words. Sending
happens after the message is committed; the outcome is kept on the message (delivery: sent / failed).
"""

import logging
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email

from guanxi.service.models import Ticket, TicketMessage

logger = logging.getLogger(__name__)
M = TicketMessage


def service_address() -> str:
    return getattr(settings, "GUANXI_SERVICE_MAIL_ADDRESS", "") or "service@localhost"


def valid_address(address: str) -> bool:
    try:
        validate_email(parseaddr(address)[1] or address)
    except ValidationError:
        return False
    return True


def _email_thread(ticket: Ticket):
    return TicketMessage.objects.filter(ticket=ticket, channel=M.Channel.EMAIL).exclude(message_id="")


def default_recipient(ticket: Ticket) -> str:
    """Who a reply goes to: the sender of the customer's latest email, else the ticket contact's address."""
    last = (
        _email_thread(ticket)
        .filter(direction=M.Direction.INBOUND)
        .order_by("-at", "-id")
        .values_list("sender", flat=True)
        .first()
    )
    if last:
        return last
    if ticket.contact_id and ticket.contact.email:
        return ticket.contact.email
    return ""


def subject_for(ticket: Ticket, *, answering: bool) -> str:
    return f"{'Re: ' if answering else ''}[{ticket.number}] {ticket.subject}"


def prepare(message: TicketMessage) -> None:
    """Give an outbound email (not saved yet) its subject, Message-ID and In-Reply-To; it is then sent by send()."""
    ticket = message.ticket
    answered = (
        _email_thread(ticket)
        .filter(direction=M.Direction.INBOUND)
        .order_by("-at", "-id")
        .values_list("message_id", flat=True)
        .first()
    )
    message.in_reply_to = answered or ""
    if not message.subject:
        message.subject = subject_for(ticket, answering=bool(answered))[:300]
    elif f"[{ticket.number}]" not in message.subject:
        message.subject = f"[{ticket.number}] {message.subject}"[:300]
    domain = parseaddr(service_address())[1].rpartition("@")[2] or "localhost"
    message.message_id = make_msgid(idstring=ticket.number, domain=domain)
    message.delivery = M.Delivery.PENDING


def build(message: TicketMessage) -> EmailMessage:
    """The email of an outbound message: ours as From, the ticket number in the subject, threading headers, files."""
    references = list(
        _email_thread(message.ticket)
        .filter(at__lte=message.at)
        .exclude(pk=message.pk)
        .order_by("at", "id")
        .values_list("message_id", flat=True)[:50]
    )
    headers = {"Message-ID": message.message_id}
    if message.in_reply_to:
        headers["In-Reply-To"] = message.in_reply_to
    if references:
        headers["References"] = " ".join(references)
    email = EmailMessage(
        subject=message.subject,
        body=message.content,
        from_email=service_address(),
        to=[message.recipient],
        headers=headers,
    )
    for attachment in message.attachments.all():
        with attachment.file.open("rb") as handle:
            email.attach(attachment.name, handle.read(), attachment.content_type or None)
    return email


def send(*, message_id: int) -> bool:
    """Send an outbound email message once (a message already sent is left alone); records the outcome."""
    message = TicketMessage.objects.select_related("ticket").filter(pk=message_id).first()
    if message is None or message.delivery != M.Delivery.PENDING:
        return False
    try:
        build(message).send(fail_silently=False)
    except Exception as exc:  # noqa: BLE001 - any backend failure is recorded on the message and shown
        logger.warning("service reply %s to %s failed: %s", message.pk, message.recipient, exc)
        TicketMessage.objects.filter(pk=message.pk).update(delivery=M.Delivery.FAILED, delivery_error=str(exc)[:300])
        return False
    TicketMessage.objects.filter(pk=message.pk).update(delivery=M.Delivery.SENT, delivery_error="")
    return True
