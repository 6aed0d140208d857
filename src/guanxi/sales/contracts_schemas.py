"""API shapes of contracts, templates, payment plans, payments and receivables reports."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from guanxi.sales.commerce_schemas import CustomerDocumentOut, VersionIn


class ContractIn(Schema):
    customer_id: int
    title: str = Field(..., min_length=1, max_length=200)
    template_id: int | None = None
    party_a: str = Field("", max_length=200, description="Empty: the company")
    party_b: str = Field("", max_length=200, description="Empty: the customer's name")
    start_date: date
    end_date: date
    value: Decimal = Field(..., ge=0)
    terms: str = Field("", description="Empty with a template: rendered from it")
    renewal_notice_days: int = Field(30, ge=0, le=366)


class ContractPatch(VersionIn):
    title: str | None = Field(None, min_length=1, max_length=200)
    template_id: int | None = None
    party_a: str | None = Field(None, max_length=200)
    party_b: str | None = Field(None, max_length=200)
    start_date: date | None = None
    end_date: date | None = None
    value: Decimal | None = Field(None, ge=0)
    terms: str | None = None
    renewal_notice_days: int | None = Field(None, ge=0, le=366)


class FromQuoteIn(Schema):
    version: int = Field(..., description="The quote's version")
    start_date: date
    end_date: date
    template_id: int | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    renewal_notice_days: int = Field(30, ge=0, le=366)


class TransitionIn(VersionIn):
    signed_on: date | None = None
    reason: str = Field("", max_length=2000)


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    uploaded_at: datetime
    url: str

    @staticmethod
    def resolve_url(obj) -> str:
        return f"/api/v1/contracts/{obj.contract_id}/attachments/{obj.id}"


class InstalmentOut(Schema):
    id: int
    sequence: int
    due_date: date
    amount: Decimal
    paid_amount: Decimal
    outstanding: Decimal
    note: str


class ContractOut(CustomerDocumentOut):
    id: int
    number: str
    title: str
    quote_id: int | None
    template_id: int | None
    party_a: str
    party_b: str
    start_date: date
    end_date: date
    value: Decimal
    status: str
    signed_on: date | None
    renewal_notice_days: int


class ContractDetailOut(ContractOut):
    terms: str
    termination_reason: str
    plan_note: str
    attachments: list[AttachmentOut]
    instalments: list[InstalmentOut]

    @staticmethod
    def resolve_attachments(obj) -> list:
        return list(obj.attachments.all())

    @staticmethod
    def resolve_instalments(obj) -> list:
        return list(obj.instalments.all())


class ContractPage(Schema):
    items: list[ContractOut]
    next: str | None


class TemplateIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    body: str = Field(..., min_length=1)
    active: bool = True


class TemplatePatch(VersionIn):
    name: str | None = Field(None, min_length=1, max_length=200)
    body: str | None = Field(None, min_length=1)
    active: bool | None = None


class TemplateOut(Schema):
    id: int
    name: str
    body: str
    active: bool
    version: int


class TemplateList(Schema):
    items: list[TemplateOut]
    fields: dict[str, str] = Field(..., description="Merge fields a template may use, with their meaning")


class InstalmentIn(Schema):
    due_date: date
    amount: Decimal = Field(..., gt=0)
    note: str = Field("", max_length=200)


class PlanIn(Schema):
    version: int = Field(..., description="The contract's version")
    instalments: list[InstalmentIn]
    note: str = Field("", max_length=2000, description="Required when the instalments do not add up to the value")


class PaymentIn(Schema):
    instalment_id: int
    amount: Decimal = Field(..., gt=0)
    paid_on: date
    method: Literal["transfer", "acceptance", "cash", "other"] = "transfer"
    reference: str = Field("", max_length=100)


class PaymentOut(Schema):
    id: int
    contract_id: int
    contract_number: str
    customer_name: str
    instalment_id: int
    instalment: int
    amount: Decimal
    paid_on: date
    method: str
    reference: str
    recorded_at: datetime

    @staticmethod
    def resolve_contract_number(obj) -> str:
        return obj.contract.number

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.contract.customer.name

    @staticmethod
    def resolve_instalment(obj) -> int:
        return obj.instalment.sequence


class PaymentPage(Schema):
    items: list[PaymentOut]
    next: str | None


class OverdueOut(Schema):
    instalment_id: int
    contract_id: int
    contract_number: str
    customer_id: int
    customer_name: str
    owner: str
    sequence: int
    due_date: date
    amount: Decimal
    paid_amount: Decimal
    outstanding: Decimal
    days_overdue: int
    bucket: str

    @staticmethod
    def resolve_instalment_id(obj) -> int:
        return obj.pk

    @staticmethod
    def resolve_contract_number(obj) -> str:
        return obj.contract.number

    @staticmethod
    def resolve_customer_id(obj) -> int:
        return obj.contract.customer_id

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.contract.customer.name

    @staticmethod
    def resolve_owner(obj) -> str:
        return obj.contract.owner.username


class OverdueList(Schema):
    items: list[OverdueOut]
    totals: dict[str, Decimal] = Field(..., description="Outstanding per ageing bucket and in all")


class AgeingOut(Schema):
    group_by: str
    rows: list[dict]
