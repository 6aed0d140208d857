"""API shapes for customers and contacts. Validation rules live in the models and services, not here."""

from datetime import date, datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field

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


class CustomerData(BaseModel):
    """A customer as the API shows it, from plain values (list and detail: customers.selectors.customer_rows)."""

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
    merged_into_id: int | None = Field(None, description="Set on a merged customer (tombstone): the survivor's id")
    version: int


class CustomerOut(Schema, CustomerData):
    """The same fields, read from a Customer instance."""

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


class CustomerPage(BaseModel):
    model_config = ConfigDict(from_attributes=True)  # a core.pagination.Page of rows

    items: list[CustomerData]
    next: str | None


class OverviewOut(Schema):
    customer: CustomerOut
    panels: dict[str, Any] = Field(..., description="One key per panel: profile, contacts, hierarchy, history …")


class TransferIn(Schema):
    model_config = ConfigDict(extra="forbid")

    from_user_id: int | None = Field(None, description="The current owner; may be omitted with customer_ids")
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


# --- duplicates and merge ----------------------------------------------------------------------------------------


class CustomerBrief(Schema):
    """Enough of a customer to recognise it in a duplicate pair and to merge it (its version)."""

    id: int
    number: str
    name: str
    kind: str
    region: str | None
    owner: str | None
    archived_at: datetime | None
    merged_into_id: int | None
    version: int

    @staticmethod
    def resolve_region(obj) -> str | None:
        return obj.region.name if obj.region_id else None

    @staticmethod
    def resolve_owner(obj) -> str | None:
        return (obj.owner.get_full_name() or obj.owner.username) if obj.owner_id else None


class DuplicatePairOut(Schema):
    reason: str = Field(..., description="credit_code | name | phone | similar_name")
    reason_label: str
    score: float = Field(..., description="0 … 1: how likely the two are one customer")
    evidence: str = Field(..., description="What they share: organisation code, name key, mobile (masked) or ratio")
    first: CustomerBrief
    second: CustomerBrief

    @staticmethod
    def resolve_reason_label(obj) -> str:
        return str(obj.reason_label)


class DuplicatePage(Schema):
    items: list[DuplicatePairOut]
    next: str | None


class DuplicateMatchOut(Schema):
    customer: CustomerBrief
    reasons: list[str]
    reason_labels: list[str]
    score: float

    @staticmethod
    def resolve_reason_labels(obj) -> list[str]:
        return [str(label) for label in obj.reason_labels]


class DuplicateCheckIn(Schema):
    """A customer about to be created (or imported): which existing ones does it look like?"""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("", max_length=200)
    kind: Customer.Kind | None = None
    credit_code: str | None = Field(None, max_length=32)
    id_number: str | None = Field(None, max_length=32)
    region_id: int | None = None
    mobile: str | None = Field(None, max_length=20, description="A contact's mobile")


class DuplicateMatchList(Schema):
    items: list[DuplicateMatchOut]


class CustomerCreatedOut(CustomerOut):
    warnings: list[DuplicateMatchOut] = Field(
        default_factory=list, description="Existing customers the new one looks like (duplicate warning)"
    )


MergeSide = Literal["survivor", "merged"]


class MergeIn(Schema):
    """Merge `merged_id` into the customer of the path (the survivor). `version` and `merged_version` are the
    versions you read; `fields` picks, per field, whose value the survivor keeps (see docs/duplicates.md)."""

    model_config = ConfigDict(extra="forbid")

    merged_id: int
    version: int
    merged_version: int
    fields: dict[str, MergeSide] = Field(
        default_factory=dict,
        description="name, kind, category_id, region_id, area, address, credit_code, id_number, parent_id, stage, "
        "grade, vip, sensitive, owner_id, primary_contact → survivor | merged",
    )


class MergeOut(Schema):
    customer: CustomerOut = Field(..., description="The survivor, after the merge")
    merged: CustomerOut = Field(..., description="The tombstone: archived, merged_into_id = the survivor")
    moved: dict[str, list[int]] = Field(..., description="Kind → ids of the records moved to the survivor")
