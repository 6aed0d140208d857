"""Receivables page: overdue instalments aged in buckets, and overdue totals per customer, owner or team."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from guanxi.sales import receivables


@login_required
def receivable_list(request: HttpRequest) -> HttpResponse:
    group_by = (
        request.GET.get("group_by") if request.GET.get("group_by") in ("customer", "owner", "team") else "customer"
    )
    rows = receivables.overdue_instalments(user=request.user)
    totals = {
        key: sum((r.outstanding for r in rows if r.bucket == key), receivables.ZERO) for key, *_ in receivables.BUCKETS
    }
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
