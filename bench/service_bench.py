#!/usr/bin/env python
"""The service desk at scale: the team queue over HTTP and the SLA sweep, each beside the raw SQL (and the queue beside
the floor), on a database bench/generate_tickets.py filled (1,000,000 tickets on PostgreSQL guanxi_bench).

    .venv/bin/python bench/generate_tickets.py                 # 1,000,000 tickets on the 1,000,000 customers
    .venv/bin/python bench/service_bench.py                    # measure; writes its section of bench/RESULTS.md

Team queue: GET /api/v1/tickets?team_id=<team>&limit=50 — a team's open tickets by SLA due time — as the team's
agent (branch scope) and as its lead (team scope), the first page and the next three (cursors followed over HTTP), each
sent --requests times to `guanxi serve` and to the floor's /api/service/team-queue (bench/floor/service.py),
interleaved request by request with the replay of Guanxi's own statements through psycopg (api_bench.measure): p50/p95,
ratios, CPU per request of the servers and the PostgreSQL backends serving them.

SLA sweep: service.sla.sla_sweep() in this process, run --sweeps times at two moments — now (steady state: what came
due since the data was generated) and --backlog-hours ahead (a backlog: every deadline up to then breached at once) —
each inside a transaction that is rolled back, so every run finds the same tickets; beside the set-based raw SQL
doing the same work (the three claiming UPDATEs, events, escalations and audit rows) in a rolled-back transaction.
Reported: tickets found per step, p50/p95, CPU of this process and of its PostgreSQL backend per run.
"""

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_bench import (  # noqa: E402  (bench scripts share helpers; bench/ is not a package)
    Scenario,
    cpu_table,
    measure_scenarios,
    query_label,
    query_table,
    results_table,
)
from common import (  # noqa: E402
    PASSWORD,
    RUN_TAG,
    Client,
    RawDb,
    Server,
    add_bench_arguments,
    capture,
    condense_plan,
    free_port,
    machine_facts,
    percentile,
    postgresql_url,
    process_cpu,
    publish,
    ratio,
    server_env,
    start_floor,
    start_guanxi,
    variant_env,
    wait_for_quiet,
)

QUEUE_TARGET_MS = 8.0  # issue 5: team queue p50 over HTTP
SWEEP_TARGET_MS = 1000.0  # issue 5: the sweep that finds and escalates every ticket about to breach
OPEN = "('new', 'accepted', 'in_progress', 'waiting', 'reopened')"
TIMED = "('new', 'accepted', 'in_progress', 'reopened')"


# --------------------------------------------------------------------------------------------------------------------
# Team queue


def queue_users(raw: RawDb) -> list[tuple[str, int]]:
    """(username, team id): the agent of the service team with most open tickets, and the lead of the busiest team
    that has one."""
    rows = raw.all(
        f"""SELECT u.username, g.name, p.org_unit_id,
                   (SELECT count(*) FROM service_ticket t WHERE t.team_id = p.org_unit_id AND t.status IN {OPEN})
            FROM auth_user u JOIN core_profile p ON p.user_id = u.id JOIN auth_user_groups ug ON ug.user_id = u.id
            JOIN auth_group g ON g.id = ug.group_id
            WHERE g.name IN ('service_agent', 'team_lead') AND u.is_active ORDER BY 4 DESC, u.id"""
    )
    chosen, roles = [], set()
    for username, role, team, _open in rows:
        if role not in roles:
            chosen.append((username, team))
            roles.add(role)
    return chosen


def follow_pages(client: Client, first: str, pages: int) -> list[str]:
    paths, current = [first], first
    for _ in range(pages - 1):
        page = client.json(current)
        if not page["next"]:
            break
        current = f"{first}&cursor={page['next']}"
        paths.append(current)
    return paths


def queue_scenarios(args, raw, guanxi_port, floor_port, env, floor_env) -> list[Scenario]:
    scenarios = []
    anonymous, floor = Client(guanxi_port), Client(floor_port)
    for username, team in queue_users(raw):
        token = anonymous.post_json("/api/v1/auth/token", {"username": username, "password": PASSWORD})["token"]
        authorization = f"Bearer {token}"
        guanxi = Client(guanxi_port, {"Authorization": authorization})
        paths = follow_pages(guanxi, f"/api/v1/tickets?team_id={team}&limit=50", args.pages)
        floor_paths = follow_pages(floor, f"/api/service/team-queue?team={team}&limit=50", args.pages)
        for mine, theirs in zip(paths, floor_paths, strict=True):
            a = [item["id"] for item in guanxi.json(mine)["items"]]
            b = [item["id"] for item in floor.json(theirs)["items"]]
            if a != b:
                raise RuntimeError(f"Guanxi and the floor disagree on {mine} / {theirs}")
        captured = capture(env["DJANGO_SETTINGS_MODULE"], [f"{p} {authorization}" for p in paths], env)
        floor_captured = capture("floor.settings", floor_paths[:1], floor_env)
        queries = [entry["queries"] for entry in captured]
        labelled = [query_label(sql) for sql in queries[0]]
        if any(len(q) != len(queries[0]) for q in queries):
            raise RuntimeError("the queue pages ran different numbers of statements")
        scenarios.append(
            Scenario(
                user=username,
                name=f"team queue {team}, pages 1–{len(paths)}",
                guanxi_paths=paths,
                floor_paths=floor_paths,
                raw_queries=queries,
                labels=[label for label, _data in labelled],
                data_mask=[data for _label, data in labelled],
                floor_query_count=len(floor_captured[0]["queries"]),
                authorization=authorization,
            )
        )
    return scenarios


def page_statement(scenario: Scenario) -> str:
    return next(sql for sql in scenario.raw_queries[0] if 'FROM "service_ticket"' in sql and "ORDER BY" in sql)


def planning_figures(raw: RawDb, sql: str, runs: int = 30) -> dict:
    """Planning and execution time of the queue's page statement (EXPLAIN ANALYZE, warm connection, p50)."""
    plans, executes = [], []
    plan_text = ""
    for _ in range(runs):
        rows = raw.all("EXPLAIN (ANALYZE, BUFFERS, SUMMARY) " + sql)
        plan_text = "\n".join(row[0] for row in rows)
        for line in plan_text.splitlines():
            if "Planning Time" in line:
                plans.append(float(line.split(":")[1].split()[0]))
            if "Execution Time" in line:
                executes.append(float(line.split(":")[1].split()[0]))
    return {"planning": percentile(plans, 0.5), "execution": percentile(executes, 0.5), "plan": plan_text}


# --------------------------------------------------------------------------------------------------------------------
# SLA sweep


RAW_SWEEP = [
    # breach: every running clock past its deadline not yet breached; the missed target flagged; level-1 escalation.
    """WITH moved AS (
          UPDATE service_ticket SET sla_state = 2,
                 response_breached = response_breached OR responded_at IS NULL,
                 resolution_breached = resolution_breached OR responded_at IS NOT NULL
          WHERE sla_state < 2 AND status IN ('new', 'accepted', 'in_progress', 'reopened') AND sla_due_at <= %(now)s
          RETURNING id, number, subject, team_id, sla_due_at, responded_at),
        events AS (INSERT INTO service_ticketevent (ticket_id, at, kind, from_status, to_status, note)
                   SELECT id, %(now)s, 'sla_breach', '', '', '' FROM moved),
        escalations AS (INSERT INTO service_escalation (ticket_id, level, target, team_id, escalated_to_id, due_at, at)
                   SELECT id, 1, CASE WHEN responded_at IS NULL THEN 'response' ELSE 'resolution' END, team_id, NULL,
                          sla_due_at, %(now)s FROM moved ON CONFLICT DO NOTHING),
        audit AS (INSERT INTO core_auditlog (actor_id, action, object_type, object_id, object_repr, changes, ip, at)
                  SELECT NULL, 'sla_breach', 'service.ticket', id::text, left(number || ' ' || subject, 200),
                         jsonb_build_object('sla_state', jsonb_build_array(0, 2)), NULL, %(now)s FROM moved)
        SELECT count(*) FROM moved""",
    # escalate: breached ESCALATE_AFTER ago and still open → level 2.
    """WITH moved AS (
          UPDATE service_ticket SET sla_state = 3
          WHERE sla_state = 2 AND status IN ('new', 'accepted', 'in_progress', 'reopened')
                AND sla_due_at <= %(escalate)s
          RETURNING id, number, subject, team_id, sla_due_at, responded_at),
        events AS (INSERT INTO service_ticketevent (ticket_id, at, kind, from_status, to_status, note)
                   SELECT id, %(now)s, 'escalated', '', '', '' FROM moved),
        escalations AS (INSERT INTO service_escalation (ticket_id, level, target, team_id, escalated_to_id, due_at, at)
                   SELECT id, 2, CASE WHEN responded_at IS NULL THEN 'response' ELSE 'resolution' END, team_id, NULL,
                          sla_due_at, %(now)s FROM moved ON CONFLICT DO NOTHING),
        audit AS (INSERT INTO core_auditlog (actor_id, action, object_type, object_id, object_repr, changes, ip, at)
                  SELECT NULL, 'escalated', 'service.ticket', id::text, left(number || ' ' || subject, 200),
                         jsonb_build_object('sla_state', jsonb_build_array(2, 3)), NULL, %(now)s FROM moved)
        SELECT count(*) FROM moved""",
    # warn: on time, due within WARN_BEFORE.
    """WITH moved AS (
          UPDATE service_ticket SET sla_state = 1
          WHERE sla_state = 0 AND status IN ('new', 'accepted', 'in_progress', 'reopened')
                AND sla_due_at <= %(warn)s
          RETURNING id, number, subject),
        events AS (INSERT INTO service_ticketevent (ticket_id, at, kind, from_status, to_status, note)
                   SELECT id, %(now)s, 'sla_warning', '', '', '' FROM moved),
        audit AS (INSERT INTO core_auditlog (actor_id, action, object_type, object_id, object_repr, changes, ip, at)
                  SELECT NULL, 'sla_warning', 'service.ticket', id::text, left(number || ' ' || subject, 200),
                         jsonb_build_object('sla_state', jsonb_build_array(0, 1)), NULL, %(now)s FROM moved)
        SELECT count(*) FROM moved""",
]


def sweep_django(moment: datetime, runs: int) -> dict:
    """sla_sweep(now=moment) `runs` times, each rolled back; wall time and CPU (this process + its backend)."""
    from django.db import connection, transaction

    from guanxi.service import sla

    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    times, cpu, found = [], [], None
    for _ in range(runs):
        before_cpu = time.process_time() + process_cpu(backend)
        started = time.perf_counter()
        with transaction.atomic():
            result = sla.sla_sweep(now=moment)
            transaction.set_rollback(True)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() + process_cpu(backend) - before_cpu)
        found = result
    return {
        "p50": percentile(times, 0.5) * 1000,
        "p95": percentile(times, 0.95) * 1000,
        "cpu": percentile(cpu, 0.5) * 1000,
        "warned": found.warned,
        "breached": found.breached,
        "escalated": found.escalated,
    }


def sweep_raw(url: str, moment: datetime, runs: int) -> dict:
    import psycopg

    from guanxi.service.sla import ESCALATE_AFTER, WARN_BEFORE

    params = {"now": moment, "escalate": moment - ESCALATE_AFTER, "warn": moment + WARN_BEFORE}
    times, cpu, counts = [], [], []
    with psycopg.connect(url, application_name=f"{RUN_TAG}-sweep-raw") as conn:
        backend = conn.info.backend_pid
        for _ in range(runs):
            before_cpu = time.process_time() + process_cpu(backend)
            started = time.perf_counter()
            with conn.cursor() as cur:
                counts = []
                for sql in RAW_SWEEP:
                    cur.execute(sql, params)
                    counts.append(cur.fetchone()[0])
            conn.rollback()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() + process_cpu(backend) - before_cpu)
    return {
        "p50": percentile(times, 0.5) * 1000,
        "p95": percentile(times, 0.95) * 1000,
        "cpu": percentile(cpu, 0.5) * 1000,
        "breached": counts[0],
        "escalated": counts[1],
        "warned": counts[2],
    }


# --------------------------------------------------------------------------------------------------------------------
# Report


def render(label, args, facts, sizes, scenarios, planning, sweeps) -> str:
    command = " ".join([".venv/bin/python bench/service_bench.py", *sys.argv[1:]])
    out = [
        f"<!-- BEGIN RUN {label} -->",
        f"## {label}",
        "",
        f"- date: {facts['date']}; commit `{facts['commit']}`",
        f"- machine: {facts['nproc']} CPUs ({facts['cpu']}), {facts['memory']}, shared with other work "
        f"(1-minute load average {facts['load'][0]:.2f} at start, {facts['load_end'][0]:.2f} at end)",
        f"- software: {facts['database']}; Python {facts['python']}, Django {facts['django']}, "
        f"django-ninja {facts['ninja']}",
        f"- data: {sizes['tickets']:,} tickets ({sizes['open']:,} open) on {sizes['customers']:,} customers "
        "(bench/generate_tickets.py)",
        f"- servers: `guanxi serve --workers {args.workers} --threads {args.threads}` and the floor (gunicorn gthread, "
        f"same workers and threads); {args.requests} timed requests per scenario after {args.warmup} warm-up, "
        "Guanxi, floor and raw SQL interleaved request by request; GUANXI_CONN_MAX_AGE=3600",
        f"- command: `{command}`",
        "",
        "### Team queue (GET /api/v1/tickets?team_id=…, 50 per page, by SLA due time)",
        "",
        *results_table(scenarios),
        "",
        "CPU time per request (server processes and their PostgreSQL backends, from /proc):",
        "",
        *cpu_table(scenarios, False),
        "",
        f"Target (issue 5): team queue p50 ≤ {QUEUE_TARGET_MS:.0f} ms over HTTP.",
        "",
    ]
    for s in scenarios:
        g = s.results["guanxi"]["p50"]
        out.append(
            f"- {s.user} {s.name}: Guanxi p50 {g:.2f} ms ≤ {QUEUE_TARGET_MS:.0f} ms "
            f"{'met' if g <= QUEUE_TARGET_MS else '**missed**'} ({ratio(g, s.results['floor']['p50'])} the floor)"
        )
    out += [
        "",
        "Planning vs execution of the page statement (EXPLAIN (ANALYZE, BUFFERS, SUMMARY), warm connection, "
        "p50 of 30):",
        "",
        "| user | statement | planning ms | execution ms |",
        "|---|---|---|---|",
    ]
    for (user, name), figures in planning.items():
        out.append(f"| {user} | {name} | {figures['planning']:.3f} | {figures['execution']:.3f} |")
    out += [
        "",
        "### SLA sweep (service.sla.sla_sweep, in-process, each run rolled back)",
        "",
        "| moment | warned / breached / escalated | Django p50 / p95 ms | raw SQL p50 / p95 ms | Django / raw "
        "| CPU ms per run: Django (app + PostgreSQL) / raw SQL |",
        "|---|---|---|---|---|---|",
    ]
    for name, (django_side, raw_side) in sweeps.items():
        out.append(
            f"| {name} | {django_side['warned']:,} / {django_side['breached']:,} / {django_side['escalated']:,} "
            f"| {django_side['p50']:.1f} / {django_side['p95']:.1f} | {raw_side['p50']:.1f} / {raw_side['p95']:.1f} "
            f"| {ratio(django_side['p50'], raw_side['p50'])} | {django_side['cpu']:.1f} / {raw_side['cpu']:.1f} |"
        )
    out += [""]
    for name, (django_side, _raw) in sweeps.items():
        ok = django_side["p50"] <= SWEEP_TARGET_MS
        out.append(f"- {name}: sweep p50 {django_side['p50']:.0f} ms ≤ 1 s {'met' if ok else '**missed**'}")
    out += [
        "",
        "<details><summary>SQL per queue request (replayed, p50) and the page plan</summary>",
        "",
        *query_table(scenarios),
        "",
    ]
    for (user, name), figures in planning.items():
        out += [f"{user} {name}:", "", "```", condense_plan(figures["plan"]), "```", ""]
    out += ["</details>", "", f"<!-- END RUN {label} -->"]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_bench_arguments(parser, requests=300, warmup=40)
    parser.add_argument("--pages", type=int, default=4, help="queue pages per scenario (first, then cursors)")
    parser.add_argument("--sweeps", type=int, default=15, help="sweep runs per moment")
    parser.add_argument("--backlog-hours", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)

    from generate import setup_django

    url = postgresql_url(args.database_url, "The service bench (row locks, COPY-generated data)")
    raw = RawDb(url)
    random.seed(args.seed)
    tickets = raw.all("SELECT count(*) FROM service_ticket")[0][0]
    if not tickets:
        raise SystemExit("No tickets: run bench/generate_tickets.py first.")
    sizes = {
        "tickets": tickets,
        "open": raw.all(f"SELECT count(*) FROM service_ticket WHERE status IN {OPEN}")[0][0],
        "customers": raw.all("SELECT count(*) FROM customers_customer")[0][0],
    }
    label = args.label or f"service-postgresql-{tickets // 1000}k-tickets"
    env = server_env(url)
    floor_env = variant_env(env, url, "floor.settings", "floor")
    guanxi_port, floor_port = free_port(), free_port()
    print(f"{label}: {tickets:,} tickets ({sizes['open']:,} open); Guanxi :{guanxi_port}, floor :{floor_port}")
    wait_for_quiet(args.max_load)
    facts = machine_facts(raw)
    servers: dict[str, Server] = {}
    try:
        servers["guanxi"] = start_guanxi("guanxi", env, guanxi_port, args.workers, args.threads)
        servers["floor"] = start_floor(
            floor_env, floor_port, args.workers, args.threads, "/api/service/team-queue?team=1&limit=1"
        )
        scenarios = queue_scenarios(args, raw, guanxi_port, floor_port, env, floor_env)
        measure_scenarios(scenarios, raw, servers, args.requests, args.warmup, (7, 28))
    finally:
        for server in servers.values():
            server.stop()
    planning = {(s.user, s.name): planning_figures(raw, page_statement(s)) for s in scenarios}
    for (user, name), figures in planning.items():
        print(f"  {user} {name}: planning {figures['planning']:.3f} ms, execution {figures['execution']:.3f} ms")

    setup_django(url)
    now = datetime.now(UTC)
    sweeps = {}
    for name, moment in (
        ("now (steady state)", now),
        (f"now + {args.backlog_hours:g} h (backlog)", now + timedelta(hours=args.backlog_hours)),
    ):
        django_side = sweep_django(moment, args.sweeps)
        raw_side = sweep_raw(url, moment, args.sweeps)
        if (django_side["warned"], django_side["breached"], django_side["escalated"]) != (
            raw_side["warned"],
            raw_side["breached"],
            raw_side["escalated"],
        ):
            raise RuntimeError(f"the sweep and the raw SQL found different tickets: {django_side} / {raw_side}")
        sweeps[name] = (django_side, raw_side)
        print(
            f"  sweep {name}: {django_side['warned']} warned, {django_side['breached']} breached, "
            f"{django_side['escalated']} escalated; Django {django_side['p50']:.1f} ms, raw {raw_side['p50']:.1f} ms"
        )
    facts["load_end"] = os.getloadavg()
    publish(args, label, render(label, args, facts, sizes, scenarios, planning, sweeps))
    return 0


if __name__ == "__main__":
    sys.exit(main())
