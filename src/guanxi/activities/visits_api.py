"""API of visit plans (D2): rules, plan against done for a month, overdue visits (router tag "activities")."""

from datetime import date, datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from guanxi.activities import visits
from guanxi.activities.models import VisitRule
from guanxi.core.schemas import READ, WRITE, ErrorOut
from guanxi.customers.models import Customer

router = Router(tags=["activities"])

MONTH = r"^\d{4}-(0[1-9]|1[0-2])$"


class GradeNumbersOut(Schema):
    customers: int
    planned: int
    done: int


class PlanRowOut(Schema):
    user_id: int | None
    name: str
    unit_id: int | None
    unit_name: str
    planned: int
    done: int
    rate: float | None = Field(..., description="done / planned (null when nothing is planned)")
    grades: dict[str, GradeNumbersOut]


class PlanOut(Schema):
    month: str
    managers: list[PlanRowOut]
    teams: list[PlanRowOut]
    total: PlanRowOut


class PlanQuery(Schema):
    month: str | None = Field(None, pattern=MONTH, description="YYYY-MM; default: this month")
    owner_id: int | None = Field(None, description="One account manager in your scope")
    team: int | None = Field(None, description="An organisation unit in your scope")


class OverdueQuery(Schema):
    owner_id: int | None = None
    team: int | None = None
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=100_000)


class OverdueOut(Schema):
    customer_id: int
    number: str
    name: str
    grade: str
    owner_id: int | None
    owner_name: str
    last_visit: datetime | None
    due_at: datetime
    days_overdue: int


class OverduePage(Schema):
    items: list[OverdueOut]
    next_offset: int | None


class RuleIn(Schema):
    grade: Customer.Grade
    owner_id: int | None = Field(None, description="An account manager (override); null: the company default")
    visits: int = Field(..., ge=1, le=31)
    period_months: int = Field(..., ge=1, le=12, description="1, 2, 3, 4, 6 or 12")
    version: int | None = Field(None, description="Required when the rule exists (409 when stale)")


class RuleOut(Schema):
    id: int | None
    grade: str
    owner_id: int | None
    visits: int
    period_months: int
    interval_days: int
    version: int | None
    builtin: bool = Field(..., description="A built-in default (no stored rule)")


def _month(value: str | None) -> date:
    if not value:
        from django.utils import timezone

        return timezone.localdate().replace(day=1)
    year, month = value.split("-")
    return date(int(year), int(month), 1)


def _row(row) -> dict:
    return {**row.__dict__, "rate": row.rate}


@router.get("/visit-plans", response={200: PlanOut, **READ})
def visit_plan(request: HttpRequest, query: Query[PlanQuery]):
    """Plan against done of visits for a month, per account manager and team in your scope (每月拜访任务)."""
    month = _month(query.month)
    plan = visits.visit_plan(user=request.user, month=month, owner_id=query.owner_id, team_id=query.team)
    return {
        "month": f"{month:%Y-%m}",
        "managers": [_row(r) for r in plan["managers"]],
        "teams": [_row(r) for r in plan["teams"]],
        "total": _row(plan["total"]),
    }


@router.get("/visit-plans/overdue", response={200: OverduePage, **READ})
def overdue(request: HttpRequest, query: Query[OverdueQuery]):
    """Customers in your scope whose last visit is older than their grade's interval, most overdue first."""
    found = visits.overdue_visits(
        user=request.user, owner_id=query.owner_id, team_id=query.team, limit=query.limit + 1, offset=query.offset
    )
    items = [
        {
            "customer_id": c.pk,
            "number": c.number,
            "name": c.name,
            "grade": c.grade,
            "owner_id": c.owner_id,
            "owner_name": (c.owner.get_full_name() or c.owner.username) if c.owner_id else "",
            "last_visit": c.last_visit,
            "due_at": c.due_at,
            "days_overdue": c.days_overdue,
        }
        for c in found[: query.limit]
    ]
    return {"items": items, "next_offset": query.offset + query.limit if len(found) > query.limit else None}


@router.get("/visit-plans/rules", response={200: list[RuleOut], 401: ErrorOut})
def list_rules(request: HttpRequest):
    """The visit rules in force: stored ones and the built-in defaults of grades without a stored default."""
    return [_rule_out(rule, row) for rule, row in visits.rules_in_force()]


@router.post("/visit-plans/rules", response={200: RuleOut, **WRITE})
def set_rule(request: HttpRequest, payload: RuleIn):
    """Create or change the rule of a grade (for everyone, or for one account manager's customers)."""
    rule = visits.visit_rule_set(
        actor=request.user,
        grade=payload.grade,
        owner_id=payload.owner_id,
        visits=payload.visits,
        period_months=payload.period_months,
        version=payload.version,
    )
    return _rule_out(visits.Rule.of(rule), rule)


@router.delete("/visit-plans/rules/{rule_id}", response={204: None, **WRITE})
def delete_rule(request: HttpRequest, rule_id: int):
    visits.visit_rule_delete(actor=request.user, rule_id=rule_id)
    return 204, None


def _rule_out(rule: visits.Rule, row: VisitRule | None) -> dict:
    """A rule in force and the stored row behind it (None: a built-in default)."""
    return {
        "id": row.pk if row else None,
        "grade": rule.grade,
        "owner_id": rule.owner_id,
        "visits": rule.visits,
        "period_months": rule.period_months,
        "interval_days": rule.interval.days,
        "version": row.version if row else None,
        "builtin": row is None,
    }
