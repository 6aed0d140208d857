"""The kanban's stage totals, stored per (team, pipeline, stage, owner, sensitive customer or not).

The board of a team used to re-aggregate every open deal of the team on each request (17,500 deals on the bench
data, 9–13 ms on PostgreSQL of which 4 ms for the sensitive-customer rule). Now it sums a few rows of
`sales_boardtotal` (models.BoardTotal): one per owner and stage of the team, times two for the sensitive part.

Who keeps them: database triggers installed by sales migration 0008, not the Python services. Every path that changes
an open deal's key or amounts (deals_services, the customer transfer, lead conversion, admin, tests' factories, the
bench generator's SQL) and every change of a customer's `sensitive` flag (customer_update, the merge's survivor, the
import's bulk updates) goes through them in the same transaction, so none can be forgotten:

- a deal INSERT / UPDATE (only when status, pipeline, stage, owner, unit, customer, amount or weighted amount
  changes) / DELETE adds its new contribution and subtracts its old one with `INSERT … ON CONFLICT DO UPDATE SET
  deals = deals + …` (atomic: concurrent writers never lose an increment). On PostgreSQL both halves are one
  statement whose rows are ordered by key, so two deals dragged in opposite directions lock the two rows in the same
  order (no deadlock); the customer row is read `FOR SHARE` first, so a concurrent change of its sensitive flag either
  waits for this transaction or this one waits for it and then reads the new flag;
- a customer UPDATE that flips `sensitive` moves its open deals' sums from one part to the other (it holds the
  customer's row lock, so a deal write that counted under the old flag has committed and is seen).

`rebuild()` recomputes the table from the deals (`guanxi rebuild_board_totals`, `--check` compares without writing);
`differences()` is what the tests compare after random service operations.
"""

from decimal import Decimal

from django.db import connection, transaction

from guanxi.core.models import OrgUnit
from guanxi.core.scope import record_scope, restrict_sql, sql_in
from guanxi.core.tree import subtree_ids
from guanxi.sales.models import BoardTotal

Key = tuple[int, int, int, int, bool]  # org_unit_id (0: none), pipeline_id, stage_id, owner_id, sensitive

# The open deals grouped by the stored key: the migration's fill, rebuild() and the comparison of the tests.
LIVE_SQL = """
    SELECT COALESCE(d.org_unit_id, 0), d.pipeline_id, d.stage_id, d.owner_id, c.sensitive,
           COUNT(*), SUM(CAST(ROUND(d.amount * 100) AS BIGINT)), SUM(CAST(ROUND(d.weighted_amount * 100) AS BIGINT))
      FROM sales_opportunity d JOIN customers_customer c ON c.id = d.customer_id
     WHERE d.status = 'open'
     GROUP BY COALESCE(d.org_unit_id, 0), d.pipeline_id, d.stage_id, d.owner_id, c.sensitive
"""
COLUMNS = "org_unit_id, pipeline_id, stage_id, owner_id, sensitive, deals, amount_fen, weighted_fen"


def stage_totals(
    *, user, pipeline_id: int, team: int | None = None, owner: int | None = None, stage: int | None = None
) -> dict[int, dict]:
    """{stage id: {count, amount, weighted}} of the open deals of a pipeline the user may see, from the stored rows.

    The same rules as deals_selectors.opportunity_queryset on the key's own columns: the record scope (own deals,
    the units of the team or branch, everything), the sensitive part only with the permission; and the board's
    filters: team (its subtree of units), owner, stage. Every filter of the board is answerable from the key, so the
    board never falls back to aggregating the deals; the forecast (close dates, months) still aggregates them.
    One SQL statement (board_conditions) rather than a queryset: compiling the queryset cost more than running it."""
    found = board_conditions(
        user, table="sales_boardtotal", pipeline_id=pipeline_id, team=team, owner=owner, stage=stage
    )
    if found is None:
        return {}
    conditions, params = found
    if not record_scope(user).sees_sensitive:
        conditions.append("NOT sales_boardtotal.sensitive")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sales_boardtotal.stage_id, SUM(sales_boardtotal.deals), SUM(sales_boardtotal.amount_fen), "  # noqa: S608
            "SUM(sales_boardtotal.weighted_fen) FROM sales_boardtotal "
            f"WHERE {' AND '.join(conditions)} GROUP BY sales_boardtotal.stage_id",
            params,
        )
        rows = cursor.fetchall()
    return {
        stage_id: {"count": int(n), "amount": _yuan(fen), "weighted": _yuan(weighted)}
        for stage_id, n, fen, weighted in rows
        if n
    }


def board_conditions(
    user, *, table: str, pipeline_id: int, team: int | None, owner: int | None, stage: int | None
) -> tuple[list[str], list] | None:
    """The board's rows of `table` as SQL conditions and their parameters, or None when none can match: the pipeline,
    the record scope (core.scope.restrict_sql: own deals, the units of the team or branch, everything) and the
    board's filters — team (its subtree of units), owner, stage. `table` (a table or an alias) is sales_boardtotal or
    sales_opportunity, which name the key's columns alike; the sensitive-customer rule is the caller's (a column of
    the totals, a subquery for the deals). An id beyond bigint matches nothing, as Django answers an ORM filter."""
    if any(value is not None and not -(2**63) <= value < 2**63 for value in (pipeline_id, team, owner, stage)):
        return None
    scope = restrict_sql(user, owner_column=f"{table}.owner_id", unit_column=f"{table}.org_unit_id")
    if scope is None:
        return None
    conditions, params = [f"{table}.pipeline_id = %s"], [pipeline_id]
    if scope[0]:
        conditions.append(scope[0])
        params += scope[1]
    if team is not None:
        units = subtree_ids(OrgUnit, team)
        if not units:
            return None
        condition, values = sql_in(f"{table}.org_unit_id", units)
        conditions.append(condition)
        params += values
    if owner is not None:
        conditions.append(f"{table}.owner_id = %s")
        params.append(owner)
    if stage is not None:
        conditions.append(f"{table}.stage_id = %s")
        params.append(stage)
    return conditions, params


def _yuan(fen) -> Decimal:
    return (Decimal(int(fen or 0)) / 100).quantize(Decimal("0.01"))


def live() -> dict[Key, tuple[int, int, int]]:
    """The totals aggregated from the deals now (what the stored rows must equal)."""
    with connection.cursor() as cursor:
        cursor.execute(LIVE_SQL)
        return {_key(row): (int(row[5]), int(row[6]), int(row[7])) for row in cursor.fetchall()}


def stored() -> dict[Key, tuple[int, int, int]]:
    """The stored totals, rows that went back to zero left out."""
    return {
        (r.org_unit_id, r.pipeline_id, r.stage_id, r.owner_id, bool(r.sensitive)): (
            r.deals,
            r.amount_fen,
            r.weighted_fen,
        )
        for r in BoardTotal.objects.all()
        if (r.deals, r.amount_fen, r.weighted_fen) != (0, 0, 0)
    }


def differences() -> dict[Key, tuple]:
    """{key: (stored, live)} wherever they differ; empty when the stored totals are right."""
    have, want = stored(), live()
    return {key: (have.get(key), want.get(key)) for key in have.keys() | want.keys() if have.get(key) != want.get(key)}


def rebuild() -> int:
    """Recompute every stored total from the deals; returns the number of rows. On PostgreSQL deal and customer writes
    wait meanwhile (SHARE locks until commit), so no change slips between the delete and the fill."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE sales_opportunity, customers_customer IN SHARE MODE")
        cursor.execute("DELETE FROM sales_boardtotal")
        cursor.execute(f"INSERT INTO sales_boardtotal ({COLUMNS}) {LIVE_SQL}")
        return cursor.rowcount


def _key(row) -> Key:
    return (int(row[0]), int(row[1]), int(row[2]), int(row[3]), bool(row[4]))
