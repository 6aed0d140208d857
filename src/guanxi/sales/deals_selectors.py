"""Every read of pipelines and opportunities (deals), already narrowed to what the user may see.

A deal is visible by its own owner and owning unit (the owner's team), like a customer, and never when its customer is
sensitive and the user may not see sensitive customers. Scoping on the deal's own columns lets the kanban read one
index per team (docs/sales.md, "Record scope").
"""

from datetime import date, datetime
from decimal import Decimal

from django.db.models import Count, Prefetch, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from pydantic import BaseModel, Field

from guanxi.core.models import OrgUnit
from guanxi.core.names import full_name
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.scope import record_scope, restrict
from guanxi.core.tree import subtree_ids
from guanxi.customers.models import Customer
from guanxi.sales.models import Competitor, Opportunity, Pipeline, Stage, StageChange, TeamMember

CENT = Decimal("0.01")
DEAL_ORDERINGS = ("-updated_at", "expected_close", "-expected_close", "-amount", "name", "-created_at")


class DealFilters(BaseModel):
    """The deal list / kanban filter, shared by the pages and the API."""

    q: str | None = Field(None, max_length=100, description="Deal name substring")
    pipeline: int | None = Field(None, description="Pipeline id")
    stage: int | None = Field(None, description="Stage id")
    status: Opportunity.Status | None = None
    owner: int | None = Field(None, description="Owner user id")
    team: int | None = Field(None, description="Organisation unit id; includes its sub-units")
    customer: int | None = Field(None, description="Customer id")
    close_from: date | None = Field(None, description="Expected close on or after")
    close_to: date | None = Field(None, description="Expected close on or before")

    def apply(self, queryset: QuerySet[Opportunity]) -> QuerySet[Opportunity]:
        if self.q:
            queryset = queryset.filter(name__icontains=self.q.strip())
        for field in ("pipeline", "stage", "owner", "customer"):
            value = getattr(self, field)
            if value is not None:
                queryset = queryset.filter(**{f"{field}_id": value})
        if self.status:
            queryset = queryset.filter(status=self.status)
        if self.team is not None:
            queryset = queryset.filter(org_unit_id__in=subtree_ids(OrgUnit, self.team))
        if self.close_from:
            queryset = queryset.filter(expected_close__gte=self.close_from)
        if self.close_to:
            queryset = queryset.filter(expected_close__lte=self.close_to)
        return queryset


# --- pipelines ------------------------------------------------------------------------------------------------------


def pipeline_list(*, active_only: bool = True) -> list[Pipeline]:
    pipelines = Pipeline.objects.all()
    if active_only:
        pipelines = pipelines.filter(active=True)
    return list(pipelines.prefetch_related(Prefetch("stages", queryset=Stage.objects.order_by("position", "id"))))


def pipeline_get(*, pipeline_id: int) -> Pipeline:
    pipeline = (
        Pipeline.objects.filter(pk=pipeline_id)
        .prefetch_related(Prefetch("stages", queryset=Stage.objects.order_by("position", "id")))
        .first()
    )
    if pipeline is None:
        raise Http404
    return pipeline


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(active=True).order_by("position", "id").first()


# --- deals ----------------------------------------------------------------------------------------------------------


def opportunity_queryset(*, user) -> QuerySet[Opportunity]:
    """All deals `user` may see.

    The sensitive-customer rule is `customer_id NOT IN (sensitive customers)` rather than a join on customers: the join
    made PostgreSQL probe (or hash) customers for every deal of a team's board, 17,700 probes and 0.4 s for one team on
    1 M customers; the subquery reads the few sensitive ids once from a partial index (customers_sensitive_ids_idx, a
    model index of Customer) and the board's totals stay on the deals' own index."""
    deals = restrict(Opportunity.objects.all(), user)
    if record_scope(user).sees_sensitive:
        return deals
    return deals.exclude(customer_id__in=Customer.objects.filter(sensitive=True).values("pk"))


def opportunity_list(
    *, user, filters: DealFilters, ordering: str = "-updated_at", cursor: str | None = None, limit: int = 50
) -> Page:
    queryset = filters.apply(opportunity_queryset(user=user)).select_related("customer", "stage", "pipeline", "owner")
    return keyset_page(queryset, ordering=ordering, cursor=cursor, limit=limit)


def opportunity_get(*, user, opportunity_id: int) -> Opportunity:
    """One deal with its competitors, team and stage history; 404 when absent or outside the user's scope."""
    deal = (
        opportunity_queryset(user=user)
        .select_related("customer", "pipeline", "stage", "owner", "org_unit")
        .prefetch_related(
            Prefetch("competitors", queryset=Competitor.objects.order_by("name", "id")),
            Prefetch("team_members", queryset=TeamMember.objects.select_related("user").order_by("id")),
            Prefetch("stage_changes", queryset=StageChange.objects.select_related("stage", "moved_by")),
        )
        .filter(pk=opportunity_id)
        .first()
    )
    if deal is None:
        raise Http404
    return deal


def opportunity_visible(*, user, object_id) -> bool:
    return str(object_id).isdigit() and opportunity_queryset(user=user).filter(pk=int(object_id)).exists()


def stage_history(deal: Opportunity, *, now: datetime | None = None) -> list[dict]:
    """Each stay in a stage with its duration (the current stage counts up to now); uses the prefetched rows."""
    now = now or timezone.now()
    return [
        {
            "stage_id": change.stage_id,
            "stage": change.stage.label,
            "entered_at": change.entered_at,
            "left_at": change.left_at,
            "seconds": int(((change.left_at or now) - change.entered_at).total_seconds()),
            "moved_by": (change.moved_by.get_full_name() or change.moved_by.username) if change.moved_by_id else "",
        }
        for change in deal.stage_changes.all()
    ]


def customer_deals(*, user, customer, base: QuerySet[Opportunity] | None = None) -> QuerySet[Opportunity]:
    """opportunity_queryset(user) narrowed to `customer` (its `sensitive` flag loaded), for the 360 view's panel.

    A deal keeps its own scope (owner and unit: restrict, as in opportunity_queryset); the sensitive-customer rule is
    settled by this customer's flag, so the statement needs no NOT IN (sensitive customers) subquery. That makes it
    equal to opportunity_queryset(user).filter(customer_id=customer.pk) for any customer, visible or not (tests pin
    it per role); it does not lean on the 360 view's own check of the customer. `base` narrows or shapes another
    queryset of deals the same way (the panel's values() rows, built once)."""
    if customer.sensitive and not record_scope(user).sees_sensitive:
        return Opportunity.objects.none()
    return restrict((Opportunity.objects.all() if base is None else base).filter(customer_id=customer.pk), user)


# --- forecast -------------------------------------------------------------------------------------------------------

FORECAST_GROUPS = ("month", "owner", "team")


def forecast(
    *,
    user,
    by: str = "month",
    pipeline: int | None = None,
    team: int | None = None,
    owner: int | None = None,
    close_from: date | None = None,
    close_to: date | None = None,
) -> list[dict]:
    """The weighted forecast (销售预测) of open deals: per month of expected close, per owner or per team, the number
    of deals, their amount and the weighted amount (Σ amount × stage probability)."""
    deals = DealFilters(pipeline=pipeline, team=team, owner=owner, close_from=close_from, close_to=close_to).apply(
        opportunity_queryset(user=user).filter(status=Opportunity.Status.OPEN)
    )
    if by == "owner":
        keys = ["owner_id", "owner__username", "owner__first_name", "owner__last_name"]
    elif by == "team":
        keys = ["org_unit_id", "org_unit__name"]
    else:
        keys = ["expected_close__year", "expected_close__month"]
    rows = (
        deals.order_by()
        .values(*keys)
        .annotate(count=Count("*"), amount=Sum("amount"), weighted=Sum("weighted_amount"))
        .order_by(*keys)
    )
    result = []
    for row in rows:
        if by == "owner":
            key = row["owner_id"]
            label = full_name(row["owner__username"], row["owner__first_name"], row["owner__last_name"])
        elif by == "team":
            key, label = row["org_unit_id"], row["org_unit__name"] or "—"
        else:
            key = label = f"{row['expected_close__year']:04d}-{row['expected_close__month']:02d}"
        result.append(
            {
                "key": key,
                "label": label,
                "count": row["count"],
                "amount": money(row["amount"]),
                "weighted": money(row["weighted"]),
            }
        )
    if by != "month":
        result.sort(key=lambda r: (-r["weighted"], str(r["label"])))
    return result


def forecast_totals(rows: list[dict]) -> dict:
    return {
        "count": sum(r["count"] for r in rows),
        "amount": money(sum((r["amount"] for r in rows), start=Decimal(0))),
        "weighted": money(sum((r["weighted"] for r in rows), start=Decimal(0))),
    }


def money(value) -> Decimal:
    """A sum of money as Decimal to the cent (SQLite's SUM does not keep the column's scale)."""
    return Decimal(value or 0).quantize(CENT)
