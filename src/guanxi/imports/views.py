"""Import pages (htmx): upload → column mapping → validation → preview and error report → commit; job progress."""

import io
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openpyxl import Workbook

from guanxi.core.errors import Conflict
from guanxi.core.spreadsheets import xlsx_row
from guanxi.imports import registry, report, selectors, services
from guanxi.imports.models import ImportJob

WAITING_FOR_WORKER = timedelta(seconds=10)
SHOWN_ERRORS = 200


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    """The user's import jobs and the upload form. A POST uploads: the job then waits for its column mapping."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            job = services.import_job_create(
                actor=request.user,
                kind=request.POST.get("kind", ""),
                upload=request.FILES.get("file"),
                validate=False,
            )
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"file": exc.messages}
        else:
            return redirect("imports:job", job.pk)
    importers = [i for i in registry.all_importers() if request.user.has_perm(i.permission)]
    context = {
        "jobs": selectors.import_job_list(user=request.user),
        "importers": importers,
        "errors": errors,
        "chosen_kind": request.POST.get("kind") or (importers[0].kind if importers else ""),
    }
    return render(request, "imports/list.html", context, status=422 if errors else 200)


@login_required
def import_job(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.import_job_get(user=request.user, job_id=job_id)
    return render(request, "imports/job.html", _job_context(request, job))


@login_required
def import_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress fragment polled by the job page; when the job stops running the page reloads for the result."""
    job = selectors.import_job_get(user=request.user, job_id=job_id)
    if not job.running:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "imports/_progress.html", _job_context(request, job, with_rows=False))


@login_required
@require_POST
def import_map(request: HttpRequest, job_id: int) -> HttpResponse:
    """Save the column mapping (remembered for next time) and validate."""
    job = selectors.import_job_get(user=request.user, job_id=job_id)
    mapping = {header: request.POST.get(f"column-{index}", "") for index, header in enumerate(job.headers) if header}
    options = {"match": request.POST.getlist("match")} if "match-shown" in request.POST else None
    try:
        services.import_job_map(actor=request.user, job_id=job.pk, mapping=mapping, options=options)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect("imports:job", job.pk)


@login_required
@require_POST
def import_commit(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        services.import_job_commit(actor=request.user, job_id=job_id)
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect("imports:job", job_id)


@login_required
@require_POST
def import_retry(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        services.import_job_retry(actor=request.user, job_id=job_id)
    except Conflict as exc:
        messages.error(request, str(exc))
    return redirect("imports:job", job_id)


@login_required
def import_errors_xlsx(request: HttpRequest, job_id: int) -> HttpResponse:
    job = selectors.import_job_get(user=request.user, job_id=job_id)
    return report.xlsx_response(report.error_report(job), f"import-{job.pk}-errors.xlsx")


@login_required
def import_template(request: HttpRequest, kind: str) -> HttpResponse:
    """An empty workbook whose header row names every field of `kind`, in the user's language."""
    importer = registry.get(kind)
    if importer is None:
        raise Http404
    if not request.user.has_perm(importer.permission):
        raise PermissionDenied
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(importer.label))
    sheet.append(xlsx_row(sheet, [str(field.label) for field in importer.fields]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return report.xlsx_response(buffer.getvalue(), f"{kind}-template.xlsx")


def _job_context(request: HttpRequest, job: ImportJob, *, with_rows: bool = True) -> dict:
    importer = registry.get(job.kind)
    fields = list(importer.fields) if importer else []
    labels = {field.key: str(field.label) for field in fields}
    context = {
        "job": job,
        "importer": importer,
        "stalled": services.stalled(job),
        "waiting": job.running and job.claimed_at is None and timezone.now() - job.updated_at > WAITING_FOR_WORKER,
    }
    if not with_rows:
        return context
    editable = job.state in (ImportJob.State.MAPPING, ImportJob.State.INVALID, ImportJob.State.READY)
    editable = editable or job.state == ImportJob.State.FAILED
    samples = selectors.import_job_samples(job=job) if editable else []
    columns = [
        {
            "index": index,
            "header": header,
            "field": job.mapping.get(header, ""),
            "samples": [row[index] for row in samples if index < len(row) and row[index]],
        }
        for index, header in enumerate(job.headers)
        if header
    ]
    preview_keys = [field.key for field in fields if any(field.key in row["values"] for row in job.preview)]
    context.update(
        editable=editable,
        fields=fields,
        columns=columns,
        match_choices=_match_choices(job),
        errors=list(selectors.import_errors(job=job)[:SHOWN_ERRORS]) if job.error_count else [],
        preview_columns=[(key, labels[key]) for key in preview_keys],
        preview_rows=[
            {"row": row["row"], "action": row["action"], "cells": [row["values"].get(key, "") for key in preview_keys]}
            for row in job.preview
        ],
        actions={"create": _("New"), "update": _("Update"), "unchanged": _("Unchanged"), "error": _("Error")},
    )
    return context


def _match_choices(job: ImportJob) -> list[dict]:
    """The identifiers that find existing customers (customers imports only), checked as the job has them."""
    importer = registry.get(job.kind)
    if importer is None or "match" not in importer.default_options:
        return []
    chosen = job.options.get("match") or importer.default_options["match"]
    labels = {field.key: str(field.label) for field in importer.fields}
    keys = importer.default_options["match"]
    return [{"key": key, "label": labels.get(key, key), "checked": key in chosen} for key in keys]
