"""The pipeline's API: leads, pipelines, deals (opportunities), kanban, forecast and call lists under /api/v1/."""

from datetime import date
from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from guanxi.core.permissions import require
from guanxi.core.schemas import READ, WRITE, ErrorOut
from guanxi.sales import board, deals_selectors, deals_services, leads_selectors, leads_services, telesales
from guanxi.sales.deals_schemas import (
    AssignIn,
    BoardOut,
    CallListDetailOut,
    CallListIn,
    CallListOut,
    CloseIn,
    CompetitorIn,
    CompetitorOut,
    ConvertIn,
    DealDetailOut,
    DealIn,
    DealPage,
    DealPatch,
    EntryOut,
    ForecastOut,
    LeadIn,
    LeadOut,
    LeadPage,
    LeadPatch,
    MoveIn,
    OutcomeIn,
    PipelineOut,
    TeamMemberIn,
    TeamMemberOut,
)
from guanxi.sales.deals_selectors import DEAL_ORDERINGS, DealFilters
from guanxi.sales.leads_selectors import LEAD_ORDERINGS, LeadFilters

router = Router(tags=["sales"])


# --- leads ----------------------------------------------------------------------------------------------------------


class LeadListQuery(LeadFilters):
    ordering: Literal[LEAD_ORDERINGS] = "-created_at"  # type: ignore[valid-type]
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


@router.get("/leads", response={200: LeadPage, 403: ErrorOut, **READ})
def list_leads(request: HttpRequest, query: Query[LeadListQuery]):
    """Leads you may see, newest first by default, keyset-paginated: follow `next`."""
    require(request.user, "sales.view_lead")
    return leads_selectors.lead_list(
        user=request.user, filters=query, ordering=query.ordering, cursor=query.cursor, limit=query.limit
    )


@router.post("/leads", response={201: LeadOut, **WRITE})
def create_lead(request: HttpRequest, payload: LeadIn):
    lead = leads_services.lead_create(actor=request.user, data=payload.model_dump(exclude_unset=True))
    return 201, leads_selectors.lead_get(user=request.user, lead_id=lead.pk)


@router.get("/leads/{lead_id}", response={200: LeadOut, 403: ErrorOut, **READ})
def get_lead(request: HttpRequest, lead_id: int):
    require(request.user, "sales.view_lead")
    return leads_selectors.lead_get(user=request.user, lead_id=lead_id)


@router.patch("/leads/{lead_id}", response={200: LeadOut, **WRITE})
def update_lead(request: HttpRequest, lead_id: int, payload: LeadPatch):
    """Edit or qualify a lead (status new → contacted → qualified, or disqualified with `disqualified_reason`)."""
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    leads_services.lead_update(actor=request.user, lead_id=lead_id, version=version, data=data)
    return leads_selectors.lead_get(user=request.user, lead_id=lead_id)


@router.post("/leads/{lead_id}/assign", response={200: LeadOut, **WRITE})
def assign_lead(request: HttpRequest, lead_id: int, payload: AssignIn):
    """Give the lead to a user in your scope (team leads, branch managers)."""
    leads_services.lead_assign(actor=request.user, lead_id=lead_id, owner_id=payload.owner_id, version=payload.version)
    return leads_selectors.lead_get(user=request.user, lead_id=lead_id)


@router.post("/leads/{lead_id}/convert", response={200: LeadOut, **WRITE})
def convert_lead(request: HttpRequest, lead_id: int, payload: ConvertIn):
    """Convert into customer + contact + deal in one transaction. Without `customer_id`/`new_customer`, a customer
    with the same credit code or name is reused; merely similar ones answer 422 naming them under `customer_id`.
    Converting twice answers 409."""
    leads_services.lead_convert(
        actor=request.user,
        lead_id=lead_id,
        version=payload.version,
        customer_id=payload.customer_id,
        new_customer=payload.new_customer,
        opportunity=payload.opportunity.model_dump(exclude_none=True),
    )
    return leads_selectors.lead_get(user=request.user, lead_id=lead_id)


# --- pipelines and deals ------------------------------------------------------------------------------------------


@router.get("/pipelines", response={200: list[PipelineOut], 401: ErrorOut, 403: ErrorOut})
def list_pipelines(request: HttpRequest):
    """Active pipelines with their stages and probabilities."""
    require(request.user, "sales.view_pipeline")
    return deals_selectors.pipeline_list()


class DealListQuery(DealFilters):
    ordering: Literal[DEAL_ORDERINGS] = "-updated_at"  # type: ignore[valid-type]
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


@router.get("/opportunities", response={200: DealPage, 403: ErrorOut, **READ})
def list_deals(request: HttpRequest, query: Query[DealListQuery]):
    require(request.user, "sales.view_opportunity")
    return deals_selectors.opportunity_list(
        user=request.user, filters=query, ordering=query.ordering, cursor=query.cursor, limit=query.limit
    )


@router.post("/opportunities", response={201: DealDetailOut, **WRITE})
def create_deal(request: HttpRequest, payload: DealIn):
    deal = deals_services.opportunity_create(actor=request.user, data=payload.model_dump(exclude_unset=True))
    return 201, deals_selectors.opportunity_get(user=request.user, opportunity_id=deal.pk)


@router.get("/opportunities/{deal_id}", response={200: DealDetailOut, 403: ErrorOut, **READ})
def get_deal(request: HttpRequest, deal_id: int):
    """One deal with its competitors, project team and stage history (time in each stage)."""
    require(request.user, "sales.view_opportunity")
    return deals_selectors.opportunity_get(user=request.user, opportunity_id=deal_id)


@router.patch("/opportunities/{deal_id}", response={200: DealDetailOut, **WRITE})
def update_deal(request: HttpRequest, deal_id: int, payload: DealPatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    deals_services.opportunity_update(actor=request.user, opportunity_id=deal_id, version=version, data=data)
    return deals_selectors.opportunity_get(user=request.user, opportunity_id=deal_id)


@router.post("/opportunities/{deal_id}/move", response={200: DealDetailOut, **WRITE})
def move_deal(request: HttpRequest, deal_id: int, payload: MoveIn):
    """Move to another stage of the deal's pipeline (the kanban drag); a stale `version` answers 409."""
    deals_services.opportunity_move(
        actor=request.user,
        opportunity_id=deal_id,
        version=payload.version,
        stage_id=payload.stage_id,
        reason=payload.reason,
    )
    return deals_selectors.opportunity_get(user=request.user, opportunity_id=deal_id)


@router.post("/opportunities/{deal_id}/won", response={200: DealDetailOut, **WRITE})
def win_deal(request: HttpRequest, deal_id: int, payload: CloseIn):
    deals_services.opportunity_won(
        actor=request.user, opportunity_id=deal_id, version=payload.version, reason=payload.reason
    )
    return deals_selectors.opportunity_get(user=request.user, opportunity_id=deal_id)


@router.post("/opportunities/{deal_id}/lost", response={200: DealDetailOut, **WRITE})
def lose_deal(request: HttpRequest, deal_id: int, payload: CloseIn):
    """Close as lost; `reason` is required."""
    deals_services.opportunity_lost(
        actor=request.user, opportunity_id=deal_id, version=payload.version, reason=payload.reason
    )
    return deals_selectors.opportunity_get(user=request.user, opportunity_id=deal_id)


@router.post("/opportunities/{deal_id}/competitors", response={201: CompetitorOut, **WRITE})
def add_competitor(request: HttpRequest, deal_id: int, payload: CompetitorIn):
    return 201, deals_services.competitor_add(actor=request.user, opportunity_id=deal_id, data=payload.model_dump())


@router.delete("/opportunities/{deal_id}/competitors/{competitor_id}", response={204: None, **WRITE})
def remove_competitor(request: HttpRequest, deal_id: int, competitor_id: int):
    deals_services.competitor_remove(actor=request.user, opportunity_id=deal_id, competitor_id=competitor_id)
    return 204, None


@router.post("/opportunities/{deal_id}/team", response={201: TeamMemberOut, **WRITE})
def add_team_member(request: HttpRequest, deal_id: int, payload: TeamMemberIn):
    return 201, deals_services.team_member_add(
        actor=request.user, opportunity_id=deal_id, user_id=payload.user_id, role=payload.role
    )


@router.delete("/opportunities/{deal_id}/team/{member_id}", response={204: None, **WRITE})
def remove_team_member(request: HttpRequest, deal_id: int, member_id: int):
    deals_services.team_member_remove(actor=request.user, opportunity_id=deal_id, member_id=member_id)
    return 204, None


class BoardQuery(Schema):
    pipeline: int | None = Field(None, description="Pipeline id; the first pipeline by default")
    team: int | None = Field(None, description="Organisation unit id (a team lead's or manager's team)")
    owner: int | None = None
    stage: int | None = Field(None, description="Only this column (with offset: its next cards)")
    offset: int = Field(0, ge=0, le=100000)
    per_column: int = Field(board.CARDS_PER_COLUMN, ge=1, le=100)


@router.get("/kanban", response={200: BoardOut, 403: ErrorOut, **READ})
def kanban(request: HttpRequest, query: Query[BoardQuery]):
    """The kanban board of a pipeline: per open stage the totals over every deal you may see (count, amount,
    weighted amount) and the most recently changed cards."""
    require(request.user, "sales.view_opportunity")
    pipeline = board.board_pipeline_get(pipeline_id=query.pipeline)
    columns = board.kanban_board(
        user=request.user,
        pipeline=pipeline,
        team=query.team,
        owner=query.owner,
        stage=query.stage,
        offset=query.offset,
        per_column=query.per_column,
    )
    return {"pipeline": pipeline, "columns": columns}


class ForecastQuery(Schema):
    by: Literal["month", "owner", "team"] = "month"
    pipeline: int | None = None
    team: int | None = None
    owner: int | None = None
    close_from: date | None = None
    close_to: date | None = None


@router.get("/forecast", response={200: ForecastOut, 403: ErrorOut, **READ})
def forecast(request: HttpRequest, query: Query[ForecastQuery]):
    """The weighted forecast (销售预测) of open deals by month of expected close, owner or team:
    Σ amount × stage probability."""
    require(request.user, "sales.view_opportunity")
    rows = deals_selectors.forecast(user=request.user, **query.model_dump())
    totals = deals_selectors.forecast_totals(rows)
    return {"by": query.by, "rows": rows, "total": {"key": None, "label": "Σ", **totals}}


# --- call lists -----------------------------------------------------------------------------------------------------


@router.get("/call-lists", response={200: list[CallListOut], 401: ErrorOut, 403: ErrorOut})
def list_call_lists(request: HttpRequest):
    require(request.user, "sales.view_calllist")
    return telesales.call_list_list(user=request.user)


@router.post("/call-lists", response={201: CallListDetailOut, **WRITE})
def create_call_list(request: HttpRequest, payload: CallListIn):
    """A call list of the customers the filter selects (the customer list's filter), with a script for callers."""
    call_list = telesales.call_list_create(
        actor=request.user, name=payload.name, script=payload.script, filters=payload.filters
    )
    call_list.progress = telesales.call_list_progress(call_list=call_list)
    return 201, call_list


@router.get("/call-lists/{list_id}", response={200: CallListDetailOut, 403: ErrorOut, **READ})
def get_call_list(request: HttpRequest, list_id: int):
    """The list, its script and its progress (called / remaining / by outcome)."""
    require(request.user, "sales.view_calllist")
    call_list = telesales.call_list_get(user=request.user, call_list_id=list_id)
    call_list.progress = telesales.call_list_progress(call_list=call_list)
    return call_list


@router.get("/call-lists/{list_id}/entries", response={200: list[EntryOut], 403: ErrorOut, **READ})
def list_entries(request: HttpRequest, list_id: int, remaining: bool = False):
    require(request.user, "sales.view_calllist")
    call_list = telesales.call_list_get(user=request.user, call_list_id=list_id)
    return telesales.call_list_entries(call_list=call_list, remaining_only=remaining)


@router.post("/call-lists/{list_id}/entries/{entry_id}/outcome", response={200: EntryOut, **WRITE})
def record_outcome(request: HttpRequest, list_id: int, entry_id: int, payload: OutcomeIn):
    """Record the call: an outbound-call activity on the customer and, with `follow_up`, a follow-up task."""
    return telesales.call_record_outcome(
        actor=request.user, call_list_id=list_id, entry_id=entry_id, **payload.model_dump()
    )
