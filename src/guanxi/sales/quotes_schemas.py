"""API shapes of products, price lists and quotes (ninja schemas only shape data; services validate)."""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field

from guanxi.sales.commerce_schemas import CustomerDocumentOut, VersionIn

Money = Decimal


class ProductIn(Schema):
    code: str = Field(..., min_length=1, max_length=32)
    name: str = Field(..., min_length=1, max_length=200)
    kind: Literal["product", "service", "tariff"] = "product"
    unit: str = Field(..., min_length=1, max_length=32)
    tax_rate: Decimal = Field(Decimal("0.13"), ge=0, le=1, description="A fraction: 0.13 is 13 %")
    description: str = ""
    active: bool = True


class ProductPatch(VersionIn):
    code: str | None = Field(None, min_length=1, max_length=32)
    name: str | None = Field(None, min_length=1, max_length=200)
    kind: Literal["product", "service", "tariff"] | None = None
    unit: str | None = Field(None, min_length=1, max_length=32)
    tax_rate: Decimal | None = Field(None, ge=0, le=1)
    description: str | None = None
    active: bool | None = None


class ProductOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    unit: str
    tax_rate: Decimal
    description: str
    active: bool
    version: int


class ProductList(Schema):
    items: list[ProductOut]
    next: str | None = None


class PriceItemIn(Schema):
    product_id: int
    unit_price: Decimal = Field(..., ge=0)


class PriceListIn(Schema):
    name: str = Field(..., min_length=1, max_length=200)
    category_id: int | None = Field(None, description="Customer category; empty: every category")
    valid_from: date
    valid_to: date | None = None
    active: bool = True
    note: str = ""
    items: list[PriceItemIn] = []


class PriceListPatch(VersionIn):
    name: str | None = Field(None, min_length=1, max_length=200)
    category_id: int | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    active: bool | None = None
    note: str | None = None
    items: list[PriceItemIn] | None = None


class PriceItemOut(Schema):
    product_id: int
    product_code: str
    product_name: str
    unit: str
    unit_price: Decimal

    @staticmethod
    def resolve_product_code(obj) -> str:
        return obj.product.code

    @staticmethod
    def resolve_product_name(obj) -> str:
        return obj.product.name

    @staticmethod
    def resolve_unit(obj) -> str:
        return obj.product.unit


class PriceListOut(Schema):
    id: int
    name: str
    category_id: int | None
    category: str | None
    valid_from: date
    valid_to: date | None
    active: bool
    note: str
    version: int

    @staticmethod
    def resolve_category(obj) -> str | None:
        return obj.category.name if obj.category_id else None


class PriceListDetailOut(PriceListOut):
    items: list[PriceItemOut]

    @staticmethod
    def resolve_items(obj) -> list:
        return list(obj.items.all())


class PriceListList(Schema):
    items: list[PriceListOut]
    next: str | None = None


class PriceOut(Schema):
    product_id: int
    customer_id: int | None
    on_date: date
    unit_price: Decimal | None
    price_list_id: int | None


class QuoteLineIn(Schema):
    product_id: int
    quantity: Decimal = Field(..., gt=0)
    unit_price: Decimal | None = Field(None, ge=0, description="Tax-exclusive; empty: from the price list")
    discount_percent: Decimal = Field(Decimal("0"), ge=0, le=100)
    description: str = Field("", max_length=300)


class QuoteIn(Schema):
    customer_id: int
    opportunity_id: int | None = None
    title: str = Field(..., min_length=1, max_length=200)
    valid_until: date | None = None
    notes: str = ""
    lines: list[QuoteLineIn] = []


class QuotePatch(VersionIn):
    opportunity_id: int | None = None
    title: str | None = Field(None, min_length=1, max_length=200)
    valid_until: date | None = None
    notes: str | None = None
    lines: list[QuoteLineIn] | None = None


class ApprovalRequestIn(VersionIn):
    reason: str = Field("", max_length=2000)


class DecisionIn(VersionIn):
    comment: str = Field("", max_length=2000)


class QuoteLineOut(Schema):
    id: int
    position: int
    product_id: int
    product_code: str
    product_name: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    discount_percent: Decimal
    tax_rate: Decimal
    list_amount: Money
    discount_amount: Money
    net_amount: Money
    tax_amount: Money
    total: Money

    @staticmethod
    def resolve_product_code(obj) -> str:
        return obj.product.code

    @staticmethod
    def resolve_product_name(obj) -> str:
        return obj.product.name


class ApprovalOut(Schema):
    id: int
    status: str
    requested_by: str
    requested_at: datetime
    max_discount: Decimal
    limit: Decimal
    reason: str
    decided_by: str | None
    decided_at: datetime | None
    comment: str

    @staticmethod
    def resolve_requested_by(obj) -> str:
        return obj.requested_by.username

    @staticmethod
    def resolve_decided_by(obj) -> str | None:
        return obj.decided_by.username if obj.decided_by_id else None


class QuoteOut(CustomerDocumentOut):
    id: int
    number: str
    revision: int
    opportunity_id: int | None
    title: str
    status: str
    approval: str
    valid_until: date | None
    subtotal: Money
    discount_total: Money
    net_total: Money
    tax_total: Money
    total: Money
    sent_at: datetime | None


class QuoteDetailOut(QuoteOut):
    notes: str
    previous_id: int | None
    lines: list[QuoteLineOut]
    approvals: list[ApprovalOut]

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())

    @staticmethod
    def resolve_approvals(obj) -> list:
        return list(obj.approvals.all())


class QuotePage(Schema):
    items: list[QuoteOut]
    next: str | None
