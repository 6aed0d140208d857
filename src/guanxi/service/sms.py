"""Text messages (短信) for return visits and survey invitations, through the configured SMS backend (sms_backends).

`queue` records the message in the caller's transaction and hands it to the backend only after the commit
(transaction.on_commit): a rolled-back change sends nothing, and a gateway that fails or times out never raises into
the caller — the failure is stored on the message (status failed, error). `deliver_queued` retries what is left
queued (a process that died between the commit and the send).
"""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from guanxi.customers.models import Contact
from guanxi.service.models import ReturnVisit, SurveyInvitation
from guanxi.service.models.sms import SmsMessage
from guanxi.service.sms_backends import Outgoing

logger = logging.getLogger(__name__)
M = SmsMessage


def backend():
    return import_string(settings.GUANXI_SMS_BACKEND)()


def queue(*, phone: str, content: str, purpose: str, object_id: int | None = None, template: str = "") -> SmsMessage:
    message = SmsMessage.objects.create(
        phone=phone, content=content, purpose=purpose, object_id=object_id, template=template
    )
    transaction.on_commit(lambda: deliver(message.pk))
    return message


def deliver(message_id: int) -> str:
    """Send one queued message; returns its status ("" when it is no longer queued). Never raises: the error is
    stored. The outcome is written only over "queued", so a message is recorded sent or failed once."""
    message = SmsMessage.objects.filter(pk=message_id, status=M.Status.QUEUED).first()
    if message is None:
        return ""
    name = settings.GUANXI_SMS_BACKEND
    try:
        provider_id = backend().send(
            Outgoing(phone=message.phone, content=message.content, template=message.template, sign=_sign())
        )
    except Exception as exc:  # noqa: BLE001 - any gateway failure is recorded, not raised
        logger.warning("SMS %s to %s failed: %s", message.pk, message.phone, exc)
        SmsMessage.objects.filter(pk=message.pk, status=M.Status.QUEUED).update(
            status=M.Status.FAILED, backend=name, error=str(exc)[:2000]
        )
        return M.Status.FAILED
    SmsMessage.objects.filter(pk=message.pk, status=M.Status.QUEUED).update(
        status=M.Status.SENT, backend=name, provider_id=(provider_id or "")[:100], sent_at=timezone.now()
    )
    return M.Status.SENT


def deliver_queued(*, older_than_seconds: int = 60) -> int:
    """Send the messages still queued a while after they were recorded (their on-commit send never ran)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    ids = list(SmsMessage.objects.filter(status=M.Status.QUEUED, created_at__lte=cutoff).values_list("pk", flat=True))
    return sum(deliver(pk) == M.Status.SENT for pk in ids)


def _sign() -> str:
    return settings.GUANXI_SMS_SIGN


# --- what is sent -----------------------------------------------------------------------------------------------


def return_visit_messages(visit_ids: list[int]) -> int:
    """Visits by text message that became due: ask the customer (the ticket's contact, else the caller) to rate the
    service by replying 1–5. Visits without a reachable mobile are left to the agent."""
    sent = 0
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
        queue(phone=phone, content=content, purpose=M.Purpose.RETURN_VISIT, object_id=visit.pk, template="return_visit")
        sent += 1
    return sent


def survey_messages(survey) -> int:
    """A survey sent by text message: each invited customer's primary mobile (the first contact with a mobile who
    did not opt out of SMS) gets the invitation."""
    if survey.channel != "sms":
        return 0
    invitations = dict(SurveyInvitation.objects.filter(survey=survey).values_list("customer_id", "pk"))
    phones: dict[int, str] = {}
    contacts = (
        Contact.objects.filter(customer_id__in=list(invitations), opt_out_sms=False)
        .exclude(mobile="")
        .order_by("customer_id", "-primary", "pk")
        .values_list("customer_id", "mobile")
    )
    for customer_id, mobile in contacts:
        phones.setdefault(customer_id, mobile)
    content = _("Please rate our service in the survey “%(title)s”: reply 0–10 (would you recommend us?).") % {
        "title": survey.name
    }
    for customer_id, phone in phones.items():
        queue(
            phone=phone,
            content=content,
            purpose=M.Purpose.SURVEY,
            object_id=invitations[customer_id],
            template="survey",
        )
    return len(phones)
