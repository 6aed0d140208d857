"""Background import jobs: an uploaded file, how its columns map to fields, its validation result and its commit."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportJob(models.Model):
    """One uploaded file on its way in: mapped, validated row by row, then committed all or nothing."""

    class State(models.TextChoices):
        MAPPING = "mapping", _("Awaiting column mapping")
        VALIDATING = "validating", _("Validating")
        INVALID = "invalid", _("Has errors")
        READY = "ready", _("Ready to commit")
        COMMITTING = "committing", _("Committing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        VCARD = "vcf", "vCard"

    kind = models.CharField(_("kind"), max_length=32)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=300)
    original_name = models.CharField(_("file name"), max_length=255)
    format = models.CharField(_("format"), max_length=8, choices=Format.choices)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.MAPPING)
    # The file's header row (as written) and where it is; mapping: header → field key ("" = ignored).
    headers = models.JSONField(default=list, blank=True)
    header_row = models.PositiveIntegerField(default=1)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    options = models.JSONField(default=dict, blank=True)  # e.g. {"match": ["number", "credit_code"]}
    commit_requested = models.BooleanField(default=False)  # commit as soon as validation finds no error
    total_rows = models.PositiveIntegerField(default=0)
    valid_rows = models.PositiveIntegerField(default=0)
    invalid_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    unchanged_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)  # may exceed the stored ImportRowError rows (capped)
    summary = models.JSONField(default=dict, blank=True)  # importer extras, e.g. contacts created
    preview = models.JSONField(default=list, blank=True)  # the first rows as they will be imported
    estimated_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    error_message = models.TextField(_("error"), blank=True)
    # Each run gets a new attempt number; a worker claims (attempt, claimed_at=NULL) with one conditional UPDATE, so
    # a task delivered twice, or an old attempt, does nothing.
    attempt = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        indexes = [
            # import_job_list(): a user's jobs, newest first.
            models.Index(fields=["created_by", "-created_at"], name="import_job_user_idx"),
            # import_jobs_sweep(): running jobs whose worker stopped beating.
            models.Index(fields=["state", "heartbeat_at"], name="import_job_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.original_name} ({self.state})"

    @property
    def running(self) -> bool:
        return self.state in (self.State.VALIDATING, self.State.COMMITTING)

    @property
    def progress(self) -> int:
        """Percent of the rows read so far (the write phase of a commit shows as 100 until it is done)."""
        if self.state in (self.State.DONE, self.State.READY, self.State.INVALID):
            return 100
        total = self.estimated_rows or self.total_rows
        return min(99, int(self.processed_rows * 100 / total)) if total else 0


class ImportRowError(models.Model):
    """One problem of one row: the row number as the user sees it in the file, the column and the message."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=200, blank=True)
    field = models.CharField(_("field"), max_length=64, blank=True)
    value = models.CharField(_("value"), max_length=200, blank=True)
    message = models.CharField(_("message"), max_length=500)

    class Meta:
        verbose_name = _("import row error")
        verbose_name_plural = _("import row errors")
        # import_errors(): a job's errors in file order.
        indexes = [models.Index(fields=["job", "row", "id"], name="import_error_job_row_idx")]

    def __str__(self) -> str:
        return f"{self.row}: {self.message}"


class ImportMapping(models.Model):
    """The column mapping a user last chose for a kind of import, so the next file with the same headers is mapped."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32)
    columns = models.JSONField(default=dict)  # normalised header → field key ("" = ignore)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("remembered column mapping")
        verbose_name_plural = _("remembered column mappings")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="one_import_mapping_per_kind")]

    def __str__(self) -> str:
        return f"{self.user}: {self.kind}"
