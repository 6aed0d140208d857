#!/usr/bin/env python
"""Bench data for the activities: N activities per customer of a database bench/generate.py has filled, by COPY.

    .venv/bin/python bench/generate.py --scale large                    # 1,000,000 customers first
    .venv/bin/python bench/generate_activities.py                       # then 10 per customer: 10,000,000 activities
    .venv/bin/python bench/generate_activities.py --per-customer 3 --database-url sqlite:///bench/data/medium.sqlite3

Each customer gets `--per-customer` activities (default 10) owned by its owner and unit, at times spread over the
last three years (10 % planned in the next two months): calls 40 % (number, result, duration), visits 15 %,
meetings 5 %, emails 10 %, SMS 10 %, tasks 20 %; 2 % cancelled; `--contact-share` of them (default 0.3) linked to the
customer's first contact. happened_at is set as the model's save() would (done_at, else planned_start).

Rows go in with COPY on PostgreSQL (executemany on SQLite) with the activity table's secondary indexes and foreign
keys set aside and rebuilt afterwards (the same loader as bench/generate.py), then VACUUM ANALYZE. Nothing is written
when the table already holds activities (`--replace` deletes them first). No audit-log rows, no PhoneCall rows.

For the timeline benchmark: GET /api/v1/customers/{id}/timeline (first page, 20 entries) reads
activity_timeline_idx (customer_id, happened_at DESC, id DESC); the raw SQL beside it is

    SELECT … FROM activities_activity WHERE customer_id = %s ORDER BY happened_at DESC, id DESC LIMIT 21
"""

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402  (bench scripts share helpers; bench/ is not a package)

TABLES = ("activities_activity", "activities_activity_contacts")
BATCH_CUSTOMERS = 20_000
KINDS = [
    ("inbound_call", 20),
    ("outbound_call", 20),
    ("visit", 15),
    ("meeting", 5),
    ("email", 10),
    ("sms", 10),
    ("task", 20),
]
SUBJECTS = {
    "inbound_call": ["来电咨询电费", "来电报修", "来电询问增容进度", "来电投诉停电", "来电咨询峰谷电价"],
    "outbound_call": ["电话回访", "催缴电费", "通知计划停电", "推荐能效服务", "确认拜访时间"],
    "visit": ["季度拜访", "现场勘察", "走访大客户", "节前慰问", "用电安全检查"],
    "meeting": ["增容方案讨论", "合同续签洽谈", "年度合作会议"],
    "email": ["发送电费明细", "发送报价单", "发送服务方案"],
    "sms": ["电费提醒短信", "停电通知短信", "满意度回访短信"],
    "task": ["整理客户资料", "准备报价", "跟进业扩申请", "提交拜访报告"],
}
OUTCOMES = ["客户满意", "需再次跟进", "已解决", "客户提出新需求", "", ""]
CALL_RESULTS = [("connected", 70), ("no_answer", 15), ("busy", 10), ("wrong_number", 5)]
COLUMNS = [
    "id",
    "kind",
    "subject",
    "customer_id",
    "owner_id",
    "org_unit_id",
    "planned_start",
    "planned_end",
    "done_at",
    "status",
    "happened_at",
    "outcome",
    "notes",
    "next_step",
    "phone_number",
    "call_result",
    "duration_seconds",
    "recording_ref",
    "created_at",
    "updated_at",
    "version",
]


def weighted(pairs, rng: random.Random, n: int) -> list[str]:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=n)


class ActivityRows:
    """The rows of one customer's activities, as tuples in COLUMNS order (datetimes as ISO text for COPY)."""

    def __init__(self, *, seed: int, per_customer: int, contact_share: float, now: datetime, sqlite: bool):
        self.rng = random.Random(seed)
        self.per_customer = per_customer
        self.contact_share = contact_share
        self.now = now
        self.sqlite = sqlite
        self.next_id = 1
        self.link_id = 1
        self.span = int(timedelta(days=3 * 365).total_seconds())
        self.ahead = int(timedelta(days=60).total_seconds())

    def stamp(self, moment: datetime | None):
        if moment is None:
            return None
        return moment.strftime("%Y-%m-%d %H:%M:%S") if self.sqlite else moment.isoformat()

    def for_customer(self, customer_id: int, owner_id: int, unit_id, contact_id) -> tuple[list, list]:
        rng, rows, links = self.rng, [], []
        kinds = weighted(KINDS, rng, self.per_customer)
        for kind in kinds:
            future = rng.random() < 0.10
            if future:
                moment = self.now + timedelta(seconds=rng.randrange(3600, self.ahead))
            else:
                moment = self.now - timedelta(seconds=rng.randrange(60, self.span))
            cancelled = not future and rng.random() < 0.02
            status = "planned" if future else ("cancelled" if cancelled else "done")
            is_call = kind.endswith("_call")
            planned_start = None if (is_call and status == "done") else moment
            planned_end = moment + timedelta(hours=1) if kind in ("visit", "meeting") and planned_start else None
            done_at = moment if status == "done" else None
            call_result = weighted(CALL_RESULTS, rng, 1)[0] if is_call and status == "done" else ""
            duration = rng.randrange(20, 900) if call_result == "connected" else (0 if call_result else None)
            created = moment - timedelta(seconds=rng.randrange(0, 7 * 86400)) if future else moment
            rows.append(
                (
                    self.next_id,
                    kind,
                    rng.choice(SUBJECTS[kind]),
                    customer_id,
                    owner_id,
                    unit_id,
                    self.stamp(planned_start),
                    self.stamp(planned_end),
                    self.stamp(done_at),
                    status,
                    self.stamp(done_at or planned_start),
                    rng.choice(OUTCOMES) if status == "done" else "",
                    "",
                    "",
                    f"13{rng.randrange(100_000_000, 999_999_999)}" if is_call else "",
                    call_result,
                    duration,
                    "",
                    self.stamp(created),
                    self.stamp(created),
                    1,
                )
            )
            if contact_id is not None and rng.random() < self.contact_share:
                links.append((self.link_id, self.next_id, contact_id))
                self.link_id += 1
            self.next_id += 1
        return rows, links


def customers_with_owner(connection) -> list[tuple[int, int | None, int | None, int | None]]:
    """(customer id, owner id, unit id, first contact id) for every live customer, by id."""
    with connection.cursor() as cur:
        cur.execute(
            """SELECT c.id, c.owner_id, c.org_unit_id, f.contact_id
               FROM customers_customer c
               LEFT JOIN (SELECT customer_id, MIN(id) AS contact_id FROM customers_contact GROUP BY customer_id) f
                      ON f.customer_id = c.id
               WHERE c.merged_into_id IS NULL
               ORDER BY c.id"""
        )
        return cur.fetchall()


def load(*, per_customer: int, contact_share: float, seed: int, sqlite: bool, replace: bool) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from guanxi.activities.models import Activity

    if Activity.objects.exists():
        if not replace:
            count = Activity.objects.count()
            print(f"The database already holds {count:,} activities: nothing to do (--replace to generate again).")
            return {"activities": 0, "links": 0, "skipped": count}
        with connection.cursor() as cur:
            cur.execute("DELETE FROM activities_activity_contacts")
            cur.execute("DELETE FROM activities_activity_participants")
            cur.execute("DELETE FROM activities_phonecall")
            cur.execute("DELETE FROM activities_activity")
    fallback_owner = get_user_model().objects.filter(username="am1").values_list("pk", flat=True).first()
    fallback_owner = fallback_owner or get_user_model().objects.order_by("pk").values_list("pk", flat=True).first()
    started = time.perf_counter()
    customers = customers_with_owner(connection)
    print(f"  {len(customers):,} customers read in {time.perf_counter() - started:.1f} s")
    maker = ActivityRows(
        seed=seed, per_customer=per_customer, contact_share=contact_share, now=datetime.now(UTC), sqlite=sqlite
    )
    totals = {"activities": 0, "links": 0}
    connection.ensure_connection()
    if sqlite:
        connection.connection.execute("PRAGMA synchronous = OFF")
    with transaction.atomic():
        generate.LOADED_TABLES = TABLES  # the loaders set aside and restore the indexes of these tables
        loader = generate.SqliteLoader(connection.connection) if sqlite else generate.PgLoader(connection.connection)
        loader.drop_secondary()
        load_started = time.perf_counter()
        for start in range(0, len(customers), BATCH_CUSTOMERS):
            rows, links = [], []
            for customer_id, owner_id, unit_id, contact_id in customers[start : start + BATCH_CUSTOMERS]:
                its_rows, its_links = maker.for_customer(customer_id, owner_id or fallback_owner, unit_id, contact_id)
                rows.extend(its_rows)
                links.extend(its_links)
            loader.copy("activities_activity", COLUMNS, rows)
            loader.copy("activities_activity_contacts", ["id", "activity_id", "contact_id"], links)
            totals["activities"] += len(rows)
            totals["links"] += len(links)
            elapsed = time.perf_counter() - load_started
            print(
                f"  {totals['activities']:>11,} activities {totals['activities'] / elapsed:>9,.0f} rows/s", flush=True
            )
        totals["load_seconds"] = time.perf_counter() - load_started
        indexed = time.perf_counter()
        loader.restore_secondary()
        totals["index_seconds"] = time.perf_counter() - indexed
        loader.finish({"activities_activity": maker.next_id - 1, "activities_activity_contacts": maker.link_id - 1})
    analysed = time.perf_counter()
    with connection.cursor() as cur:
        if sqlite:
            cur.execute("ANALYZE")
        else:
            for table in TABLES:
                cur.execute(f'VACUUM (ANALYZE) "{table}"')
    totals["analyse_seconds"] = time.perf_counter() - analysed
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_url = os.environ.get("BENCH_DATABASE_URL", generate.DEFAULT_DATABASE_URL)
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--per-customer", type=int, default=10)
    parser.add_argument("--contact-share", type=float, default=0.3, help="share of activities linked to a contact")
    parser.add_argument("--replace", action="store_true", help="delete the activities there are first")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    url = generate.normalise_database_url(args.database_url)
    sqlite = generate.is_sqlite(url)
    generate.setup_django(url)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    print(f"Generating {args.per_customer} activities per customer into {url}")
    started = time.perf_counter()
    totals = load(
        per_customer=args.per_customer,
        contact_share=args.contact_share,
        seed=args.seed,
        sqlite=sqlite,
        replace=args.replace,
    )
    if totals.get("skipped"):
        return 0
    check_sample()
    rate = totals["activities"] / max(totals["load_seconds"], 1e-9)
    print(
        f"Loaded {totals['activities']:,} activities and {totals['links']:,} contact links: "
        f"load {totals['load_seconds']:.1f} s ({rate:,.0f} rows/s), "
        f"indexes {totals['index_seconds']:.1f} s, analyse {totals['analyse_seconds']:.1f} s, "
        f"total {time.perf_counter() - started:.1f} s"
    )
    return 0


def check_sample(size: int = 300) -> None:
    """full_clean() a sample, and happened_at as save() would set it."""
    from guanxi.activities.models import Activity

    last = Activity.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    ids = random.Random(3).sample(range(1, last + 1), min(size, last))
    sample = list(Activity.objects.filter(pk__in=ids))
    for activity in sample:
        activity.full_clean(validate_unique=False, validate_constraints=False)
        assert activity.happened_at == activity.compute_happened_at(), activity.pk
    print(f"  {len(sample)} activities pass full_clean() and the happened_at rule")


if __name__ == "__main__":
    sys.exit(main())
