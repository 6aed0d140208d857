"""Celery tasks of service: thin wrappers around the services, safe to run twice."""

from celery import shared_task

from guanxi.service import services, sla


@shared_task(name="service.sweep", ignore_result=True)
def sweep() -> dict:
    """Every minute: expire unanswered hand-overs (back to the sender), then warn and escalate on SLA deadlines."""
    expired = services.handovers_expire()
    result = sla.sla_sweep()
    return {"handovers_expired": expired, **result.__dict__}
