"""API of work reports (D3): write, submit, review, export (router tag "activities")."""

from datetime import date, datetime
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from guanxi.activities import reports
from guanxi.activities.models import WorkReport
from guanxi.activities.schemas import VersionIn
from guanxi.core.schemas import READ, WRITE

router = Router(tags=["activities"])

TEXT = Field(None, max_length=reports.TEXT_LIMIT)


class ReportIn(Schema):
    period: WorkReport.Period
    day: date = Field(..., description="Any day of the period (a weekly report runs Monday to Sunday)")
    summary: str | None = TEXT
    plans: str | None = TEXT
    problems: str | None = TEXT


class ReportPatch(Schema):
    version: int
    summary: str | None = TEXT
    plans: str | None = TEXT
    problems: str | None = TEXT


class ReviewIn(Schema):
    version: int
    comment: str = Field("", max_length=reports.TEXT_LIMIT)
    decision: Literal["reviewed", "returned"] = "reviewed"


class ItemOut(Schema):
    id: int
    kind: str
    subject: str
    customer_id: int | None
    customer: str
    status: str
    at: datetime
    outcome: str
    next_step: str


class ReportOut(Schema):
    id: int
    author_id: int
    author_name: str
    org_unit_id: int | None
    period: str
    period_start: date
    period_end: date
    status: str
    summary: str
    plans: str
    problems: str
    submitted_at: datetime | None
    reviewer_id: int | None
    reviewed_at: datetime | None
    review_comment: str
    version: int


class ReportDetailOut(ReportOut):
    activities: list[ItemOut]
    counts: dict[str, dict[str, int]] = Field(..., description="{kind: {done, planned, cancelled}}")


class ReportPage(Schema):
    items: list[ReportOut]
    next: str | None


class ReportQuery(Schema):
    author_id: int | None = None
    team: int | None = None
    status: WorkReport.Status | None = None
    period: WorkReport.Period | None = None
    date_from: date | None = None
    date_to: date | None = None
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)

    def filters(self) -> reports.ReportFilters:
        return reports.ReportFilters(
            author_id=self.author_id,
            team_id=self.team,
            status=self.status,
            period=self.period,
            date_from=self.date_from,
            date_to=self.date_to,
        )


def report_out(report: WorkReport) -> dict:
    return {
        **{name: getattr(report, name) for name in ReportOut.model_fields if hasattr(report, name)},
        "author_name": report.author.get_full_name() or report.author.username,
    }


def detail_out(report: WorkReport) -> dict:
    items = reports.report_items(report)
    return {**report_out(report), "activities": items, "counts": reports.items_summary(items)}


@router.get("/work-reports", response={200: ReportPage, **READ})
def list_reports(request: HttpRequest, query: Query[ReportQuery]):
    """Your reports and the submitted reports of the people in your scope, newest period first."""
    page = reports.report_list(user=request.user, filters=query.filters(), cursor=query.cursor, limit=query.limit)
    return {"items": [report_out(r) for r in page.items], "next": page.next}


@router.get("/work-reports/export", response={200: None, **READ})
def export_reports(request: HttpRequest, query: Query[ReportQuery]):
    """The reports of the list (same filters) as XLSX: a sheet of reports and a sheet of their activities."""
    body = reports.reports_xlsx(user=request.user, filters=query.filters())
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="work-reports.xlsx"'
    return response


@router.post("/work-reports", response={201: ReportDetailOut, **WRITE})
def create_report(request: HttpRequest, payload: ReportIn):
    """Start your report for the period containing `day` (409 when you already have one)."""
    report = reports.report_create(
        actor=request.user, period=payload.period, day=payload.day, data=payload.model_dump(exclude_unset=True)
    )
    return 201, detail_out(reports.report_get(user=request.user, report_id=report.pk))


@router.get("/work-reports/{report_id}", response={200: ReportDetailOut, **READ})
def get_report(request: HttpRequest, report_id: int):
    """A report with its activities (live while a draft, as submitted afterwards) and counts per kind."""
    return detail_out(reports.report_get(user=request.user, report_id=report_id))


@router.patch("/work-reports/{report_id}", response={200: ReportDetailOut, **WRITE})
def update_report(request: HttpRequest, report_id: int, payload: ReportPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    reports.report_update(actor=request.user, report_id=report_id, version=version, data=data)
    return detail_out(reports.report_get(user=request.user, report_id=report_id))


@router.post("/work-reports/{report_id}/submit", response={200: ReportDetailOut, **WRITE})
def submit_report(request: HttpRequest, report_id: int, payload: VersionIn):
    """Hand your draft to your team lead; its activities are frozen as they are now."""
    reports.report_submit(actor=request.user, report_id=report_id, version=payload.version)
    return detail_out(reports.report_get(user=request.user, report_id=report_id))


@router.post("/work-reports/{report_id}/review", response={200: ReportDetailOut, **WRITE})
def review_report(request: HttpRequest, report_id: int, payload: ReviewIn):
    """Review a submitted report of someone in your scope, or send it back (`decision` "returned", with a comment)."""
    reports.report_review(
        actor=request.user,
        report_id=report_id,
        version=payload.version,
        comment=payload.comment,
        decision=payload.decision,
    )
    return detail_out(reports.report_get(user=request.user, report_id=report_id))
