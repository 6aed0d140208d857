"""Quote pages (htmx-free forms, plain POST actions). Every read goes through selectors, every write through
services; the API and these pages share one implementation of every rule."""

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.pagination import BadCursor
from guanxi.core.permissions import require
from guanxi.customers import selectors as customer_selectors
from guanxi.sales import contracts, products, quotes
from guanxi.sales.models import Quote

ACTIONS = {"send", "accept", "decline", "revise", "request_approval", "approve", "reject"}


def report_errors(request: HttpRequest, exc: Exception) -> dict:
    """Service errors as page messages; returns {field: [messages]} for the form to show beside its fields."""
    if isinstance(exc, ValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        for field, texts in errors.items():
            for text in texts:
                messages.error(request, text if field == "__all__" else f"{field}: {text}")
        return errors
    messages.error(request, str(StaleVersion.message) if isinstance(exc, StaleVersion) else str(exc))
    return {}


def decimal_or_none(value: str | None):
    if value is None or str(value).strip() == "":
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return str(value)  # left as text: the service's validation names the field


def lines_from(post) -> list[dict]:
    """The line rows of the quote form (parallel lists; rows without a product are ignored)."""
    rows = zip(
        post.getlist("product_id"),
        post.getlist("quantity"),
        post.getlist("unit_price"),
        post.getlist("discount_percent"),
        post.getlist("description"),
        strict=False,
    )
    lines = []
    for product_id, quantity, unit_price, discount, description in rows:
        if not product_id:
            continue
        lines.append(
            {
                "product_id": int(product_id) if product_id.isdigit() else product_id,
                "quantity": decimal_or_none(quantity),
                "unit_price": decimal_or_none(unit_price),
                "discount_percent": decimal_or_none(discount) or Decimal("0"),
                "description": description.strip(),
            }
        )
    return lines


@login_required
def quote_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") if request.GET.get("status") in Quote.Status.values else None
    approval = request.GET.get("approval") if request.GET.get("approval") in Quote.Approval.values else None
    try:
        page = quotes.quote_list(user=request.user, status=status, approval=approval, cursor=request.GET.get("cursor"))
    except BadCursor:
        page = quotes.quote_list(user=request.user, status=status, approval=approval)
    return render(
        request,
        "sales/quote_list.html",
        {
            "page": page,
            "status": status,
            "approval": approval,
            "statuses": Quote.Status.choices,
            "approvals": Quote.Approval.choices,
            "waiting": list(quotes.approvals_waiting_for(user=request.user)[:20]),
        },
    )


@login_required
def quote_detail(request: HttpRequest, quote_id: int) -> HttpResponse:
    quote = quotes.quote_get(user=request.user, quote_id=quote_id)
    return render(
        request,
        "sales/quote_detail.html",
        {
            "quote": quote,
            "revisions": quotes.quote_revisions(user=request.user, quote=quote),
            "limit": quotes.discount_limit(quote.owner),
            "approvers": quotes.approvers_for(quote),
            "templates": contracts.template_list(),
            "can_decide": quotes.can_decide(request.user, quote),
            "contract": getattr(quote, "contract", None),
        },
    )


@login_required
def quote_form(request: HttpRequest, quote_id: int | None = None) -> HttpResponse:
    """New quote (customer from ?customer=) or edit a draft."""
    require(request.user, "sales.change_quote" if quote_id else "sales.add_quote")  # no form they cannot submit
    quote = quotes.quote_get(user=request.user, quote_id=quote_id) if quote_id else None
    customer = quote.customer if quote else None
    if customer is None and request.GET.get("customer", "").isdigit():
        customer = customer_selectors.customer_get(user=request.user, customer_id=int(request.GET["customer"]))
    errors: dict = {}
    if request.method == "POST":
        data = {
            "title": request.POST.get("title", "").strip(),
            "valid_until": request.POST.get("valid_until") or None,
            "notes": request.POST.get("notes", ""),
            "lines": lines_from(request.POST),
        }
        try:
            if quote is None:
                customer_id = request.POST.get("customer_id", "")
                data["customer_id"] = int(customer_id) if customer_id.isdigit() else None
                saved = quotes.quote_create(actor=request.user, data=data)
            else:
                saved = quotes.quote_update(
                    actor=request.user, quote_id=quote.pk, version=int(request.POST.get("version", 0)), data=data
                )
            messages.success(request, _("Quote saved."))
            return redirect("sales:quote_detail", saved.pk)
        except (ValidationError, Conflict, StaleVersion) as exc:
            errors = report_errors(request, exc)
    lines = list(quote.lines.all()) if quote else []
    return render(
        request,
        "sales/quote_form.html",
        {
            "quote": quote,
            "customer": customer,
            "customers": []
            if customer
            else customer_selectors.customer_queryset(user=request.user)
            .filter(archived_at__isnull=True)
            .order_by("name")[:200],
            "products": products.product_list(active=True),
            "lines": lines,
            "blank_rows": range(max(3, 6 - len(lines))),
            "errors": errors,
            "post": request.POST if request.method == "POST" else None,
        },
    )


@login_required
@require_POST
def quote_action(request: HttpRequest, quote_id: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404
    version = int(request.POST.get("version", 0) or 0)
    comment = request.POST.get("comment", "")
    target = quote_id
    try:
        if action == "request_approval":
            quotes.quote_request_approval(actor=request.user, quote_id=quote_id, version=version, reason=comment)
        elif action in ("approve", "reject"):
            quotes.quote_decide(
                actor=request.user, quote_id=quote_id, version=version, approve=action == "approve", comment=comment
            )
        else:
            target = getattr(quotes, f"quote_{action}")(actor=request.user, quote_id=quote_id, version=version).pk
        messages.success(request, _("Done."))
    except (ValidationError, Conflict, StaleVersion) as exc:
        report_errors(request, exc)
    return redirect("sales:quote_detail", target)


@login_required
def quote_pdf_view(request: HttpRequest, quote_id: int) -> HttpResponse:
    from guanxi.sales.pdf import quote_pdf

    quote = quotes.quote_get(user=request.user, quote_id=quote_id)
    response = HttpResponse(quote_pdf(quote, language=request.LANGUAGE_CODE), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.number}-v{quote.revision}.pdf"'
    return response


@login_required
@require_POST
def quote_to_contract(request: HttpRequest, quote_id: int) -> HttpResponse:
    template_id = request.POST.get("template_id", "")
    data = {
        "start_date": request.POST.get("start_date") or None,
        "end_date": request.POST.get("end_date") or None,
        "template_id": int(template_id) if template_id.isdigit() else None,
    }
    try:
        contract = contracts.contract_from_quote(
            actor=request.user, quote_id=quote_id, version=int(request.POST.get("version", 0) or 0), data=data
        )
    except (ValidationError, Conflict, StaleVersion) as exc:
        report_errors(request, exc)
        return redirect("sales:quote_detail", quote_id)
    messages.success(request, _("Contract created from the quote."))
    return redirect("sales:contract_detail", contract.pk)
