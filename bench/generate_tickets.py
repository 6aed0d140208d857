#!/usr/bin/env python
"""Bench data for the service desk: N tickets (default 1,000,000) on the customers bench/generate.py loaded, by COPY.

    .venv/bin/python bench/generate.py --scale large                    # 1,000,000 customers first
    .venv/bin/python bench/generate_tickets.py                          # then 1,000,000 tickets
    .venv/bin/python bench/generate_tickets.py --tickets 20000 --database-url sqlite:///bench/data/medium.sqlite3

Tickets are spread over the last two years and over the nine teams (the service teams T3 take half), each owned and
received by a member of its team; 95 % have a customer (its grade is the SLA grade), 5 % are unknown callers.
`--open-share` (0.05) of them are still open (new, accepted, in progress, waiting, reopened) with SLA deadlines
from three days ago to ten days ahead: the past ones already breached or escalated, the next 30 minutes warned, as
the SLA sweep would have left them; the rest resolved or closed. Deadlines are plausible, not recomputed from the
SLA targets (the queue and the sweep only read them). No events, hand-overs or audit rows.

Rows go in with COPY on PostgreSQL (executemany on SQLite) with the ticket table's secondary indexes and foreign keys
set aside and rebuilt afterwards (bench/generate.py's loader), then VACUUM ANALYZE. Idempotent: nothing is written
when the table already holds tickets (`--replace` deletes them first).
"""

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (bench scripts share helpers; bench/ is not a package)

TABLE = "service_ticket"
BATCH = 50_000
KNOWN = [
    "id",
    "number",
    "customer_id",
    "caller_name",
    "caller_phone",
    "caller_address",
    "channel",
    "ticket_type",
    "priority",
    "subject",
    "description",
    "receiver_id",
    "owner_id",
    "team_id",
    "status",
    "sla_grade",
    "around_the_clock",
    "response_due_at",
    "resolution_due_at",
    "sla_due_at",
    "sla_state",
    "paused_at",
    "responded_at",
    "resolved_at",
    "closed_at",
    "response_breached",
    "resolution_breached",
    "resolution",
    "created_by_id",
    "created_at",
    "updated_at",
    "version",
]
TYPES = [
    ("consultation", 35),
    ("complaint", 15),
    ("suggestion", 5),
    ("technical_support", 10),
    ("fault_report", 30),
    ("emergency_repair", 5),
]
CHANNELS = [
    ("hotline", 55),
    ("web", 10),
    ("email", 5),
    ("fax", 1),
    ("counter", 12),
    ("wechat", 12),
    ("account_manager", 5),
]
PRIORITIES = [("low", 10), ("normal", 60), ("high", 25), ("urgent", 5)]
OPEN_STATUSES = [("new", 20), ("accepted", 20), ("in_progress", 40), ("waiting", 10), ("reopened", 10)]
SUBJECTS = {
    "consultation": ["咨询电费账单", "咨询峰谷电价", "咨询增容流程", "咨询电表读数"],
    "complaint": ["投诉停电未通知", "投诉抄表错误", "投诉服务态度", "投诉电压不稳"],
    "suggestion": ["建议增加缴费渠道", "建议短信提醒", "建议延长营业时间"],
    "technical_support": ["智能电表故障", "线上缴费失败", "发票开具问题"],
    "fault_report": ["家中停电报修", "电表箱损坏", "线路老化", "跳闸无法恢复"],
    "emergency_repair": ["小区整体停电", "电线掉落", "变压器冒烟"],
}
RESOLUTIONS = ["已电话解释，客户认可", "已派员现场处理", "已更换电表", "已恢复供电", "已转相关部门处理完毕"]
CALLERS = ["张先生", "李女士", "王先生", "刘女士", "陈先生", "杨女士"]
WARN_BEFORE = timedelta(minutes=30)
ESCALATE_AFTER = timedelta(hours=2)


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _w in weighted], weights=[w for _v, w in weighted])[0]


class TicketRows:
    def __init__(self, *, seed: int, sqlite: bool, members: dict[int, list[int]], open_share: float):
        self.rng = random.Random(seed)
        self.sqlite = sqlite
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.members = members
        teams = sorted(members)
        # The service teams (…-T3, the last of each branch) take half of the tickets.
        self.teams = teams
        self.team_weights = [3 if i % 3 == 2 else 1 for i in range(len(teams))]
        self.open_share = open_share
        self.next_id = 1

    def stamp(self, moment: datetime | None):
        if moment is None:
            return None
        return moment.strftime("%Y-%m-%d %H:%M:%S") if self.sqlite else moment.isoformat()

    def ticket(self, customer: tuple | None, creator_id: int) -> tuple:
        rng, now = self.rng, self.now
        team = rng.choices(self.teams, weights=self.team_weights)[0]
        owner = rng.choice(self.members[team])
        receiver = owner if rng.random() < 0.8 else rng.choice(self.members[team])
        kind = pick(rng, TYPES)
        priority = pick(rng, PRIORITIES)
        around = kind == "emergency_repair"
        customer_id, grade = (customer[0], customer[1]) if customer else (None, "general")
        caller_name = "" if customer else rng.choice(CALLERS)
        caller_phone = "" if customer else f"139{rng.randrange(10**8):08d}"
        paused = responded = resolved = closed = None
        response_breached = resolution_breached = False
        resolution = ""
        state = 0
        if rng.random() < self.open_share:
            status = pick(rng, OPEN_STATUSES)
            # The deadline that counts now: three days ago to ten days ahead, more of them ahead.
            due = now + timedelta(seconds=int(rng.triangular(-3 * 86_400, 10 * 86_400, 2 * 86_400)))
            created = min(now - timedelta(minutes=5), due - timedelta(hours=rng.uniform(2, 72)))
            if status in ("new",):
                response_due, resolution_due = due, due + timedelta(days=2)
            else:
                responded = created + timedelta(minutes=rng.randrange(5, 120))
                responded = min(responded, now)
                response_due, resolution_due = created + timedelta(hours=2), due
                response_breached = responded > response_due
            if status == "waiting":
                paused = max(created, now - timedelta(hours=rng.uniform(0, 48)))
            elif due <= now - ESCALATE_AFTER:
                state = 3
            elif due <= now:
                state = 2
            elif due <= now + WARN_BEFORE:
                state = 1
            if state >= 2:
                if responded is None:
                    response_breached = True
                else:
                    resolution_breached = True
            if status == "reopened":
                resolved = None
            updated = now - timedelta(seconds=rng.randrange(0, 3600))
            updated = max(updated, created)
        else:
            status = "closed" if rng.random() < 0.9 else "resolved"
            created = now - timedelta(seconds=rng.randrange(86_400, 2 * 365 * 86_400))
            response_due = created + timedelta(hours=2)
            resolution_due = created + timedelta(days=rng.choice((1, 2, 3, 5)))
            responded = created + timedelta(minutes=rng.randrange(5, 180))
            resolved = responded + timedelta(hours=rng.uniform(1, 120))
            closed = resolved + timedelta(hours=rng.uniform(1, 72)) if status == "closed" else None
            response_breached = responded > response_due
            resolution_breached = resolved > resolution_due
            resolution = rng.choice(RESOLUTIONS)
            due = resolution_due
            updated = closed or resolved
        number = f"GD{created:%Y%m%d}{self.next_id:07d}"
        row = (
            self.next_id,
            number,
            customer_id,
            caller_name,
            caller_phone,
            "",
            pick(rng, CHANNELS),
            kind,
            priority,
            rng.choice(SUBJECTS[kind]),
            "",
            receiver,
            owner,
            team,
            status,
            grade,
            around,
            self.stamp(response_due),
            self.stamp(resolution_due),
            self.stamp(due),
            state,
            self.stamp(paused),
            self.stamp(responded),
            self.stamp(resolved),
            self.stamp(closed),
            response_breached,
            resolution_breached,
            resolution,
            creator_id,
            self.stamp(created),
            self.stamp(updated),
            1,
        )
        self.next_id += 1
        return row


def team_members() -> dict[int, list[int]]:
    """{team id: the active users sitting on it} for every team unit with members."""
    from guanxi.core.models import OrgUnit, Profile

    members: dict[int, list[int]] = {}
    rows = Profile.objects.filter(org_unit__kind=OrgUnit.Kind.TEAM, user__is_active=True).order_by("user_id")
    for unit_id, user_id in rows.values_list("org_unit_id", "user_id"):
        members.setdefault(unit_id, []).append(user_id)
    if not members:
        raise SystemExit("No team has members: run bench/generate.py first.")
    return members


def load(*, tickets: int, seed: int, sqlite: bool, replace: bool, open_share: float) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from guanxi.service.models import Ticket

    if Ticket.objects.exists():
        if not replace:
            count = Ticket.objects.count()
            print(f"The database already holds {count:,} tickets: nothing to do (--replace to generate again).")
            return {"tickets": 0, "skipped": count}
        if sqlite:
            Ticket.objects.all().delete()
        else:
            with connection.cursor() as cur:
                # With everything referencing a ticket (events, hand-overs, escalations, other modules' rows).
                cur.execute("TRUNCATE service_ticket CASCADE")
    admin_id = get_user_model().objects.get(username="admin").pk
    maker = TicketRows(seed=seed, sqlite=sqlite, members=team_members(), open_share=open_share)
    plan = generate.TablePlan(Ticket, KNOWN)
    rng = random.Random(seed + 1)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT id, grade FROM customers_customer WHERE archived_at IS NULL AND merged_into_id IS NULL "
            "AND NOT sensitive ORDER BY id"
        )
        customers = cur.fetchall()
    totals = {"tickets": 0}
    connection.ensure_connection()
    with transaction.atomic():
        generate.LOADED_TABLES = (TABLE,)
        loader = generate.SqliteLoader(connection.connection) if sqlite else generate.PgLoader(connection.connection)
        loader.drop_secondary()
        started = time.perf_counter()
        for start in range(0, tickets, BATCH):
            rows = [
                maker.ticket(rng.choice(customers) if rng.random() < 0.95 else None, admin_id)
                for _ in range(min(BATCH, tickets - start))
            ]
            loader.copy(TABLE, plan.columns, plan.complete(rows))
            totals["tickets"] += len(rows)
            print(
                f"  {totals['tickets']:>9,} tickets {totals['tickets'] / (time.perf_counter() - started):>9,.0f} rows/s"
            )
        totals["load_seconds"] = time.perf_counter() - started
        indexed = time.perf_counter()
        loader.restore_secondary()
        totals["index_seconds"] = time.perf_counter() - indexed
        loader.finish({TABLE: maker.next_id - 1})
    with connection.cursor() as cur:
        cur.execute("ANALYZE" if sqlite else f'VACUUM (ANALYZE) "{TABLE}"')
    return totals


def check_sample(size: int = 300) -> None:
    from guanxi.service.models import Ticket

    ids = list(Ticket.objects.order_by("?").values_list("pk", flat=True)[:size])
    tickets = list(Ticket.objects.filter(pk__in=ids))
    for ticket in tickets:
        ticket.full_clean(validate_unique=False, validate_constraints=True)
    print(f"  {len(tickets)} tickets pass full_clean() with their constraints")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=generate.DEFAULT_DATABASE_URL)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--open-share", type=float, default=0.05, help="share of tickets still open")
    parser.add_argument("--replace", action="store_true")
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args(argv)
    url = generate.normalise_database_url(args.database_url)
    generate.setup_django(url)
    from django.core.management import call_command

    call_command("migrate", "service", interactive=False, verbosity=0)
    started = time.perf_counter()
    totals = load(
        tickets=args.tickets,
        seed=args.seed,
        sqlite=generate.is_sqlite(url),
        replace=args.replace,
        open_share=args.open_share,
    )
    if totals.get("skipped"):
        return 0
    check_sample()
    print(
        f"Loaded {totals['tickets']:,} tickets: load {totals['load_seconds']:.1f} s "
        f"({totals['tickets'] / max(totals['load_seconds'], 1e-9):,.0f} rows/s), "
        f"indexes {totals['index_seconds']:.1f} s, total {time.perf_counter() - started:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
