"""Reads of import jobs: a user sees the jobs they started (administrators see all)."""

from django.db.models import QuerySet
from django.http import Http404

from guanxi.imports.models import ImportJob, ImportMapping, ImportRowError


def import_job_queryset(*, user) -> QuerySet[ImportJob]:
    if not user.is_authenticated:
        return ImportJob.objects.none()
    jobs = ImportJob.objects.all()
    return jobs if user.is_superuser else jobs.filter(created_by=user)


def import_job_list(*, user, limit: int = 50) -> list[ImportJob]:
    return list(import_job_queryset(user=user).order_by("-created_at", "-id")[:limit])


def import_job_get(*, user, job_id: int) -> ImportJob:
    """One job; 404 when absent or someone else's."""
    job = import_job_queryset(user=user).filter(pk=job_id).first()
    if job is None:
        raise Http404
    return job


def import_errors(*, job: ImportJob) -> QuerySet[ImportRowError]:
    """The job's row errors in file order."""
    return ImportRowError.objects.filter(job=job).order_by("row", "id")


def remembered_mapping(*, user, kind: str) -> dict[str, str]:
    """Normalised header → field key, as the user last mapped a file of this kind."""
    columns = ImportMapping.objects.filter(user=user, kind=kind).values_list("columns", flat=True).first()
    return columns or {}


def import_job_samples(*, job: ImportJob, count: int = 3) -> list[list]:
    """The first data rows of the job's file, to show beside the columns while mapping them."""
    from pathlib import Path

    from guanxi.imports import readers, registry
    from guanxi.imports.values import text

    importer = registry.get(job.kind)
    if importer is None or not job.file:
        return []
    table = readers.open_table(Path(job.file.path), job.format, importer, header_row=job.header_row or None)
    samples = []
    for _number, cells in table.rows():
        samples.append([text(cell) for cell in cells])
        if len(samples) >= count:
            break
    return samples
