"""A ticket's thread and complaint handling under /api/v1 (tag "service"), on the service router.

POST /tickets/{id}/messages takes JSON, or multipart/form-data with the same fields and one or more `files`
(attachments); both are validated by MessageIn, so a bad field is a 422 naming it either way.
"""

import json
from datetime import datetime
from typing import Literal

from django.http import FileResponse, HttpRequest
from ninja import Query, Router, Schema
from ninja.errors import ValidationError as SchemaValidationError
from pydantic import ConfigDict, Field
from pydantic import ValidationError as PydanticError

from guanxi.core.api_errors import refuse_nul
from guanxi.core.schemas import READ, WRITE
from guanxi.service import complaints, correspondence, selectors
from guanxi.service.models import MessageAttachment, Ticket, TicketMessage

router = Router(tags=["service"])


class MessageIn(Schema):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["inbound", "outbound", "internal"]
    channel: Literal["phone", "email", "sms", "wechat", "letter", "in_person"] | None = Field(
        None, description="How the message came or went (not for internal comments)"
    )
    content: str = Field(..., min_length=1, max_length=100_000)
    at: datetime | None = Field(None, description="When it was said or sent (default: now); not in the future")
    is_reply: bool = Field(False, description="The formal reply to the customer (答复) of the complaint flow")
    sender: str = Field("", max_length=300, description="Who wrote an inbound message (name, phone, address)")
    recipient: str = Field(
        "",
        max_length=300,
        description="Email address of an outbound email (default: the sender "
        "of the customer's last email, else the contact's address)",
    )
    subject: str = Field("", max_length=300)


class AcceptanceIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    accepted: bool
    reason: str = Field("", max_length=2000, description="Why not (required when not accepted)")


class PersonOut(Schema):
    id: int
    name: str


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class TicketRefOut(Schema):
    id: int
    number: str


class MessageOut(Schema):
    id: int
    ticket_id: int
    direction: str
    direction_label: str
    channel: str
    channel_label: str
    at: datetime
    author: PersonOut | None
    sender: str
    recipient: str
    subject: str
    content: str
    is_reply: bool
    message_id: str
    in_reply_to: str
    refers_to: TicketRefOut | None
    delivery: str
    attachments: list[AttachmentOut]


class MessagePage(Schema):
    items: list[MessageOut]
    next: str | None


class RepeatOut(Schema):
    id: int
    number: str
    subject: str
    status: str
    created_at: datetime
    cause: str | None


class HandlingOut(Schema):
    ticket_id: int
    acknowledged_at: datetime | None
    reply: MessageOut | None
    replied_at: datetime | None
    reply_on_time: bool | None
    acceptance: str
    acceptance_label: str
    acceptance_reason: str
    acceptance_at: datetime | None
    not_accepted_count: int
    is_repeat: bool
    repeats: list[RepeatOut]
    repeat_days: int


class MessageListQuery(Schema):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(100, ge=1, le=500)


def _person(user) -> dict | None:
    return {"id": user.pk, "name": user.get_full_name() or user.username} if user is not None else None


def attachment_data(ticket_id: int, attachment: MessageAttachment) -> dict:
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": f"/api/v1/tickets/{ticket_id}/message-attachments/{attachment.pk}",
    }


def message_data(message: TicketMessage) -> dict:
    return {
        **{
            name: getattr(message, name)
            for name in (
                "id",
                "ticket_id",
                "direction",
                "channel",
                "at",
                "sender",
                "recipient",
                "subject",
                "content",
                "is_reply",
                "message_id",
                "in_reply_to",
                "delivery",
            )
        },
        "direction_label": str(message.get_direction_display()),
        "channel_label": str(message.get_channel_display()),
        "author": _person(message.author),
        "refers_to": {"id": message.refers_to_id, "number": message.refers_to.number} if message.refers_to_id else None,
        "attachments": [attachment_data(message.ticket_id, a) for a in message.attachments.all()],
    }


def handling_data(user, ticket: Ticket) -> dict:
    handling = complaints.handling_of(ticket)
    reply = None
    if handling is not None and handling.reply_id:
        reply = next(iter(correspondence.thread(user=user, ticket=ticket, ids=[handling.reply_id])), None)
    return {
        "ticket_id": ticket.pk,
        "acknowledged_at": handling.acknowledged_at if handling else None,
        "reply": message_data(reply) if reply is not None else None,
        "replied_at": handling.replied_at if handling else None,
        "reply_on_time": handling.reply_on_time if handling else None,
        "acceptance": handling.acceptance if handling else "",
        "acceptance_label": str(handling.get_acceptance_display()) if handling else "",
        "acceptance_reason": handling.acceptance_reason if handling else "",
        "acceptance_at": handling.acceptance_at if handling else None,
        "not_accepted_count": handling.not_accepted_count if handling else 0,
        "is_repeat": complaints.is_repeat(ticket),
        "repeats": [
            {
                "id": t.pk,
                "number": t.number,
                "subject": t.subject,
                "status": t.status,
                "created_at": t.created_at,
                "cause": t.cause.name if t.cause_id else None,
            }
            for t in complaints.earlier_complaints(user=user, ticket=ticket)
        ],
        "repeat_days": complaints.repeat_days(),
    }


def _message_input(request: HttpRequest) -> tuple[MessageIn, list[correspondence.FileIn]]:
    """The body as JSON or as multipart/form-data (fields plus `files`), validated by MessageIn either way."""
    files: list[correspondence.FileIn] = []
    try:
        if request.content_type == "application/json":
            try:
                raw = json.loads(request.body or b"{}")
            except ValueError:
                raise SchemaValidationError(
                    [{"loc": ("body",), "type": "json_invalid", "msg": "invalid JSON"}]
                ) from None
            refuse_nul(raw)
            payload = MessageIn.model_validate(raw if isinstance(raw, dict) else {})
        else:
            data = {key: value for key, value in request.POST.items() if value != ""}
            refuse_nul(data)
            payload = MessageIn.model_validate(data)
            files = [
                correspondence.FileIn(upload.name or "file", upload.content_type or "", upload.read())
                for upload in request.FILES.getlist("files")
            ]
    except PydanticError as exc:
        raise SchemaValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc
    return payload, files


_BODY_SCHEMA = {
    "content": {
        "application/json": {"schema": MessageIn.model_json_schema()},
        "multipart/form-data": {
            "schema": {
                **MessageIn.model_json_schema(),
                "properties": {
                    **MessageIn.model_json_schema()["properties"],
                    "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
                },
            }
        },
    },
    "required": True,
}


@router.get("/tickets/{ticket_id}/messages", response={200: MessagePage, **READ})
def list_messages(request: HttpRequest, ticket_id: int, query: Query[MessageListQuery]):
    """The ticket's thread, oldest first: messages from and to the customer and internal comments, with their
    attachments. Keyset-paginated (follow `next`)."""
    page = correspondence.message_list(user=request.user, ticket_id=ticket_id, cursor=query.cursor, limit=query.limit)
    return {"items": [message_data(m) for m in page.items], "next": page.next}


@router.post(
    "/tickets/{ticket_id}/messages", response={201: MessageOut, **WRITE}, openapi_extra={"requestBody": _BODY_SCHEMA}
)
def create_message(request: HttpRequest, ticket_id: int):
    """Record a message. `inbound`: what the customer said (phone, letter …); `outbound`: what we told the customer
    (the first one acknowledges a new ticket and stops the SLA response clock; `is_reply` marks the formal reply; an
    `email` one is sent to `recipient` with the ticket number in the subject); `internal`: a comment for colleagues
    (@username notifies them). Messages to or from the customer need you to be able to act on the ticket."""
    payload, files = _message_input(request)
    message = correspondence.message_create(
        actor=request.user,
        ticket_id=ticket_id,
        files=files,
        **{**payload.model_dump(), "channel": payload.channel or ""},
    )
    created = correspondence.thread(user=request.user, ticket=message.ticket, ids=[message.pk])[0]
    return 201, message_data(created)


@router.get("/tickets/{ticket_id}/message-attachments/{attachment_id}", response={200: None, **READ})
def download_message_attachment(request: HttpRequest, ticket_id: int, attachment_id: int):
    """A file of the ticket's thread (only for those who see the ticket)."""
    attachment = correspondence.attachment_get(user=request.user, ticket_id=ticket_id, attachment_id=attachment_id)
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )


@router.get("/tickets/{ticket_id}/complaint-handling", response={200: HandlingOut, **READ})
def get_handling(request: HttpRequest, ticket_id: int):
    """Where the ticket stands in the complaint flow: acknowledgement, the formal reply (and whether it came before
    the resolution deadline), the customer's acceptance, and the earlier complaints it repeats."""
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    return handling_data(request.user, ticket)


@router.post("/tickets/{ticket_id}/acceptance", response={200: HandlingOut, **WRITE})
def record_acceptance(request: HttpRequest, ticket_id: int, payload: AcceptanceIn):
    """The customer's answer to the formal reply. Accepted: a resolved ticket is closed. Not accepted (`reason`
    required): a resolved or closed ticket is reopened, an open one stays open; a new reply is due."""
    complaints.acceptance_record(
        actor=request.user,
        ticket_id=ticket_id,
        version=payload.version,
        accepted=payload.accepted,
        reason=payload.reason,
    )
    ticket = selectors.ticket_get(user=request.user, ticket_id=ticket_id)
    return handling_data(request.user, ticket)
