#!/usr/bin/env python
"""Global search (J8) latency: Guanxi over HTTP beside the SQL it runs and a plain ILIKE scan, in one run.

    .venv/bin/python bench/search_bench.py                                 # PostgreSQL guanxi_bench
    .venv/bin/python bench/search_bench.py --database-url sqlite:///bench/data/medium.sqlite3

Starts `guanxi serve` on a free 127.0.0.1 port, takes bearer tokens for admin (sees everything) and am1 (an account
manager: own customers only), picks the queries from the data, then for each user and query class sends --requests
sequential keep-alive requests (cycling through the class's queries) and, interleaved request by request, replays

  indexed SQL   the data statements Guanxi ran for that request (captured through Django, replayed with the driver)
  ILIKE scan    what search did before the indexes: name ILIKE '%q%' (plus number / credit code equality and
                mobile LIKE '%1234') on customers and on contacts, with the same scope and LIMIT

Query classes:

  common    frequent words of company names (有限 is in half of them): many matches, the LIMIT must stop early
  rare      3-4 characters cut from a random customer's name, matching 1-20 names among customers and contacts
  number    a customer number the user may see
  phone-4   four random digits (last digits of a mobile)

Then GET /api/v1/customers/{id}/overview (the 360 view) for random customers the user may see. Prints p50/p95 and
the ratios, the plans of the indexed statements, and writes (or replaces) this run's section of bench/RESULTS.md.
"""

import argparse
import os
import random
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from common import (  # noqa: E402  (bench scripts share helpers; bench/ is not a package)
    DATA_DIR,
    DEFAULT_DATABASE_URL,
    PASSWORD,
    Client,
    CpuMeter,
    RawDb,
    capture,
    free_port,
    machine_facts,
    percentile,
    start_server,
    wait_for_quiet,
    with_application_name,
    write_results,
)
from generate import normalise_database_url  # noqa: E402

COMMON = ["有限", "公司", "有限公司", "股份", "钢铁", "化工", "科技", "医院", "物业", "集团"]
APPLICATION_NAME = "guanxi-search-bench"
TARGET_SEARCH_MS, TARGET_OVERVIEW_MS, TARGET_RATIO = 30.0, 15.0, 5.0


# --------------------------------------------------------------------------------------------------------------------
# Queries


def like(raw: RawDb) -> str:
    return "LIKE" if raw.sqlite else "ILIKE"


def name_matches(raw: RawDb, q: str) -> tuple[int, int]:
    """(customers, contacts) whose name contains q, counted once per query to describe it."""
    condition, params = f"name {like(raw)} %s", [f"%{q}%"]
    if not raw.sqlite:
        condition, params = f"guanxi_bigrams(name) @> guanxi_bigrams(%s) AND {condition}", [q, *params]
    customers = raw.all(f"SELECT count(*) FROM customers_customer WHERE {condition}", params)[0][0]
    contacts = raw.all(f"SELECT count(*) FROM customers_contact WHERE {condition}", params)[0][0]
    return customers, contacts


def rare_queries(raw: RawDb, rng: random.Random, wanted: int) -> list[str]:
    """Substrings of 3-4 characters of random company names that 1-20 names contain (customers and contacts)."""
    top = raw.all("SELECT max(id) FROM customers_customer")[0][0]
    found: list[str] = []
    while len(found) < wanted:
        ids = [rng.randint(1, top) for _ in range(50)]
        marks = ", ".join(["%s"] * len(ids))
        names = [row[0] for row in raw.all(f"SELECT name FROM customers_customer WHERE id IN ({marks})", ids)]
        for name in names:
            if len(name) < 6:
                continue
            size = rng.choice((3, 4))
            start = rng.randint(0, min(4, len(name) - size - 2))
            q = name[start : start + size]
            if q not in found and 1 <= sum(name_matches(raw, q)) <= 20:
                found.append(q)
                if len(found) == wanted:
                    break
    return found


def visible_ids(raw: RawDb, user_id: int | None, rng: random.Random, count: int) -> list[int]:
    if user_id is None:
        top = raw.all("SELECT max(id) FROM customers_customer")[0][0]
        return [rng.randint(1, top) for _ in range(count)]
    rows = raw.all("SELECT id FROM customers_customer WHERE owner_id = %s AND NOT sensitive", [user_id])
    ids = [row[0] for row in rows]
    return rng.sample(ids, min(count, len(ids)))


def numbers_of(raw: RawDb, ids: list[int]) -> list[str]:
    marks = ", ".join(["%s"] * len(ids))
    return [row[0] for row in raw.all(f"SELECT number FROM customers_customer WHERE id IN ({marks})", ids)]


# --------------------------------------------------------------------------------------------------------------------
# The plain ILIKE search (before the indexes), with the same scope and limit


def ilike_statements(raw: RawDb, q: str, owner_id: int | None, limit: int) -> list[tuple[str, list]]:
    compact = q.replace(" ", "").replace("-", "").upper()
    pattern = f"%{q}%"
    scope = " AND owner_id = %s AND NOT sensitive" if owner_id else ""
    scope_params = [owner_id] if owner_id else []
    customers = (
        f"SELECT id, number, name, region_id FROM customers_customer WHERE archived_at IS NULL "
        f"AND (name {like(raw)} %s OR number = %s OR credit_code = %s){scope} LIMIT {limit}",
        [pattern, compact, compact, *scope_params],
    )
    phone = ""
    phone_params: list = []
    if compact.isdigit() and len(compact) >= 4:
        phone, phone_params = " OR c.mobile LIKE %s", [f"%{compact}"]
    join = " JOIN customers_customer u ON u.id = c.customer_id" if owner_id else ""
    contact_scope = " AND u.owner_id = %s AND NOT u.sensitive" if owner_id else ""
    contacts = (
        f"SELECT c.id, c.name, c.mobile, c.customer_id FROM customers_contact c{join} "
        f"WHERE (c.name {like(raw)} %s{phone}){contact_scope} LIMIT {limit}",
        [pattern, *phone_params, *scope_params],
    )
    return [customers, contacts]


# --------------------------------------------------------------------------------------------------------------------
# Measuring


def is_data(sql: str) -> bool:
    return 'FROM "customers_customer"' in sql or 'FROM "customers_contact"' in sql


def measure_search(
    client: Client, raw: RawDb, cases: list[dict], requests: int, warmup: int, meter: CpuMeter, ilike_every: int
) -> dict:
    timings: dict[str, list[float]] = {"http": [], "indexed": [], "ilike": [], "ilike_customers": []}
    spent = {"app": 0.0, "db": 0.0}
    for index in range(-warmup, requests):
        case = cases[index % len(cases)]
        before = meter.sample() if index >= 0 else None
        status, body, elapsed = client.get(case["path"])
        if status != 200:
            raise RuntimeError(f"{case['path']}: {status} {body[:200]!r}")
        if before is not None:  # the server's CPU for this request alone (the replays below run elsewhere)
            after = meter.sample()
            spent["app"] += CpuMeter.spent(before[0], after[0])
            spent["db"] += CpuMeter.spent(before[1], after[1])
        started = time.perf_counter()
        for sql in case["indexed"]:
            raw.run(sql)
        indexed = time.perf_counter() - started
        if index >= 0:
            timings["http"].append(elapsed)
            timings["indexed"].append(indexed)
        if index >= 0 and index % ilike_every == 0:  # a full scan of 3,000,000 contacts takes seconds on a busy box
            started = time.perf_counter()
            customers_sql, contacts_sql = case["ilike"]
            raw.all(*customers_sql)
            customers_done = time.perf_counter()
            raw.all(*contacts_sql)
            timings["ilike_customers"].append(customers_done - started)
            timings["ilike"].append(time.perf_counter() - started)
    results = {key: (percentile(v, 0.5) * 1000, percentile(v, 0.95) * 1000) for key, v in timings.items()}
    results["cpu"] = (spent["app"] / requests * 1000, spent["db"] / requests * 1000)
    return results


def measure_paths(client: Client, paths: list[str], requests: int, warmup: int) -> tuple[float, float]:
    values = []
    for index in range(-warmup, requests):
        status, body, elapsed = client.get(paths[index % len(paths)])
        if status != 200:
            raise RuntimeError(f"{paths[index % len(paths)]}: {status} {body[:200]!r}")
        if index >= 0:
            values.append(elapsed)
    return percentile(values, 0.5) * 1000, percentile(values, 0.95) * 1000


# --------------------------------------------------------------------------------------------------------------------
# Report


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render(label: str, args, facts: dict, sizes: dict, rows: list[dict], overview: list[dict], plans: dict) -> str:
    db_arg = "" if args.database_url == DEFAULT_DATABASE_URL else f" --database-url {args.database_url_arg}"
    out = [
        f"<!-- BEGIN RUN {label} -->",
        f"## {label}",
        "",
        f"- date: {facts['date']}; commit `{facts['commit']}`",
        f"- machine: {facts['nproc']} CPUs ({facts['cpu']}), {facts['memory']}, shared with other work "
        f"(load average {facts['load'][0]:.2f} at start, {facts['load_end'][0]:.2f} at end)",
        f"- software: {facts['database']}; Python {facts['python']}, Django {facts['django']}, "
        f"django-ninja {facts['ninja']}",
        f"- data: {sizes['customers']:,} customers, {sizes['contacts']:,} contacts",
        f"- server: `guanxi serve --workers {args.workers} --threads {args.threads}`; client: one sequential "
        f"keep-alive connection, {args.requests} timed requests per user and class after {args.warmup} warm-up, "
        f"`limit={args.limit}`; HTTP, indexed SQL and ILIKE scan interleaved request by request (the ILIKE scan "
        f"after every {args.ilike_every}. request: {args.requests // args.ilike_every} samples per class)",
        f"- command: `.venv/bin/python bench/search_bench.py{db_arg}`",
        "",
        "HTTP = `GET /api/v1/search?q=…&limit=…` end to end (auth, scope, both kinds, JSON). Indexed SQL = the data "
        "statements Guanxi ran for the request, replayed with the driver. ILIKE scan = the same search without the "
        "indexes (`name ILIKE '%q%'` on customers and contacts, number / credit code equality, `mobile LIKE '%1234'`, "
        "same scope and LIMIT; in brackets its customers statement alone). Server CPU = CPU time of the gunicorn "
        "workers and of the PostgreSQL backends serving "
        "them, per request (from /proc; less sensitive than latency to the other work on the machine).",
        "",
        "| user | class | queries | names matching (median) | HTTP p50 / p95 ms | server CPU ms (app + db) "
        "| indexed SQL p50 / p95 ms | ILIKE scan p50 / p95 ms (customers only) | ILIKE / HTTP (p50) "
        "| ILIKE / indexed SQL (p50) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        r = row["results"]
        out.append(
            f"| {row['user']} | {row['class']} | {row['queries']} | {row['matches']} "
            f"| {r['http'][0]:.2f} / {r['http'][1]:.2f} | {r['cpu'][0]:.2f} + {r['cpu'][1]:.2f} "
            f"| {r['indexed'][0]:.2f} / {r['indexed'][1]:.2f} "
            f"| {r['ilike'][0]:.2f} / {r['ilike'][1]:.2f} "
            f"({r['ilike_customers'][0]:.2f} / {r['ilike_customers'][1]:.2f}) "
            f"| {r['ilike'][0] / r['http'][0]:.1f}× "
            f"| {r['ilike'][0] / max(r['indexed'][0], 1e-6):.0f}× |"
        )
    out += ["", "| user | 360 overview | HTTP p50 / p95 ms | statements |", "|---|---|---|---|"]
    for row in overview:
        out.append(
            f"| {row['user']} | `GET /api/v1/customers/{{id}}/overview`, random visible ids "
            f"| {row['p50']:.2f} / {row['p95']:.2f} | {row['statements']} |"
        )
    out += ["", "Targets (issue 3, section 3):", ""]
    for row in rows:
        http, ilike_p50 = row["results"]["http"][0], row["results"]["ilike"][0]
        out.append(
            f"- {row['user']} {row['class']}: p50 {http:.2f} ms ≤ {TARGET_SEARCH_MS:.0f} ms "
            f"{verdict(http <= TARGET_SEARCH_MS)}; ILIKE scan {ilike_p50 / http:.1f}× the HTTP time "
            f"(≥ {TARGET_RATIO:.0f}× {verdict(ilike_p50 >= TARGET_RATIO * http)})"
        )
    for row in overview:
        out.append(
            f"- {row['user']} overview: p50 {row['p50']:.2f} ms ≤ {TARGET_OVERVIEW_MS:.0f} ms "
            f"{verdict(row['p50'] <= TARGET_OVERVIEW_MS)}"
        )
    out += ["", "<details><summary>Queries per class</summary>", ""]
    for name, queries in sizes["queries"].items():
        out.append(f"- {name}: " + ", ".join(f"`{q}`" for q in queries))
    out += ["", "</details>", ""]
    if plans:
        out += ["<details><summary>Plans of the indexed statements (admin, first query of each class)</summary>", ""]
        for name, plan in plans.items():
            out += [f"{name}:", "", "```", plan, "```", ""]
        out += ["</details>", ""]
    out.append(f"<!-- END RUN {label} -->")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--requests", type=int, default=200, help="timed requests per user and class")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--limit", type=int, default=10, help="hits per kind, as the search box asks")
    parser.add_argument("--queries", type=int, default=20, help="distinct queries per class (common: at most 10)")
    parser.add_argument("--users", default="admin,am1")
    parser.add_argument("--results", default=str(BENCH_DIR / "RESULTS.md"))
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--label", help="section name in RESULTS.md (default: search-<database>-<scale>)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--max-load", type=float, default=0.0, help="wait (≤ 10 min) for a lower load average first")
    parser.add_argument("--ilike-every", type=int, default=4, help="run the ILIKE scan after every n-th request")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the server (finally below) when terminated
    args.database_url_arg = args.database_url
    args.database_url = normalise_database_url(args.database_url)
    raw = RawDb(args.database_url)
    rng = random.Random(args.seed)
    customers = raw.all("SELECT count(*) FROM customers_customer")[0][0]
    if not customers:
        print("No customers: run bench/generate.py first.", file=sys.stderr)
        return 1
    sizes = {"customers": customers, "contacts": raw.all("SELECT count(*) FROM customers_contact")[0][0]}
    scale = {10_000: "small", 100_000: "medium", 1_000_000: "large"}.get(customers, f"{customers}")
    label = args.label or f"search-{'sqlite' if raw.sqlite else 'postgresql'}-{scale}"
    users = dict(raw.all("SELECT username, id FROM auth_user"))

    print(f"{label}: {customers:,} customers, {sizes['contacts']:,} contacts; choosing queries …", flush=True)
    common = COMMON[: args.queries]
    rare = rare_queries(raw, rng, args.queries)
    tails = [f"{rng.randint(0, 9999):04d}" for _ in range(args.queries)]
    matches = {q: name_matches(raw, q) for q in common + rare}
    sizes["queries"] = {
        "common": [f"{q} ({matches[q][0]:,} + {matches[q][1]:,})" for q in common],
        "rare": [f"{q} ({matches[q][0]:,} + {matches[q][1]:,})" for q in rare],
        "phone-4": tails,
    }

    env = dict(os.environ)
    env.update(
        DATABASE_URL=with_application_name(args.database_url, APPLICATION_NAME),
        GUANXI_HOME=str(DATA_DIR / "home"),
        GUANXI_LOG_LEVEL="ERROR",
    )
    (DATA_DIR / "home" / "static").mkdir(parents=True, exist_ok=True)
    port = free_port()
    facts = machine_facts(raw)
    server = start_server(
        "guanxi-search",
        [str(Path(sys.executable).parent / "guanxi"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        + ["--workers", str(args.workers), "--threads", str(args.threads)],
        env,
        port,
        "/api/v1/me",
    )
    rows, overview, plans = [], [], {}
    meter = CpuMeter(raw, server.process.pid, APPLICATION_NAME)
    try:
        anonymous = Client(port)
        for username in args.users.split(","):
            token = anonymous.post_json("/api/v1/auth/token", {"username": username, "password": PASSWORD})["token"]
            authorization = f"Bearer {token}"
            client = Client(port, {"Authorization": authorization})
            roles = set(client.json("/api/v1/me")["roles"])
            owner_id = None if roles & {"admin", "executive"} else users[username]
            if owner_id is not None and roles != {"account_manager"}:
                raise SystemExit(f"{username}: only users who see all or their own customers are supported")
            ids = visible_ids(raw, owner_id, rng, max(args.requests, args.queries))
            numbers = numbers_of(raw, ids[: args.queries])
            sizes["queries"][f"number ({username})"] = numbers
            classes = {"common": common, "rare": rare, "number": numbers, "phone-4": tails}
            paths = {
                q: "/api/v1/search?" + urlencode({"q": q, "limit": args.limit})
                for queries in classes.values()
                for q in queries
            }
            overview_paths = [f"/api/v1/customers/{i}/overview" for i in ids[: args.requests]]
            captured = capture("guanxi.settings", [f"{p} {authorization}" for p in paths.values()], env)
            statements = dict(zip(paths, ([q for q in c["queries"] if is_data(q)] for c in captured), strict=True))
            [overview_capture] = capture("guanxi.settings", [f"{overview_paths[0]} {authorization}"], env)
            for name, queries in classes.items():
                cases = [
                    {
                        "path": paths[q],
                        "indexed": statements[q],
                        "ilike": ilike_statements(raw, q, owner_id, args.limit),
                    }
                    for q in queries
                ]
                wait_for_quiet(args.max_load)
                print(f"  {username:<6} {name:<8}", end="", flush=True)
                results = measure_search(client, raw, cases, args.requests, args.warmup, meter, args.ilike_every)
                counts = sorted(sum(matches[q]) for q in queries) if name in ("common", "rare") else None
                rows.append(
                    {
                        "user": username,
                        "class": name,
                        "queries": len(queries),
                        "matches": f"{counts[len(counts) // 2]:,}" if counts else "–",
                        "results": results,
                    }
                )
                print(
                    f" HTTP {results['http'][0]:7.2f} / {results['http'][1]:7.2f} ms"
                    f"  CPU {results['cpu'][0]:5.2f} + {results['cpu'][1]:5.2f} ms"
                    f"  indexed SQL {results['indexed'][0]:6.2f} / {results['indexed'][1]:6.2f} ms"
                    f"  ILIKE {results['ilike'][0]:8.2f} / {results['ilike'][1]:8.2f} ms",
                    flush=True,
                )
                if username == "admin":
                    plans[f"{name} `{queries[0]}`"] = "\n\n".join(raw.explain(sql) for sql in cases[0]["indexed"])
            p50, p95 = measure_paths(client, overview_paths, args.requests, args.warmup)
            overview.append({"user": username, "p50": p50, "p95": p95, "statements": len(overview_capture["queries"])})
            print(f"  {username:<6} overview HTTP {p50:7.2f} / {p95:7.2f} ms", flush=True)
    finally:
        server.stop()

    facts["load_end"] = os.getloadavg()
    section = render(label, args, facts, sizes, rows, overview, plans)
    print()
    print(section)
    if not args.no_write:
        write_results(Path(args.results), label, section)
        print(f"\nsection {label} written to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
