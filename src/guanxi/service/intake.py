"""Email intake (邮件受理): an email to the service address becomes a new ticket or a message on the ticket it answers.

Both ways in (the SMTP listener, smtpd.py, and the mailbox fetch, mailbox.py) hand the raw bytes to `receive`:

1. Larger than GUANXI_SERVICE_MAIL_MAX_BYTES: refused (MailTooLarge). Attachments over the attachment limit are not
   kept; the message says so.
2. A Message-ID already stored: nothing happens (a retried SMTP delivery or a re-fetched mailbox is idempotent; a
   unique constraint settles two deliveries at the same moment).
3. A subject naming an existing ticket ("Re: [GD20261127000123] …"): an inbound message on it; the owner is notified.
   A ticket waiting for the customer resumes; a resolved or closed one is reopened (the state machine allows it, done
   in the owner's name with a note naming the email). Should the state machine not allow it, a new ticket is opened
   whose first message refers to the old one.
4. Otherwise a new ticket (channel email, type GUANXI_SERVICE_MAIL_TICKET_TYPE), received by and owned by the user
   GUANXI_SERVICE_MAIL_RECEIVER (the first-contact owner of the mailbox), for the customer whose contact has the
   sender's address (matched without record scope: mail has no user; an address shared by several customers matches
   none), else for an unknown caller "Name <address>".
"""

import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.selectors import org_unit_of
from guanxi.customers.models import Contact
from guanxi.service import assignment, correspondence, mailparse, rollups, services, sla
from guanxi.service.models import Ticket, TicketEvent, TicketMessage
from guanxi.service.models.config import Grade

logger = logging.getLogger(__name__)
M = TicketMessage
S = Ticket.Status


class MailTooLarge(Exception):
    """The message is larger than GUANXI_SERVICE_MAIL_MAX_BYTES (SMTP answers 552)."""


@dataclass
class IntakeResult:
    outcome: str  # "created" (a new ticket), "added" (a message on an existing ticket) or "duplicate"
    ticket: Ticket
    message: TicketMessage


def max_bytes() -> int:
    return int(getattr(settings, "GUANXI_SERVICE_MAIL_MAX_BYTES", 25 * 1024 * 1024))


def mail_receiver():
    """The user who receives (and first owns) tickets that come by email."""
    username = getattr(settings, "GUANXI_SERVICE_MAIL_RECEIVER", "")
    user = get_user_model().objects.filter(username=username, is_active=True).first() if username else None
    if user is None:
        raise ImproperlyConfigured(
            "GUANXI_SERVICE_MAIL_RECEIVER must name an active user who receives the tickets that come by email."
        )
    return user


def receive(raw: bytes) -> IntakeResult:
    """Take one raw RFC 5322 message (see the module docstring)."""
    if len(raw) > max_bytes():
        raise MailTooLarge(len(raw))
    mail = mailparse.parse(raw)
    duplicate = _duplicate(mail.message_id)
    if duplicate is not None:
        return duplicate
    try:
        with transaction.atomic():
            return _receive(mail)
    except IntegrityError:
        duplicate = _duplicate(mail.message_id)  # the same message delivered twice at once: the other one won
        if duplicate is None:
            raise
        return duplicate


def _duplicate(message_id: str) -> IntakeResult | None:
    message = TicketMessage.objects.select_related("ticket").filter(message_id=message_id).first()
    return IntakeResult("duplicate", message.ticket, message) if message is not None else None


def _receive(mail: mailparse.ParsedMail) -> IntakeResult:
    files, skipped = [], []
    limit = correspondence.attachment_max_bytes()
    for attachment in mail.attachments:
        target = skipped if len(attachment.data) > limit else files
        target.append(correspondence.FileIn(attachment.name, attachment.content_type, attachment.data))
    content = mail.text or _("(The email has no text.)")
    for item in skipped:
        content += "\n\n" + _("[Attachment “%(name)s” not kept: larger than %(mb)s MB.]") % {
            "name": item.name,
            "mb": limit // (1024 * 1024) or 1,
        }
    number = mail.ticket_number
    ticket = Ticket.objects.select_for_update(no_key=True).filter(number=number).first() if number else None
    now = timezone.now()
    refers_to = None
    if ticket is not None and not ticket.is_open and ticket.status not in services.TRANSITIONS["reopen"][0]:
        refers_to, ticket = ticket, None
    created = ticket is None
    if created:
        ticket = _new_ticket(mail, content, now)
    message = M.objects.create(
        ticket=ticket,
        direction=M.Direction.INBOUND,
        channel=M.Channel.EMAIL,
        at=now,
        sender=mail.sender[:300],
        recipient=", ".join(mail.to)[:300],
        subject=mail.subject,
        content=content,
        message_id=mail.message_id,
        in_reply_to=mail.in_reply_to,
        refers_to=refers_to,
    )
    stored = correspondence.store_files(message, files)
    audit.record(
        actor=None,
        action="message",
        instance=ticket,
        changes={
            "message": [
                None,
                {
                    "id": message.pk,
                    "direction": "inbound",
                    "channel": "email",
                    "from": mail.sender_address,
                    "attachments": [a.name for a in stored],
                },
            ]
        },
    )
    if not created:
        _wake(ticket, message)
        _notify_owner(ticket, mail)
    return IntakeResult("created" if created else "added", ticket, message)


def _new_ticket(mail: mailparse.ParsedMail, content: str, now) -> Ticket:
    receiver = mail_receiver()
    customer_ids = {}
    for contact_id, customer_id in (
        Contact.objects.filter(email__iexact=mail.sender_address)
        .exclude(email="")  # lets PostgreSQL use the partial contact_email_upper_idx
        .values_list("id", "customer_id")[:20]
        if mail.sender_address
        else ()
    ):
        customer_ids.setdefault(customer_id, contact_id)
    ticket = Ticket(
        channel=Ticket.Channel.EMAIL,
        ticket_type=getattr(settings, "GUANXI_SERVICE_MAIL_TICKET_TYPE", "consultation"),
        subject=(mail.subject or _("(no subject)"))[:200],
        description=content[:20000],
        receiver=receiver,
        owner=receiver,
        team=org_unit_of(receiver),
    )
    if len(customer_ids) == 1:
        ((ticket.customer_id, ticket.contact_id),) = customer_ids.items()
        ticket.sla_grade = ticket.customer.grade
    else:
        ticket.caller_name = (mail.sender or _("Unknown sender"))[:100]
        ticket.sla_grade = Grade.GENERAL
    ticket.number = f"TMP-{uuid.uuid4().hex[:24]}"  # replaced below, once the id is known (as ticket_create does)
    services._full_clean(ticket, exclude=["response_due_at", "resolution_due_at", "sla_due_at"])
    sla.set_deadlines(ticket, start=now)
    ticket.save()
    ticket.number = f"GD{timezone.localtime(now):%Y%m%d}{ticket.pk:07d}"
    Ticket.objects.filter(pk=ticket.pk).update(number=ticket.number)
    note = _("Received by email from %(sender)s") % {"sender": mail.sender}
    services._event(ticket, None, TicketEvent.Kind.CREATED, to_status=ticket.status, note=note, at=now)
    rollups.refresh([ticket.pk])
    audit.record(actor=None, action="create", instance=ticket, changes=audit.snapshot(ticket))
    assignment.assign_from_queue(ticket)  # the mailbox is a queue, not a person: an agent of its team takes it
    return ticket


def _wake(ticket: Ticket, message: TicketMessage) -> None:
    """The customer wrote: a ticket waiting for them resumes, a resolved or closed one reopens (in the owner's name)."""
    if ticket.status == S.WAITING:
        action = "start"
    elif ticket.status in services.TRANSITIONS["reopen"][0]:
        action = "reopen"
    else:
        return
    note = _("The customer wrote again by email (%(message_id)s).") % {"message_id": message.message_id}
    try:
        services.ticket_transition(
            actor=ticket.owner, ticket_id=ticket.pk, version=ticket.version, action=action, note=note
        )
    except (PermissionDenied, Http404, Conflict, StaleVersion, ValidationError) as exc:
        # The owner can no longer act (left, lost the role): the message is kept and the ticket waits for a lead.
        logger.warning("ticket %s not moved (%s) after an email: %s", ticket.number, action, exc)
    ticket.refresh_from_db()


def _notify_owner(ticket: Ticket, mail: mailparse.ParsedMail) -> None:
    from guanxi.activities.notifications import notify

    number, sender = ticket.number, mail.sender
    notify(
        recipients=[ticket.owner],
        kind="ticket_reply",
        title=lambda: _("%(sender)s replied on ticket %(number)s") % {"sender": sender, "number": number},
        body=mail.text[:500],
        url=correspondence.ticket_url(ticket),
    )
