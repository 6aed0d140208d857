"""Renewal reminders (合同续签提醒): N days before a live contract ends, its owner gets a task (or an email)."""

import datetime
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.sales.contracts import LIVE
from guanxi.sales.models import Contract

logger = logging.getLogger(__name__)
MAX_NOTICE_DAYS = 366  # the widest reminder period the job looks ahead for


def contracts_due_for_reminder(today: datetime.date) -> list[Contract]:
    """Live contracts inside their reminder period whose current end date has not been reminded yet."""
    candidates = (
        Contract.objects.filter(
            status__in=LIVE, end_date__gte=today, end_date__lte=today + datetime.timedelta(days=MAX_NOTICE_DAYS)
        )
        .exclude(renewal_reminded_for=F("end_date"))
        .select_related("customer", "owner")
        .order_by("end_date", "id")
    )
    # The reminder period differs per contract; comparing it here keeps the query portable (no date arithmetic).
    return [c for c in candidates if c.end_date - datetime.timedelta(days=c.renewal_notice_days) <= today]


def send_renewal_reminders(*, today: datetime.date | None = None) -> int:
    """Remind each due contract's owner once per end date. Claiming is a conditional UPDATE in the same transaction
    as the reminder, so two workers (or a re-run) never remind twice, and a failed reminder is retried next run."""
    today = today or timezone.localdate()
    sent = 0
    for contract in contracts_due_for_reminder(today):
        try:
            with transaction.atomic():
                claimed = (
                    Contract.objects.filter(pk=contract.pk, end_date=contract.end_date)
                    .exclude(renewal_reminded_for=contract.end_date)
                    .update(renewal_reminded_for=contract.end_date)
                )
                if claimed != 1:
                    continue
                _remind(contract, today)
        except Exception:
            # E.g. the mail server is down: the claim rolled back, so the next run retries this contract; the other
            # contracts (and the expiry step of the daily job) must not wait for it.
            logger.exception("contract %s: renewal reminder failed; retried on the next run", contract.pk)
            continue
        sent += 1
    return sent


def _remind(contract: Contract, today: datetime.date) -> str:
    """An activity task for the owner through the activities app when it can take one, else an email."""
    language = getattr(getattr(contract.owner, "profile", None), "language", "") or "zh-hans"
    with translation.override(language):
        days = (contract.end_date - today).days
        subject = _("Renew contract %(number)s (ends in %(days)s days)") % {"number": contract.number, "days": days}
        body = _(
            "Contract %(number)s “%(title)s” with %(customer)s ends on %(end)s. Contact the customer about renewal."
        ) % {
            "number": contract.number,
            "title": contract.title,
            "customer": contract.customer.name,
            "end": contract.end_date.isoformat(),
        }
        if _create_task(contract, subject, body):
            return "task"
        if contract.owner.email:
            send_mail(subject, body, None, [contract.owner.email])
            return "email"
    logger.warning("contract %s: owner has neither an activity task nor an email for the renewal reminder", contract.pk)
    return "none"


def _create_task(contract: Contract, subject: str, body: str) -> bool:
    try:
        from guanxi.activities.services import activity_create
    except ImportError:
        return False
    try:
        with transaction.atomic():
            activity_create(
                actor=contract.owner,
                data={
                    "kind": "task",
                    "subject": subject[:200],
                    "customer_id": contract.customer_id,
                    "owner_id": contract.owner_id,
                    "planned_start": timezone.now(),
                    "notes": body,
                    "linked_type": "sales.contract",
                    "linked_id": contract.pk,
                },
            )
    except (PermissionDenied, ValidationError) as exc:
        logger.warning("contract %s: no renewal task (%s), falling back to email", contract.pk, exc)
        return False
    return True
