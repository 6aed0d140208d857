#!/usr/bin/env python
"""The complaint analysis (F4) at 1,000,000 tickets: GET /api/v1/tickets/analysis over HTTP as an admin (scope all)
and a branch manager (scope branch), beside the raw SQL of the same figures — the rollup statements the API now runs
and the direct aggregation over service_ticket it ran before — on guanxi_bench.

    .venv/bin/guanxi migrate service && .venv/bin/guanxi service_analysis_rebuild   # once, DATABASE_URL=guanxi_bench
    .venv/bin/python bench/analysis_bench.py                                          # writes its RESULTS.md section

Each user's request is the page's default: the last twelve months, every team they may see, repeats within 30 days.
HTTP: --requests timed GETs per user to `guanxi serve` (after --warmup), p50/p95. Raw SQL: the statements Django ran
for one request, captured in this process (CaptureQueriesContext) and replayed through psycopg, interleaved with the
HTTP requests: "raw rollup" is the floor of the new path, "raw direct" what the old path cost the database alone.
"Direct in Django": service.analysis.complaint_analysis_direct() — the old path — run --direct-runs times in this
process. Load average before and after the run is recorded (2 shared cores: ratios matter more than milliseconds).
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402  (bench scripts share helpers; bench/ is not a package)
    PASSWORD,
    RUN_TAG,
    Client,
    RawDb,
    Server,
    add_bench_arguments,
    free_port,
    machine_facts,
    percentile,
    postgresql_url,
    publish,
    ratio,
    server_env,
    start_guanxi,
    wait_for_quiet,
    with_application_name,
)

TARGET_MS = 300.0  # issue 5 (F4): the analysis API well under 300 ms p50 at 1,000,000 tickets
USERS = (("admin", "admin"), ("branch manager", "branch_manager"))


def bench_users(raw: RawDb) -> list[tuple[str, str]]:
    """(role label, username): the first user of each role."""
    chosen = []
    for label, group in USERS:
        rows = raw.all(
            """SELECT u.username FROM auth_user u JOIN auth_user_groups ug ON ug.user_id = u.id
               JOIN auth_group g ON g.id = ug.group_id WHERE g.name = %s AND u.is_active ORDER BY u.id LIMIT 1""",
            (group,),
        )
        if rows:
            chosen.append((label, rows[0][0]))
    return chosen


def captured_statements(username: str) -> dict:
    """One analysis computed in this process both ways: the statements each ran, its time, and its figures."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.service import analysis

    result = {}
    for name, compute in (("rollup", analysis.complaint_analysis), ("direct", analysis.complaint_analysis_direct)):
        user = get_user_model().objects.get(username=username)
        filters = analysis.filters_from(date_from=None, date_to=None, team=None, repeat_days=None)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            figures = compute(user=user, filters=filters).as_dict()
            elapsed = time.perf_counter() - started
        statements = [q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]
        result[name] = {"statements": statements, "seconds": elapsed, "figures": figures}
    if result["rollup"]["figures"] != result["direct"]["figures"]:
        raise RuntimeError(f"{username}: the rollups and the direct aggregation disagree (run the rebuild?)")
    return result


def timed_raw(raw: RawDb, statements: list[str]) -> float:
    started = time.perf_counter()
    for sql in statements:
        raw.run(sql)
    return time.perf_counter() - started


def direct_in_django(username: str, runs: int) -> list[float]:
    from django.contrib.auth import get_user_model

    from guanxi.service import analysis

    timings = []
    for _ in range(runs):
        user = get_user_model().objects.get(username=username)
        filters = analysis.filters_from(date_from=None, date_to=None, team=None, repeat_days=None)
        started = time.perf_counter()
        analysis.complaint_analysis_direct(user=user, filters=filters)
        timings.append(time.perf_counter() - started)
    return timings


def ms(values: list[float], share: float) -> float:
    return percentile(values, share) * 1000


def render(label: str, args, facts: dict, sizes: dict, rows: list[dict], load_after) -> str:
    load_before = ", ".join(f"{value:.2f}" for value in facts["load"])
    lines = [
        f"<!-- BEGIN RUN {label} -->",
        f"## Complaint analysis: {label}",
        "",
        f"`.venv/bin/python bench/analysis_bench.py --requests {args.requests} --direct-runs {args.direct_runs}` "
        f"on {facts['date']}; {facts['nproc']} cores ({facts['cpu']}), {facts['memory']}; {facts['database']}; "
        f"commit {facts['commit']}. Load average (1/5/15 min) before: {load_before}; after: "
        + ", ".join(f"{value:.2f}" for value in load_after)
        + ".",
        "",
        f"{sizes['tickets']:,} tickets; rollups: {sizes['rollup_rows']:,} day rows, {sizes['satisfaction_rows']:,} "
        f"satisfaction rows, {sizes['tallies']:,} tallies. Default request: last twelve months, repeats within 30 "
        f"days, every team in scope. Target: p50 < {TARGET_MS:.0f} ms over HTTP.",
        "",
        "| user | tickets in scope | HTTP p50 | HTTP p95 | raw rollup SQL p50 | HTTP / raw rollup | statements | "
        "raw direct SQL p50 | direct in Django p50 | direct / HTTP |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['label']} ({row['username']}) | {row['total']:,} | {row['http_p50']:.1f} ms | "
            f"{row['http_p95']:.1f} ms | {row['raw_p50']:.1f} ms | {ratio(row['http_p50'], row['raw_p50'])} | "
            f"{row['statements']} | {row['direct_raw_p50']:.0f} ms | {row['direct_p50']:.0f} ms | "
            f"{ratio(row['direct_p50'], row['http_p50'])} |"
        )
    lines += [
        "",
        "Raw rollup SQL: the SELECTs the API ran for the request, replayed through psycopg (the rollups, "
        "the sensitive-customer and beyond-team corrections, the labels). Raw direct SQL: the SELECTs of "
        "the old path (one GROUP BY over the period's visible tickets, the repeat EXISTS per complaint, the "
        "satisfaction join). Both paths' figures were compared equal before timing.",
        f"<!-- END RUN {label} -->",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_bench_arguments(parser, requests=60, warmup=5)
    parser.add_argument("--direct-runs", type=int, default=3, help="runs of the old direct path per user")
    args = parser.parse_args(argv)

    from generate import setup_django

    url = postgresql_url(args.database_url, "The analysis bench")
    raw = RawDb(url)
    sizes = {"tickets": raw.all("SELECT count(*) FROM service_ticket")[0][0]}
    try:
        sizes["rollup_rows"] = raw.all("SELECT count(*) FROM service_ticketrollup")[0][0]
        sizes["satisfaction_rows"] = raw.all("SELECT count(*) FROM service_satisfactionrollup")[0][0]
        sizes["tallies"] = raw.all("SELECT count(*) FROM service_tickettally")[0][0]
    except Exception as exc:  # noqa: BLE001  (psycopg's UndefinedTable: the migration is not applied)
        raise SystemExit(f"No rollup tables ({exc}): run `guanxi migrate service` on this database first.") from exc
    if sizes["tallies"] != sizes["tickets"]:
        raise SystemExit(
            f"{sizes['tallies']:,} tallies for {sizes['tickets']:,} tickets: run `guanxi service_analysis_rebuild`."
        )
    label = args.label or f"analysis-postgresql-{sizes['tickets'] // 1000}k-tickets"
    setup_django(with_application_name(url, f"{RUN_TAG}-django"))
    env = server_env(url)
    port = free_port()
    wait_for_quiet(args.max_load)
    facts = machine_facts(raw)
    server: Server | None = None
    rows = []
    try:
        server = start_guanxi("guanxi", env, port, args.workers, args.threads)
        anonymous = Client(port)
        for role, username in bench_users(raw):
            token = anonymous.post_json("/api/v1/auth/token", {"username": username, "password": PASSWORD})["token"]
            client = Client(port, {"Authorization": f"Bearer {token}"})
            path = "/api/v1/tickets/analysis"
            captured = captured_statements(username)
            if client.json(path) != captured["rollup"]["figures"]:
                raise RuntimeError(f"{username}: the API and the in-process analysis disagree")
            http, raw_new = [], []
            for index in range(-args.warmup, args.requests):
                status, body, elapsed = client.get(path)
                if status != 200:
                    raise RuntimeError(f"{path}: {status} {body[:200]!r}")
                seconds = timed_raw(raw, captured["rollup"]["statements"])
                if index >= 0:
                    http.append(elapsed)
                    raw_new.append(seconds)
            raw_direct = [timed_raw(raw, captured["direct"]["statements"]) for _ in range(args.direct_runs)]
            direct = direct_in_django(username, args.direct_runs)
            row = {
                "label": role,
                "username": username,
                "total": captured["rollup"]["figures"]["total"],
                "http_p50": ms(http, 0.5),
                "http_p95": ms(http, 0.95),
                "raw_p50": ms(raw_new, 0.5),
                "statements": len(captured["rollup"]["statements"]),
                "direct_raw_p50": ms(raw_direct, 0.5),
                "direct_p50": ms(direct, 0.5),
            }
            rows.append(row)
            print(
                f"  {role:<15} HTTP p50 {row['http_p50']:.1f} ms (raw rollup {row['raw_p50']:.1f} ms); "
                f"old direct {row['direct_p50']:.0f} ms (raw {row['direct_raw_p50']:.0f} ms)",
                flush=True,
            )
    finally:
        if server:
            server.stop()
    publish(args, label, render(label, args, facts, sizes, rows, os.getloadavg()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
