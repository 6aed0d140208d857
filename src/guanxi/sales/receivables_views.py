"""Receivables page: overdue instalments aged in buckets, and overdue totals per customer, owner or team."""

import csv

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.spreadsheets import csv_cell
from guanxi.sales import receivables


@login_required
def receivable_list(request: HttpRequest) -> HttpResponse:
    group_by = (
        request.GET.get("group_by") if request.GET.get("group_by") in ("customer", "owner", "team") else "customer"
    )
    rows = receivables.overdue_instalments(user=request.user)
    totals = receivables.overdue_totals(rows)
    return render(
        request,
        "sales/receivable_list.html",
        {
            "rows": rows,
            "buckets": [(key, label, totals[key]) for key, label, *_ in receivables.BUCKETS],
            "total": sum(totals.values(), receivables.ZERO),
            "summary": receivables.ageing_summary(user=request.user, group_by=group_by),
            "group_by": group_by,
        },
    )


@login_required
def receivable_export(request: HttpRequest) -> HttpResponse:
    """The overdue instalments the user may see as CSV (UTF-8 with BOM, so Excel opens the Chinese text)."""
    rows = receivables.overdue_instalments(user=request.user)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="overdue-{timezone.localdate():%Y%m%d}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(
        [
            _("contract number"),
            _("customer"),
            _("owner"),
            _("instalment"),
            _("due date"),
            _("amount"),
            _("paid"),
            _("outstanding"),
            _("days overdue"),
        ]
    )
    for row in rows:
        writer.writerow(
            csv_cell(value)
            for value in (
                row.contract.number,
                row.contract.customer.name,
                row.contract.owner.username,
                row.sequence,
                row.due_date,
                row.amount,
                row.paid_amount,
                row.outstanding,
                row.days_overdue,
            )
        )
    return response
