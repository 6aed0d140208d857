"""Text messages under /api/v1 (tag "service"): the gateway's inbound hook (replies).

`POST /sms/inbound` is called by the SMS gateway, not by a user: it authenticates with the shared token
GUANXI_SMS_INBOUND_TOKEN (`Authorization: Bearer …`, compared in constant time). No header is 401, a wrong token (or
none configured: replies are refused) is 403 — both before the body is read.
"""

import hmac
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja.security import HttpBearer
from pydantic import Field

from guanxi.core.schemas import ErrorOut
from guanxi.service import sms_inbound

router = Router(tags=["service"])


class GatewayToken(HttpBearer):
    """The SMS gateway's shared token."""

    def authenticate(self, request, token):
        expected = settings.GUANXI_SMS_INBOUND_TOKEN
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
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
    response={200: SmsInboundOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
)
def sms_inbound_post(request: HttpRequest, payload: SmsInboundIn):
    """A reply from a customer, posted by the SMS gateway: stored, matched to the latest message sent to that phone,
    and a 1–5 answer to a return visit recorded on the visit (1–2 reopens the ticket)."""
    reply = sms_inbound.receive(
        phone=payload.phone, content=payload.content, provider_id=payload.id, received_at=payload.received_at
    )
    return {"id": reply.pk, "outcome": reply.outcome, "reply_to": reply.reply_to_id}
