"""Complaint analysis (F4) under /api/v1/tickets/analysis (tag "service"): the figures of service.analysis as JSON."""

from django.http import HttpRequest
from ninja import Router, Schema

from guanxi.core.permissions import require
from guanxi.core.schemas import ErrorOut
from guanxi.service import analysis

router = Router(tags=["service"])


class AnalysisCountOut(Schema):
    key: int | str | None
    label: str
    count: int


class AnalysisSlaOut(Schema):
    key: int | str | None
    label: str
    response_met: int
    response_breached: int
    response_rate: float | None
    resolution_met: int
    resolution_breached: int
    resolution_rate: float | None


class AnalysisRepeatMonthOut(Schema):
    key: str
    label: str
    complaints: int
    repeats: int


class AnalysisRepeatsOut(Schema):
    days: int
    complaints: int
    repeats: int
    rate: float | None
    by_month: list[AnalysisRepeatMonthOut]
    by_cause: list[AnalysisCountOut]


class AnalysisSatisfactionOut(Schema):
    key: str
    label: str
    visits: int
    satisfaction: float


class AnalysisOut(Schema):
    filters: dict
    total: int
    by_type: list[AnalysisCountOut]
    by_cause: list[AnalysisCountOut]
    by_channel: list[AnalysisCountOut]
    by_priority: list[AnalysisCountOut]
    by_grade: list[AnalysisCountOut]
    by_team: list[AnalysisCountOut]
    by_month: list[AnalysisCountOut]
    sla_by_month: list[AnalysisSlaOut]
    sla_by_team: list[AnalysisSlaOut]
    reopens: int
    reopens_by_month: list[AnalysisCountOut]
    repeats: AnalysisRepeatsOut
    satisfaction_by_month: list[AnalysisSatisfactionOut]


@router.get("/tickets/analysis", response={200: AnalysisOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut})
def ticket_analysis(request: HttpRequest):
    """Tickets you may see, created from `from` to `to` (YYYY-MM-DD, both included; default the last twelve months),
    of one `team` if given: counts by type, cause, channel, priority, customer grade (the one the ticket's SLA was
    taken from), team and month; SLA attainment by month and team; reopens by month; repeat complaints within
    `repeat_days` (default 30); the return-visit satisfaction trend."""
    require(request.user, "service.view_ticket")
    params = request.GET
    filters = analysis.filters_from(
        date_from=params.get("from"),
        date_to=params.get("to"),
        team=params.get("team"),
        repeat_days=params.get("repeat_days"),
    )
    return analysis.complaint_analysis(user=request.user, filters=filters).as_dict()
