"""Scheduled jobs of the commercial sales part: thin wrappers around services, safe to run twice."""

from celery import shared_task

from guanxi.sales.contracts import expire_ended_contracts
from guanxi.sales.contracts_renewal import send_renewal_reminders


@shared_task(name="sales.contracts_daily")
def contracts_daily() -> dict:
    """Renewal reminders N days before contracts end, then active contracts past their end date expire."""
    reminded = send_renewal_reminders()
    expired = expire_ended_contracts()
    return {"reminded": reminded, "expired": expired}
