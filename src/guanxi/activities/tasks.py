"""Celery tasks of activities: thin wrappers around the services, safe to run twice."""

from celery import shared_task

from guanxi.activities import reminders


@shared_task(name="activities.send_reminders", ignore_result=True)
def send_reminders() -> int:
    """Send the activity reminders that are due (each (activity, user, start) once, however often this runs)."""
    return reminders.reminders_send()
