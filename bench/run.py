#!/usr/bin/env python
"""Every scenario of the landed modules, on SQLite and PostgreSQL: Guanxi over HTTP beside the floor and the raw SQL.

    .venv/bin/python bench/run.py --scale medium          # make bench: PostgreSQL guanxi_bench_medium + SQLite medium
    .venv/bin/python bench/run.py --database-url postgres://postgres@127.0.0.1:5432/guanxi_bench   # one database

For each database (generated first by bench/generate.py) it starts `guanxi serve` and the floor (bench/floor: bare
Django + django-ninja, no auth, scope, masking or middleware) on free 127.0.0.1 ports and, for each user (default
am1, an account manager), measures these scenarios with --requests (≥ 200) sequential keep-alive requests per server,
Guanxi, floor and raw SQL interleaved request by request so that they share the machine's noise:

  list, first page    GET /api/v1/customers?region=<city>&grade=key&ordering=name&limit=50   floor: ORM list
  list, deep page     the same, --deep pages further along `next`                              floor: ORM list
  detail              GET /api/v1/customers/<random visible id>                              floor: ORM detail
  360 overview        GET /api/v1/customers/<id>/overview                                     floor: replay
  search              GET /api/v1/search?q=… (rare name parts, customer numbers, phone tails) floor: replay
  create              POST /api/v1/customers                                                  floor: write SQL
  update              PATCH /api/v1/customers/<id> (address, with the version read)           floor: write SQL
  + scenarios that other modules register in bench/scenarios_*.py (see `extra_scenarios`)

Raw SQL = the data statements Guanxi ran for that request (captured through Django, see capture_queries.py), replayed
with psycopg / sqlite3 and fully fetched; for writes, the minimal statements of the same write (sequence, INSERT,
audit entry; versioned UPDATE, audit entry: common.CustomerWrites) in one committed transaction. "Replay" floors run
those captured statements behind a bare ninja endpoint. CPU per request: the server's worker processes and, on
PostgreSQL, the backends serving them (from /proc).

Then the import of --import-rows (100,000) customers with a contact each through `POST /api/v1/imports` (commit=true,
background worker) until the job is done, beside a COPY (PostgreSQL) / executemany (SQLite) of exactly the rows the
import wrote (customers, contacts, audit entries) into the same tables, with the same indexes and triggers. Rows
written by the run are deleted at the end, so the data set stays as generated.

Writes its sections `run-<database>-<scale>` of bench/RESULTS.md (date, machine, load average, data size, commit).
"""

import argparse
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api_bench import build_scenarios, query_label  # noqa: E402  (bench scripts share helpers; not a package)
from common import (  # noqa: E402
    BENCH_DIR,
    DATA_DIR,
    PASSWORD,
    RUN_TAG,
    Client,
    CpuMeter,
    CustomerWrites,
    RawDb,
    bench_pythonpath,
    capture,
    free_port,
    machine_facts,
    migrate,
    percentile,
    ratio,
    start_server,
    with_application_name,
    write_results,
)
from generate import SCALES, normalise_database_url  # noqa: E402
from search_bench import numbers_of, rare_queries, visible_ids  # noqa: E402

NAME_CHARACTERS = "华新博盛源达通瑞丰泰恒嘉"
PG_DATABASES = {"small": "guanxi_bench_small", "medium": "guanxi_bench_medium", "large": "guanxi_bench"}


def default_urls(scale: str) -> list[str]:
    return [
        f"postgres://postgres@127.0.0.1:5432/{PG_DATABASES[scale]}",
        f"sqlite:///{DATA_DIR / f'{scale}.sqlite3'}",
    ]


# --------------------------------------------------------------------------------------------------------------------
# Measuring


class Meters:
    """CPU of Guanxi's and the floor's workers (+ PostgreSQL backends) between two points."""

    def __init__(self, raw: RawDb, guanxi_pid: int, floor_pid: int):
        self.meters = {
            "guanxi": CpuMeter(raw, guanxi_pid, f"{RUN_TAG}-guanxi"),
            "floor": CpuMeter(raw, floor_pid, f"{RUN_TAG}-floor"),
            "raw": CpuMeter(raw, None, f"{RUN_TAG}-raw"),
        }

    def sample(self) -> dict:
        return {name: meter.sample() for name, meter in self.meters.items()}

    def per_request(self, before: dict, after: dict, requests: int) -> dict:
        return {
            f"{name}_{part}": CpuMeter.spent(before[name][index], after[name][index]) / requests * 1000
            for name in self.meters
            for index, part in enumerate(("app", "db"))
        }


def summarise(timings: dict[str, list[float]]) -> dict:
    return {key: {"p50": percentile(v, 0.5) * 1000, "p95": percentile(v, 0.95) * 1000} for key, v in timings.items()}


def measure_reads(scenario: dict, guanxi: Client, floor: Client, raw: RawDb, args, meters: Meters) -> dict:
    """Interleaved GETs: Guanxi, the floor, the raw statements; request i uses slot i of each list (cycled)."""
    timings: dict[str, list[float]] = {"guanxi": [], "floor": [], "raw": []}
    paths, floor_paths, statements = scenario["paths"], scenario["floor_paths"], scenario["raw"]
    before = {}
    for index in range(-args.warmup, args.requests):
        if index == 0:
            before = meters.sample()
        slot = index % len(paths)
        status, body, elapsed = guanxi.get(paths[slot])
        if status != 200:
            raise RuntimeError(f"Guanxi {paths[slot]}: {status} {body[:300]!r}")
        floor_status, floor_body, floor_elapsed = floor.get(floor_paths[slot % len(floor_paths)])
        if floor_status != 200:
            raise RuntimeError(f"floor {floor_paths[slot % len(floor_paths)]}: {floor_status} {floor_body[:300]!r}")
        started = time.perf_counter()
        for sql in statements[slot % len(statements)]:
            raw.run(sql)
        raw_elapsed = time.perf_counter() - started
        if index >= 0:
            timings["guanxi"].append(elapsed)
            timings["floor"].append(floor_elapsed)
            timings["raw"].append(raw_elapsed)
    results = summarise(timings)
    results["cpu"] = meters.per_request(before, meters.sample(), args.requests)
    return results


def measure_writes(kind: str, ctx: dict, guanxi: Client, floor: Client, raw: RawDb, args, meters: Meters) -> dict:
    """Interleaved creates or updates: Guanxi's API, the floor's write endpoint, the raw statements."""
    writes: CustomerWrites = ctx["writes"]
    timings: dict[str, list[float]] = {"guanxi": [], "floor": [], "raw": []}
    run = ctx["run_id"]
    versions = ctx["versions"]
    before = {}
    json_headers = {"Content-Type": "application/json"}
    for index in range(-args.warmup, args.requests):
        if index == 0:
            before = meters.sample()
        slot = index + args.warmup
        if kind == "create":
            # Names like real ones (a known name with one character more): the duplicate check does its usual work.
            base = ctx["names"][slot % len(ctx["names"])]
            name = base[:2] + NAME_CHARACTERS[slot % len(NAME_CHARACTERS)] + base[2:]
            address = f"龙沙区压测路{slot}号"
            body = {"name": name, "kind": "organisation", "address": address, "region_id": ctx["region_id"]}
            status, content, elapsed = guanxi.request(
                "POST", "/api/v1/customers", json.dumps(body).encode(), json_headers
            )
            expected = 201
            floor_body = {"name": name + "F", "address": address, "branch": ctx["branch"], "actor_id": ctx["actor_id"]}
            floor_status, floor_content, floor_elapsed = floor.request(
                "POST", "/api/customers", json.dumps(floor_body).encode(), json_headers
            )
            started = time.perf_counter()
            with raw.transaction():
                writes.run_create(
                    raw.all, branch=ctx["branch"], name=name + "R", address=address, actor_id=ctx["actor_id"]
                )
            raw_elapsed = time.perf_counter() - started
        else:
            customer_id = ctx["update_ids"][slot]
            address = f"建设路{run}-{slot}号"
            body = {"version": versions[customer_id], "address": address}
            status, content, elapsed = guanxi.request(
                "PATCH", f"/api/v1/customers/{customer_id}", json.dumps(body).encode(), json_headers
            )
            expected = 200
            if status == 200:
                versions[customer_id] = json.loads(content)["version"]
            floor_body = {"version": versions[customer_id], "address": address + "F", "actor_id": ctx["actor_id"]}
            floor_status, floor_content, floor_elapsed = floor.request(
                "PATCH", f"/api/customers/{customer_id}", json.dumps(floor_body).encode(), json_headers
            )
            if floor_status == 200:
                versions[customer_id] = json.loads(floor_content)["version"]
            started = time.perf_counter()
            with raw.transaction():
                new_version = writes.run_update(
                    raw.all,
                    customer_id=customer_id,
                    version=versions[customer_id],
                    address=address + "R",
                    actor_id=ctx["actor_id"],
                )
            raw_elapsed = time.perf_counter() - started
            if new_version is None:
                raise RuntimeError(f"raw update of {customer_id}: stale version")
            versions[customer_id] = new_version
        if status != expected:
            raise RuntimeError(f"Guanxi {kind}: {status} {content[:300]!r}")
        if floor_status != expected:
            raise RuntimeError(f"floor {kind}: {floor_status} {floor_content[:300]!r}")
        if index >= 0:
            timings["guanxi"].append(elapsed)
            timings["floor"].append(floor_elapsed)
            timings["raw"].append(raw_elapsed)
    results = summarise(timings)
    results["cpu"] = meters.per_request(before, meters.sample(), args.requests)
    return results


# --------------------------------------------------------------------------------------------------------------------
# Scenario set-up


def data_statements(queries: list[str]) -> list[str]:
    # A UNION of sliced queries starts "(SELECT": it was left out of the raw side and the floor's replay until
    # 2026-11-27 (the kanban's per-column UNION ALL, its most expensive statement).
    # Hand-written SQL may start with a newline or indentation: lstrip() takes any whitespace.
    return [sql for sql in queries if sql.lstrip().lstrip("( ").upper().startswith("SELECT") and query_label(sql)[1]]


def captured_scenario(name: str, user: str, paths: list[str], authorization: str, env: dict, replay_key: str):
    """A read scenario whose raw side and floor replay the data statements Guanxi ran for each path."""
    captured = capture(env["DJANGO_SETTINGS_MODULE"], [f"{path} {authorization}" for path in paths], env)
    statements = [data_statements(entry["queries"]) for entry in captured]
    return {
        "name": name,
        "user": user,
        "paths": paths,
        "floor_paths": [f"/api/replay/{replay_key}?i={i}" for i in range(len(paths))],
        "raw": statements,
        "replay_key": replay_key,
        "statements": f"{len(captured[0]['queries'])} / {len(statements[0])}",
    }


def extra_scenarios(raw: RawDb, user_ids: dict, rng: random.Random, args) -> list[tuple[str, str, list[str], dict]]:
    """(name, acting user, paths, targets) of read scenarios other modules contribute: each bench/scenarios_*.py
    module's `scenarios(raw, user, user_ids, rng, count)` returns them (none when its tables have no data) and its
    TARGETS_MS the p50 targets by scenario name."""
    import importlib

    found = []
    for path in sorted(BENCH_DIR.glob("scenarios_*.py")):
        module = importlib.import_module(path.stem)
        targets = getattr(module, "TARGETS_MS", {})
        for user in args.users.split(","):
            for name, acting, paths in module.scenarios(raw, user, user_ids, rng, args.distinct):
                found.append((name, acting, paths, targets))
    return found


def token_for(port: int, username: str) -> str:
    client = Client(port)
    token = client.post_json("/api/v1/auth/token", {"username": username, "password": PASSWORD})["token"]
    return f"Bearer {token}"


def read_scenarios(args, raw, rng, env, floor_env, ports, user_ids, region_id) -> tuple[list[dict], dict]:
    """The list/detail scenarios of api_bench (ORM floor) and the captured ones (replay floor); tokens per user."""
    scenarios, tokens = [], {}
    wanted = args.only.split(",") if args.only else ["list", "detail"]
    built = []
    if any(word in name for word in wanted for name in ("list, first page", "list, page", "detail")):
        built = build_scenarios(args, raw, rng, env, floor_env, ports[0], ports[1], user_ids, region_id)
    else:
        tokens = {user: token_for(ports[0], user) for user in args.users.split(",")}
    for s in built:
        tokens[s.user] = s.authorization
        statements = [[sql for sql, data in zip(q, s.data_mask, strict=True) if data] for q in s.raw_queries]
        scenarios.append(
            {
                "name": s.name,
                "user": s.user,
                "paths": s.guanxi_paths,
                "floor_paths": s.floor_paths,
                "raw": statements,
                "statements": f"{len(s.labels)} / {len(statements[0])}",
            }
        )
    for user, authorization in list(tokens.items()):
        if args.only and not any(word in name for word in wanted for name in ("360 overview", "search")):
            break
        owner = None if user == "admin" else user_ids[user]
        ids = visible_ids(raw, owner, rng, args.distinct)
        scenarios.append(
            captured_scenario(
                "360 overview",
                user,
                [f"/api/v1/customers/{i}/overview" for i in ids],
                authorization,
                env,
                f"overview-{user}",
            )
        )
        queries = rare_queries(raw, rng, args.distinct // 2) + numbers_of(raw, ids[: args.distinct // 4])
        queries += [f"{rng.randint(0, 9999):04d}" for _ in range(args.distinct // 4)]
        rng.shuffle(queries)
        from urllib.parse import urlencode

        paths = ["/api/v1/search?" + urlencode({"q": q, "limit": 10}) for q in queries]
        scenarios.append(captured_scenario("search", user, paths, authorization, env, f"search-{user}"))
    for name, user, paths, targets in extra_scenarios(raw, user_ids, rng, args):
        if args.only and not any(word in name for word in args.only.split(",")):
            continue
        if user not in tokens:
            tokens[user] = token_for(ports[0], user)
        key = f"{name.split()[0].lower()}-{user}"
        scenario = captured_scenario(name, user, paths, tokens[user], env, key)
        scenario["target_ms"] = targets.get(name)
        scenarios.append(scenario)
    return scenarios, tokens


# --------------------------------------------------------------------------------------------------------------------
# Import of 100,000 rows


def import_csv(rows: int, run: str, region_code: str) -> bytes:
    lines = ["客户名称,客户类型,区域,地址,客户等级,联系人,手机"]
    rng = random.Random(run)
    for i in range(rows):
        mobile = f"19{rng.randint(0, 999_999_999):09d}"
        lines.append(f"压测导入{run}{i:06d}有限公司,单位,{region_code},龙沙区导入路{i}号,一般,联系人{i:06d},{mobile}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def multipart(fields: dict, filename: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode())
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


IMPORT_TABLES = (("customers_customer", "id"), ("customers_contact", "id"), ("core_auditlog", "id"))


def table_maxima(raw: RawDb) -> dict:
    return {table: raw.all(f"SELECT coalesce(max({key}), 0) FROM {table}")[0][0] for table, key in IMPORT_TABLES}


def delete_above(raw: RawDb, maxima: dict) -> None:
    with raw.transaction():
        raw.all("DELETE FROM customers_customer_tags WHERE customer_id > %s", [maxima["customers_customer"]])
        raw.all("DELETE FROM customers_contact WHERE id > %s", [maxima["customers_contact"]])
        raw.all("DELETE FROM customers_contact WHERE customer_id > %s", [maxima["customers_customer"]])
        raw.all("DELETE FROM core_auditlog WHERE id > %s", [maxima["core_auditlog"]])
        raw.all("DELETE FROM customers_customer WHERE id > %s", [maxima["customers_customer"]])


def measure_import(raw: RawDb, client: Client, args, run: str, region_code: str) -> dict:
    """Guanxi's import of --import-rows rows end to end, then COPY of the same rows; both deleted afterwards."""
    maxima = table_maxima(raw)
    content = import_csv(args.import_rows, run, region_code)
    body, content_type = multipart({"kind": "customers", "commit": "true"}, f"import-{run}.csv", content)
    started = time.perf_counter()
    status, answer, _elapsed = client.request("POST", "/api/v1/imports", body, {"Content-Type": content_type})
    if status != 201:
        raise RuntimeError(f"import upload: {status} {answer[:300]!r}")
    job = json.loads(answer)
    deadline = started + args.import_timeout
    while job["state"] not in ("done", "failed", "invalid") and time.perf_counter() < deadline:
        time.sleep(0.5)
        job = client.json(f"/api/v1/imports/{job['id']}?errors_limit=3")
    guanxi_seconds = time.perf_counter() - started
    if job["state"] != "done":
        delete_above(raw, maxima)
        raise RuntimeError(f"import ended {job['state']}: {json.dumps(job, ensure_ascii=False)[:600]}")
    # The same rows, read back, then written again by the driver's bulk path.
    tables = {}
    for table, key in IMPORT_TABLES:
        columns = [row[0] for row in raw.all(column_sql(raw), [table])]
        rows = raw.all(
            f"SELECT {', '.join(quote(c) for c in columns)} FROM {table} WHERE {key} > %s ORDER BY {key}",
            [maxima[table]],
        )
        tables[table] = (columns, rows)
    delete_above(raw, maxima)
    copied = sum(len(rows) for _columns, rows in tables.values())
    started = time.perf_counter()
    with raw.transaction():
        for table, (columns, rows) in tables.items():
            bulk_insert(raw, table, columns, rows)
    copy_seconds = time.perf_counter() - started
    delete_above(raw, maxima)
    if not raw.sqlite:
        for table, _key in IMPORT_TABLES:
            raw.all(f"VACUUM (ANALYZE) {table}")
    return {
        "rows": args.import_rows,
        "seconds": guanxi_seconds,
        "rows_per_second": args.import_rows / guanxi_seconds,
        "copy_rows": copied,
        "copy_tables": {table: len(rows) for table, (_c, rows) in tables.items()},
        "copy_seconds": copy_seconds,
        "copy_rows_per_second": args.import_rows / copy_seconds,
        "job": {k: job.get(k) for k in ("id", "state", "rows", "created", "updated", "unchanged")},
    }


def column_sql(raw: RawDb) -> str:
    if raw.sqlite:
        return "SELECT name FROM pragma_table_info(%s) ORDER BY cid"
    return "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position"


def quote(column: str) -> str:
    return f'"{column}"'


def bulk_insert(raw: RawDb, table: str, columns: list[str], rows: list[tuple]) -> None:
    cols = ", ".join(quote(c) for c in columns)
    if raw.sqlite:
        marks = ", ".join("?" * len(columns))
        raw.conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
        return
    from psycopg.types.json import Jsonb

    json_columns = [i for i, c in enumerate(columns) if c == "changes"]
    with raw.conn.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
        for row in rows:
            if json_columns:
                row = list(row)
                for i in json_columns:
                    row[i] = Jsonb(row[i])
            copy.write_row(row)


# --------------------------------------------------------------------------------------------------------------------
# Report


def render(label: str, args, facts: dict, sizes: dict, results: list[dict], imported: dict | None, url: str) -> str:
    command = " ".join([".venv/bin/python bench/run.py", *sys.argv[1:]])
    out = [
        f"<!-- BEGIN RUN {label} -->",
        f"## {label}",
        "",
        f"- date: {facts['date']}; commit `{facts['commit']}`",
        f"- machine: {facts['nproc']} CPUs ({facts['cpu']}), {facts['memory']}, shared with other work: "
        f"load average {' / '.join(f'{x:.2f}' for x in facts['load'])} (1/5/15 min) at start, "
        f"{' / '.join(f'{x:.2f}' for x in facts['load_end'])} at end",
        f"- software: {facts['database']}; Python {facts['python']}, Django {facts['django']}, "
        f"django-ninja {facts['ninja']}",
        f"- data: {sizes['customers']:,} customers, {sizes['contacts']:,} contacts"
        + "".join(f", {count:,} {name}" for name, count in sizes.get("extra", {}).items())
        + f"; users {args.users}",
        f"- servers: `guanxi serve --workers {args.workers} --threads {args.threads}` and the floor (gunicorn, same "
        f"worker settings); one sequential keep-alive client per server; {args.requests} timed requests per "
        f"scenario after {args.warmup} warm-up, Guanxi / floor / raw SQL interleaved request by request",
        f"- command: `{command}`",
        "",
        "| user | scenario | Guanxi p50 / p95 ms | floor p50 / p95 ms | raw SQL p50 / p95 ms | Guanxi / floor p50 "
        "| Guanxi / raw p50 | CPU ms per request: Guanxi app + db | floor app + db | Guanxi / floor CPU "
        "| statements (Guanxi all / data) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        g, f, w, c = r["guanxi"], r["floor"], r["raw"], r["cpu"]
        guanxi_cpu, floor_cpu = c["guanxi_app"] + c["guanxi_db"], c["floor_app"] + c["floor_db"]
        out.append(
            f"| {r['user']} | {r['name']} | {g['p50']:.2f} / {g['p95']:.2f} | {f['p50']:.2f} / {f['p95']:.2f} "
            f"| {w['p50']:.2f} / {w['p95']:.2f} | {ratio(g['p50'], f['p50'])} | {ratio(g['p50'], w['p50'])} "
            f"| {c['guanxi_app']:.1f} + {c['guanxi_db']:.1f} | {c['floor_app']:.1f} + {c['floor_db']:.1f} "
            f"| {ratio(guanxi_cpu, floor_cpu)} | {r.get('statements', '–')} |"
        )
    targeted = [r for r in results if r.get("target_ms")]
    if targeted:
        out += ["", "Targets:", ""]
        for r in targeted:
            p50 = r["guanxi"]["p50"]
            out.append(
                f"- {r['name']} ({r['user']}): p50 {p50:.2f} ms ≤ {r['target_ms']:.0f} ms "
                f"{'met' if p50 <= r['target_ms'] else '**missed**'} (floor {r['floor']['p50']:.2f} ms, raw SQL "
                f"{r['raw']['p50']:.2f} ms in the same run)"
            )
    if imported and "error" in imported:
        out += ["", f"Import of {imported['rows']:,} rows: **failed** — {imported['error']}"]
    elif imported:
        tables = ", ".join(f"{n:,} {t}" for t, n in imported["copy_tables"].items())
        out += [
            "",
            f"Import of {imported['rows']:,} rows (customers with one contact each, CSV, `POST /api/v1/imports` with "
            f"commit=true, validated and committed by the background worker, polled until done): "
            f"**{imported['seconds']:.1f} s = {imported['rows_per_second']:,.0f} rows/s**; "
            f"{'COPY' if not url.startswith('sqlite') else 'executemany'} of the same rows the import wrote "
            f"({tables}) in one transaction: {imported['copy_seconds']:.1f} s = "
            f"{imported['copy_rows_per_second']:,.0f} imported rows/s; import / bulk insert "
            f"{ratio(imported['seconds'], imported['copy_seconds'])}.",
        ]
    out += [
        "",
        "Floors: list and detail = the ORM floor (bench/floor, same JSON fields, same SQL shape); other reads = "
        "replay floor (the data statements Guanxi ran, behind a bare ninja endpoint); create/update = the raw "
        "write statements (common.CustomerWrites) behind a bare ninja endpoint. CPU on SQLite is the server "
        "processes' only (the database runs inside them).",
        f"<!-- END RUN {label} -->",
    ]
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------------------------


def pick_region(raw: RawDb) -> tuple[int, str, str]:
    return raw.all(
        """SELECT city.id, city.code, city.name FROM customers_region city
           JOIN customers_region d ON d.parent_id = city.id JOIN customers_customer c ON c.region_id = d.id
           WHERE city.level = 'city' GROUP BY city.id, city.code, city.name ORDER BY count(*) DESC LIMIT 1"""
    )[0]


def run_database(url: str, args) -> str | None:
    migrate(url)
    raw = RawDb(url)
    rng = random.Random(args.seed)
    customers = raw.all("SELECT count(*) FROM customers_customer")[0][0]
    if not customers:
        print(f"{url}: no customers; run bench/generate.py first", file=sys.stderr)
        return None
    sizes = {"customers": customers, "contacts": raw.all("SELECT count(*) FROM customers_contact")[0][0]}
    extra = {}
    for table, name in (("activities_activity", "activities"), ("sales_opportunity", "opportunities")):
        try:
            extra[name] = raw.all(f"SELECT count(*) FROM {table}")[0][0]
        except Exception:  # the module's tables may not exist yet
            if raw.sqlite:
                continue
            raw.conn.rollback()
    sizes["extra"] = {k: v for k, v in extra.items() if v}
    scale = {v: k for k, v in SCALES.items()}.get(customers, str(customers))
    label = args.label or f"run-{'sqlite' if raw.sqlite else 'postgresql'}-{scale}"
    region_id, region_code, region_name = pick_region(raw)
    user_ids = dict(raw.all("SELECT username, id FROM auth_user"))
    run = uuid.uuid4().hex[:6]
    replay_file = DATA_DIR / f"replay-{label}.json"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=with_application_name(url, f"{RUN_TAG}-guanxi"),
        GUANXI_HOME=str(DATA_DIR / "home"),
        PYTHONPATH=bench_pythonpath(),
        GUANXI_LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="guanxi.settings",
        GUANXI_CONN_MAX_AGE="3600",
    )
    (DATA_DIR / "home" / "static").mkdir(parents=True, exist_ok=True)
    floor_env = dict(
        env,
        DJANGO_SETTINGS_MODULE="floor.settings",
        DATABASE_URL=with_application_name(url, f"{RUN_TAG}-floor"),
        FLOOR_REPLAY=str(replay_file),
    )
    replay_file.write_text("{}")
    bin_dir = Path(sys.executable).parent
    ports = free_port(), free_port()
    print(f"{label}: {customers:,} customers; region {region_code} {region_name}; ports {ports}", flush=True)
    facts = machine_facts(raw)
    servers = []
    results: list[dict] = []
    imported = None
    maxima = table_maxima(raw)
    try:
        servers.append(
            start_server(
                f"guanxi-{label}",
                [str(bin_dir / "guanxi"), "serve", "--host", "127.0.0.1", "--port", str(ports[0])]
                + ["--workers", str(args.workers), "--threads", str(args.threads)],
                env,
                ports[0],
                "/api/v1/me",
            )
        )
        servers.append(
            start_server(
                f"floor-{label}",
                [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{ports[1]}", "--worker-class", "gthread"]
                + ["--workers", str(args.workers), "--threads", str(args.threads), "--timeout", "60"]
                + ["floor.wsgi:application"],
                floor_env,
                ports[1],
                "/api/customers/1",
            )
        )
        meters = Meters(raw, servers[0].process.pid, servers[1].process.pid)
        scenarios, tokens = read_scenarios(args, raw, rng, env, floor_env, ports, user_ids, region_id)
        replay_file.write_text(
            json.dumps({s["replay_key"]: s["raw"] for s in scenarios if "replay_key" in s}, ensure_ascii=False)
        )
        floor = Client(ports[1])
        for scenario in scenarios:
            if args.only and not any(word in scenario["name"] for word in args.only.split(",")):
                continue
            guanxi = Client(ports[0], {"Authorization": tokens[scenario["user"]]})
            print(f"  {scenario['user']:<6} {scenario['name']:<22}", end="", flush=True)
            result = measure_reads(scenario, guanxi, floor, raw, args, meters)
            results.append(
                {
                    **result,
                    "name": scenario["name"],
                    "user": scenario["user"],
                    "statements": scenario["statements"],
                    "target_ms": scenario.get("target_ms"),
                }
            )
            print(line(result), flush=True)
        template = raw.all("SELECT * FROM customers_customer ORDER BY id LIMIT 1")
        columns = [d[0] for d in (raw.conn.execute("SELECT * FROM customers_customer LIMIT 0").description)]
        writes = CustomerWrites(dict(zip(columns, template[0], strict=True)), sqlite=raw.sqlite)
        for user, authorization in tokens.items():
            if user == "admin" or user not in args.users.split(","):
                continue  # admin creates customers without an owner; the account manager is the write scenario
            if args.only and not {"create", "update"} & set(args.only.split(",")):
                break
            number = raw.all("SELECT number FROM customers_customer WHERE owner_id = %s LIMIT 1", [user_ids[user]])[0][
                0
            ]
            ids = visible_ids(raw, user_ids[user], rng, args.requests + args.warmup)
            marks = ", ".join(["%s"] * len(ids))
            versions = dict(raw.all(f"SELECT id, version FROM customers_customer WHERE id IN ({marks})", ids))
            district = raw.all("SELECT id FROM customers_region WHERE parent_id = %s LIMIT 1", [region_id])[0][0]
            names = raw.all(
                "SELECT name FROM customers_customer WHERE kind = 'organisation' ORDER BY id DESC LIMIT 500"
            )
            ctx = {
                "names": [row[0] for row in names],
                "writes": writes,
                "run_id": run,
                "branch": number[1:-7],
                "actor_id": user_ids[user],
                "region_id": district,
                "update_ids": ids,
                "versions": versions,
            }
            guanxi = Client(ports[0], {"Authorization": authorization})
            for kind in ("create", "update"):
                if args.only and kind not in args.only.split(","):
                    continue
                print(f"  {user:<6} {kind:<22}", end="", flush=True)
                result = measure_writes(kind, ctx, guanxi, floor, raw, args, meters)
                results.append({**result, "name": kind, "user": user})
                print(line(result), flush=True)
        delete_above(raw, maxima)  # the customers and audit entries the write scenarios created
        if args.import_rows and (not args.only or "import" in args.only.split(",")):
            user = next(u for u in tokens if u != "admin")
            print(f"  {user:<6} import {args.import_rows:,} rows …", end="", flush=True)
            try:
                imported = measure_import(
                    raw, Client(ports[0], {"Authorization": tokens[user]}), args, run, region_code
                )
            except Exception as exc:  # keep the other scenarios' figures; the section says what went wrong
                imported = {"error": str(exc)[:500], "rows": args.import_rows}
                print(f" failed: {exc}", flush=True)
        if imported and "error" not in imported:
            print(
                f" {imported['seconds']:.1f} s = {imported['rows_per_second']:,.0f} rows/s; bulk insert of the same "
                f"{imported['copy_rows']:,} rows {imported['copy_seconds']:.1f} s",
                flush=True,
            )
    finally:
        for server in servers:
            server.stop()
        delete_above(raw, maxima)
    facts["load_end"] = os.getloadavg()
    section = render(label, args, facts, sizes, results, imported, url)
    (DATA_DIR / f"results-{label}.json").write_text(
        json.dumps({"facts": facts, "sizes": sizes, "results": results, "import": imported}, indent=1, default=str)
    )
    return label, section


def line(r: dict) -> str:
    c = r["cpu"]
    return (
        f" Guanxi {r['guanxi']['p50']:7.2f} / {r['guanxi']['p95']:7.2f}  floor {r['floor']['p50']:7.2f} / "
        f"{r['floor']['p95']:7.2f}  raw {r['raw']['p50']:6.2f} / {r['raw']['p95']:6.2f} ms  "
        f"CPU {c['guanxi_app'] + c['guanxi_db']:5.1f} vs {c['floor_app'] + c['floor_db']:5.1f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="medium", help="picks the default databases")
    parser.add_argument("--database-url", action="append", help="instead of the scale's two databases (repeatable)")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per scenario and server (≥ 200)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--distinct", type=int, default=40, help="distinct ids / queries per read scenario")
    parser.add_argument("--users", default="am1")
    parser.add_argument("--deep", type=int, default=20, help="pages to follow for the deep page")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--import-rows", type=int, default=100_000, help="0 to skip the import")
    parser.add_argument("--import-timeout", type=float, default=600)
    parser.add_argument("--only", help="comma-separated words: run only scenarios whose name contains one")
    parser.add_argument("--label", help="RESULTS.md section name (default run-<database>-<scale>)")
    parser.add_argument("--results", default=str(BENCH_DIR / "RESULTS.md"))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    urls = [normalise_database_url(u) for u in (args.database_url or default_urls(args.scale))]
    for url in urls:
        done = run_database(url, args)
        if done and not args.no_write:
            label, section = done
            write_results(Path(args.results), label, section)
            print(f"section {label} written to {args.results}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
