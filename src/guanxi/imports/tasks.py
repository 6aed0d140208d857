"""Celery tasks of imports: thin wrappers around the services, safe to deliver twice."""

from celery import shared_task
from celery.signals import worker_ready

from guanxi.imports import services


@shared_task(name="imports.run", ignore_result=True)
def run_import(job_id: int, attempt: int) -> None:
    """Validate (and commit, when asked) one attempt of a job; a duplicate or superseded delivery does nothing."""
    services.import_job_run(job_id=job_id, attempt=attempt)


@shared_task(name="imports.sweep", ignore_result=True)
def sweep_imports() -> None:
    """Fail jobs whose worker died (nothing was written: their transaction never committed); drop old files."""
    services.import_jobs_sweep()


@worker_ready.connect
def reap_on_worker_start(**kwargs) -> None:
    """A worker that starts (again, after a crash) fails the jobs whose runner died and resends waiting ones."""
    from django.db import connection

    try:
        services.import_jobs_reap(requeue_after=0)
    finally:
        connection.close()
