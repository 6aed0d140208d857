"""API shapes for customers and contacts. Validation rules live in the models and services, not here."""

from datetime import date, datetime
from typing import Any

from ninja import Schema
from pydantic import ConfigDict, Field

from guanxi.core.masking import id_number_for, phone_for
from guanxi.customers.models import Contact, Customer


class CustomerBase(Schema):
    model_config = ConfigDict(extra="forbid")

    category_id: int | None = None
    region_id: int | None = None
    area: Customer.Area | None = None
    address: str = Field("", max_length=300)
    credit_code: str | None = Field(None, max_length=32, description="统一社会信用代码 (GB 32100)")
    id_number: str | None = Field(None, max_length=32, description="居民身份证号码 (GB 11643)")
    parent_id: int | None = None
    stage: Customer.Stage = Customer.Stage.POTENTIAL
    grade: Customer.Grade = Customer.Grade.GENERAL
    vip: bool = False
    sensitive: bool = False
    tags: list[str] | None = None
    owner_id: int | None = None


class CustomerIn(CustomerBase):
    name: str = Field(..., max_length=200)
    kind: Customer.Kind


class CustomerPatch(Schema):
    """Only the fields sent are changed. `version` is the one you read; a stale one gets 409."""

    model_config = ConfigDict(extra="forbid")

    version: int
    name: str | None = Field(None, max_length=200)
    kind: Customer.Kind | None = None
    category_id: int | None = None
    region_id: int | None = None
    area: Customer.Area | None = None
    address: str | None = Field(None, max_length=300)
    credit_code: str | None = Field(None, max_length=32)
    id_number: str | None = Field(None, max_length=32)
    parent_id: int | None = None
    stage: Customer.Stage | None = None
    grade: Customer.Grade | None = None
    vip: bool | None = None
    sensitive: bool | None = None
    tags: list[str] | None = None
    owner_id: int | None = None


class CustomerOut(Schema):
    id: int
    number: str
    name: str
    kind: str
    category_id: int | None
    category: str | None
    region_id: int | None
    region: str | None
    area: str
    address: str
    credit_code: str | None
    id_number: str | None
    parent_id: int | None
    stage: str
    grade: str
    vip: bool
    sensitive: bool
    tags: list[str]
    owner_id: int | None
    owner: str | None
    org_unit_id: int | None
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    version: int

    @staticmethod
    def resolve_category(obj) -> str | None:
        return obj.category.name if obj.category_id else None

    @staticmethod
    def resolve_region(obj) -> str | None:
        return obj.region.name if obj.region_id else None

    @staticmethod
    def resolve_owner(obj) -> str | None:
        return (obj.owner.get_full_name() or obj.owner.username) if obj.owner_id else None

    @staticmethod
    def resolve_tags(obj) -> list[str]:
        return [tag.name for tag in obj.tags.all()]

    @staticmethod
    def resolve_id_number(obj, context) -> str | None:
        return id_number_for(context["request"].user, obj.id_number) if obj.id_number else obj.id_number


class CustomerPage(Schema):
    items: list[CustomerOut]
    next: str | None


class OverviewOut(Schema):
    customer: CustomerOut
    panels: dict[str, Any] = Field(..., description="One key per panel: profile, contacts, hierarchy, history …")


class TransferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    from_user_id: int
    to_user_id: int
    customer_ids: list[int] | None = Field(None, description="Only these customers; all of the owner's if omitted")


class TransferOut(Schema):
    transferred: int


class ContactIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., max_length=100)
    role: Contact.Role | None = None
    title: str = Field("", max_length=100)
    mobile: str = Field("", max_length=20)
    landline: str = Field("", max_length=32)
    email: str = Field("", max_length=254)
    wechat: str = Field("", max_length=64)
    birthday: date | None = None
    preferred_channel: Contact.Channel | None = None
    opt_out_phone: bool = False
    opt_out_sms: bool = False
    opt_out_email: bool = False
    opt_out_wechat: bool = False
    primary: bool = False


class ContactPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    name: str | None = Field(None, max_length=100)
    role: Contact.Role | None = None
    title: str | None = Field(None, max_length=100)
    mobile: str | None = Field(None, max_length=20)
    landline: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    wechat: str | None = Field(None, max_length=64)
    birthday: date | None = None
    preferred_channel: Contact.Channel | None = None
    opt_out_phone: bool | None = None
    opt_out_sms: bool | None = None
    opt_out_email: bool | None = None
    opt_out_wechat: bool | None = None
    primary: bool | None = None


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    role: str
    title: str
    mobile: str
    landline: str
    email: str
    wechat: str
    birthday: date | None
    preferred_channel: str
    opt_out_phone: bool
    opt_out_sms: bool
    opt_out_email: bool
    opt_out_wechat: bool
    primary: bool
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_mobile(obj, context) -> str:
        return phone_for(context["request"].user, obj.mobile)

    @staticmethod
    def resolve_landline(obj, context) -> str:
        return phone_for(context["request"].user, obj.landline)


class ContactList(Schema):
    items: list[ContactOut]
    next: str | None = None


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    industry: str
    parent_id: int | None


class RegionOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    level: str
    parent_id: int | None
