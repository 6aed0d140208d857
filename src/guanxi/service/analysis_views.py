"""The complaint analysis page (F4): filters, ECharts charts (static analysis.js, data in a JSON block: the CSP allows
no inline script), the figures as tables, and the XLSX and CSV exports of the same figures."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from guanxi.core.permissions import require
from guanxi.service import analysis, selectors
from guanxi.service.analysis_export import analysis_csv, analysis_xlsx


def _filters(request: HttpRequest) -> tuple[analysis.AnalysisFilters, dict[str, list[str]]]:
    params = request.GET
    try:
        return analysis.filters_from(
            date_from=params.get("from"),
            date_to=params.get("to"),
            team=params.get("team"),
            repeat_days=params.get("repeat_days"),
        ), {}
    except ValidationError as exc:
        return analysis.filters_from(date_from=None, date_to=None, team=None, repeat_days=None), exc.message_dict


def _chart_labels() -> dict[str, str]:
    """The words the charts show (translated here: analysis.js has no catalog)."""
    return {
        "tickets": _("Tickets"),
        "response_met": _("Response met"),
        "response_breached": _("Response missed"),
        "resolution_met": _("Resolution met"),
        "resolution_breached": _("Resolution missed"),
        "response_rate": _("Response attainment (%)"),
        "resolution_rate": _("Resolution attainment (%)"),
        "complaints": _("Complaints"),
        "repeats": _("Repeats"),
        "satisfaction": _("Average satisfaction (1–5)"),
        "visits": _("Return visits"),
    }


@login_required
def analysis_page(request: HttpRequest) -> HttpResponse:
    require(request.user, "service.view_ticket")
    filters, errors = _filters(request)
    result = analysis.complaint_analysis(user=request.user, filters=filters)
    query = request.GET.copy()
    context = {
        "analysis": result,
        "filters": filters,
        "errors": errors,
        "teams": selectors.handover_teams(user=request.user),
        "chart_data": {**result.as_dict(), "labels": _chart_labels()},
        "query": query.urlencode(),
    }
    return render(request, "service/analysis.html", context)


EXPORTS = {
    "xlsx": (analysis_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": (analysis_csv, "text/csv; charset=utf-8"),
}


@login_required
def analysis_export(request: HttpRequest, fmt: str = "xlsx") -> HttpResponse:
    """The page's figures (same filters, same scope) as XLSX or CSV."""
    require(request.user, "service.view_ticket")
    filters, _errors = _filters(request)
    write, content_type = EXPORTS[fmt]
    response = HttpResponse(write(analysis.complaint_analysis(user=request.user, filters=filters)), content_type)
    name = f"complaint-analysis-{filters.date_from:%Y%m%d}-{filters.date_to:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
