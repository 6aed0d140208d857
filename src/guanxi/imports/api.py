import json
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import Field

from guanxi.core.schemas import ErrorOut
from guanxi.imports import registry, report, selectors, services
from guanxi.imports.models import ImportJob

router = Router(tags=["imports"])

READ = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class RowErrorOut(Schema):
    row: int = Field(..., description="Row number as in the file (the header is row 1); card number for vCard")
    column: str = Field(..., description="The file's column header")
    field: str
    value: str
    message: str


class RowCounts(Schema):
    total: int
    valid: int
    invalid: int
    created: int
    updated: int
    unchanged: int


class ImportJobOut(Schema):
    id: int
    kind: str
    state: str = Field(..., description="mapping, validating, invalid, ready, committing, done or failed")
    format: str
    original_name: str
    headers: list[str]
    mapping: dict[str, str] = Field(..., description='File column → field key ("" = ignored)')
    options: dict[str, Any]
    commit_requested: bool
    rows: RowCounts
    summary: dict[str, Any]
    progress: int = Field(..., description="Percent")
    error: str = Field(..., description="Why the job failed, if it did")
    error_count: int
    errors: list[RowErrorOut]
    errors_truncated: bool
    preview: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None


class ImportMapIn(Schema):
    mapping: dict[str, str | None]
    match: list[str] | None = Field(None, description="customers: identifiers that find existing customers")


class FieldOut(Schema):
    key: str
    label: str
    required: bool
    aliases: list[str]


class ImporterOut(Schema):
    kind: str
    label: str
    formats: list[str]
    fields: list[FieldOut]


class JobQuery(Schema):
    errors_limit: int = Field(1000, ge=0, le=10000)


@router.get("/imports/kinds", response={200: list[ImporterOut], 401: ErrorOut})
def import_kinds(request: HttpRequest):
    """What can be imported, in which formats, and the fields a column can be mapped to."""
    return [
        {
            "kind": importer.kind,
            "label": str(importer.label),
            "formats": list(importer.formats),
            "fields": [
                {"key": f.key, "label": str(f.label), "required": f.required, "aliases": list(f.aliases)}
                for f in importer.fields
            ],
        }
        for importer in registry.all_importers()
    ]


@router.get("/imports", response={200: list[ImportJobOut], 401: ErrorOut})
def list_imports(request: HttpRequest):
    """Your latest import jobs (without their row errors)."""
    return [_job_out(job, errors_limit=0) for job in selectors.import_job_list(user=request.user)]


@router.post("/imports", response={201: ImportJobOut, **WRITE})
def create_import(
    request: HttpRequest,
    kind: Form[str],
    file: File[UploadedFile] = None,
    mapping: Form[str] = None,
    match: Form[str] = None,
    commit: Form[bool] = False,
):
    """Upload a file (multipart) to import `kind` (customers | contacts). `mapping`: JSON object of file column →
    field key (see /imports/kinds); columns not named keep the recognised field. `commit`=true commits right after
    validation when no row has an error. Small files are done when this answers; larger ones run in the background:
    poll `GET /imports/{id}`."""
    job = services.import_job_create(
        actor=request.user,
        kind=kind,
        upload=file,
        mapping=_json_object(mapping, "mapping") if mapping else None,
        options={"match": match} if match else None,
        commit=commit,
    )
    return 201, _job_out(job)


@router.get("/imports/{job_id}", response={200: ImportJobOut, **READ})
def get_import(request: HttpRequest, job_id: int, query: Query[JobQuery]):
    """State, row counts, and the errors per row (the first `errors_limit`)."""
    return _job_out(selectors.import_job_get(user=request.user, job_id=job_id), errors_limit=query.errors_limit)


@router.post("/imports/{job_id}/mapping", response={202: ImportJobOut, **WRITE})
def map_import(request: HttpRequest, job_id: int, payload: ImportMapIn):
    """Change the column mapping and validate again."""
    options = {"match": payload.match} if payload.match is not None else None
    mapping = {header: key or "" for header, key in payload.mapping.items()}
    job = services.import_job_map(actor=request.user, job_id=job_id, mapping=mapping, options=options)
    return 202, _job_out(job)


@router.post("/imports/{job_id}/commit", response={202: ImportJobOut, **WRITE})
def commit_import(request: HttpRequest, job_id: int):
    """Commit a job in state `ready`: all rows or none (409 if it is in any other state)."""
    return 202, _job_out(services.import_job_commit(actor=request.user, job_id=job_id))


@router.post("/imports/{job_id}/retry", response={202: ImportJobOut, **WRITE})
def retry_import(request: HttpRequest, job_id: int):
    """Run a failed (or stalled) job again."""
    return 202, _job_out(services.import_job_retry(actor=request.user, job_id=job_id))


@router.get("/imports/{job_id}/errors.xlsx", response={200: None, **READ})
def import_errors_xlsx(request: HttpRequest, job_id: int):
    """The per-row error report: the rows with errors as uploaded, with their messages, and a list of errors."""
    job = selectors.import_job_get(user=request.user, job_id=job_id)
    return report.xlsx_response(report.error_report(job), f"import-{job.pk}-errors.xlsx")


def _json_object(raw: str, field: str) -> dict:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValidationError({field: _("Not valid JSON.")}) from exc
    if not isinstance(value, dict):
        raise ValidationError({field: _('Give the mapping as an object: {"column": "field"}.')})
    return value


def _job_out(job: ImportJob, *, errors_limit: int = 1000) -> dict:
    errors = list(selectors.import_errors(job=job)[:errors_limit]) if errors_limit and job.error_count else []
    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "format": job.format,
        "original_name": job.original_name,
        "headers": job.headers,
        "mapping": job.mapping,
        "options": {key: value for key, value in job.options.items() if key != "language"},
        "commit_requested": job.commit_requested,
        "rows": {
            "total": job.total_rows,
            "valid": job.valid_rows,
            "invalid": job.invalid_rows,
            "created": job.created_count,
            "updated": job.updated_count,
            "unchanged": job.unchanged_count,
        },
        "summary": job.summary,
        "progress": job.progress,
        "error": job.error_message,
        "error_count": job.error_count,
        "errors": errors,
        "errors_truncated": job.error_count > len(errors),
        "preview": job.preview,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "finished_at": job.finished_at,
    }
