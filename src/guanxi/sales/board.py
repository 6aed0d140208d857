"""The kanban board's reads: the pipeline with its stages, and per open stage the stored totals and the newest cards.

The board is the pipeline's hot read (a team lead opens it all day), and it is small: a pipeline, its few stages,
their totals and 20-odd cards per column. Built as querysets, compiling them (the ARRAY subquery of the cards, the
prefetch of the stages, the totals' GROUP BY) cost more Python than PostgreSQL spent running them. So the board is
three SQL statements written here, with the record scope from core.scope.restrict_sql and the board's filters from
board_totals.board_conditions (the same conditions as the ORM's restrict() and DealFilters, tested against them),
and plain rows instead of model instances. Nothing is cached between requests: a renamed, added or reordered stage
shows on the next request of every process.
"""

from dataclasses import dataclass

from django.db import connection
from django.http import Http404

from guanxi.core.names import full_name
from guanxi.core.scope import record_scope, sql_in
from guanxi.sales import board_totals
from guanxi.sales.deals_selectors import money
from guanxi.sales.models import Opportunity, Pipeline, Stage

CARDS_PER_COLUMN = 20


@dataclass(frozen=True, slots=True)
class BoardStage:
    """A stage as the board shows it (the API's StageOut, the templates' column.stage)."""

    id: int
    code: str
    name: str
    name_en: str
    label: str
    position: int
    probability: int
    outcome: str

    @property
    def pk(self) -> int:
        return self.id


@dataclass(frozen=True, slots=True)
class BoardPipeline:
    """A pipeline with its stages in board order (the API's PipelineOut)."""

    id: int
    code: str
    name: str
    name_en: str
    label: str
    stages: tuple[BoardStage, ...]

    @property
    def pk(self) -> int:
        return self.id

    @classmethod
    def of(cls, pipeline: Pipeline) -> "BoardPipeline":
        """From a Pipeline instance (its stages prefetched by the pages' pipeline_list, or read now)."""
        stages = sorted(pipeline.stages.all(), key=lambda s: (s.position, s.pk))
        return cls(
            pipeline.pk,
            pipeline.code,
            pipeline.name,
            pipeline.name_en,
            pipeline.label,
            tuple(
                BoardStage(s.pk, s.code, s.name, s.name_en, s.label, s.position, s.probability, s.outcome)
                for s in stages
            ),
        )


_PIPELINE_SQL = """SELECT p.id, p.code, p.name, p.name_en,
           s.id, s.code, s.name, s.name_en, s.position, s.probability, s.outcome
      FROM sales_pipeline p LEFT JOIN sales_stage s ON s.pipeline_id = p.id
     WHERE p.id = {pipeline}
     ORDER BY s.position, s.id
"""
_DEFAULT_PIPELINE = "(SELECT d.id FROM sales_pipeline d WHERE d.active = %s ORDER BY d.position, d.id LIMIT 1)"


def board_pipeline_get(*, pipeline_id: int | None) -> BoardPipeline:
    """The pipeline and its stages in one statement (404 when absent); without an id the first active pipeline."""
    if pipeline_id is not None and not 0 < pipeline_id < 2**63:
        raise Http404
    with connection.cursor() as cursor:
        if pipeline_id is None:
            cursor.execute(_PIPELINE_SQL.format(pipeline=_DEFAULT_PIPELINE), [True])
        else:
            cursor.execute(_PIPELINE_SQL.format(pipeline="%s"), [pipeline_id])
        rows = cursor.fetchall()
    if not rows:
        raise Http404
    first = rows[0]
    return BoardPipeline(
        first[0],
        first[1],
        first[2],
        first[3],
        Stage.label_of(first[2], first[3]),
        tuple(BoardStage(r[4], r[5], r[6], r[7], Stage.label_of(r[6], r[7]), r[8], r[9], r[10]) for r in rows if r[4]),
    )


def kanban_board(
    *,
    user,
    pipeline: BoardPipeline | Pipeline,
    team: int | None = None,
    owner: int | None = None,
    per_column: int = CARDS_PER_COLUMN,
    stage: int | None = None,
    offset: int = 0,
) -> list[dict]:
    """The open deals of a pipeline by stage: per open stage its totals (count, amount, weighted amount) over every
    visible deal, and at most `per_column` cards (most recently changed first). Two statements whatever the size
    (plus one for the pipeline, board_pipeline_get): the stored totals (board_totals: a few rows per owner and stage
    instead of a GROUP BY over every deal of the team) and the cards (_card_rows). `stage` and `offset` give the
    next cards of one column (the "more" link)."""
    if isinstance(pipeline, Pipeline):
        pipeline = BoardPipeline.of(pipeline)
    totals = board_totals.stage_totals(user=user, pipeline_id=pipeline.id, team=team, owner=owner, stage=stage)
    # Open deals stand in open stages, so the board needs no stage filter; the "more" link reads only its column.
    stages = [s for s in pipeline.stages if s.outcome == Stage.Outcome.OPEN and stage in (None, s.id)]
    by_stage: dict[int, list[dict]] = {}
    if stages:
        for card in _card_rows(user, pipeline, stages, team, owner, stage, offset, per_column):
            by_stage.setdefault(card.pop("stage_id"), []).append(card)
    columns = []
    for s in stages:
        total = totals.get(s.id, {})
        count = total.get("count", 0)
        shown = by_stage.get(s.id, [])
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


# The cards' rows, both databases alike: id, name, customer id and name, amount, weighted amount, expected close,
# stage, version, updated_at (the sort key), owner's username, first and last name. The column's candidates are
# filtered under the alias `o`.
#
# PostgreSQL: per stage an ordered LIMIT, walking sales_opp_unit_board_idx (…, stage, updated_at, id, …) backwards
# (or sales_opp_stage_idx for scope ALL) and stopping after the column's cards; a LATERAL join gives the rows of all
# columns in one statement. A window over the whole board (ROW_NUMBER() OVER (PARTITION BY stage …)) read and sorted
# every open deal of the team first (0.2 s for a team of 17,500 deals on the bench data). The customer's name is a
# subquery of the card's row rather than a join: with the deals and customers joined again outside the LATERAL, the
# planner spent 1.6–2 ms planning and 3–6 ms running it on the bench data, against 1.1 and 1.4 ms.
_CARDS_POSTGRESQL = """SELECT top.id, top.name, top.customer_id, top.customer, top.amount, top.weighted_amount,
           top.expected_close, top.stage_id, top.version, top.updated_at, u.username, u.first_name, u.last_name
      FROM sales_stage s
     CROSS JOIN LATERAL (
           SELECT o.id, o.name, o.customer_id, (SELECT c.name FROM customers_customer c WHERE c.id = o.customer_id)
                  AS customer, o.amount, o.weighted_amount, o.expected_close, o.stage_id, o.version, o.updated_at,
                  o.owner_id
             FROM sales_opportunity o
            WHERE o.stage_id = s.id AND {where}
            ORDER BY o.updated_at DESC, o.id DESC
            LIMIT %s OFFSET %s
           ) top
      JOIN auth_user u ON u.id = top.owner_id
     WHERE {stages}
"""
# SQLite has no LATERAL: the window stays (a SQLite installation has small teams).
_CARDS_SQLITE = """SELECT d.id, d.name, d.customer_id, c.name, d.amount, d.weighted_amount, d.expected_close,
           d.stage_id, d.version, d.updated_at, u.username, u.first_name, u.last_name
      FROM (SELECT o.id, ROW_NUMBER() OVER (PARTITION BY o.stage_id ORDER BY o.updated_at DESC, o.id DESC) AS rn
              FROM sales_opportunity o
             WHERE {where}) top
      JOIN sales_opportunity d ON d.id = top.id
      JOIN customers_customer c ON c.id = d.customer_id
      JOIN auth_user u ON u.id = d.owner_id
     WHERE top.rn > %s AND top.rn <= %s
"""
# The sensitive-customer rule of the cards: NOT EXISTS (that customer, sensitive) rather than the NOT IN (every
# sensitive id) of the other deal reads. A column reads its 20-odd newest deals and stops: PostgreSQL probes the
# partial index customers_sensitive_ids_idx once per candidate (0.2 ms for a team's five columns on the bench data)
# instead of hashing all 10,000 sensitive ids first (3–12 ms).
_NOT_SENSITIVE = "NOT EXISTS (SELECT 1 FROM customers_customer x WHERE x.id = o.customer_id AND x.sensitive)"


def _card_rows(user, pipeline, stages, team, owner, stage, offset: int, per_column: int) -> list[dict]:
    """The kanban cards of each column as plain rows (the API's CardOut, the board's template), customer and owner as
    names, each column most recently changed first: the open deals the user may see (opportunity_queryset's rules),
    with the board's filters."""
    found = board_totals.board_conditions(user, table="o", pipeline_id=pipeline.id, team=team, owner=owner, stage=stage)
    if found is None:
        return []
    conditions, params = found
    conditions.append("o.status = %s")
    params.append(Opportunity.Status.OPEN.value)
    if not record_scope(user).sees_sensitive:
        conditions.append(_NOT_SENSITIVE)
    where = " AND ".join(conditions)
    if connection.vendor == "postgresql":
        in_stages, stage_ids = sql_in("s.id", [s.id for s in stages])
        sql = _CARDS_POSTGRESQL.format(where=where, stages=in_stages)
        params = [*params, per_column, offset, *stage_ids]
    else:
        sql = _CARDS_SQLITE.format(where=where)
        params = [*params, offset, offset + per_column]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    rows.sort(key=lambda row: (row[9], row[0]), reverse=True)  # newest first; the columns are split by stage_id
    return [
        {
            "id": row[0],
            "name": row[1],
            "customer_id": row[2],
            "customer": row[3],
            "amount": money(row[4]),
            "weighted_amount": money(row[5]),
            "expected_close": row[6],
            "stage_id": row[7],
            "version": row[8],
            "owner": full_name(row[10], row[11], row[12]),
        }
        for row in rows
    ]
