"""Every read of pipelines and opportunities (deals), already narrowed to what the user may see.

A deal is visible by its own owner and owning unit (the owner's team), like a customer, and never when its customer is
sensitive and the user may not see sensitive customers. Scoping on the deal's own columns lets the kanban read one
index per team (docs/sales.md, "Record scope").
"""

from datetime import date, datetime
from decimal import Decimal

from django.db import connections
from django.db.models import Count, Exists, F, OuterRef, Prefetch, QuerySet, Sum, Window
from django.db.models.functions import RowNumber
from django.http import Http404
from django.utils import timezone
from pydantic import BaseModel, Field

from guanxi.core.models import OrgUnit
from guanxi.core.names import full_name
from guanxi.core.pagination import Page, keyset_page
from guanxi.core.scope import record_scope, restrict
from guanxi.core.tree import subtree_ids
from guanxi.customers.models import Customer
from guanxi.sales import board_totals
from guanxi.sales.models import Competitor, Opportunity, Pipeline, Stage, StageChange, TeamMember

CENT = Decimal("0.01")
DEAL_ORDERINGS = ("-updated_at", "expected_close", "-expected_close", "-amount", "name", "-created_at")
CARDS_PER_COLUMN = 20


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


def customer_deals(*, user, customer) -> QuerySet[Opportunity]:
    """opportunity_queryset(user) narrowed to `customer` (its `sensitive` flag loaded), for the 360 view's panel.

    A deal keeps its own scope (owner and unit: restrict, as in opportunity_queryset); the sensitive-customer rule is
    settled by this customer's flag, so the statement needs no NOT IN (sensitive customers) subquery. That makes it
    equal to opportunity_queryset(user).filter(customer_id=customer.pk) for any customer, visible or not (tests pin
    it per role); it does not lean on the 360 view's own check of the customer."""
    if customer.sensitive and not record_scope(user).sees_sensitive:
        return Opportunity.objects.none()
    return restrict(Opportunity.objects.filter(customer_id=customer.pk), user)


def deals_of_customer(*, user, customer) -> QuerySet[Opportunity]:
    """The visible deals of one customer, open ones first, then the latest changed (the 360 panel's order)."""
    return customer_deals(user=user, customer=customer).order_by(
        F("closed_at").desc(nulls_first=True), "-updated_at", "-id"
    )


# --- kanban ---------------------------------------------------------------------------------------------------------


def kanban_board(
    *,
    user,
    pipeline: Pipeline,
    team: int | None = None,
    owner: int | None = None,
    per_column: int = CARDS_PER_COLUMN,
    stage: int | None = None,
    offset: int = 0,
) -> list[dict]:
    """The open deals of a pipeline by stage: per open stage its totals (count, amount, weighted amount) over every
    visible deal, and at most `per_column` cards (most recently changed first). Four queries whatever the size:
    stages (prefetched on the pipeline), totals (the stored ones, board_totals: a few rows per owner and stage instead
    of a GROUP BY over every deal of the team), the ids of the top cards (one query: an array per stage), the cards
    (plain dicts, see _card_rows). `stage` and `offset` give the next cards of one column (the "more" link)."""
    deals = DealFilters(team=team, owner=owner, stage=stage).apply(
        _board_deals(user).filter(pipeline=pipeline, status=Opportunity.Status.OPEN)
    )
    totals = board_totals.stage_totals(user=user, pipeline_id=pipeline.pk, team=team, owner=owner, stage=stage)
    # Open deals stand in open stages, so the board needs no stage filter; the "more" link reads only its column.
    stages = [s for s in pipeline.stages.all() if s.outcome == Stage.Outcome.OPEN and stage in (None, s.pk)]
    # The top cards of each column: first their ids, then those rows with customer and owner. On PostgreSQL one
    # statement over the board's stages, each with ARRAY(its ordered LIMIT) walking sales_opp_unit_board_idx
    # (…, stage, updated_at, id, …) backwards and stopping after the column's cards. A window over the whole board
    # (ROW_NUMBER() OVER (PARTITION BY stage …)) read and sorted every open deal of the team first (0.2 s for a team of
    # 17,500 deals on the bench data); one `UNION ALL` branch per stage cost 12 ms of Python to compile and, on the
    # server, rebuilt the sensitive customers' hash once per branch. SQLite has no arrays: there the window stays (a
    # SQLite installation has small teams).
    if connections[deals.db].vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery  # imports the PostgreSQL driver's types

        column = deals.filter(stage_id=OuterRef("pk")).order_by("-updated_at", "-id").values("id")
        arrays = (
            Stage.objects.filter(pk__in=[s.pk for s in stages])
            .order_by()  # the cards are ordered by _card_rows; no join to the pipelines for Stage's ordering
            .annotate(ids=ArraySubquery(column[offset : offset + per_column]))
        )
        # NULL, not an empty array, when the filters can match nothing (an id beyond bigint: Django empties the query).
        top = [deal_id for ids in arrays.values_list("ids", flat=True) for deal_id in ids or ()]
    else:
        top = list(
            deals.annotate(
                row=Window(RowNumber(), partition_by=[F("stage_id")], order_by=[F("updated_at").desc(), F("id").desc()])
            )
            .filter(row__gt=offset, row__lte=offset + per_column)
            .values_list("id", flat=True)
        )
    by_stage: dict[int, list[dict]] = {}
    for card in _card_rows(top):
        by_stage.setdefault(card.pop("stage_id"), []).append(card)
    columns = []
    for s in stages:
        total = totals.get(s.pk, {})
        count = total.get("count", 0)
        shown = by_stage.get(s.pk, [])
        columns.append(
            {
                "stage": s,
                "count": count,
                "amount": money(total.get("amount")),
                "weighted": money(total.get("weighted")),
                "cards": shown,
                "more": max(count - offset - len(shown), 0),
                "next_offset": offset + len(shown),
            }
        )
    return columns


def _board_deals(user) -> QuerySet[Opportunity]:
    """The deals of the board's cards: opportunity_queryset's rules, but the sensitive customers left out by
    `NOT EXISTS (that customer, sensitive)` rather than `NOT IN (every sensitive id)`. A column reads its 20-odd
    newest deals and stops: PostgreSQL probes the partial index customers_sensitive_ids_idx once per candidate
    (0.2 ms for a team's five columns on the bench data) instead of hashing all 10,000 sensitive ids first (3–12 ms).
    The totals no longer scan the deals (board_totals), which is where the hash paid off."""
    deals = restrict(Opportunity.objects.all(), user)
    if record_scope(user).sees_sensitive:
        return deals
    return deals.filter(~Exists(Customer.objects.filter(pk=OuterRef("customer_id"), sensitive=True)))


def _card_rows(ids: list[int]) -> list[dict]:
    """The kanban cards of these deals as plain rows (the API's CardOut, the board's template), customer and owner as
    names, by stage then most recently changed. A board shows up to 20 cards per column: building them as deals with
    their customer and owner instances, then reading them back through per-card schemas, cost more Python than the
    board's three statements."""
    rows = (
        Opportunity.objects.filter(pk__in=ids)
        .order_by("stage_id", "-updated_at", "-id")
        .values(
            "id",
            "name",
            "customer_id",
            "amount",
            "weighted_amount",
            "expected_close",
            "stage_id",
            "version",
            customer_name=F("customer__name"),
            owner_username=F("owner__username"),
            owner_first_name=F("owner__first_name"),
            owner_last_name=F("owner__last_name"),
        )
    )
    cards = []
    for row in rows:
        username, first, last = row.pop("owner_username"), row.pop("owner_first_name"), row.pop("owner_last_name")
        row["customer"] = row.pop("customer_name")
        row["owner"] = full_name(username, first, last)
        cards.append(row)
    return cards


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
