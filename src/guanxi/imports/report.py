"""The per-row error report of a job as XLSX: the rows with errors as uploaded (fix them and upload again) plus one
line per error."""

import io
from pathlib import Path

from django.http import HttpResponse
from django.utils.translation import gettext as _
from openpyxl import Workbook

from guanxi.core.spreadsheets import xlsx_row
from guanxi.imports import readers, registry, selectors
from guanxi.imports.models import ImportJob
from guanxi.imports.values import text

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def error_report(job: ImportJob) -> bytes:
    errors = list(selectors.import_errors(job=job))
    by_row: dict[int, list[str]] = {}
    for error in errors:
        by_row.setdefault(error.row, []).append(f"{error.column or error.field}: {error.message}")
    workbook = Workbook(write_only=True)
    rows = workbook.create_sheet(_("Rows with errors"))
    rows.append(xlsx_row(rows, [_("Row"), *job.headers, _("Errors")]))
    importer = registry.get(job.kind)
    if job.file and importer is not None and by_row:
        table = readers.open_table(Path(job.file.path), job.format, importer, header_row=job.header_row or None)
        width = len(job.headers)
        for number, cells in table.rows():
            if number in by_row:
                values = [text(cell) for cell in list(cells)[:width]]
                values += [""] * (width - len(values))
                rows.append(xlsx_row(rows, [number, *values, "; ".join(by_row[number])]))
    listing = workbook.create_sheet(_("Errors"))
    listing.append(xlsx_row(listing, [_("Row"), _("Column"), _("Field"), _("Value"), _("Message")]))
    for error in errors:
        listing.append(xlsx_row(listing, [error.row, error.column, error.field, error.value, error.message]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
