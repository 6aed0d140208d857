"""The complaint analysis as XLSX (one sheet per figure) or CSV (one block per figure): the numbers the page's charts
show (service.analysis), cell text never taken for a formula (core.spreadsheets)."""

import csv
from io import BytesIO, StringIO

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from guanxi.core.spreadsheets import csv_cell, xlsx_row
from guanxi.service.analysis import Analysis

Table = tuple[str, list[str], list[list]]  # title, header, rows


def analysis_tables(analysis: Analysis) -> list[Table]:
    """Every figure as a table, in the page's order: what both formats write."""
    f = analysis.filters
    tables: list[Table] = [
        (
            pgettext("analysis", "Summary"),
            [_("From"), _("To"), _("Tickets"), _("Reopens"), _("Repeat window (days)")],
            [[f.date_from, f.date_to, analysis.total, analysis.reopens, f.repeat_days]],
        )
    ]
    for title, rows in (
        (_("By type"), analysis.by_type),
        (_("By cause"), analysis.by_cause),
        (_("By channel"), analysis.by_channel),
        (_("By priority"), analysis.by_priority),
        (_("By customer grade"), analysis.by_grade),
        (_("By team"), analysis.by_team),
        (_("By month"), analysis.by_month),
    ):
        tables.append((title, [title, _("Tickets")], [[row["label"], row["count"]] for row in rows]))
    sla_header = [
        "",
        _("Response met"),
        _("Response missed"),
        _("Response attainment (%)"),
        _("Resolution met"),
        _("Resolution missed"),
        _("Resolution attainment (%)"),
    ]
    sla_columns = (
        "label",
        "response_met",
        "response_breached",
        "response_rate",
        "resolution_met",
        "resolution_breached",
        "resolution_rate",
    )
    for title, rows in ((_("SLA by month"), analysis.sla_by_month), (_("SLA by team"), analysis.sla_by_team)):
        tables.append((title, sla_header, [[row[name] for name in sla_columns] for row in rows]))
    tables.append(
        (
            _("Reopens by month"),
            [_("Month"), _("Reopens")],
            [[row["label"], row["count"]] for row in analysis.reopens_by_month],
        )
    )
    repeats = analysis.repeats
    tables.append(
        (
            _("Repeat complaints"),
            [_("Month"), _("Complaints"), _("Repeats")],
            [[row["label"], row["complaints"], row["repeats"]] for row in repeats["by_month"]]
            + [[_("Total"), repeats["complaints"], repeats["repeats"]]],
        )
    )
    tables.append(
        (
            _("Repeats by cause"),
            [_("Cause"), _("Repeats")],
            [[row["label"], row["count"]] for row in repeats["by_cause"]],
        )
    )
    tables.append(
        (
            _("Satisfaction"),
            [_("Month"), _("Return visits"), _("Average satisfaction (1–5)")],
            [[row["label"], row["visits"], row["satisfaction"]] for row in analysis.satisfaction_by_month],
        )
    )
    return tables


def analysis_xlsx(analysis: Analysis) -> bytes:
    """The analysis as XLSX: one sheet per figure."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for title, header, rows in analysis_tables(analysis):
        page = book.create_sheet(title[:31])
        page.append(xlsx_row(page, header))
        for row in rows:
            page.append(xlsx_row(page, row))
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def analysis_csv(analysis: Analysis) -> bytes:
    """The analysis as CSV: per figure its title, its header, its rows and an empty line; UTF-8 with a BOM so Excel
    shows Chinese correctly."""
    buffer = StringIO()
    writer = csv.writer(buffer)
    for title, header, rows in analysis_tables(analysis):
        for row in ([title], header, *rows):
            writer.writerow([csv_cell(value) for value in row])
        writer.writerow([])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
