"""API shapes of the pipeline (leads, pipelines, deals, forecast, call lists). Rules live in models and services."""

from datetime import date, datetime
from decimal import Decimal

from ninja import Schema
from pydantic import BaseModel, ConfigDict, Field, field_validator

from guanxi.core.masking import phone_for
from guanxi.customers.filters import CustomerFilters
from guanxi.customers.models import Customer
from guanxi.sales.models import CallListEntry, Lead, TeamMember

Money = Decimal


def _name(user) -> str | None:
    return (user.get_full_name() or user.username) if user else None


# --- leads ----------------------------------------------------------------------------------------------------------


class LeadIn(Schema):
    model_config = ConfigDict(extra="forbid")

    company_name: str = Field(..., min_length=1, max_length=200)
    source: Lead.Source = Lead.Source.OTHER
    kind: Customer.Kind = Customer.Kind.ORGANISATION
    credit_code: str = Field("", max_length=32, description="统一社会信用代码 (GB 32100)")
    contact_name: str = Field("", max_length=100)
    contact_title: str = Field("", max_length=100)
    mobile: str = Field("", max_length=20)
    email: str = Field("", max_length=254)
    address: str = Field("", max_length=300)
    need: str = Field("", max_length=2000)
    estimated_amount: Money | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    owner_id: int | None = None


class LeadPatch(Schema):
    """Only the fields sent change. `version` is the one you read; a stale one gets 409."""

    model_config = ConfigDict(extra="forbid")

    version: int
    company_name: str | None = Field(None, min_length=1, max_length=200)
    source: Lead.Source | None = None
    kind: Customer.Kind | None = None
    credit_code: str | None = Field(None, max_length=32)
    contact_name: str | None = Field(None, max_length=100)
    contact_title: str | None = Field(None, max_length=100)
    mobile: str | None = Field(None, max_length=20)
    email: str | None = Field(None, max_length=254)
    address: str | None = Field(None, max_length=300)
    need: str | None = Field(None, max_length=2000)
    estimated_amount: Money | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    status: Lead.Status | None = None
    disqualified_reason: str | None = Field(None, max_length=300)


class LeadOut(Schema):
    id: int
    source: str
    kind: str
    company_name: str
    credit_code: str
    contact_name: str
    contact_title: str
    mobile: str
    email: str
    address: str
    need: str
    estimated_amount: Money | None
    status: str
    disqualified_reason: str
    owner_id: int | None
    owner: str | None
    org_unit_id: int | None
    customer_id: int | None
    contact_id: int | None
    opportunity_id: int | None
    converted_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_owner(obj) -> str | None:
        return _name(obj.owner)

    @staticmethod
    def resolve_mobile(obj, context) -> str:
        return phone_for(context["request"].user, obj.mobile)


class LeadPage(Schema):
    items: list[LeadOut]
    next: str | None


class AssignIn(Schema):
    model_config = ConfigDict(extra="forbid")

    owner_id: int
    version: int | None = Field(None, description="The version you read; a stale one gets 409")


class DealDraftIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=200, description="Defaults to the lead's need")
    amount: Money | None = Field(None, ge=0, max_digits=14, decimal_places=2, description="Defaults to the estimate")
    expected_close: date
    pipeline_id: int | None = Field(None, description="Defaults to the first pipeline")
    stage_id: int | None = Field(None, description="Defaults to the pipeline's first stage")


class ConvertIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int | None = None
    customer_id: int | None = Field(None, description="Convert into this existing customer")
    new_customer: bool = Field(False, description="Create a new customer even if similar ones exist")
    opportunity: DealDraftIn


# --- pipelines and deals --------------------------------------------------------------------------------------------


# Plain pydantic models read by attribute (from_attributes): the board validates a pipeline and its stages on every
# request, and ninja's Schema wraps each object in a DjangoGetter (a Python call per field). No docstrings: they
# would change the OpenAPI document.
class StageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    name_en: str
    label: str
    position: int
    probability: int
    outcome: str


class PipelineOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name: str
    name_en: str
    label: str
    stages: list[StageOut]

    @field_validator("stages", mode="before")
    @classmethod
    def _stages(cls, stages):
        # A Pipeline's (prefetched) stages manager, or the tuple of a board.BoardPipeline.
        return stages if isinstance(stages, tuple | list) else list(stages.all())


class DealIn(Schema):
    model_config = ConfigDict(extra="forbid")

    customer_id: int
    name: str = Field(..., min_length=1, max_length=200)
    amount: Money = Field(Decimal("0"), ge=0, max_digits=14, decimal_places=2)
    expected_close: date
    pipeline_id: int | None = None
    stage_id: int | None = None
    owner_id: int | None = None
    description: str = Field("", max_length=5000)


class DealPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    name: str | None = Field(None, min_length=1, max_length=200)
    amount: Money | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    expected_close: date | None = None
    owner_id: int | None = None
    description: str | None = Field(None, max_length=5000)


class MoveIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    stage_id: int
    reason: str = Field("", max_length=300, description="Needed when the stage is a lost stage")


class CloseIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    reason: str = Field("", max_length=300)


class CompetitorIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=200)
    offer_amount: Money | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    offer: str = Field("", max_length=300)
    strengths: str = Field("", max_length=2000)
    weaknesses: str = Field("", max_length=2000)


class CompetitorOut(Schema):
    id: int
    name: str
    offer_amount: Money | None
    offer: str
    strengths: str
    weaknesses: str


class TeamMemberIn(Schema):
    model_config = ConfigDict(extra="forbid")

    user_id: int
    role: TeamMember.Role


class TeamMemberOut(Schema):
    id: int
    user_id: int
    user: str
    role: str

    @staticmethod
    def resolve_user(obj) -> str:
        return _name(obj.user)


class StageStayOut(Schema):
    stage_id: int
    stage: str
    entered_at: datetime
    left_at: datetime | None
    seconds: int = Field(..., description="Time in the stage (up to now for the current one)")
    moved_by: str


class DealOut(Schema):
    id: int
    name: str
    customer_id: int
    customer: str
    amount: Money
    weighted_amount: Money
    probability: int
    expected_close: date
    pipeline_id: int
    stage_id: int
    stage: str
    status: str
    close_reason: str
    closed_at: datetime | None
    stage_entered_at: datetime
    description: str
    owner_id: int
    owner: str | None
    org_unit_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int

    @staticmethod
    def resolve_customer(obj) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_stage(obj) -> str:
        return obj.stage.label

    @staticmethod
    def resolve_owner(obj) -> str | None:
        return _name(obj.owner)


class DealDetailOut(DealOut):
    competitors: list[CompetitorOut]
    team: list[TeamMemberOut]
    history: list[StageStayOut]

    @staticmethod
    def resolve_competitors(obj) -> list:
        return list(obj.competitors.all())

    @staticmethod
    def resolve_team(obj) -> list:
        return list(obj.team_members.all())

    @staticmethod
    def resolve_history(obj) -> list:
        from guanxi.sales.deals_selectors import stage_history

        return stage_history(obj)


class DealPage(Schema):
    items: list[DealOut]
    next: str | None


# The board's shapes are plain pydantic models: kanban_board gives plain dicts (cards with customer and owner as
# names), validated without ninja's per-object attribute lookups; the pipeline and its stages are a few plain rows
# (board.BoardPipeline), read through their ninja schemas. (No docstrings: they would change the OpenAPI document.)
class CardOut(BaseModel):
    id: int
    name: str
    customer_id: int
    customer: str
    amount: Money
    weighted_amount: Money
    expected_close: date
    owner: str | None
    version: int


class ColumnOut(BaseModel):
    stage: StageOut
    count: int
    amount: Money
    weighted: Money
    cards: list[CardOut]
    more: int = Field(..., description="Cards of this column not shown (ask with stage= and offset=)")
    next_offset: int


class BoardOut(BaseModel):
    pipeline: PipelineOut
    columns: list[ColumnOut]


class ForecastRowOut(Schema):
    key: str | int | None
    label: str
    count: int
    amount: Money
    weighted: Money


class ForecastOut(Schema):
    by: str
    rows: list[ForecastRowOut]
    total: ForecastRowOut


# --- telesales -------------------------------------------------------------------------------------------------------


class CallListIn(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=200)
    script: str = Field("", max_length=10000)
    filters: CustomerFilters = Field(default_factory=CustomerFilters)


class OutcomeCountOut(Schema):
    outcome: str
    label: str
    count: int


class ProgressOut(Schema):
    total: int
    called: int
    remaining: int
    by_outcome: list[OutcomeCountOut]


class CallListOut(Schema):
    id: int
    name: str
    script: str
    filters: dict
    owner_id: int
    created_at: datetime
    version: int


class CallListDetailOut(CallListOut):
    progress: ProgressOut


class EntryOut(Schema):
    id: int
    customer_id: int
    customer: str
    contact: str | None
    phone: str
    outcome: str
    notes: str
    called_at: datetime | None
    activity_id: int | None
    follow_up_id: int | None

    @staticmethod
    def resolve_customer(obj) -> str:
        return obj.customer.name

    @staticmethod
    def resolve_contact(obj) -> str | None:
        return obj.contact.name if obj.contact_id else None

    @staticmethod
    def resolve_phone(obj, context) -> str:
        return phone_for(context["request"].user, obj.contact.mobile) if obj.contact_id else ""


class OutcomeIn(Schema):
    model_config = ConfigDict(extra="forbid")

    outcome: CallListEntry.Outcome
    notes: str = Field("", max_length=5000)
    follow_up: str = Field("", max_length=200, description="A follow-up task to create")
    follow_up_at: datetime | None = None
    duration_seconds: int | None = Field(None, ge=0)
