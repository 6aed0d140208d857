"""Replies to text messages (上行短信): the gateway posts each one to `POST /api/v1/sms/inbound` (sms_api).

`receive` stores the reply and matches it to the latest message sent to that phone within GUANXI_SMS_REPLY_DAYS.
When that message asked a return visit's customer for a score and the reply starts with a digit 1–5, the score is
recorded through `return_visits.visit_record` (channel sms, the reply as comment), so a dissatisfied customer reopens
the ticket and the team lead is told exactly as when an agent records it. The visit is recorded in the name of the
person it belongs to (its agent, else the ticket's receiver, else its owner — who sees it and may record it), as an
email reply is recorded in the ticket owner's name. A reply 0–10 to a survey invitation is recorded on the invitation
as the "would recommend" score (surveys.invitation_answer_by_text). Anything else (free text, a finished visit, an
answered invitation) is stored with its outcome for the agent to read. A gateway redelivering a reply (same `id`)
gets the first one back.
"""

import re
import unicodedata
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.errors import Conflict, StaleVersion
from guanxi.service import return_visits, surveys
from guanxi.service.models import ReturnVisit
from guanxi.service.models.sms import SmsMessage, SmsReply

R = SmsReply.Outcome
PHONE = re.compile(r"^\+?[\d\s-]{5,31}$")
SCORE = re.compile(r"^\s*([1-5])(?!\d)\s*(.*)$", re.DOTALL)  # "5", "5 很好", not "10"
RECOMMEND = re.compile(r"^\s*(10|[0-9])(?![\d.,])\s*(.*)$", re.DOTALL)  # "0" … "10", "9 不错", not "11" or "7.5"


def receive(*, phone: str, content: str, provider_id: str = "", received_at=None) -> SmsReply:
    """Store one reply and act on it (see the module docstring). Bad input is a ValidationError naming the field;
    nothing is stored then."""
    phone, content, provider_id = (phone or "").strip(), (content or "").strip(), (provider_id or "").strip()
    errors = {}
    if not PHONE.match(phone):
        errors["phone"] = _("Enter a phone number (digits, optionally with + and spaces).")
    if not content:
        errors["content"] = _("This field is required.")
    if errors:
        raise ValidationError(errors)
    if provider_id:
        known = SmsReply.objects.filter(provider_id=provider_id).first()
        if known is not None:
            return known
    try:
        with transaction.atomic():
            return _receive(phone, content, provider_id, received_at or timezone.now())
    except IntegrityError:
        known = SmsReply.objects.filter(provider_id=provider_id).first() if provider_id else None
        if known is None:
            raise
        return known  # the same reply delivered twice at once: the other one stored it


def _receive(phone: str, content: str, provider_id: str, received_at) -> SmsReply:
    reply = SmsReply.objects.create(
        phone=phone, content=content, provider_id=provider_id, received_at=received_at, outcome=R.UNMATCHED
    )
    answered = latest_sent_to(phone, before=received_at)
    if answered is None:
        return reply
    reply.reply_to = answered
    reply.outcome = R.STORED
    if answered.purpose == SmsMessage.Purpose.RETURN_VISIT and answered.object_id is not None:
        reply.outcome = _record_visit(answered.object_id, content)
    elif answered.purpose == SmsMessage.Purpose.SURVEY and answered.object_id is not None:
        reply.outcome = _record_survey(answered.object_id, content)
    reply.save(update_fields=["reply_to", "outcome"])
    return reply


def latest_sent_to(phone: str, *, before) -> SmsMessage | None:
    """The latest message sent to `phone` (written as 138…, +86 138… or 86138…) in the reply window."""
    since = before - timedelta(days=settings.GUANXI_SMS_REPLY_DAYS)
    return (
        SmsMessage.objects.filter(phone__in=phone_variants(phone), status=SmsMessage.Status.SENT, created_at__gte=since)
        .order_by("-created_at", "-pk")
        .first()
    )


def phone_variants(phone: str) -> list[str]:
    """The spellings under which a number may have been stored: mainland numbers with and without +86."""
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return sorted({phone, digits, f"+86{digits}", f"86{digits}", f"+86 {digits}"})


def parse_score(content: str) -> tuple[int, str] | None:
    """(1–5, the rest as a comment) from a reply such as "5", "５", "2 还是没修好"; None if it is not a score."""
    match = SCORE.match(unicodedata.normalize("NFKC", content))
    return (int(match.group(1)), match.group(2).strip()) if match else None


def parse_recommend(content: str) -> tuple[int, str] | None:
    """(0–10, the rest as a comment) from a reply to a survey such as "9", "１０", "3 太慢了"; None otherwise."""
    match = RECOMMEND.match(unicodedata.normalize("NFKC", content))
    return (int(match.group(1)), match.group(2).strip()) if match else None


def _record_survey(invitation_id: int, content: str) -> str:
    """A 0–10 reply to a survey invitation is the customer's "would recommend" score, recorded through the survey
    service; free text, or an invitation already answered or closed, stays stored for the agents."""
    score = parse_recommend(content)
    if score is None:
        return R.STORED
    comment = _("Text message reply: %(text)s") % {"text": content}
    try:
        outcome = surveys.invitation_answer_by_text(invitation_id=invitation_id, recommend=score[0], comment=comment)
    except (Http404, ValidationError):
        return R.STORED
    return R.RECORDED if outcome == "recorded" else R.STORED


def _record_visit(visit_id: int, content: str) -> str:
    score = parse_score(content)
    if score is None:
        return R.NOT_A_SCORE
    visit = ReturnVisit.objects.select_related("ticket__receiver", "ticket__owner", "assignee").filter(pk=visit_id)
    visit = visit.first()
    if visit is None or visit.status not in ReturnVisit.OPEN:
        return R.VISIT_CLOSED
    actor = _recorder(visit)
    if actor is None:
        return R.STORED
    comment = _("Text message reply: %(text)s") % {"text": content}
    try:
        with transaction.atomic():
            return_visits.visit_record(
                actor=actor,
                visit_id=visit.pk,
                version=visit.version,
                reached=True,
                channel="sms",
                satisfaction=score[0],
                comment=comment[:2000],
            )
    except (Conflict, StaleVersion):
        return R.VISIT_CLOSED  # recorded meanwhile (an agent, or the same answer twice at once)
    except (PermissionDenied, Http404, ValidationError):
        return R.STORED
    return R.RECORDED


def _recorder(visit: ReturnVisit):
    """Who the reply is recorded for: the first of the visit's agent, the ticket's receiver and its owner who is
    active, sees the visit and may record it."""
    ticket = visit.ticket
    for user in (visit.assignee, ticket.receiver, ticket.owner):
        if user is None or not user.is_active or not user.has_perm("service.change_ticket"):
            continue
        if return_visits.may_record(user, visit) and return_visits.visit_visible(user=user, object_id=visit.pk):
            return user
    return None
