"""Work reports (D3, 工作报告): a user's daily or weekly report, assembled from their activities of the period plus
their own words, submitted to the team lead, reviewed with a comment, exportable as XLSX.

draft ──submit──▶ submitted ──review──▶ reviewed
  ▲                   │
  └─────return────────┘  (the reviewer sends it back with a comment)

Only the author edits and submits (while draft); someone else with `activities.review_workreport` whose record scope
holds the report reviews it. Other people's drafts are invisible. Every write is versioned (409 when stale) and audited.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from io import BytesIO

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.activities.calendar import local_midnight, of_people
from guanxi.activities.models import Activity, WorkReport
from guanxi.core import audit
from guanxi.core.errors import Conflict
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.permissions import require
from guanxi.core.scope import restrict
from guanxi.core.selectors import org_unit_of
from guanxi.core.spreadsheets import xlsx_row
from guanxi.core.versioning import check_version, save_if_version

TEXT_FIELDS = ("summary", "plans", "problems")
TEXT_LIMIT = 10_000


@dataclass
class ReportFilters:
    author_id: int | None = None
    team_id: int | None = None
    status: str | None = None
    period: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def apply(self, reports: QuerySet[WorkReport]) -> QuerySet[WorkReport]:
        if self.author_id is not None:
            reports = reports.filter(author_id=self.author_id)
        if self.team_id is not None:
            from guanxi.core.models import OrgUnit

            unit = OrgUnit.objects.filter(pk=self.team_id).first()
            reports = reports.filter(org_unit_id__in=unit.subtree_ids() if unit else [])
        if self.status:
            reports = reports.filter(status=self.status)
        if self.period:
            reports = reports.filter(period=self.period)
        if self.date_from:
            reports = reports.filter(period_end__gte=self.date_from)
        if self.date_to:
            reports = reports.filter(period_start__lte=self.date_to)
        return reports


# --- periods -------------------------------------------------------------------------------------------------------


def period_bounds(period: str, day: date) -> tuple[date, date]:
    """First and last day (inclusive) of the daily or weekly (Monday–Sunday) period containing `day`."""
    if period == WorkReport.Period.DAILY:
        return day, day
    if period == WorkReport.Period.WEEKLY:
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    raise ValidationError({"period": _("Choose one of: %(choices)s.") % {"choices": ", ".join(WorkReport.Period)}})


def period_activities(*, author, start: date, end: date) -> QuerySet[Activity]:
    """The author's activities (owned or taken part in) that happened or were planned in [start, end]."""
    from guanxi.activities import selectors

    return (
        selectors.activity_queryset(user=author)
        .filter(of_people([author.pk]))
        .filter(happened_at__gte=local_midnight(start), happened_at__lt=local_midnight(end + timedelta(days=1)))
        .select_related("customer")
        .order_by("happened_at", "id")
    )


def activity_item(activity: Activity) -> dict:
    """What a report keeps of an activity (also the snapshot taken on submission)."""
    return {
        "id": activity.pk,
        "kind": activity.kind,
        "subject": activity.subject,
        "customer_id": activity.customer_id,
        "customer": activity.customer.name if activity.customer_id else "",
        "status": activity.status,
        "at": timezone.localtime(activity.happened_at).isoformat(),
        "outcome": activity.outcome,
        "next_step": activity.next_step,
    }


def report_items(report: WorkReport) -> list[dict]:
    """The activities of a report: frozen once submitted, live while a draft."""
    if report.status != WorkReport.Status.DRAFT:
        return report.activity_snapshot
    activities = period_activities(author=report.author, start=report.period_start, end=report.period_end)
    return [activity_item(a) for a in activities]


def items_summary(items: list[dict]) -> dict[str, dict[str, int]]:
    """{kind: {"done": n, "planned": n, "cancelled": n}} over the items."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"done": 0, "planned": 0, "cancelled": 0})
    for item in items:
        counts[item["kind"]][item["status"]] += 1
    return dict(counts)


# --- reads ---------------------------------------------------------------------------------------------------------


def report_queryset(*, user) -> QuerySet[WorkReport]:
    """Reports in the user's record scope (author = owner, the author's unit = unit); others' drafts only once they
    were submitted and sent back (they have a reviewer). None without activities.view_workreport (the analyst)."""
    if not user.has_perm("activities.view_workreport"):
        return WorkReport.objects.none()
    reports = restrict(WorkReport.objects.all(), user, owner_field="author", unit_field="org_unit")
    return reports.filter(Q(author_id=user.pk) | ~Q(status=WorkReport.Status.DRAFT) | Q(reviewer__isnull=False))


def report_list(*, user, filters: ReportFilters, cursor: str | None = None, limit: int = 50) -> Page:
    reports = filters.apply(report_queryset(user=user)).select_related("author", "org_unit", "reviewer")
    return keyset_page(reports, ordering="-period_start", cursor=cursor, limit=limit)


def report_get(*, user, report_id: int) -> WorkReport:
    report = report_queryset(user=user).select_related("author", "org_unit", "reviewer").filter(pk=report_id).first()
    if report is None:
        raise Http404
    return report


# --- writes --------------------------------------------------------------------------------------------------------


def report_create(*, actor, period: str, day: date, data: dict | None = None) -> WorkReport:
    """A draft report of the actor for the period containing `day`; 409 when they already have one."""
    require(actor, "activities.add_workreport")
    start, end = period_bounds(period, day)
    report = WorkReport(author=actor, org_unit=org_unit_of(actor), period=period, period_start=start, period_end=end)
    for name, value in _texts(data or {}).items():
        setattr(report, name, value)
    try:
        with transaction.atomic():
            report.save()
            audit.record(actor=actor, action="create", instance=report, changes=audit.diff({}, audit.snapshot(report)))
    except IntegrityError as exc:
        raise Conflict(_("You already have a report for this period.")) from exc
    return report


def report_update(*, actor, report_id: int, version: int, data: dict) -> WorkReport:
    """Change the free text of a draft (author only)."""
    require(actor, "activities.change_workreport")
    texts = _texts(data)
    with transaction.atomic():
        report = _own_draft(actor, report_id)
        check_version(report, version)
        before = audit.snapshot(report, list(texts))
        for name, value in texts.items():
            setattr(report, name, value)
        changes = audit.diff(before, audit.snapshot(report, list(texts)))
        if changes:
            save_if_version(report, version, list(changes))
            audit.record(actor=actor, action="update", instance=report, changes=changes)
    return report


def report_submit(*, actor, report_id: int, version: int) -> WorkReport:
    """Hand the draft to the team lead; its activities are frozen as they are now."""
    require(actor, "activities.change_workreport")
    with transaction.atomic():
        report = _own_draft(actor, report_id)
        check_version(report, version)
        if not (report.summary.strip() or report.plans.strip() or report.problems.strip()):
            raise ValidationError({"summary": _("Write a summary before submitting.")})
        report.activity_snapshot = report_items(report)
        report.status = WorkReport.Status.SUBMITTED
        report.submitted_at = timezone.now()
        save_if_version(report, version, ["activity_snapshot", "status", "submitted_at"])
        audit.record(
            actor=actor,
            action="submit",
            instance=report,
            changes={"status": ["draft", "submitted"], "activities": [None, len(report.activity_snapshot)]},
        )
    return report


def report_review(*, actor, report_id: int, version: int, comment: str, decision: str = "reviewed") -> WorkReport:
    """Review a submitted report with a comment (`decision` "reviewed"), or send it back to a draft ("returned")."""
    require(actor, "activities.review_workreport")
    if decision not in ("reviewed", "returned"):
        raise ValidationError({"decision": _("Choose one of: %(choices)s.") % {"choices": "reviewed, returned"}})
    comment = (comment or "").strip()
    if decision == "returned" and not comment:
        raise ValidationError({"comment": _("Say why the report goes back.")})
    if len(comment) > TEXT_LIMIT:
        raise ValidationError({"comment": _("Enter at most %(max)s characters.") % {"max": TEXT_LIMIT}})
    with transaction.atomic():
        report = report_get(user=actor, report_id=report_id)
        if report.author_id == actor.pk:
            raise PermissionDenied(_("You cannot review your own report."))
        check_version(report, version)
        if report.status != WorkReport.Status.SUBMITTED:
            raise Conflict(_("Only a submitted report can be reviewed."))
        report.review_comment = comment
        report.reviewer = actor
        report.reviewed_at = timezone.now()
        report.status = WorkReport.Status.REVIEWED if decision == "reviewed" else WorkReport.Status.DRAFT
        if decision == "returned":
            report.activity_snapshot = []
            report.submitted_at = None
        save_if_version(
            report,
            version,
            ["review_comment", "reviewer", "reviewed_at", "status", "activity_snapshot", "submitted_at"],
        )
        audit.record(
            actor=actor,
            action="review" if decision == "reviewed" else "return",
            instance=report,
            changes={"status": ["submitted", report.status], "review_comment": [None, comment]},
        )
    return report


def _texts(data: dict) -> dict[str, str]:
    texts = {}
    for name in TEXT_FIELDS:
        if name in data and data[name] is not None:
            value = str(data[name]).strip()
            if len(value) > TEXT_LIMIT:
                raise ValidationError({name: _("Enter at most %(max)s characters.") % {"max": TEXT_LIMIT}})
            texts[name] = value
    return texts


def _own_draft(actor, report_id: int) -> WorkReport:
    report = report_get(user=actor, report_id=report_id)
    if report.author_id != actor.pk:
        raise PermissionDenied(_("Only the author can change a report."))
    if report.status != WorkReport.Status.DRAFT:
        raise Conflict(_("A submitted report cannot be changed."))
    return report


# --- export --------------------------------------------------------------------------------------------------------

EXPORT_LIMIT = 5000


def reports_xlsx(*, user, filters: ReportFilters) -> bytes:
    """The reports the user may see (filtered) as XLSX: one sheet of reports, one of their activities."""
    from openpyxl import Workbook

    reports = list(
        filters.apply(report_queryset(user=user))
        .select_related("author", "org_unit", "reviewer")
        .order_by("-period_start", "-id")[:EXPORT_LIMIT]
    )
    drafts = _draft_items(reports)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Reports"))
    sheet.append(
        xlsx_row(
            sheet,
            [
                _("No."),
                _("Author"),
                _("Team"),
                _("Period"),
                _("From"),
                _("To"),
                _("Status"),
                _("Summary"),
                _("Plans"),
                _("Problems"),
                _("Submitted"),
                _("Reviewer"),
                _("Reviewed"),
                _("Review comment"),
            ],
        )
    )
    for report in reports:
        sheet.append(
            xlsx_row(
                sheet,
                [
                    report.pk,
                    _name(report.author),
                    report.org_unit.name if report.org_unit else "",
                    report.get_period_display(),
                    report.period_start,
                    report.period_end,
                    report.get_status_display(),
                    report.summary,
                    report.plans,
                    report.problems,
                    _local(report.submitted_at),
                    _name(report.reviewer) if report.reviewer else "",
                    _local(report.reviewed_at),
                    report.review_comment,
                ],
            )
        )
    kinds = dict(Activity.Kind.choices)
    statuses = dict(Activity.Status.choices)
    activities = book.create_sheet(_("Activities"))
    activities.append(
        xlsx_row(
            activities,
            [
                _("Report"),
                _("Author"),
                _("Time"),
                _("Kind"),
                _("Subject"),
                _("Customer"),
                _("Status"),
                _("Outcome"),
                _("Next step"),
            ],
        )
    )
    for report in reports:
        items = drafts.get(report.pk) if report.status == WorkReport.Status.DRAFT else report.activity_snapshot
        for item in items or []:
            activities.append(
                xlsx_row(
                    activities,
                    [
                        report.pk,
                        _name(report.author),
                        datetime.fromisoformat(item["at"]).replace(tzinfo=None),
                        str(kinds.get(item["kind"], item["kind"])),
                        item["subject"],
                        item["customer"],
                        str(statuses.get(item["status"], item["status"])),
                        item["outcome"],
                        item["next_step"],
                    ],
                )
            )
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _draft_items(reports: list[WorkReport]) -> dict[int, list[dict]]:
    """Live items of the draft reports in one query per author (drafts are only ever the exporter's own)."""
    found: dict[int, list[dict]] = {}
    drafts = [r for r in reports if r.status == WorkReport.Status.DRAFT]
    by_author: dict[int, list[WorkReport]] = defaultdict(list)
    for report in drafts:
        by_author[report.author_id].append(report)
    for author_reports in by_author.values():
        author = author_reports[0].author
        start = min(r.period_start for r in author_reports)
        end = max(r.period_end for r in author_reports)
        items = [activity_item(a) for a in period_activities(author=author, start=start, end=end)]
        for report in author_reports:
            found[report.pk] = [
                i for i in items if report.period_start <= date.fromisoformat(i["at"][:10]) <= report.period_end
            ]
    return found


def _name(user) -> str:
    return user.get_full_name() or user.username


def _local(value: datetime | None):
    return timezone.localtime(value) if value else None
