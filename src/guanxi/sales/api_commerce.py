"""The commercial half of the sales API: products, price lists, quotes, contracts, receivables under /api/v1/."""

from datetime import date
from typing import Literal

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Query, Router
from ninja.files import UploadedFile

from guanxi.core.permissions import require
from guanxi.core.schemas import ConflictOut, ErrorOut
from guanxi.customers import selectors as customer_selectors
from guanxi.sales import contracts, contracts_files, contracts_text, products, quotes, receivables
from guanxi.sales.commerce_schemas import VersionIn
from guanxi.sales.contracts_schemas import (
    AgeingOut,
    AttachmentOut,
    ContractDetailOut,
    ContractIn,
    ContractPage,
    ContractPatch,
    FromQuoteIn,
    OverdueList,
    PaymentIn,
    PaymentOut,
    PaymentPage,
    PlanIn,
    TemplateIn,
    TemplateList,
    TemplateOut,
    TemplatePatch,
    TransitionIn,
)
from guanxi.sales.quotes_schemas import (
    ApprovalOut,
    ApprovalRequestIn,
    DecisionIn,
    PriceListDetailOut,
    PriceListIn,
    PriceListList,
    PriceListPatch,
    PriceOut,
    ProductIn,
    ProductList,
    ProductOut,
    ProductPatch,
    QuoteDetailOut,
    QuoteIn,
    QuotePage,
    QuotePatch,
)

router = Router(tags=["sales"])

READ = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ConflictOut, 422: ErrorOut}


# --- products and price lists ---------------------------------------------------------------------------------------


@router.get("/products", response={200: ProductList, **READ})
def list_products(
    request: HttpRequest,
    q: str = Query("", max_length=100),
    kind: Literal["product", "service", "tariff"] | None = None,
    active: bool | None = None,
):
    """The catalogue: products, services and tariff items."""
    require(request.user, "sales.view_product")
    return {"items": list(products.product_list(active=active, kind=kind, q=q)[:500]), "next": None}


@router.post("/products", response={201: ProductOut, **WRITE})
def create_product(request: HttpRequest, payload: ProductIn):
    return 201, products.product_create(actor=request.user, data=payload.model_dump())


@router.get("/products/{product_id}", response={200: ProductOut, **READ})
def get_product(request: HttpRequest, product_id: int):
    require(request.user, "sales.view_product")
    return products.product_get(product_id=product_id)


@router.patch("/products/{product_id}", response={200: ProductOut, **WRITE})
def update_product(request: HttpRequest, product_id: int, payload: ProductPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return products.product_update(actor=request.user, product_id=product_id, version=version, data=data)


@router.get("/products/{product_id}/price", response={200: PriceOut, **READ})
def product_price(request: HttpRequest, product_id: int, customer_id: int | None = None, on_date: date | None = None):
    """The unit price for a customer on a date (today by default), from the price lists (null when none applies)."""
    from django.utils import timezone

    require(request.user, "sales.view_product")
    product = products.product_get(product_id=product_id)
    customer = None
    if customer_id is not None:
        customer = customer_selectors.customer_get(user=request.user, customer_id=customer_id)
    on_date = on_date or timezone.localdate()
    item = products.price_item_for(product, customer, on_date)
    return {
        "product_id": product.pk,
        "customer_id": customer_id,
        "on_date": on_date,
        "unit_price": item.unit_price if item else None,
        "price_list_id": item.price_list_id if item else None,
    }


@router.get("/price-lists", response={200: PriceListList, **READ})
def list_price_lists(request: HttpRequest, category_id: int | None = None, on_date: date | None = None):
    require(request.user, "sales.view_pricelist")
    return {"items": list(products.price_list_list(category_id=category_id, on_date=on_date)[:500]), "next": None}


@router.post("/price-lists", response={201: PriceListDetailOut, **WRITE})
def create_price_list(request: HttpRequest, payload: PriceListIn):
    created = products.price_list_create(actor=request.user, data=payload.model_dump())
    return 201, products.price_list_get(price_list_id=created.pk)


@router.get("/price-lists/{price_list_id}", response={200: PriceListDetailOut, **READ})
def get_price_list(request: HttpRequest, price_list_id: int):
    require(request.user, "sales.view_pricelist")
    return products.price_list_get(price_list_id=price_list_id)


@router.patch("/price-lists/{price_list_id}", response={200: PriceListDetailOut, **WRITE})
def update_price_list(request: HttpRequest, price_list_id: int, payload: PriceListPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    products.price_list_update(actor=request.user, price_list_id=price_list_id, version=version, data=data)
    return products.price_list_get(price_list_id=price_list_id)


# --- quotes ---------------------------------------------------------------------------------------------------------


@router.get("/quotes", response={200: QuotePage, **READ})
def list_quotes(
    request: HttpRequest,
    customer_id: int | None = None,
    status: Literal["draft", "sent", "accepted", "declined", "superseded"] | None = None,
    approval: Literal["not_needed", "required", "pending", "approved", "rejected"] | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=200),
):
    """Quotes of customers you may see, newest first."""
    return quotes.quote_list(
        user=request.user, customer_id=customer_id, status=status, approval=approval, cursor=cursor, limit=limit
    )


@router.post("/quotes", response={201: QuoteDetailOut, **WRITE})
def create_quote(request: HttpRequest, payload: QuoteIn):
    """A draft quote. Lines without `unit_price` take the price list's price for the customer today."""
    quote = quotes.quote_create(actor=request.user, data=payload.model_dump())
    return 201, quotes.quote_get(user=request.user, quote_id=quote.pk)


@router.get("/quotes/{quote_id}", response={200: QuoteDetailOut, **READ})
def get_quote(request: HttpRequest, quote_id: int):
    return quotes.quote_get(user=request.user, quote_id=quote_id)


@router.patch("/quotes/{quote_id}", response={200: QuoteDetailOut, **WRITE})
def update_quote(request: HttpRequest, quote_id: int, payload: QuotePatch):
    """Edit a draft; `lines` replaces all lines. A sent quote answers 409: revise it instead."""
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    quotes.quote_update(actor=request.user, quote_id=quote_id, version=version, data=data)
    return quotes.quote_get(user=request.user, quote_id=quote_id)


@router.get("/quotes/{quote_id}/pdf", response={200: None, **READ})
def quote_pdf(request: HttpRequest, quote_id: int):
    """The printable quote (报价单) as PDF, in Chinese unless the request asks for English."""
    from guanxi.sales.pdf import quote_pdf as render_pdf

    quote = quotes.quote_get(user=request.user, quote_id=quote_id)
    language = getattr(request, "LANGUAGE_CODE", "zh-hans")
    response = HttpResponse(render_pdf(quote, language=language), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote.number}-v{quote.revision}.pdf"'
    return response


@router.post("/quotes/{quote_id}/request-approval", response={200: ApprovalOut, **WRITE})
def request_approval(request: HttpRequest, quote_id: int, payload: ApprovalRequestIn):
    """Ask the team lead to approve a discount above your limit."""
    return quotes.quote_request_approval(
        actor=request.user, quote_id=quote_id, version=payload.version, reason=payload.reason
    )


@router.post("/quotes/{quote_id}/approve", response={200: ApprovalOut, **WRITE})
def approve_quote(request: HttpRequest, quote_id: int, payload: DecisionIn):
    return quotes.quote_decide(
        actor=request.user, quote_id=quote_id, version=payload.version, approve=True, comment=payload.comment
    )


@router.post("/quotes/{quote_id}/reject", response={200: ApprovalOut, **WRITE})
def reject_quote(request: HttpRequest, quote_id: int, payload: DecisionIn):
    """Reject the pending discount; `comment` says why (required)."""
    return quotes.quote_decide(
        actor=request.user, quote_id=quote_id, version=payload.version, approve=False, comment=payload.comment
    )


def _quote_action(name: str, doc: str):
    service = getattr(quotes, f"quote_{name}")

    def handler(request: HttpRequest, quote_id: int, payload: VersionIn):
        quote = service(actor=request.user, quote_id=quote_id, version=payload.version)
        return quotes.quote_get(user=request.user, quote_id=quote.pk)

    handler.__name__ = f"{name}_quote"
    handler.__doc__ = doc
    router.post(f"/quotes/{{quote_id}}/{name}", response={200: QuoteDetailOut, **WRITE})(handler)


_quote_action("send", "Mark the draft as sent; 409 while a discount awaits or failed approval.")
_quote_action("accept", "The customer accepted the sent quote.")
_quote_action("decline", "The customer declined the sent quote.")
_quote_action("revise", "A new draft revision of a sent or declined quote (the old one stays read-only).")


@router.post("/quotes/{quote_id}/contract", response={201: ContractDetailOut, **WRITE})
def quote_to_contract(request: HttpRequest, quote_id: int, payload: FromQuoteIn):
    """The accepted quote becomes a draft contract (value = the quote's total)."""
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    contract = contracts.contract_from_quote(actor=request.user, quote_id=quote_id, version=payload.version, data=data)
    return 201, contracts.contract_get(user=request.user, contract_id=contract.pk)


# --- contracts ------------------------------------------------------------------------------------------------------


@router.get("/contracts", response={200: ContractPage, **READ})
def list_contracts(
    request: HttpRequest,
    customer_id: int | None = None,
    status: Literal["draft", "signed", "active", "expired", "terminated"] | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=200),
):
    return contracts.contract_list(
        user=request.user, customer_id=customer_id, status=status, cursor=cursor, limit=limit
    )


@router.get("/contracts/expiring", response={200: ContractPage, **READ})
def expiring_contracts(request: HttpRequest, within_days: int = Query(60, ge=0, le=3660)):
    """Signed or active contracts ending within `within_days`, soonest first."""
    return {"items": list(contracts.expiring_contracts(user=request.user, within_days=within_days)[:500]), "next": None}


@router.post("/contracts", response={201: ContractDetailOut, **WRITE})
def create_contract(request: HttpRequest, payload: ContractIn):
    contract = contracts.contract_create(actor=request.user, data=payload.model_dump())
    return 201, contracts.contract_get(user=request.user, contract_id=contract.pk)


@router.get("/contracts/{contract_id}", response={200: ContractDetailOut, **READ})
def get_contract(request: HttpRequest, contract_id: int):
    return contracts.contract_get(user=request.user, contract_id=contract_id)


@router.patch("/contracts/{contract_id}", response={200: ContractDetailOut, **WRITE})
def update_contract(request: HttpRequest, contract_id: int, payload: ContractPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    contracts.contract_update(actor=request.user, contract_id=contract_id, version=version, data=data)
    return contracts.contract_get(user=request.user, contract_id=contract_id)


def _contract_action(verb: str, status: str, doc: str):
    def handler(request: HttpRequest, contract_id: int, payload: TransitionIn):
        contracts.contract_transition(
            actor=request.user,
            contract_id=contract_id,
            version=payload.version,
            to=status,
            signed_on=payload.signed_on,
            reason=payload.reason,
        )
        return contracts.contract_get(user=request.user, contract_id=contract_id)

    handler.__name__ = f"{verb}_contract"
    handler.__doc__ = doc
    router.post(f"/contracts/{{contract_id}}/{verb}", response={200: ContractDetailOut, **WRITE})(handler)


_contract_action("sign", "signed", "draft → signed (`signed_on`, default today).")
_contract_action("activate", "active", "signed → active.")
_contract_action("expire", "expired", "active → expired (the daily job does it after the end date).")
_contract_action("terminate", "terminated", "draft, signed or active → terminated; `reason` is required.")


@router.post("/contracts/{contract_id}/attachments", response={201: AttachmentOut, **WRITE, 413: ErrorOut})
def upload_attachment(request: HttpRequest, contract_id: int, file: File[UploadedFile]):
    return 201, contracts_files.attachment_add(actor=request.user, contract_id=contract_id, upload=file)


@router.get("/contracts/{contract_id}/attachments/{attachment_id}", response={200: None, **READ})
def download_attachment(request: HttpRequest, contract_id: int, attachment_id: int):
    """The file, only for users who may see the contract."""
    attachment = contracts_files.attachment_get(user=request.user, contract_id=contract_id, attachment_id=attachment_id)
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.name, content_type=attachment.content_type
    )


@router.delete("/contracts/{contract_id}/attachments/{attachment_id}", response={204: None, **WRITE})
def delete_attachment(request: HttpRequest, contract_id: int, attachment_id: int):
    contracts_files.attachment_delete(actor=request.user, contract_id=contract_id, attachment_id=attachment_id)
    return 204, None


@router.put("/contracts/{contract_id}/payment-plan", response={200: ContractDetailOut, **WRITE})
def set_payment_plan(request: HttpRequest, contract_id: int, payload: PlanIn):
    """Replace the instalments; they must add up to the contract value, or `note` says why."""
    receivables.payment_plan_set(
        actor=request.user,
        contract_id=contract_id,
        version=payload.version,
        instalments=[i.model_dump() for i in payload.instalments],
        note=payload.note,
    )
    return contracts.contract_get(user=request.user, contract_id=contract_id)


@router.get("/contract-templates", response={200: TemplateList, **READ})
def list_templates(request: HttpRequest):
    require(request.user, "sales.view_contracttemplate")
    return {
        "items": list(contracts.template_list(active=None)),
        "fields": {name: str(label) for name, label in contracts_text.MERGE_FIELDS.items()},
    }


@router.post("/contract-templates", response={201: TemplateOut, **WRITE})
def create_template(request: HttpRequest, payload: TemplateIn):
    """A contract template; unknown merge fields are refused (422 naming them)."""
    return 201, contracts.template_create(actor=request.user, data=payload.model_dump())


@router.patch("/contract-templates/{template_id}", response={200: TemplateOut, **WRITE})
def update_template(request: HttpRequest, template_id: int, payload: TemplatePatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return contracts.template_update(actor=request.user, template_id=template_id, version=version, data=data)


# --- receivables ----------------------------------------------------------------------------------------------------


@router.get("/payments", response={200: PaymentPage, **READ})
def list_payments(
    request: HttpRequest,
    contract_id: int | None = None,
    cursor: str | None = Query(None, max_length=500),
    limit: int = Query(50, ge=1, le=200),
):
    return receivables.payment_list(user=request.user, contract_id=contract_id, cursor=cursor, limit=limit)


@router.post("/payments", response={201: PaymentOut, **WRITE})
def record_payment(request: HttpRequest, payload: PaymentIn):
    """Money received against an instalment; partial payments allowed, more than outstanding → 422."""
    payment = receivables.payment_record(actor=request.user, **payload.model_dump())
    return 201, payment


@router.get("/receivables/overdue", response={200: OverdueList, **READ})
def overdue(request: HttpRequest, customer_id: int | None = None, owner_id: int | None = None):
    """Overdue instalments, oldest first, aged in buckets 0_30, 31_90 and over_90 days."""
    rows = receivables.overdue_instalments(user=request.user, customer_id=customer_id, owner_id=owner_id)
    totals = receivables.overdue_totals(rows)
    totals["total"] = sum(totals.values(), receivables.ZERO)
    return {"items": rows, "totals": totals}


@router.get("/receivables/ageing", response={200: AgeingOut, **READ})
def ageing(request: HttpRequest, group_by: Literal["customer", "owner", "team"] = "customer"):
    """Overdue outstanding per customer, owner or team, split into the ageing buckets."""
    return {"group_by": group_by, "rows": receivables.ageing_summary(user=request.user, group_by=group_by)}
