#!/usr/bin/env python
"""Bench data for the sales pipeline: deals (opportunities) for a share of the customers generate.py loaded, by COPY.

    .venv/bin/python bench/generate_opportunities.py                    # PostgreSQL guanxi_bench: ~300,000 deals
    .venv/bin/python bench/generate_opportunities.py --share 0.1 --database-url sqlite:///bench/data/medium.sqlite3

About `--share` (0.3) of the customers get one deal, 1 in 10 of those a second one in the other pipeline; the deal is
owned by the customer's owner and team. Pipelines and stages are the seeded ones (新装增容, 增值服务): 65 % of the deals
are open, spread over the open stages (more in the early ones), 20 % won, 15 % lost; amounts 10,000–5,000,000 CNY
(log-uniform), probability and weighted amount copied from the stage as the services do, expected close within a
year either side of today, stage entered some days before the last change. No stage history, team or competitor
rows (the kanban and the forecast do not read them). Nothing is written when deals exist (`--replace` deletes them).
"""

import argparse
import math
import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (bench scripts share helpers; bench/ is not a package)

TABLE = "sales_opportunity"
BATCH = 50_000
KNOWN = [
    "id",
    "name",
    "amount",
    "expected_close",
    "probability",
    "weighted_amount",
    "status",
    "close_reason",
    "closed_at",
    "stage_entered_at",
    "description",
    "created_at",
    "updated_at",
    "version",
    "created_by_id",
    "customer_id",
    "org_unit_id",
    "owner_id",
    "pipeline_id",
    "stage_id",
]
DEAL_NAMES = {
    0: ["新装{kva}kVA", "增容至{kva}kVA", "临时用电{kva}kVA", "双电源改造"],
    1: ["能效诊断", "充电桩建设", "光伏并网", "配电运维托管"],
}
LOST_REASONS = ["价格偏高", "客户暂缓投资", "选择了竞争对手", "方案不满足要求"]
WON_REASONS = ["方案与价格均满足", "长期合作客户", "响应速度快"]


def stage_plan() -> list[dict]:
    """Per pipeline: its open stages (with weights, earlier ones fuller), its won and its lost stage."""
    from guanxi.sales.models import Pipeline, Stage

    plans = []
    for pipeline in Pipeline.objects.order_by("position", "id"):
        stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position", "id"))
        open_stages = [s for s in stages if s.outcome == Stage.Outcome.OPEN]
        plans.append(
            {
                "pipeline": pipeline,
                "open": open_stages,
                "weights": [len(open_stages) - i for i in range(len(open_stages))],
                "won": next(s for s in stages if s.outcome == Stage.Outcome.WON),
                "lost": next(s for s in stages if s.outcome == Stage.Outcome.LOST),
            }
        )
    return plans


def money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}")


class DealRows:
    def __init__(self, *, seed: int, plans: list[dict], sqlite: bool):
        self.rng = random.Random(seed)
        self.plans = plans
        self.sqlite = sqlite
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.today = date.today()
        self.next_id = 1

    def stamp(self, moment: datetime | None):
        if moment is None:
            return None
        return moment.strftime("%Y-%m-%d %H:%M:%S") if self.sqlite else moment.isoformat()

    def deal(self, customer_id: int, owner_id: int, unit_id, pipeline_index: int, creator_id: int) -> tuple:
        rng, plan = self.rng, self.plans[pipeline_index]
        roll = rng.random()
        if roll < 0.65:
            stage = rng.choices(plan["open"], weights=plan["weights"])[0]
            status, reason = "open", ""
        elif roll < 0.85:
            stage, status, reason = plan["won"], "won", rng.choice(WON_REASONS)
        else:
            stage, status, reason = plan["lost"], "lost", rng.choice(LOST_REASONS)
        amount = money(math.exp(rng.uniform(math.log(10_000), math.log(5_000_000))))
        probability = stage.probability
        weighted = money(float(amount) * probability / 100)
        created = self.now - timedelta(seconds=rng.randrange(86_400, 2 * 365 * 86_400))
        updated = min(self.now, created + timedelta(seconds=rng.randrange(0, 180 * 86_400)))
        entered = updated - timedelta(seconds=rng.randrange(0, max(1, int((updated - created).total_seconds()))))
        closed = updated if status != "open" else None
        name = rng.choice(DEAL_NAMES[pipeline_index % 2]).format(kva=rng.choice((315, 630, 800, 1250, 2000, 4000)))
        row = (
            self.next_id,
            name,
            amount,
            (self.today + timedelta(days=rng.randint(-365, 365))).isoformat(),
            probability,
            weighted,
            status,
            reason,
            self.stamp(closed),
            self.stamp(entered),
            "",
            self.stamp(created),
            self.stamp(updated),
            1,
            creator_id,
            customer_id,
            unit_id,
            owner_id,
            plan["pipeline"].pk,
            stage.pk,
        )
        self.next_id += 1
        return row


def load(*, share: float, seed: int, sqlite: bool, replace: bool, keep_indexes: bool = False) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from guanxi.sales.models import Opportunity

    if Opportunity.objects.exists():
        if not replace:
            count = Opportunity.objects.count()
            print(f"The database already holds {count:,} deals: nothing to do (--replace to generate again).")
            return {"deals": 0, "skipped": count}
        Opportunity.objects.all().delete()  # with their history, team and competitor rows
    admin_id = get_user_model().objects.get(username="admin").pk
    plans = stage_plan()
    maker = DealRows(seed=seed, plans=plans, sqlite=sqlite)
    plan = generate.TablePlan(Opportunity, KNOWN)
    rng = random.Random(seed + 1)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, owner_id, org_unit_id FROM customers_customer WHERE owner_id IS NOT NULL "
            "AND archived_at IS NULL AND merged_into_id IS NULL ORDER BY id"
        )
        customers = [row for row in cur.fetchall() if rng.random() < share]
    print(f"  {len(customers):,} customers get a deal")
    totals = {"deals": 0}
    connection.ensure_connection()
    with transaction.atomic():
        generate.LOADED_TABLES = (TABLE,)
        loader = generate.SqliteLoader(connection.connection) if sqlite else generate.PgLoader(connection.connection)
        if not keep_indexes:
            loader.drop_secondary()
        paused = _pause_board_totals(connection, sqlite)
        started = time.perf_counter()
        for start in range(0, len(customers), BATCH):
            rows = []
            for customer_id, owner_id, unit_id in customers[start : start + BATCH]:
                first = rng.randrange(len(plans))
                rows.append(maker.deal(customer_id, owner_id, unit_id, first, admin_id))
                if rng.random() < 0.1 and len(plans) > 1:
                    rows.append(maker.deal(customer_id, owner_id, unit_id, (first + 1) % len(plans), admin_id))
            loader.copy(TABLE, plan.columns, plan.complete(rows))
            totals["deals"] += len(rows)
            print(f"  {totals['deals']:>9,} deals {totals['deals'] / (time.perf_counter() - started):>9,.0f} rows/s")
        totals["load_seconds"] = time.perf_counter() - started
        indexed = time.perf_counter()
        if not keep_indexes:
            loader.restore_secondary()
        totals["index_seconds"] = time.perf_counter() - indexed
        loader.finish({TABLE: maker.next_id - 1})
        if paused:
            _resume_board_totals(connection)
    with connection.cursor() as cur:
        cur.execute("ANALYZE" if sqlite else f'VACUUM (ANALYZE) "{TABLE}"')
    return totals


def _pause_board_totals(connection, sqlite: bool) -> bool:
    """sales 0008's trigger adds every new deal to the kanban's stored totals: on PostgreSQL a PL/pgSQL call and a
    customer row lock per copied row. For the bulk load it is switched off (in this transaction only; writers wait,
    readers do not) and the totals are rebuilt once at the end (_resume_board_totals). SQLite's trigger is cheap."""
    if sqlite:
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'sales_boardtotal_ins'")
        if cur.fetchone() is None:  # the database is before sales 0008
            return False
        cur.execute("ALTER TABLE sales_opportunity DISABLE TRIGGER sales_boardtotal_ins")
    return True


def _resume_board_totals(connection) -> None:
    from guanxi.sales import board_totals

    with connection.cursor() as cur:
        cur.execute("ALTER TABLE sales_opportunity ENABLE TRIGGER sales_boardtotal_ins")
    board_totals.rebuild()


def check_sample(size: int = 300) -> None:
    from guanxi.sales.models import Opportunity

    ids = list(Opportunity.objects.order_by("?").values_list("pk", flat=True)[:size])
    deals = list(Opportunity.objects.filter(pk__in=ids))
    for deal in deals:
        deal.full_clean(validate_unique=False, validate_constraints=False)
    print(f"  {len(deals)} deals pass full_clean()")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=generate.DEFAULT_DATABASE_URL)
    parser.add_argument("--share", type=float, default=0.3, help="share of live customers with a deal")
    parser.add_argument("--replace", action="store_true")
    parser.add_argument(
        "--keep-indexes",
        action="store_true",
        help="load with indexes and foreign keys in place (slower, but readers of the referenced tables, e.g. a "
        "running server, are not locked out while it loads)",
    )
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    url = generate.normalise_database_url(args.database_url)
    generate.setup_django(url)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    totals = load(
        share=args.share,
        seed=args.seed,
        sqlite=generate.is_sqlite(url),
        replace=args.replace,
        keep_indexes=args.keep_indexes,
    )
    if totals.get("skipped"):
        return 0
    check_sample()
    print(
        f"Loaded {totals['deals']:,} deals: load {totals['load_seconds']:.1f} s "
        f"({totals['deals'] / max(totals['load_seconds'], 1e-9):,.0f} rows/s), "
        f"indexes {totals['index_seconds']:.1f} s, "
        f"total {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
