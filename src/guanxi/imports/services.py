"""Every write of import jobs: upload, column mapping, validation, commit, retry and the sweep of dead jobs.

A job runs as attempts. Starting one bumps `attempt`; the run (inline for small files, else a Celery task) claims it
with one conditional UPDATE, so a task delivered twice or an outdated attempt does nothing. The commit writes the
data and marks the job done in one transaction: a worker killed mid-commit leaves nothing behind, and the job can be
retried.
"""

import gc
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core import liveness, uploads
from guanxi.core.bulk import tuned_for_bulk
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.permissions import require
from guanxi.imports import readers, registry, selectors
from guanxi.imports.models import ImportJob, ImportMapping, ImportRowError
from guanxi.imports.registry import Importer, Plan, Row
from guanxi.imports.values import normalise_header

logger = logging.getLogger(__name__)

State = ImportJob.State
RUNNING = (State.VALIDATING, State.COMMITTING)
RUNNER_LOCK = "imports.job"  # held by the process running a job (core.liveness): its death releases it
PROGRESS_EVERY_SECONDS = 0.5


class Superseded(Exception):
    """Another attempt of the job took over while this one was writing: roll this one back."""


def import_job_create(
    *,
    actor,
    kind: str,
    upload,
    mapping: dict | None = None,
    options: dict | None = None,
    commit: bool = False,
    validate: bool = True,
) -> ImportJob:
    """Store an uploaded file as a job. With `validate`, check it right away (the API); without, the job waits for
    the user to confirm the column mapping (the upload page). `commit`: commit when validation finds no error."""
    importer = _importer(kind)
    require(actor, importer.permission)
    if upload is None:
        raise ValidationError({"file": _("Choose a file.")})
    if upload.size > settings.GUANXI_IMPORT_MAX_BYTES:
        limit = settings.GUANXI_IMPORT_MAX_BYTES // (1024 * 1024)
        raise ValidationError({"file": _("The file is larger than %(size)s MB.") % {"size": limit}})
    head = upload.read(4096)
    upload.seek(0)
    fmt = readers.detect_format(upload.name or "", head)
    if fmt is None or fmt not in importer.formats:
        allowed = ", ".join(ImportJob.Format(f).label for f in importer.formats)
        raise ValidationError({"file": _("Upload a file in one of these formats: %(formats)s.") % {"formats": allowed}})
    uploads.check_content(upload, fmt, head)  # by content: a real workbook, or text
    options = importer.clean_options(options or {})
    options["language"] = translation.get_language() or settings.LANGUAGE_CODE
    job = ImportJob(
        kind=kind,
        format=fmt,
        original_name=Path(upload.name or "upload").name[:255],
        created_by=actor,
        options=options,
        commit_requested=commit,
        state=State.VALIDATING if validate else State.MAPPING,
    )
    job.file.save(f"{uuid.uuid4().hex}.{fmt}", upload, save=False)
    try:
        table = readers.open_table(Path(job.file.path), fmt, importer)
        if table.estimated_rows > settings.GUANXI_IMPORT_MAX_ROWS:
            message = _("The file has more than %(max)s rows; split it.") % {"max": settings.GUANXI_IMPORT_MAX_ROWS}
            raise ValidationError({"file": message})
        job.headers, job.header_row, job.estimated_rows = table.headers, table.header_row, table.estimated_rows
        remembered = {} if fmt == "vcf" else selectors.remembered_mapping(user=actor, kind=kind)
        job.mapping = importer.recognise(table.headers, remembered)
        if mapping is not None:
            job.mapping = _clean_mapping(importer, job.headers, mapping, base=job.mapping)
        if validate:
            _check_mapping(importer, job.mapping)
        job.save()
    except BaseException:
        job.file.delete(save=False)
        raise
    if mapping is not None:
        _remember(actor, kind, job.mapping)
    if validate:
        _start(job)
    return job


def import_job_map(*, actor, job_id: int, mapping: dict, options: dict | None = None) -> ImportJob:
    """Set the column mapping (remembered for the user's next file) and validate again."""
    job = selectors.import_job_get(user=actor, job_id=job_id)
    importer = _importer(job.kind)
    require(actor, importer.permission)
    if job.state not in (State.MAPPING, State.INVALID, State.READY, State.FAILED):
        raise Conflict(_("The job is running or done; its mapping cannot change."))
    mapping = _clean_mapping(importer, job.headers, mapping, base=job.mapping)
    _check_mapping(importer, mapping)
    options = importer.clean_options({**job.options, **(options or {})})
    changed = ImportJob.objects.filter(pk=job.pk, state=job.state, attempt=job.attempt).update(
        mapping=mapping, options=options, state=State.VALIDATING, commit_requested=False
    )
    if not changed:
        raise Conflict(_("The job changed meanwhile; reload it."))
    _remember(actor, job.kind, mapping)
    job.refresh_from_db()
    _start(job)
    return job


def import_job_commit(*, actor, job_id: int) -> ImportJob:
    """Commit a validated job: every row is checked again against the data as it is now, then written at once."""
    job = selectors.import_job_get(user=actor, job_id=job_id)
    require(actor, _importer(job.kind).permission)
    if job.state == State.INVALID:
        raise Conflict(_("Some rows have errors: fix the file and upload it again; nothing is committed until then."))
    if not ImportJob.objects.filter(pk=job.pk, state=State.READY).update(state=State.COMMITTING, commit_requested=True):
        raise Conflict(_("Only a validated job without errors can be committed."))
    job.refresh_from_db()
    _start(job)
    return job


def import_job_retry(*, actor, job_id: int) -> ImportJob:
    """Run a failed (or stalled) job again, from validation; it commits again if a commit was asked for."""
    job = selectors.import_job_get(user=actor, job_id=job_id)
    require(actor, _importer(job.kind).permission)
    if not (job.state == State.FAILED or stalled(job)):
        raise Conflict(_("Only a failed or stalled job can be retried."))
    state = State.COMMITTING if job.commit_requested else State.VALIDATING
    if not ImportJob.objects.filter(pk=job.pk, state=job.state, attempt=job.attempt).update(state=state):
        raise Conflict(_("The job changed meanwhile; reload it."))
    job.refresh_from_db()
    _start(job)
    return job


def import_job_run(*, job_id: int, attempt: int) -> ImportJob | None:
    """The work of one attempt (the Celery task calls this). Returns None when the attempt is not ours to run.

    The run holds the job's runner lock throughout: if this process dies, the reaper sees the lock free and fails the
    job at once (import_jobs_reap)."""
    try:
        with liveness.holding(RUNNER_LOCK, job_id):
            return _run_attempt(job_id, attempt)
    except liveness.Busy:
        return None  # another live process runs this job: a duplicate delivery


def _run_attempt(job_id: int, attempt: int) -> ImportJob | None:
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, attempt=attempt, claimed_at__isnull=True, state__in=RUNNING).update(
        claimed_at=now, heartbeat_at=now, processed_rows=0
    )
    if not claimed:
        return None
    job = ImportJob.objects.get(pk=job_id)
    with translation.override(job.options.get("language") or settings.LANGUAGE_CODE):
        try:
            # Inside a caller's transaction (an inline run in a test or an atomic request), a savepoint keeps a
            # failed run from breaking it; a worker has none, so progress stays visible while the job runs.
            with transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext():
                _run(job)
        except Exception as exc:
            if not isinstance(exc, ValidationError | PermissionDenied | StaleVersion | Superseded | IntegrityError):
                logger.exception("import job %s (attempt %s) failed", job_id, attempt)
            _record_failure(job, exc)
    job.refresh_from_db()
    return job


def import_jobs_reap(*, requeue_after: float | None = None) -> tuple[int, int]:
    """Fail the running jobs whose runner died (its lock is free: killed worker or web process, lost machine), and
    send again the jobs waiting for a worker whose message may be lost (the broker was down when they were started,
    or lost its queue), if they have waited `requeue_after` seconds (None: do not resend). Runs when a worker starts
    and in every sweep. Returns (failed, resent). A resent message that turns out to be a duplicate does nothing."""
    failed = resent = 0
    now = timezone.now()
    for job in ImportJob.objects.filter(state__in=RUNNING, claimed_at__isnull=False):
        if liveness.held(RUNNER_LOCK, job.pk):
            continue
        with translation.override(job.options.get("language") or settings.LANGUAGE_CODE):
            message = _("The worker running this job stopped; nothing was written. Retry the job.")
        failed += ImportJob.objects.filter(
            pk=job.pk, attempt=job.attempt, claimed_at=job.claimed_at, state__in=RUNNING
        ).update(state=State.FAILED, error_message=message, finished_at=now)
    if requeue_after is not None:
        waiting = ImportJob.objects.filter(
            state__in=RUNNING, claimed_at__isnull=True, updated_at__lte=now - timedelta(seconds=requeue_after)
        )
        for job_id, attempt in waiting.values_list("pk", "attempt"):
            if _enqueue(job_id, attempt):
                ImportJob.objects.filter(pk=job_id, attempt=attempt).update(updated_at=timezone.now())
                resent += 1
    if failed or resent:
        logger.warning("import jobs: %s failed (runner gone), %s sent again", failed, resent)
    return failed, resent


def import_jobs_sweep(*, now=None) -> int:
    """Mark jobs whose worker stopped beating as failed (retry-able), and delete the files of old finished jobs."""
    import_jobs_reap(requeue_after=settings.GUANXI_IMPORT_REQUEUE_SECONDS)
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.GUANXI_IMPORT_STALL_SECONDS)
    count = 0
    for job in ImportJob.objects.filter(state__in=RUNNING, claimed_at__isnull=False, heartbeat_at__lt=cutoff):
        with translation.override(job.options.get("language") or settings.LANGUAGE_CODE):
            message = _("The worker running this job stopped; nothing was written. Retry the job.")
        count += ImportJob.objects.filter(pk=job.pk, attempt=job.attempt, heartbeat_at__lt=cutoff).update(
            state=State.FAILED, error_message=message, finished_at=now
        )
    keep = now - timedelta(days=settings.GUANXI_IMPORT_KEEP_DAYS)
    for job in ImportJob.objects.filter(state=State.DONE, finished_at__lt=keep).exclude(file=""):
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
    return count


def stalled(job: ImportJob) -> bool:
    """Running according to its state, but its worker has not reported for longer than the stall limit."""
    if job.state not in RUNNING or job.heartbeat_at is None:
        return False
    return timezone.now() - job.heartbeat_at > timedelta(seconds=settings.GUANXI_IMPORT_STALL_SECONDS)


# --- the run ----------------------------------------------------------------------------------------------------


def _run(job: ImportJob) -> None:
    importer = _importer(job.kind)
    actor = get_user_model().objects.select_related("profile__org_unit").get(pk=job.created_by_id)
    require(actor, importer.permission)  # permissions are checked again: they may have changed since the upload
    ImportRowError.objects.filter(job=job).delete()
    table = readers.open_table(Path(job.file.path), job.format, importer, header_row=job.header_row or None)
    rows = _mapped_rows(table, job.mapping)
    options = importer.clean_options(job.options)
    with _without_gc():
        plan = importer.plan(actor=actor, rows=rows, options=options, progress=_Heartbeat(job))
    if plan.total == 0:
        plan.error(job.header_row + 1, "", _("The file has no rows to import."))
    counts = _counts(plan)
    if plan.errors:
        _store_errors(job, plan)
        _finish(job, State.INVALID, counts)
        return
    if not job.commit_requested:
        _finish(job, State.READY, counts)
        return
    ImportJob.objects.filter(pk=job.pk, attempt=job.attempt).update(
        state=State.COMMITTING, heartbeat_at=timezone.now(), **counts
    )
    with tuned_for_bulk(), _without_gc(), transaction.atomic():
        importer.apply(actor=actor, plan=plan)
        if not _finish(job, State.DONE, counts):
            raise Superseded  # the job was retried meanwhile: this attempt must not write anything


def _mapped_rows(table: readers.Table, mapping: dict[str, str]) -> Iterator[Row]:
    columns, seen = [], set()
    for index, header in enumerate(table.headers):
        key = mapping.get(header) if header and header not in seen else None
        seen.add(header)
        if key:
            columns.append((index, key))
    limit = settings.GUANXI_IMPORT_MAX_ROWS
    for count, (number, cells) in enumerate(table.rows(), start=1):
        if count > limit:
            raise ValidationError(_("The file has more than %(max)s rows; split it.") % {"max": limit})
        yield Row(number, {key: cells[index] if index < len(cells) else None for index, key in columns})


@contextmanager
def _without_gc():
    """A plan holds hundreds of thousands of live objects and makes no reference cycles: the cyclic collector
    would walk them all again and again for nothing (a fifth of the run time). It runs once afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class _Heartbeat:
    """Progress callback: records rows processed and that the worker is alive, at most twice a second."""

    def __init__(self, job: ImportJob):
        self.job, self.last = job, 0.0

    def __call__(self, processed: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        ImportJob.objects.filter(pk=self.job.pk, attempt=self.job.attempt).update(
            processed_rows=processed, heartbeat_at=timezone.now()
        )


def _counts(plan: Plan) -> dict:
    return {
        "total_rows": plan.total,
        "valid_rows": max(plan.total - plan.invalid_rows, 0),
        "invalid_rows": plan.invalid_rows,
        "created_count": plan.created,
        "updated_count": plan.updated,
        "unchanged_count": plan.unchanged,
        "error_count": len(plan.errors),
        "summary": plan.summary,
        "preview": plan.preview,
        "processed_rows": plan.total,
    }


def _finish(job: ImportJob, state: str, counts: dict) -> bool:
    now = timezone.now()
    return bool(
        ImportJob.objects.filter(pk=job.pk, attempt=job.attempt).update(
            state=state, finished_at=now, heartbeat_at=now, **counts
        )
    )


def _store_errors(job: ImportJob, plan: Plan) -> None:
    columns = {key: header for header, key in job.mapping.items() if key}
    errors = sorted(plan.errors, key=lambda error: error.row)[: settings.GUANXI_IMPORT_MAX_ERRORS]
    ImportRowError.objects.bulk_create(
        [
            ImportRowError(
                job=job,
                row=error.row,
                column=columns.get(error.field, "")[:200],
                field=error.field[:64],
                value=error.value[:200],
                message=error.message[:500],
            )
            for error in errors
        ],
        batch_size=500,
    )


def _record_failure(job: ImportJob, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        message = " ".join(exc.messages)
    elif isinstance(exc, StaleVersion | IntegrityError):
        message = _("Some records changed while the import was committing; nothing was written. Retry the job.")
    elif isinstance(exc, Superseded):
        return
    elif isinstance(exc, PermissionDenied):
        message = str(exc) or _("You are not allowed to do this.")
    else:
        message = _("The import stopped on an unexpected error; nothing was written: %(error)s") % {"error": exc}
    ImportJob.objects.filter(pk=job.pk, attempt=job.attempt).update(
        state=State.FAILED, error_message=message[:2000], finished_at=timezone.now()
    )


def _start(job: ImportJob) -> None:
    """A new attempt: run it here for small files, else hand it to a Celery worker once this transaction commits."""
    attempt = job.attempt + 1
    ImportJob.objects.filter(pk=job.pk).update(
        attempt=attempt,
        claimed_at=None,
        heartbeat_at=None,
        processed_rows=0,
        error_message="",
        finished_at=None,
        updated_at=timezone.now(),
    )
    job.attempt = attempt
    if job.estimated_rows <= settings.GUANXI_IMPORT_INLINE_ROWS:
        import_job_run(job_id=job.pk, attempt=attempt)
    else:
        transaction.on_commit(lambda: _enqueue(job.pk, attempt))
    job.refresh_from_db()


def _enqueue(job_id: int, attempt: int) -> bool:
    """Send the attempt to a worker. With the broker down the job stays queued in the database (the request does
    not fail): a worker sends it again when it starts, and the periodic sweep when it has waited
    GUANXI_IMPORT_REQUEUE_SECONDS."""
    from guanxi.imports.tasks import run_import

    try:
        run_import.apply_async((job_id, attempt), retry=False)
    except Exception as exc:  # noqa: BLE001 - kombu/redis raise many kinds for an unreachable broker
        logger.warning("import job %s: broker unavailable, it waits in the database: %s", job_id, exc)
        return False
    return True


# --- mapping ----------------------------------------------------------------------------------------------------


def _importer(kind: str) -> Importer:
    importer = registry.get(kind)
    if importer is None:
        choices = ", ".join(i.kind for i in registry.all_importers())
        raise ValidationError({"kind": _("Choose one of: %(choices)s.") % {"choices": choices}})
    return importer


def _clean_mapping(importer: Importer, headers: list[str], mapping, *, base: dict[str, str]) -> dict[str, str]:
    """`mapping` (header → field key, "" or null to ignore a column) over `base`; unknown names are refused."""
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": _('Give the mapping as an object: {"column": "field"}.')})
    keys = importer.field_keys()
    result = {header: base.get(header, "") for header in headers if header}
    for header, key in mapping.items():
        if header not in result:
            raise ValidationError({"mapping": _("The file has no column “%(column)s”.") % {"column": header}})
        key = key or ""
        if key and key not in keys:
            raise ValidationError({"mapping": _("Unknown field “%(field)s”.") % {"field": key}})
        result[header] = key
    return result


def _check_mapping(importer: Importer, mapping: dict[str, str]) -> None:
    used: dict[str, str] = {}
    for header, key in mapping.items():
        if key and key in used:
            message = _("The columns “%(first)s” and “%(second)s” are both mapped to one field.")
            raise ValidationError({"mapping": message % {"first": used[key], "second": header}})
        if key:
            used[key] = header
    missing = importer.missing_fields(set(used))
    if missing:
        raise ValidationError({"mapping": _("Map a column to: %(fields)s.") % {"fields": " / ".join(missing)}})


def _remember(actor, kind: str, mapping: dict[str, str]) -> None:
    columns = selectors.remembered_mapping(user=actor, kind=kind)
    columns.update({normalise_header(header): key for header, key in mapping.items() if header})
    ImportMapping.objects.update_or_create(user=actor, kind=kind, defaults={"columns": columns})
