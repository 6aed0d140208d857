"""Contract pages: list (and expiring), detail with transitions, attachments, payment plan and payments; forms."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.pagination import BadCursor
from guanxi.core.permissions import require
from guanxi.customers import selectors as customer_selectors
from guanxi.sales import contracts, contracts_files, receivables
from guanxi.sales.models import Contract, Payment
from guanxi.sales.quotes_views import decimal_or_none, report_errors

VERBS = {"sign": "signed", "activate": "active", "expire": "expired", "terminate": "terminated"}


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") if request.GET.get("status") in Contract.Status.values else None
    expiring = request.GET.get("expiring", "")
    if expiring.isdigit():
        items = list(contracts.expiring_contracts(user=request.user, within_days=min(int(expiring), 3660))[:500])
        page = None
    else:
        try:
            page = contracts.contract_list(user=request.user, status=status, cursor=request.GET.get("cursor"))
        except BadCursor:
            page = contracts.contract_list(user=request.user, status=status)
        items = page.items
    return render(
        request,
        "sales/contract_list.html",
        {"items": items, "page": page, "status": status, "statuses": Contract.Status.choices, "expiring": expiring},
    )


@login_required
def contract_detail(request: HttpRequest, contract_id: int) -> HttpResponse:
    contract = contracts.contract_get(user=request.user, contract_id=contract_id)
    instalments = list(contract.instalments.all())
    return render(
        request,
        "sales/contract_detail.html",
        {
            "contract": contract,
            "instalments": instalments,
            "plan_total": sum((i.amount for i in instalments), receivables.ZERO),
            "payments": receivables.payment_list(user=request.user, contract_id=contract.pk, limit=200).items,
            "methods": Payment.Method.choices,
            "next_moves": sorted(contracts.TRANSITIONS[contract.status]),
            "verbs": {status: verb for verb, status in VERBS.items()},
            "plan_rows": range(max(4, len(instalments) + 2)),
            "today": timezone.localdate(),
        },
    )


@login_required
def contract_form(request: HttpRequest, contract_id: int | None = None) -> HttpResponse:
    require(request.user, "sales.change_contract" if contract_id else "sales.add_contract")  # no form it cannot submit
    contract = contracts.contract_get(user=request.user, contract_id=contract_id) if contract_id else None
    customer = contract.customer if contract else None
    if customer is None and request.GET.get("customer", "").isdigit():
        customer = customer_selectors.customer_get(user=request.user, customer_id=int(request.GET["customer"]))
    if request.method == "POST":
        template_id = request.POST.get("template_id", "")
        data = {
            "title": request.POST.get("title", "").strip(),
            "template_id": int(template_id) if template_id.isdigit() else None,
            "party_a": request.POST.get("party_a", "").strip(),
            "party_b": request.POST.get("party_b", "").strip(),
            "start_date": request.POST.get("start_date") or None,
            "end_date": request.POST.get("end_date") or None,
            "value": decimal_or_none(request.POST.get("value")),
            "renewal_notice_days": request.POST.get("renewal_notice_days") or 30,
        }
        if request.POST.get("terms", "").strip() and not data["template_id"]:
            data["terms"] = request.POST["terms"]
        try:
            if contract:
                saved = contracts.contract_update(
                    actor=request.user, contract_id=contract.pk, version=int(request.POST.get("version", 0)), data=data
                )
            else:
                customer_id = request.POST.get("customer_id", "")
                data["customer_id"] = int(customer_id) if customer_id.isdigit() else None
                saved = contracts.contract_create(actor=request.user, data=data)
            messages.success(request, _("Contract saved."))
            return redirect("sales:contract_detail", saved.pk)
        except (ValidationError, Conflict, StaleVersion) as exc:
            report_errors(request, exc)
    return render(
        request,
        "sales/contract_form.html",
        {
            "contract": contract,
            "customer": customer,
            "customers": []
            if customer
            else customer_selectors.customer_queryset(user=request.user)
            .filter(archived_at__isnull=True)
            .order_by("name")[:200],
            "templates": contracts.template_list(),
            "post": request.POST if request.method == "POST" else None,
        },
    )


@login_required
@require_POST
def contract_action(request: HttpRequest, contract_id: int, verb: str) -> HttpResponse:
    if verb not in VERBS:
        raise Http404
    signed_on = request.POST.get("signed_on") or None
    try:
        contracts.contract_transition(
            actor=request.user,
            contract_id=contract_id,
            version=int(request.POST.get("version", 0) or 0),
            to=VERBS[verb],
            signed_on=datetime.date.fromisoformat(signed_on) if signed_on else None,
            reason=request.POST.get("reason", ""),
        )
        messages.success(request, _("Done."))
    except ValueError:
        messages.error(request, _("Enter a valid date (YYYY-MM-DD)."))
    except (ValidationError, Conflict, StaleVersion) as exc:
        report_errors(request, exc)
    return redirect("sales:contract_detail", contract_id)


@login_required
@require_POST
def contract_attach(request: HttpRequest, contract_id: int) -> HttpResponse:
    try:
        contracts_files.attachment_add(actor=request.user, contract_id=contract_id, upload=request.FILES.get("file"))
        messages.success(request, _("File attached."))
    except ValidationError as exc:
        report_errors(request, exc)
    return redirect("sales:contract_detail", contract_id)


@login_required
def contract_attachment(request: HttpRequest, contract_id: int, attachment_id: int) -> FileResponse:
    attachment = contracts_files.attachment_get(user=request.user, contract_id=contract_id, attachment_id=attachment_id)
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )


@login_required
@require_POST
def contract_plan(request: HttpRequest, contract_id: int) -> HttpResponse:
    rows = [
        {"due_date": due, "amount": decimal_or_none(amount), "note": note}
        for due, amount, note in zip(
            request.POST.getlist("due_date"),
            request.POST.getlist("amount"),
            request.POST.getlist("note"),
            strict=False,
        )
        if due.strip() or amount.strip()
    ]
    try:
        receivables.payment_plan_set(
            actor=request.user,
            contract_id=contract_id,
            version=int(request.POST.get("version", 0) or 0),
            instalments=rows,
            note=request.POST.get("plan_note", ""),
        )
        messages.success(request, _("Payment plan saved."))
    except (ValidationError, Conflict, StaleVersion) as exc:
        report_errors(request, exc)
    return redirect("sales:contract_detail", contract_id)


@login_required
@require_POST
def contract_payment(request: HttpRequest, contract_id: int) -> HttpResponse:
    instalment = request.POST.get("instalment_id", "")
    try:
        paid_on = datetime.date.fromisoformat(request.POST.get("paid_on", ""))
    except ValueError:
        messages.error(request, _("Enter a valid date (YYYY-MM-DD)."))
        return redirect("sales:contract_detail", contract_id)
    try:
        receivables.payment_record(
            actor=request.user,
            instalment_id=int(instalment) if instalment.isdigit() else 0,
            amount=decimal_or_none(request.POST.get("amount")),
            paid_on=paid_on,
            method=request.POST.get("method", "transfer"),
            reference=request.POST.get("reference", "").strip(),
        )
        messages.success(request, _("Payment recorded."))
    except (ValidationError, Conflict, StaleVersion) as exc:
        report_errors(request, exc)
    return redirect("sales:contract_detail", contract_id)
