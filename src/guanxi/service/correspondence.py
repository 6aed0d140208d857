"""A ticket's thread: reading it (scoped like the ticket), recording messages and storing their attachments.

Who may write: internal comments, anyone who sees the ticket and works on tickets (a colleague asked with an
@mention answers there); messages from or to the customer, only those who may act on the ticket (its owner, leads and
managers). The first message to the customer acknowledges the ticket: a new ticket is accepted by it, which stops the
SLA response clock (services.ticket_transition "accept"). The complaint flow's bookkeeping is in complaints.py.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.validators import EmailValidator
from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core import audit
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.permissions import require
from guanxi.service import complaints, selectors, services
from guanxi.service.models import MessageAttachment, Ticket, TicketMessage

M = TicketMessage
CUSTOMER_CHANNELS = tuple(c for c in M.Channel.values if c != M.Channel.NOTE)
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
CLOCK_SKEW = timedelta(minutes=2)  # a client's clock a little ahead is not "in the future"


@dataclass
class FileIn:
    """An attachment to store: a file name as given, its type and its bytes."""

    name: str
    content_type: str
    data: bytes


def attachment_max_bytes() -> int:
    return int(getattr(settings, "GUANXI_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


# --- reading --------------------------------------------------------------------------------------------------------


def _thread(ticket: Ticket) -> QuerySet[TicketMessage]:
    return (
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author", "refers_to")
        .prefetch_related(Prefetch("attachments", queryset=MessageAttachment.objects.order_by("id")))
    )


def message_list(*, user, ticket_id: int, cursor: str | None = None, limit: int = 100) -> Page:
    """The thread of a ticket the user may see (404 otherwise), oldest first, keyset-paginated; three queries a page
    beside the ticket's own (messages with authors, attachments)."""
    ticket = selectors.ticket_get(user=user, ticket_id=ticket_id)
    return keyset_page(_thread(ticket), ordering="at", cursor=cursor, limit=limit)


def thread(*, user, ticket: Ticket, ids: list[int] | None = None) -> list[TicketMessage]:
    """The thread (or the messages `ids` of it) of a ticket the caller already read through selectors.ticket_get."""
    messages = _thread(ticket)
    if ids is not None:
        messages = messages.filter(pk__in=ids)
    return list(messages.order_by("at", "id"))


def attachment_get(*, user, ticket_id: int, attachment_id: int) -> MessageAttachment:
    """An attachment of a message of a ticket the user may see; 404 otherwise (also another ticket's attachment)."""
    ticket = selectors.ticket_get(user=user, ticket_id=ticket_id)
    attachment = MessageAttachment.objects.filter(pk=attachment_id, message__ticket=ticket).first()
    if attachment is None:
        raise Http404
    return attachment


# --- writing --------------------------------------------------------------------------------------------------------


def message_create(
    *,
    actor,
    ticket_id: int,
    direction: str,
    content: str,
    channel: str = "",
    at: datetime | None = None,
    is_reply: bool = False,
    sender: str = "",
    recipient: str = "",
    subject: str = "",
    files: Iterable[FileIn] = (),
) -> TicketMessage:
    """Record a message on a ticket's thread (see the module docstring for who may); an outbound email is sent after
    the commit (outbound.py). Everything is validated before anything is written."""
    require(actor, "service.change_ticket")
    files = list(files)
    now = timezone.now()
    errors = _validate(direction=direction, channel=channel, content=content, at=at, is_reply=is_reply, now=now)
    errors.update(check_files(files))
    with transaction.atomic():
        ticket = selectors.ticket_get(user=actor, ticket_id=ticket_id, for_update=True)
        if direction != M.Direction.INTERNAL and not services.may_act(actor, ticket):
            raise PermissionDenied(_("Only the ticket's owner (or their lead) can correspond with the customer."))
        if at is not None and at < ticket.created_at - CLOCK_SKEW and "at" not in errors:
            errors["at"] = [_("A message cannot be older than its ticket.")]
        email_out = direction == M.Direction.OUTBOUND and channel == M.Channel.EMAIL
        if email_out:
            from guanxi.service import outbound  # outbound imports this module

            recipient = (recipient or "").strip() or outbound.default_recipient(ticket)
            if not recipient:
                errors["recipient"] = [_("Give the customer's email address; the ticket has none.")]
            elif not outbound.valid_address(recipient):
                errors["recipient"] = [EmailValidator.message]  # Django's own wording, as every other email field
        if errors:
            raise ValidationError(errors)
        message = TicketMessage(
            ticket=ticket,
            direction=direction,
            channel=M.Channel.NOTE if direction == M.Direction.INTERNAL else channel,
            at=at or now,
            author=actor,
            sender=(sender or "").strip()[:300],
            recipient=(recipient or "").strip()[:300],
            subject=(subject or "").strip()[:300],
            content=content.strip(),
            is_reply=bool(is_reply),
        )
        if email_out:
            outbound.prepare(message)
        message.save()
        stored = store_files(message, files)
        if direction == M.Direction.OUTBOUND:
            complaints.record_outbound(actor=actor, ticket=ticket, message=message)
        audit.record(
            actor=actor,
            action="message",
            instance=ticket,
            changes={"message": [None, _summary(message, stored)]},
        )
        if email_out:
            transaction.on_commit(lambda: outbound.send(message_id=message.pk))
        if direction == M.Direction.INTERNAL:
            _notify_mentions(actor, ticket, message)
    return message


def _validate(*, direction: str, channel: str, content: str, at, is_reply: bool, now) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if direction not in M.Direction.values:
        errors["direction"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(M.Direction.values)}]
    elif direction != M.Direction.INTERNAL and channel not in CUSTOMER_CHANNELS:
        errors["channel"] = [_("Choose one of: %(choices)s.") % {"choices": ", ".join(CUSTOMER_CHANNELS)}]
    if not (content or "").strip():
        errors["content"] = [_("Write the message.")]
    elif len(content) > 100_000:
        errors["content"] = [_("Enter at most %(max)s characters.") % {"max": 100_000}]
    if is_reply and direction != M.Direction.OUTBOUND:
        errors["is_reply"] = [_("Only a message to the customer can be the formal reply.")]
    if at is not None and (timezone.is_naive(at) or at > now + CLOCK_SKEW):
        errors["at"] = [_("Give a time that is not in the future, with its time zone.")]
    return errors


def check_files(files: list[FileIn]) -> dict[str, list[str]]:
    limit = attachment_max_bytes()
    for upload in files:
        if len(upload.data) > limit:
            return {"files": [_("The file is larger than %(mb)s MB.") % {"mb": limit // (1024 * 1024) or 1}]}
        if not upload.data:
            return {"files": [_("The file is empty.")]}
    return {}


def store_files(message: TicketMessage, files: Iterable[FileIn]) -> list[MessageAttachment]:
    """Store attachments of a saved message under MEDIA_ROOT with random names (the given name is only shown)."""
    stored = []
    for upload in files:
        name = (upload.name or "file").replace("\\", "/").rsplit("/", 1)[-1][:200] or "file"
        attachment = MessageAttachment(
            message=message,
            name=name,
            content_type=(upload.content_type or "application/octet-stream")[:100],
            size=len(upload.data),
        )
        attachment.file.save(name, ContentFile(upload.data), save=False)
        attachment.save()
        stored.append(attachment)
    return stored


def _summary(message: TicketMessage, stored: list[MessageAttachment]) -> dict:
    return {
        "id": message.pk,
        "direction": message.direction,
        "channel": message.channel,
        "is_reply": message.is_reply,
        "attachments": [a.name for a in stored],
    }


def ticket_url(ticket: Ticket) -> str:
    return reverse("service:detail", args=[ticket.pk])


def _notify_mentions(actor, ticket: Ticket, message: TicketMessage) -> None:
    from guanxi.activities.notifications import notify_mentions

    number, subject, who = ticket.number, ticket.subject, actor.get_full_name() or actor.username
    notify_mentions(
        actor=actor,
        text=message.content,
        url=ticket_url(ticket),
        title=lambda: (
            _("%(who)s mentioned you on ticket %(number)s %(subject)s")
            % {"who": who, "number": number, "subject": subject}
        ),
        visible_to=lambda user: selectors.ticket_visible(user=user, object_id=ticket.pk),
    )
