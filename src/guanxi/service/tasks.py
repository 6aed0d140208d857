"""Celery tasks of service: thin wrappers around the services, safe to run twice."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from guanxi.service import reschedule, return_visits, rollups, services, sla, sms, surveys


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


@shared_task(name="service.analysis_rebuild", ignore_result=True)
def analysis_rebuild(days: int = 3) -> dict:
    """Nightly: recompute the analysis rollups of the last `days` days — a safety net under the services' incremental
    upkeep (tickets changed by SQL or an import); the services keep them exact in between."""
    today = timezone.localdate()
    return rollups.rebuild(date_from=today - timedelta(days=days - 1), date_to=today)


@shared_task(name="service.sms_send", ignore_result=True)
def sms_send(ids: list[int]) -> dict:
    """After a commit: send one chunk of queued text messages (sms.hand_off); claimed, so safe to run twice."""
    statuses = sms.deliver_many([int(pk) for pk in ids])
    return {"sms_sent": sum(status == "sent" for status in statuses.values()), "sms_handled": len(statuses)}


@shared_task(name="service.sms_deliver", ignore_result=True)
def sms_deliver() -> dict:
    """Every minute: text messages left queued (their task was lost) and failed sends whose retry came due; surveys
    whose sending job stopped are started again."""
    return {**sms.deliver_queued(), "surveys_resumed": surveys.surveys_resume()}


@shared_task(name="service.survey_send", ignore_result=True)
def survey_send(survey_id: int) -> dict:
    """After a survey's send request commits: create its invitations (and text messages) in chunks; each chunk locks
    the survey and skips what exists, so safe to run twice."""
    return surveys.survey_deliver(int(survey_id))


@shared_task(name="service.sla_reschedule", ignore_result=True)
def sla_reschedule(job: int | dict, claim: str = "") -> dict | None:
    """After a change of the holiday calendar or of business hours commits: move the deadlines of the open tickets
    that count it, in chunks (reschedule.run: claims the pending job, so a second delivery does nothing; with the
    sweep's `claim`, runs under the claim the sweep took). A run that raises records the error on the job and raises
    on (the task fails, logged; no Celery retry: the resume sweep retries it, until GUANXI_RESCHEDULE_MAX_ATTEMPTS marks
    it failed). A scope dict is a message sent before jobs were rows; it runs as it did then."""
    if isinstance(job, dict):
        return reschedule.reschedule(job)
    return reschedule.run(int(job), claim=claim or "")


@shared_task(name="service.sla_reschedule_resume", ignore_result=True)
def sla_reschedule_resume() -> dict:
    """Every minute: rescheduling jobs left pending by a dead worker or a lost message are claimed anew and sent to
    `service.sla_reschedule` (the sweep stays short: it runs none itself unless the broker is down); failed jobs are
    left to an administrator."""
    return {"reschedules_resumed": reschedule.reschedules_resume()}


@shared_task(name="service.sla_reschedule_purge", ignore_result=True)
def sla_reschedule_purge() -> dict:
    """Daily: rescheduling jobs done more than GUANXI_RESCHEDULE_KEEP_DAYS ago are deleted."""
    return {"reschedules_purged": reschedule.reschedules_purge()}
