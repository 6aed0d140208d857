"""Ticket assignment under /api/v1 (tag "service"): teams' assignment rules (for those who configure the service) and
the signed-in agent's availability and skills. Mounted on the service router (service/api.py)."""

from datetime import datetime

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict, Field

from guanxi.core.schemas import WRITE, ErrorOut
from guanxi.service import assignment
from guanxi.service.models import AgentAvailability, AssignmentRule
from guanxi.service.models.config import Kind

router = Router(tags=["service"])
GUARDED_READ = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class RuleOut(Schema):
    id: int
    team_id: int
    team_name: str
    strategy: AssignmentRule.Strategy
    match_skills: bool
    active: bool
    last_assigned_id: int | None
    version: int


class RuleIn(Schema):
    model_config = ConfigDict(extra="forbid")

    team_id: int
    strategy: AssignmentRule.Strategy = AssignmentRule.Strategy.ROUND_ROBIN
    match_skills: bool = False
    active: bool = True


class RulePatch(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int
    strategy: AssignmentRule.Strategy | None = None
    match_skills: bool | None = None
    active: bool | None = None


class AvailabilityOut(Schema):
    available: bool
    skills: list[str]
    version: int
    updated_at: datetime | None


class AvailabilityIn(Schema):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(..., ge=0)
    available: bool
    skills: list[Kind] | None = Field(None, max_length=len(Kind.values))


def _rule(rule: AssignmentRule) -> dict:
    return {
        "id": rule.pk,
        "team_id": rule.team_id,
        "team_name": rule.team.name,
        "strategy": rule.strategy,
        "match_skills": rule.match_skills,
        "active": rule.active,
        "last_assigned_id": rule.last_assigned_id,
        "version": rule.version,
    }


def _availability(record: AgentAvailability) -> dict:
    return {
        "available": record.available,
        "skills": list(record.skills),
        "version": record.version,
        "updated_at": record.updated_at,
    }


@router.get("/assignment-rules", response={200: list[RuleOut], **GUARDED_READ})
def list_assignment_rules(request: HttpRequest):
    """How each team's queue hands out tickets that arrive without a person (email): round robin or fewest open."""
    return [_rule(rule) for rule in assignment.rule_list(user=request.user)]


@router.post("/assignment-rules", response={201: RuleOut, **WRITE})
def create_assignment_rule(request: HttpRequest, payload: RuleIn):
    data = payload.model_dump(exclude={"team_id"})
    return 201, _rule(assignment.rule_create(actor=request.user, team_id=payload.team_id, data=data))


@router.patch("/assignment-rules/{assignment_rule_id}", response={200: RuleOut, **WRITE})
def update_assignment_rule(request: HttpRequest, assignment_rule_id: int, payload: RulePatch):
    data = payload.model_dump(exclude_unset=True)
    version = data.pop("version")
    return _rule(assignment.rule_update(actor=request.user, rule_id=assignment_rule_id, version=version, data=data))


@router.get("/agent-availability", response={200: AvailabilityOut, **GUARDED_READ})
def get_agent_availability(request: HttpRequest):
    """Whether you take tickets from your team's queue, and the ticket types you handle (version 0: never set)."""
    return _availability(assignment.availability_get(user=request.user))


@router.put("/agent-availability", response={200: AvailabilityOut, **WRITE})
def set_agent_availability(request: HttpRequest, payload: AvailabilityIn):
    skills = [str(kind) for kind in payload.skills] if payload.skills is not None else None
    record = assignment.availability_set(
        actor=request.user, version=payload.version, available=payload.available, skills=skills
    )
    return _availability(record)
