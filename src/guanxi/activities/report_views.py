"""Work report pages (D3): my reports and the ones to review, one report (write, submit, review), XLSX export."""

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.activities import reports
from guanxi.activities.models import Activity, WorkReport
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.pagination import BadCursor


def _filters(params) -> reports.ReportFilters:
    def day(name):
        try:
            return date.fromisoformat(params.get(name, ""))
        except ValueError:
            return None

    status = params.get("status")
    period = params.get("period")
    author = params.get("author", "")
    return reports.ReportFilters(
        author_id=int(author) if author.isdigit() else None,
        status=status if status in WorkReport.Status.values else None,
        period=period if period in WorkReport.Period.values else None,
        date_from=day("date_from"),
        date_to=day("date_to"),
    )


@login_required
def report_list_page(request: HttpRequest) -> HttpResponse:
    filters = _filters(request.GET)
    try:
        page = reports.report_list(user=request.user, filters=filters, cursor=request.GET.get("cursor"), limit=50)
    except BadCursor:
        page = reports.report_list(user=request.user, filters=filters, limit=50)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "page": page,
        "filters": filters,
        "query": query.urlencode(),
        "statuses": WorkReport.Status.choices,
        "periods": WorkReport.Period.choices,
        "today": timezone.localdate(),
        "can_review": request.user.has_perm("activities.review_workreport"),
    }
    return render(request, "activities/report_list.html", context)


@login_required
@require_POST
def report_create(request: HttpRequest) -> HttpResponse:
    try:
        day = date.fromisoformat(request.POST.get("day", ""))
    except ValueError:
        messages.error(request, _("Enter a valid date (YYYY-MM-DD)."))
        return redirect("activities:reports")
    try:
        report = reports.report_create(actor=request.user, period=request.POST.get("period", ""), day=day)
    except (ValidationError, PermissionDenied, Conflict) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("activities:reports")
    return redirect("activities:report_detail", report_id=report.pk)


@login_required
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    report = reports.report_get(user=request.user, report_id=report_id)
    if request.method == "POST":
        return _act(request, report)
    items = reports.report_items(report)
    kinds = dict(Activity.Kind.choices)
    statuses = dict(Activity.Status.choices)
    rows = [
        {
            **item,
            "kind_label": kinds.get(item["kind"], item["kind"]),
            "status_label": statuses.get(item["status"], item["status"]),
            "at_display": item["at"][:16].replace("T", " "),
        }
        for item in items
    ]
    counts = [
        (kinds.get(kind, kind), numbers["done"], numbers["planned"], numbers["cancelled"])
        for kind, numbers in reports.items_summary(items).items()
    ]
    context = {
        "report": report,
        "items": rows,
        "counts": counts,
        "editable": report.author_id == request.user.pk and report.status == WorkReport.Status.DRAFT,
        "reviewable": report.author_id != request.user.pk
        and report.status == WorkReport.Status.SUBMITTED
        and request.user.has_perm("activities.review_workreport"),
    }
    return render(request, "activities/report_detail.html", context)


def _act(request: HttpRequest, report: WorkReport) -> HttpResponse:
    """Save, submit or review, with the version the page was drawn with (a stale page gets a message, not a
    silent overwrite)."""
    action = request.POST.get("action")
    version = int(request.POST.get("version") or 0)
    try:
        if action in ("save", "submit"):
            data = {name: request.POST.get(name, "") for name in reports.TEXT_FIELDS}
            report = reports.report_update(actor=request.user, report_id=report.pk, version=version, data=data)
            if action == "submit":
                reports.report_submit(actor=request.user, report_id=report.pk, version=report.version)
                messages.success(request, _("The report was submitted."))
            else:
                messages.success(request, _("Saved."))
        elif action in ("reviewed", "returned"):
            reports.report_review(
                actor=request.user,
                report_id=report.pk,
                version=version,
                comment=request.POST.get("comment", ""),
                decision=action,
            )
            messages.success(request, _("The review was saved."))
    except StaleVersion:
        messages.error(request, str(StaleVersion.message))
    except (ValidationError, PermissionDenied, Conflict) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("activities:report_detail", report_id=report.pk)


@login_required
def report_export(request: HttpRequest) -> HttpResponse:
    body = reports.reports_xlsx(user=request.user, filters=_filters(request.GET))
    response = HttpResponse(body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = 'attachment; filename="work-reports.xlsx"'
    return response
