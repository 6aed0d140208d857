"""Text messages (短信) for return visits and survey invitations, through the configured SMS backend (sms_backends).

Sending never happens in the web request:

1. `queue_many` / `queue` record the messages in the caller's transaction (one bulk INSERT); after the commit their
   ids go to the Celery task `service.sms_send` in chunks of GUANXI_SMS_BATCH (a survey of 50,000 customers is a
   hundred tasks, not a hundred thousand gateway calls in the request). A rolled-back change sends nothing; a broker
   that is down leaves them queued for the sweep.
2. A deliverer claims a few messages at a time (status sending, a random claim token, a conditional UPDATE over
   `SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL), so two workers never send the same message; then it sends each
   and writes the outcome only over its own claim.
3. A failure never raises into the caller: it is stored on the message (status failed, error). A retryable one
   (gateway down, 5xx, timeout) gets `next_attempt_at` with exponential backoff (GUANXI_SMS_RETRY_SECONDS doubled per
   attempt, at most an hour) until GUANXI_SMS_MAX_ATTEMPTS; a refusal of the message itself is final.
4. `deliver_queued` (Celery beat `service.sms_deliver`, every minute) sends what stayed queued (the task was lost),
   retries the failures that came due, and releases claims older than GUANXI_SMS_CLAIM_SECONDS (a worker that died
   mid-batch: delivery is at least once for those few).
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from guanxi.customers.models import Contact
from guanxi.service.models import ReturnVisit, SurveyInvitation
from guanxi.service.models.sms import SmsMessage
from guanxi.service.sms_backends import Outgoing

logger = logging.getLogger(__name__)
M = SmsMessage
CLAIM_SIZE = 20  # messages claimed at once: a slow gateway (timeout × 20) stays far below the claim's expiry
MAX_BACKOFF_SECONDS = 3600
DEVELOPMENT_BACKENDS = ("guanxi.service.sms_backends.ConsoleBackend", "guanxi.service.sms_backends.LocmemBackend")


def backend():
    return import_string(settings.GUANXI_SMS_BACKEND)()


def gateway_configured() -> bool:
    """Whether messages reach customers: not the development backends (console, local memory)."""
    return settings.GUANXI_SMS_BACKEND not in DEVELOPMENT_BACKENDS


def queue(*, phone: str, content: str, purpose: str, object_id: int | None = None, template: str = "") -> SmsMessage:
    """One message, sent by a worker after the commit."""
    message = SmsMessage(phone=phone, content=content, purpose=purpose, object_id=object_id, template=template)
    return queue_many([message])[0]


def queue_many(messages: list[SmsMessage]) -> list[SmsMessage]:
    """Record `messages` (unsaved) in one bulk INSERT; after the commit their ids go to workers in chunks."""
    created = SmsMessage.objects.bulk_create(messages, batch_size=1000)
    ids = [message.pk for message in created]
    if ids:
        transaction.on_commit(lambda: hand_off(ids))
    return created


def hand_off(ids: list[int]) -> int:
    """Send the ids to the `service.sms_send` task in chunks of GUANXI_SMS_BATCH; returns the tasks sent. With the
    broker down the rest stay queued (the request does not fail) and the sweep sends them."""
    from guanxi.service.tasks import sms_send

    size = max(1, settings.GUANXI_SMS_BATCH)
    tasks = 0
    for start in range(0, len(ids), size):
        try:
            sms_send.apply_async((ids[start : start + size],), retry=False)
        except Exception as exc:  # noqa: BLE001 - kombu/redis raise many kinds for an unreachable broker
            logger.warning("SMS: broker unavailable, %s messages wait for the sweep: %s", len(ids) - start, exc)
            break
        tasks += 1
    return tasks


def deliver(message_id: int) -> str:
    """Send one message if it can be claimed now; its status afterwards, or "" when it was not to be sent."""
    statuses = deliver_many([message_id])
    return statuses.get(message_id, "")


def deliver_many(ids: list[int]) -> dict[int, str]:
    """Claim and send the sendable messages among `ids` (the task `service.sms_send`); {id: status} of those sent or
    failed here. Messages claimed by another deliverer, already sent or waiting for a retry are skipped."""
    outcome: dict[int, str] = {}
    for start in range(0, len(ids), CLAIM_SIZE):
        token, claimed = _claim(SmsMessage.objects.filter(pk__in=ids[start : start + CLAIM_SIZE]))
        for message in claimed:
            outcome[message.pk] = _send(message, token)
    return outcome


def deliver_queued(*, older_than_seconds: int = 60, limit: int = 5000, now=None) -> dict:
    """The sweep: release dead claims, then send what stayed queued `older_than_seconds` after it was recorded and
    the failures whose retry came due, at most `limit` messages a run."""
    now = now or timezone.now()
    released = release_stale_claims(now=now)
    cutoff = now - timedelta(seconds=older_than_seconds)
    pending = SmsMessage.objects.filter(
        Q(status=M.Status.QUEUED, created_at__lte=cutoff) | Q(status=M.Status.FAILED, next_attempt_at__lte=now)
    )
    sent = failed = 0
    while sent + failed < limit:
        token, claimed = _claim(pending, now=now)
        if not claimed:
            break
        for message in claimed:
            if _send(message, token, now=now) == M.Status.SENT:
                sent += 1
            else:
                failed += 1
    return {"sms_sent": sent, "sms_failed": failed, "sms_released": released}


def release_stale_claims(*, now=None) -> int:
    """Messages claimed longer than GUANXI_SMS_CLAIM_SECONDS ago (their worker died) are queued again, or failed
    when their attempts are used up. The gateway may have sent them: this is the one at-least-once path."""
    now = now or timezone.now()
    stale = SmsMessage.objects.filter(
        status=M.Status.SENDING, claimed_at__lt=now - timedelta(seconds=settings.GUANXI_SMS_CLAIM_SECONDS)
    )
    used_up = stale.filter(attempts__gte=settings.GUANXI_SMS_MAX_ATTEMPTS).update(
        status=M.Status.FAILED, claim="", error="the worker stopped while sending", next_attempt_at=None
    )
    return used_up + stale.update(status=M.Status.QUEUED, claim="")


def backoff(attempts: int) -> timedelta:
    """The wait before attempt `attempts + 1`: GUANXI_SMS_RETRY_SECONDS doubled per attempt made, at most an hour."""
    seconds = settings.GUANXI_SMS_RETRY_SECONDS * 2 ** max(0, attempts - 1)
    return timedelta(seconds=min(seconds, MAX_BACKOFF_SECONDS))


def _claim(candidates: QuerySet[SmsMessage], *, now=None) -> tuple[str, list[SmsMessage]]:
    """Claim up to CLAIM_SIZE sendable rows among `candidates` for one deliverer: SKIP LOCKED keeps two PostgreSQL
    workers off each other's rows, and the conditional UPDATE (status still sendable) plus the claim token make it
    exact on any database — each deliverer reads back only the rows its own UPDATE took."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    sendable = Q(status=M.Status.QUEUED) | Q(status=M.Status.FAILED, next_attempt_at__lte=now)
    with transaction.atomic():
        ids = list(
            candidates.filter(sendable)
            .order_by("pk")
            .select_for_update(skip_locked=True, of=("self",))
            .values_list("pk", flat=True)[:CLAIM_SIZE]
        )
        if not ids:
            return token, []
        SmsMessage.objects.filter(sendable, pk__in=ids).update(
            status=M.Status.SENDING, claim=token, claimed_at=now, attempts=F("attempts") + 1, next_attempt_at=None
        )
    return token, list(SmsMessage.objects.filter(pk__in=ids, claim=token, status=M.Status.SENDING).order_by("pk"))


def _send(message: SmsMessage, token: str, *, now=None) -> str:
    """Hand one claimed message to the backend and store the outcome over the claim; never raises. The retry is
    planned from `now` (the sweep's moment), else from the time of the answer."""
    name = settings.GUANXI_SMS_BACKEND
    mine = SmsMessage.objects.filter(pk=message.pk, claim=token, status=M.Status.SENDING)
    try:
        provider_id = backend().send(
            Outgoing(phone=message.phone, content=message.content, template=message.template, sign=_sign())
        )
    except Exception as exc:  # noqa: BLE001 - any gateway failure is recorded, not raised
        retry = getattr(exc, "retryable", True) and message.attempts < settings.GUANXI_SMS_MAX_ATTEMPTS
        logger.warning("SMS %s to %s failed (attempt %s): %s", message.pk, message.phone, message.attempts, exc)
        mine.update(
            status=M.Status.FAILED,
            backend=name,
            error=str(exc)[:2000],
            claim="",
            next_attempt_at=(now or timezone.now()) + backoff(message.attempts) if retry else None,
        )
        return M.Status.FAILED
    sent_at = timezone.now()
    with transaction.atomic():
        updated = mine.update(
            status=M.Status.SENT,
            backend=name,
            provider_id=(provider_id or "")[:100],
            sent_at=sent_at,
            error="",
            claim="",
        )
        if updated and message.purpose == M.Purpose.SURVEY and message.object_id is not None:
            # The invitation reached the customer: it may be answered from now on (surveys.answer_refusal), with the
            # message's status in the same commit, so a reply never finds a sent message and an undelivered invitation.
            SurveyInvitation.objects.filter(pk=message.object_id, delivered_at__isnull=True).update(
                delivered_at=sent_at
            )
    return M.Status.SENT


def _sign() -> str:
    return settings.GUANXI_SMS_SIGN


# --- what is sent -----------------------------------------------------------------------------------------------


def return_visit_messages(visit_ids: list[int]) -> int:
    """Visits by text message that became due: ask the customer (the ticket's contact, else the caller) to rate the
    service by replying 1–5. Visits without a reachable mobile are left to the agent."""
    messages = []
    visits = ReturnVisit.objects.filter(pk__in=visit_ids, channel="sms").select_related("ticket", "ticket__contact")
    for visit in visits:
        ticket = visit.ticket
        contact = ticket.contact
        phone = contact.mobile if contact is not None and not contact.opt_out_sms else ""
        phone = phone or ticket.caller_phone
        if not phone:
            continue
        content = _(
            "Your ticket %(number)s was closed. How satisfied are you with our service? Reply 1 (very dissatisfied) "
            "to 5 (very satisfied)."
        ) % {"number": ticket.number}
        messages.append(
            M(phone=phone, content=content, purpose=M.Purpose.RETURN_VISIT, object_id=visit.pk, template="return_visit")
        )
    queue_many(messages)
    return len(messages)


def survey_messages(survey, customer_ids: list[int] | None = None) -> int:
    """A survey sent by text message: each invited customer's primary mobile (the first contact with a mobile who
    did not opt out of SMS) gets the invitation — recorded here in one bulk INSERT, sent by workers after the commit.
    `customer_ids`: only these customers' invitations (one chunk of the sending job, surveys.survey_deliver, which
    holds the survey's lock). An invitation that already has its message gets none again (the job may run twice)."""
    if survey.channel != "sms":
        return 0
    pending = SurveyInvitation.objects.filter(survey=survey).exclude(
        pk__in=SmsMessage.objects.filter(purpose=M.Purpose.SURVEY, object_id__isnull=False).values("object_id")
    )
    if customer_ids is not None:
        pending = pending.filter(customer_id__in=customer_ids)
    invitations = dict(pending.values_list("customer_id", "pk"))
    phones: dict[int, str] = {}
    contacts = (
        # A subquery, not 50,000 bound ids (SQLite's limit on parameters).
        Contact.objects.filter(customer_id__in=pending.values("customer_id"), opt_out_sms=False)
        .exclude(mobile="")
        .order_by("customer_id", "-primary", "pk")
        .values_list("customer_id", "mobile")
    )
    for customer_id, mobile in contacts:
        phones.setdefault(customer_id, mobile)
    content = _("Please rate our service in the survey “%(title)s”: reply 0–10 (would you recommend us?).") % {
        "title": survey.name
    }
    queue_many(
        [
            M(
                phone=phone,
                content=content,
                purpose=M.Purpose.SURVEY,
                object_id=invitations[customer_id],
                template="survey",
            )
            for customer_id, phone in phones.items()
        ]
    )
    return len(phones)
