"""The complaint analysis as XLSX: one sheet per figure, the numbers the page's charts show (service.analysis)."""

from io import BytesIO

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from guanxi.core.spreadsheets import xlsx_row
from guanxi.service.analysis import Analysis


def analysis_xlsx(analysis: Analysis) -> bytes:
    """The analysis as XLSX: one sheet per figure."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    f = analysis.filters

    def sheet(title: str, header: list[str], rows: list[list]) -> None:
        page = book.create_sheet(title[:31])
        page.append(xlsx_row(page, header))
        for row in rows:
            page.append(xlsx_row(page, row))

    sheet(
        pgettext("analysis", "Summary"),
        [_("From"), _("To"), _("Tickets"), _("Repeat window (days)")],
        [[f.date_from, f.date_to, analysis.total, f.repeat_days]],
    )
    for title, rows in (
        (_("By type"), analysis.by_type),
        (_("By cause"), analysis.by_cause),
        (_("By channel"), analysis.by_channel),
        (_("By team"), analysis.by_team),
        (_("By month"), analysis.by_month),
    ):
        sheet(title, [title, _("Tickets")], [[row["label"], row["count"]] for row in rows])
    sla_header = [
        "",
        _("Response met"),
        _("Response missed"),
        _("Response attainment (%)"),
        _("Resolution met"),
        _("Resolution missed"),
        _("Resolution attainment (%)"),
    ]
    for title, rows in ((_("SLA by month"), analysis.sla_by_month), (_("SLA by team"), analysis.sla_by_team)):
        sheet(
            title,
            sla_header,
            [
                [
                    row["label"],
                    row["response_met"],
                    row["response_breached"],
                    row["response_rate"],
                    row["resolution_met"],
                    row["resolution_breached"],
                    row["resolution_rate"],
                ]
                for row in rows
            ],
        )
    repeats = analysis.repeats
    sheet(
        _("Repeat complaints"),
        [_("Month"), _("Complaints"), _("Repeats")],
        [[row["label"], row["complaints"], row["repeats"]] for row in repeats["by_month"]]
        + [[_("Total"), repeats["complaints"], repeats["repeats"]]],
    )
    sheet(
        _("Repeats by cause"),
        [_("Cause"), _("Repeats")],
        [[row["label"], row["count"]] for row in repeats["by_cause"]],
    )
    sheet(
        _("Satisfaction"),
        [_("Month"), _("Return visits"), _("Average satisfaction (1–5)")],
        [[row["label"], row["visits"], row["satisfaction"]] for row in analysis.satisfaction_by_month],
    )
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()
