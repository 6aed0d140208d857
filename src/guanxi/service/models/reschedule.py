"""A deadline rescheduling job as a row: written in the transaction of the holiday or business-hours change, so a job
lost with its worker or its broker message is found and run again (reschedule.reschedules_resume); a job whose run
raised keeps the error and is retried until GUANXI_RESCHEDULE_MAX_ATTEMPTS, then failed (an admin retries it); done
jobs are deleted after GUANXI_RESCHEDULE_KEEP_DAYS (reschedule.reschedules_purge)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class RescheduleJob(models.Model):
    """The open tickets' deadlines to move after one change of the holiday calendar or of business hours: pending until
    the job has walked every affected ticket, with its progress (tickets up to `last_ticket_id` are done)."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("rescheduling job", "Pending")
        DONE = "done", _("Done")
        # Its runs raised GUANXI_RESCHEDULE_MAX_ATTEMPTS times: the sweep leaves it to an operator (admin "retry").
        FAILED = "failed", pgettext_lazy("rescheduling job", "Failed")

    # What the job needs (reschedule.holiday_scope / hours_scope): the day or branch, the changed object, the reason.
    scope = models.JSONField(_("scope"))
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)  # its first claim
    # The runner's last sign of life (its claim, then each chunk); NULL until one claims the job. A pending job silent
    # for reschedule.RESUME_AFTER is claimed again by the sweep.
    claimed_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    # The lease: each claim writes a new token (and counts an attempt); a chunk commits only while its runner's token
    # is still the job's, so after a takeover the first runner's next chunk rolls back and it stops.
    claim = models.CharField(max_length=32, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_ticket_id = models.BigIntegerField(default=0)
    checked = models.PositiveIntegerField(_("tickets checked"), default=0)
    moved = models.PositiveIntegerField(_("tickets moved"), default=0)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The last run that raised: "ExceptionClass: message" (truncated, reschedule.ERROR_MAX) and when; kept after a
    # later success, as history.
    error = models.TextField(_("last error"), blank=True, default="")
    error_at = models.DateTimeField(_("last error at"), null=True, blank=True)

    class Meta:
        verbose_name = _("deadline rescheduling")
        verbose_name_plural = _("deadline reschedulings")
        ordering = ["id"]
        indexes = [
            # The sweep's read of the pending jobs (reschedules_resume); done jobs stay as history, outside it.
            models.Index(fields=["id"], condition=models.Q(status="pending"), name="reschedule_pending_idx"),
            # The daily purge of old finished jobs (reschedule.reschedules_purge).
            models.Index(fields=["finished_at"], condition=models.Q(status="done"), name="reschedule_done_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.status}"
