"""Celery tasks of service: thin wrappers around the services, safe to run twice."""

from celery import shared_task

from guanxi.service import return_visits, services, sla


@shared_task(name="service.sweep", ignore_result=True)
def sweep() -> dict:
    """Every minute: expire unanswered hand-overs (back to the sender), then warn and escalate on SLA deadlines."""
    expired = services.handovers_expire()
    result = sla.sla_sweep()
    return {"handovers_expired": expired, **result.__dict__}


@shared_task(name="service.return_visits", ignore_result=True)
def return_visits_sweep() -> dict:
    """Every minute: scheduled return visits whose time came become due; visits of reopened tickets are cancelled."""
    return return_visits.return_visits_sweep()
