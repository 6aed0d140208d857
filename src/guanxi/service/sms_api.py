"""Text messages under /api/v1 (tag "service"): the supervisors' list and the gateway's inbound hook (replies).

`GET /sms` lists the messages of the user's scope (sms_selectors) for those who supervise the service.

`POST /sms/inbound` is called by the SMS gateway, not by a user: it authenticates with the shared token
GUANXI_SMS_INBOUND_TOKEN (`Authorization: Bearer …`, compared in constant time). No header is 401, a wrong token (or
none configured: replies are refused) is 403 — both before the body is read. After GUANXI_SMS_INBOUND_MAX_FAILURES
wrong tokens from one client IP within GUANXI_LOGIN_WINDOW_SECONDS, that client gets 429 (core.throttle).
"""

import hmac
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from ninja.security import HttpBearer
from pydantic import Field

from guanxi.core import throttle
from guanxi.core.masking import phone_for
from guanxi.core.schemas import READ, ErrorOut
from guanxi.service import sms_inbound, sms_selectors

router = Router(tags=["service"])
THROTTLE_SCOPE = "sms-inbound"


class GatewayToken(HttpBearer):
    """The SMS gateway's shared token."""

    def authenticate(self, request, token):
        # Wrong tokens are counted per client IP (core.throttle): after GUANXI_SMS_INBOUND_MAX_FAILURES in the window
        # the client gets 429 before its token is compared, so the secret cannot be guessed at speed.
        ip = request.META.get("REMOTE_ADDR")
        throttle.check_client(scope=THROTTLE_SCOPE, ip=ip, limit=settings.GUANXI_SMS_INBOUND_MAX_FAILURES)
        expected = settings.GUANXI_SMS_INBOUND_TOKEN
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            throttle.client_failed(scope=THROTTLE_SCOPE, ip=ip)
            raise PermissionDenied(_("The SMS gateway token is wrong."))
        return "sms-gateway"


class SmsInboundIn(Schema):
    phone: str = Field(..., max_length=32, description="The sender's number: 13800138000, +86 138 0013 8000 or 86…")
    content: str = Field(..., max_length=2000, description="The text of the reply")
    id: str = Field("", max_length=100, description="The gateway's id of the reply; a redelivery is stored once")
    received_at: datetime | None = Field(None, description="When the gateway received it (ISO 8601); default now")


class SmsInboundOut(Schema):
    id: int
    outcome: str
    reply_to: int | None


@router.post(
    "/sms/inbound",
    auth=GatewayToken(),
    response={200: SmsInboundOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
)
def sms_inbound_post(request: HttpRequest, payload: SmsInboundIn):
    """A reply from a customer, posted by the SMS gateway: stored, matched to the latest message sent to that phone,
    and a 1–5 answer to a return visit recorded on the visit (1–2 reopens the ticket)."""
    reply = sms_inbound.receive(
        phone=payload.phone, content=payload.content, provider_id=payload.id, received_at=payload.received_at
    )
    return {"id": reply.pk, "outcome": reply.outcome, "reply_to": reply.reply_to_id}


class SmsListQuery(sms_selectors.SmsFilters):
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


class SmsOut(Schema):
    id: int
    phone: str
    purpose: str
    object_id: int | None
    template: str
    content: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    error: str
    created_at: datetime
    sent_at: datetime | None


class SmsPage(Schema):
    items: list[SmsOut]
    next: str | None


@router.get("/sms", response={200: SmsPage, 403: ErrorOut, **READ})
def sms_list(request: HttpRequest, query: Query[SmsListQuery]):
    """Text messages of your scope, newest first; filters `status`, `purpose`, `date_from`, `date_to` (local days).
    For team leads, branch managers and admins (service.manage_ticket); phones masked for roles that see them so."""
    filters = sms_selectors.SmsFilters(**query.model_dump(exclude={"cursor", "limit"}))
    page = sms_selectors.sms_list(user=request.user, filters=filters, cursor=query.cursor, limit=query.limit)
    fields = SmsOut.model_fields
    items = [
        {**{name: getattr(m, name) for name in fields}, "phone": phone_for(request.user, m.phone)} for m in page.items
    ]
    return {"items": items, "next": page.next}
