#!/usr/bin/env python
"""API latency of Guanxi against a floor (bare Django + django-ninja) and the raw SQL, in one run.

    .venv/bin/python bench/api_bench.py                                    # PostgreSQL guanxi_bench
    .venv/bin/python bench/api_bench.py --database-url sqlite:///bench/data/medium.sqlite3

Starts `guanxi serve` and the floor (bench/floor, gunicorn with the same gthread settings) on free 127.0.0.1 ports,
takes bearer tokens for admin (sees everything) and am1 (an account manager: own customers only), warms up, then for
each scenario sends --requests sequential keep-alive requests to each server, interleaved request by request, and
replays the SQL Guanxi emits for the same request with psycopg (or sqlite3) directly:

  list first page   GET /api/v1/customers?region=<city>&grade=key&ordering=name&limit=50
  list deep page    the same, with the cursor reached by following `next` --deep (40) times
  detail            GET /api/v1/customers/<random visible id>

Prints p50/p95 and the ratios Guanxi/floor and Guanxi/raw SQL, CPU time per request (server processes and the
PostgreSQL backends serving them, from /proc: robust when the machine is shared), the SQL Guanxi runs per request, and
writes (or updates) this run's section of bench/RESULTS.md (other sections and the hand-written notes are kept).

    --variant variants.tuned     also serve Guanxi with a bench/variants settings module (a proposed change) and
                                 measure it interleaved with the others
    --max-load 1                 wait (up to 10 minutes) for a quieter machine first
"""

import argparse
import json
import os
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402  (bench scripts share helpers; bench/ is not a package)
    BENCH_DIR,
    DATA_DIR,
    DEFAULT_DATABASE_URL,
    PASSWORD,
    RUN_TAG,
    Client,
    CpuMeter,
    RawDb,
    Server,
    capture,
    condense_plan,
    free_port,
    machine_facts,
    percentile,
    ratio,
    server_env,
    start_floor,
    start_guanxi,
    variant_env,
    wait_for_quiet,
    write_results,
)

SCOPE_TABLES = ("core_apitoken", "auth_group", "auth_permission", "core_orgunit", "core_profile", "django_session")


# --------------------------------------------------------------------------------------------------------------------
# Scenarios


@dataclass
class Scenario:
    user: str
    name: str
    guanxi_paths: list[str]  # one path, or one per request (detail: random ids)
    floor_paths: list[str]
    raw_queries: list[list[str]]  # per request: Guanxi's SQL for it (same length as guanxi_paths)
    labels: list[str] = field(default_factory=list)  # per query: what it is
    data_mask: list[bool] = field(default_factory=list)  # per query: fetches response data (vs auth and scope)
    floor_query_count: int = 0
    authorization: str = ""
    results: dict = field(default_factory=dict)


def query_label(sql: str) -> tuple[str, bool]:
    """A short name for a captured statement and whether it fetches response data (else: auth and scope)."""
    match = re.search(r'FROM "(\w+)"', sql)
    table = match.group(1) if match else "?"
    verb = sql.lstrip().lstrip("( ").split(None, 1)[0].upper()  # a UNION of sliced queries starts "(SELECT"
    if verb != "SELECT":
        return f"{verb.lower()} {table}", False
    if table == "core_apitoken":
        return "token + user + profile", False
    if table == "auth_group":
        return "user's groups (roles)", False
    if table == "auth_permission":
        kind = "group" if "auth_group_permissions" in sql else "user"
        return f"{kind} permissions (has_perm)", False
    if table == "core_orgunit":
        return "user's org unit (scope)", False
    if table == "customers_region":
        return ("region subtree ids" if "LIKE" in sql else "region path"), True
    if table == "customers_customer":
        return "customers (main query)", True
    if table == "customers_tag":
        return "tags (prefetch)", True
    return f"select {table}", table not in SCOPE_TABLES


def follow(client: Client, path: str, depth: int) -> tuple[str, int]:
    """The path of the page `depth` pages after the first (or of the last page, if there are fewer)."""
    current, reached = path, 0
    for _ in range(depth):
        page = client.json(current)
        if not page["next"]:
            break
        current = f"{path}&cursor={page['next']}"
        reached += 1
    return current, reached


def item_ids(client: Client, path: str) -> list[int]:
    return [item["id"] for item in client.json(path)["items"]]


def measure(
    scenario: Scenario,
    guanxi: Client,
    floor: Client,
    raw: RawDb,
    requests: int,
    warmup: int,
    meters: dict,
    variant: Client | None = None,
) -> None:
    timings = {"guanxi": [], "floor": [], "raw": [], "raw_all": []}
    if variant:
        timings["variant"] = []
    before: dict = {}
    per_query: list[list[float]] = [[] for _ in scenario.raw_queries[0]]
    count = len(scenario.guanxi_paths)
    for index in range(-warmup, requests):
        if index == 0:
            before = {name: meter.sample() for name, meter in meters.items()}
        slot = index % count
        status, body, elapsed = guanxi.get(scenario.guanxi_paths[slot])
        if status != 200:
            raise RuntimeError(f"guanxi {scenario.guanxi_paths[slot]}: {status} {body[:200]!r}")
        if variant:
            variant_status, variant_body, variant_elapsed = variant.get(scenario.guanxi_paths[slot])
            if variant_status != 200:
                raise RuntimeError(f"variant {scenario.guanxi_paths[slot]}: {variant_status} {variant_body[:200]!r}")
        floor_status, floor_body, floor_elapsed = floor.get(scenario.floor_paths[slot])
        if floor_status != 200:
            raise RuntimeError(f"floor {scenario.floor_paths[slot]}: {floor_status} {floor_body[:200]!r}")
        raw_data = raw_total = 0.0
        query_times = []
        for sql, is_data in zip(scenario.raw_queries[slot], scenario.data_mask, strict=True):
            if not sql.lstrip().upper().startswith("SELECT"):
                query_times.append(0.0)
                continue
            started = time.perf_counter()
            raw.run(sql)
            spent = time.perf_counter() - started
            query_times.append(spent)
            raw_total += spent
            raw_data += spent if is_data else 0.0
        if index < 0:
            continue
        timings["guanxi"].append(elapsed)
        if variant:
            timings["variant"].append(variant_elapsed)
        timings["floor"].append(floor_elapsed)
        timings["raw"].append(raw_data)
        timings["raw_all"].append(raw_total)
        for position, spent in enumerate(query_times):
            per_query[position].append(spent)
    after = {name: meter.sample() for name, meter in meters.items()}
    scenario.results = {
        key: {"p50": percentile(values, 0.5) * 1000, "p95": percentile(values, 0.95) * 1000}
        for key, values in timings.items()
    }
    scenario.results["cpu"] = {
        f"{name}_{part}": CpuMeter.spent(before[name][index], after[name][index]) / requests * 1000
        for name in meters
        for index, part in enumerate(("app", "db"))
    }
    scenario.results["per_query"] = [percentile(values, 0.5) * 1000 for values in per_query]
    scenario.results["bytes"] = len(body), len(floor_body)


def measure_scenarios(
    scenarios: list[Scenario], raw: RawDb, servers: dict[str, Server], requests: int, warmup: int, widths: tuple
) -> None:
    """measure() every scenario against the servers ("guanxi", "floor", optionally "variant"), CPU metered per server
    and for the raw replay; one line per scenario as it ends (user and name padded to `widths`)."""
    meters = {name: CpuMeter(raw, server.process.pid, f"{RUN_TAG}-{name}") for name, server in servers.items()}
    meters["raw"] = CpuMeter(raw, None, f"{RUN_TAG}-raw")
    floor_client = Client(servers["floor"].port)
    for scenario in scenarios:
        headers = {"Authorization": scenario.authorization}
        guanxi_client = Client(servers["guanxi"].port, headers)
        variant_client = Client(servers["variant"].port, headers) if "variant" in servers else None
        print(f"  {scenario.user:<{widths[0]}} {scenario.name:<{widths[1]}}", end="", flush=True)
        measure(scenario, guanxi_client, floor_client, raw, requests, warmup, meters, variant_client)
        r = scenario.results
        print(
            f" Guanxi {r['guanxi']['p50']:6.2f} / {r['guanxi']['p95']:6.2f} ms"
            + (f"  variant {r['variant']['p50']:6.2f} / {r['variant']['p95']:6.2f} ms" if variant_client else "")
            + f"  floor {r['floor']['p50']:6.2f} / {r['floor']['p95']:6.2f} ms"
            + f"  raw {r['raw']['p50']:6.2f} / {r['raw']['p95']:6.2f} ms",
            flush=True,
        )


# --------------------------------------------------------------------------------------------------------------------
# Report


def results_table(scenarios: list[Scenario]) -> list[str]:
    if scenarios and "variant" in scenarios[0].results:
        lines = [
            "| user | scenario | Guanxi p50 / p95 ms | variant p50 / p95 ms | floor p50 / p95 ms | variant / Guanxi "
            "| variant / floor |",
            "|---|---|---|---|---|---|---|",
        ]
        for s in scenarios:
            r = s.results
            lines.append(
                f"| {s.user} | {s.name} | {r['guanxi']['p50']:.2f} / {r['guanxi']['p95']:.2f} "
                f"| {r['variant']['p50']:.2f} / {r['variant']['p95']:.2f} "
                f"| {r['floor']['p50']:.2f} / {r['floor']['p95']:.2f} "
                f"| {ratio(r['variant']['p50'], r['guanxi']['p50'])} "
                f"| {ratio(r['variant']['p50'], r['floor']['p50'])} |"
            )
        return lines
    lines = [
        "| user | scenario | Guanxi p50 / p95 ms | floor p50 / p95 ms | raw SQL p50 / p95 ms | Guanxi / floor "
        "| Guanxi / raw SQL | queries Guanxi / floor |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in scenarios:
        r = s.results
        lines.append(
            f"| {s.user} | {s.name} | {r['guanxi']['p50']:.2f} / {r['guanxi']['p95']:.2f} "
            f"| {r['floor']['p50']:.2f} / {r['floor']['p95']:.2f} | {r['raw']['p50']:.2f} / {r['raw']['p95']:.2f} "
            f"| {ratio(r['guanxi']['p50'], r['floor']['p50'])} | {ratio(r['guanxi']['p50'], r['raw']['p50'])} "
            f"| {len(s.labels)} / {s.floor_query_count} |"
        )
    return lines


def cpu_table(scenarios: list[Scenario], sqlite: bool) -> list[str]:
    if sqlite:
        lines = [
            "| user | scenario | Guanxi CPU ms/request | floor CPU ms/request | Guanxi / floor |",
            "|---|---|---|---|---|",
        ]
        with_variant = bool(scenarios) and "variant_app" in scenarios[0].results["cpu"]
        if with_variant:
            lines = [
                "| user | scenario | Guanxi CPU ms/request | variant | floor | Guanxi / floor | variant / floor |",
                "|---|---|---|---|---|---|---|",
            ]
        for s in scenarios:
            c = s.results["cpu"]
            if with_variant:
                lines.append(
                    f"| {s.user} | {s.name} | {c['guanxi_app']:.2f} | {c['variant_app']:.2f} | {c['floor_app']:.2f} "
                    f"| {ratio(c['guanxi_app'], c['floor_app'])} | {ratio(c['variant_app'], c['floor_app'])} |"
                )
            else:
                lines.append(
                    f"| {s.user} | {s.name} | {c['guanxi_app']:.2f} | {c['floor_app']:.2f} "
                    f"| {ratio(c['guanxi_app'], c['floor_app'])} |"
                )
        return lines
    with_variant = bool(scenarios) and "variant_app" in scenarios[0].results["cpu"]
    lines = [
        "| user | scenario | Guanxi CPU ms/request: app + PostgreSQL "
        + ("| variant: app + PostgreSQL " if with_variant else "")
        + "| floor: app + PostgreSQL | raw SQL: PostgreSQL | Guanxi / floor (total) "
        + ("| variant / floor (total) |" if with_variant else "|"),
        "|---|---|---|---|---|---|" + ("---|---|" if with_variant else ""),
    ]
    for s in scenarios:
        c = s.results["cpu"]
        guanxi, floor = c["guanxi_app"] + c["guanxi_db"], c["floor_app"] + c["floor_db"]
        cells = [f"{c['guanxi_app']:.2f} + {c['guanxi_db']:.2f} = {guanxi:.2f}"]
        if with_variant:
            variant = c["variant_app"] + c["variant_db"]
            cells.append(f"{c['variant_app']:.2f} + {c['variant_db']:.2f} = {variant:.2f}")
        cells += [f"{c['floor_app']:.2f} + {c['floor_db']:.2f} = {floor:.2f}", f"{c['raw_db']:.2f}"]
        cells.append(ratio(guanxi, floor))
        if with_variant:
            cells.append(ratio(variant, floor))
        lines.append(f"| {s.user} | {s.name} | " + " | ".join(cells) + " |")
    return lines


def query_table(scenarios: list[Scenario]) -> list[str]:
    lines = [
        "| user | scenario | statement | kind | raw p50 ms |",
        "|---|---|---|---|---|",
    ]
    for s in scenarios:
        for label, is_data, spent in zip(s.labels, s.data_mask, s.results["per_query"], strict=True):
            lines.append(f"| {s.user} | {s.name} | {label} | {'data' if is_data else 'auth/scope'} | {spent:.3f} |")
        lines.append(
            f"| {s.user} | {s.name} | **all {len(s.labels)} statements** | | **{s.results['raw_all']['p50']:.3f}** |"
        )
    return lines


def targets(scenarios: list[Scenario]) -> list[str]:
    lines = []
    for s in scenarios:
        limit = 3.0 if s.name.startswith("detail") else 5.0
        g, f = s.results["guanxi"]["p50"], s.results["floor"]["p50"]
        ok_abs = g <= limit
        ok_rel = g <= 1.5 * f
        line = (
            f"- {s.user} {s.name}: Guanxi p50 {g:.2f} ms ≤ {limit:.0f} ms {'met' if ok_abs else '**missed**'}; "
            f"≤ 1.5 × floor ({1.5 * f:.2f} ms) {'met' if ok_rel else '**missed**'}"
        )
        if "variant" in s.results:
            v = s.results["variant"]["p50"]
            line += (
                f"; variant p50 {v:.2f} ms: ≤ {limit:.0f} ms {'met' if v <= limit else '**missed**'}, "
                f"≤ 1.5 × floor {'met' if v <= 1.5 * f else '**missed**'}"
            )
        lines.append(line)
    return lines


def render(
    label: str, args, facts: dict, sizes: dict, gen: dict | None, scenarios: list[Scenario], plans: dict, sqlite: bool
) -> str:
    command = " ".join([".venv/bin/python bench/api_bench.py", *sys.argv[1:]])
    out = [
        f"<!-- BEGIN RUN {label} -->",
        f"## {label}",
        "",
        f"- date: {facts['date']}; commit `{facts['commit']}`",
        f"- machine: {facts['nproc']} CPUs ({facts['cpu']}), {facts['memory']}, shared with other work "
        f"(1-minute load average {facts['load'][0]:.2f} at start, {facts['load_end'][0]:.2f} at end)",
        f"- software: {facts['database']}; Python {facts['python']}, Django {facts['django']}, "
        f"django-ninja {facts['ninja']}",
        f"- data: {sizes['customers']:,} customers ({sizes['archived']:,} archived), {sizes['contacts']:,} contacts; "
        f"list filter region {sizes['region']} (matches {sizes['matches']:,} live key customers for admin, "
        f"{sizes['matches_am1']:,} for am1)",
        (
            f"- variant: Guanxi also served with `DJANGO_SETTINGS_MODULE={args.variant}` (bench/variants), same data, "
            "measured interleaved with the others\n"
            if args.variant
            else ""
        )
        + f"- servers: `guanxi serve --workers {args.workers} --threads {args.threads}` and the floor with gunicorn "
        f"`-k gthread --workers {args.workers} --threads {args.threads}`; client: one sequential keep-alive "
        f"http.client connection per server, {args.requests} timed requests per scenario after {args.warmup} "
        "warm-up, Guanxi, floor and raw SQL interleaved request by request; GUANXI_CONN_MAX_AGE=3600 (instead of 60) "
        "so PostgreSQL backends, and their CPU time, last the whole run",
    ]
    if gen:
        out.append(
            f"- generator: `{gen['command']}` ({gen['date']}): {gen['customers']:,} customers + "
            f"{gen['contacts']:,} contacts + {gen['tags']:,} tag links loaded in {gen['load_seconds']} s = "
            f"**{gen['load_rows_per_second']:,} rows/s**; indexes and constraints {gen['index_seconds']} s, "
            f"analyse {gen['analyse_seconds']} s; whole run {gen['total_seconds']} s "
            f"({gen['total_rows_per_second']:,} rows/s end to end)"
        )
    out += [
        f"- command: `{command}`",
        "",
        "Raw SQL = the data statements Guanxi emits for the request (region subtree, customers, tags prefetch), "
        "replayed with the database driver and fully fetched; auth and scope statements are listed below.",
        "",
        *results_table(scenarios),
        "",
        "CPU time per request (server processes and the PostgreSQL backends serving them, from /proc; less "
        "sensitive to other load on the machine than latency):",
        "",
        *cpu_table(scenarios, sqlite),
        "",
        "Targets (issue 2, section 7):",
        "",
        *targets(scenarios),
        "",
    ]
    if not args.variant:  # the statements and plans are Guanxi's own; a variant run repeats them
        out += [
            "<details><summary>SQL per Guanxi request (replayed, p50)</summary>",
            "",
            *query_table(scenarios),
            "",
            "</details>",
            "",
        ]
        if plans:
            out += ["<details><summary>Plans of the main customer queries (condensed)</summary>", ""]
            for name, plan in plans.items():
                out += [f"{name}:", "", "```", condense_plan(plan), "```", ""]
            out += ["</details>", ""]
    out.append(f"<!-- END RUN {label} -->")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------------------------


def template_detail(queries: list[str], customer_id: int) -> list[str]:
    """Captured detail statements with the sample id replaced by a {id} slot."""
    pattern = re.compile(rf"(= |IN \(){customer_id}(?!\d)")
    return [pattern.sub(lambda m: m.group(1) + "{id}", sql) for sql in queries]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--requests", type=int, default=300, help="timed requests per scenario and server")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--deep", type=int, default=40, help="pages to follow for the deep page")
    parser.add_argument("--region", help="region code of the list filter (default: the city with most customers)")
    parser.add_argument("--users", default="admin,am1")
    parser.add_argument("--results", default=str(BENCH_DIR / "RESULTS.md"))
    parser.add_argument("--no-write", action="store_true", help="print only; leave RESULTS.md alone")
    parser.add_argument("--label", help="section name in RESULTS.md (default: <database>-<scale>)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--settings",
        default="guanxi.settings",
        help="Guanxi settings module (a bench/variants/ module prototypes a change without editing src)",
    )
    parser.add_argument(
        "--variant",
        help="also serve Guanxi with this settings module (e.g. variants.lean_ssb) and measure it interleaved",
    )
    parser.add_argument(
        "--max-load",
        type=float,
        default=0.0,
        help="wait (up to 10 minutes) until the 1-minute load average is below this before measuring",
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(BENCH_DIR))
    from generate import normalise_database_url

    args.database_url_arg = args.database_url
    args.database_url = normalise_database_url(args.database_url)
    raw = RawDb(args.database_url)
    rng = random.Random(args.seed)

    customers = raw.all("SELECT count(*) FROM customers_customer")[0][0]
    if not customers:
        print("No customers: run bench/generate.py first.", file=sys.stderr)
        return 1
    sizes = {
        "customers": customers,
        "archived": raw.all("SELECT count(*) FROM customers_customer WHERE archived_at IS NOT NULL")[0][0],
        "contacts": raw.all("SELECT count(*) FROM customers_contact")[0][0],
    }
    scale = {10_000: "small", 100_000: "medium", 1_000_000: "large"}.get(customers, f"{customers}")
    label = args.label or f"{'sqlite' if raw.sqlite else 'postgresql'}-{scale}"
    if args.settings != "guanxi.settings" and not args.label:
        label += f"-{args.settings.rsplit('.', 1)[-1]}"
    if args.variant and not args.label:
        label += f"-vs-{args.variant.rsplit('.', 1)[-1]}"
    if args.region:
        region_id, region_code, region_name = raw.all(
            "SELECT id, code, name FROM customers_region WHERE code = %s", [args.region]
        )[0]
    else:
        region_id, region_code, region_name = raw.all(
            """SELECT city.id, city.code, city.name FROM customers_region city
               JOIN customers_region d ON d.parent_id = city.id JOIN customers_customer c ON c.region_id = d.id
               WHERE city.level = 'city' GROUP BY city.id, city.code, city.name ORDER BY count(*) DESC LIMIT 1"""
        )[0]
    users = dict(raw.all("SELECT username, id FROM auth_user"))
    subtree = "SELECT id FROM customers_region WHERE path LIKE (SELECT path FROM customers_region WHERE id = %s)||'%%'"
    sizes["region"] = f"{region_code} {region_name}"
    sizes["matches"] = raw.all(
        f"SELECT count(*) FROM customers_customer WHERE grade = 'key' AND archived_at IS NULL "
        f"AND region_id IN ({subtree})",
        [region_id],
    )[0][0]
    sizes["matches_am1"] = raw.all(
        f"SELECT count(*) FROM customers_customer WHERE grade = 'key' AND archived_at IS NULL AND NOT sensitive "
        f"AND owner_id = %s AND region_id IN ({subtree})",
        [users.get("am1", 0), region_id],
    )[0][0]

    env = server_env(args.database_url, args.settings)
    floor_env = variant_env(env, args.database_url, "floor.settings", "floor")
    guanxi_port, floor_port = free_port(), free_port()
    print(
        f"{label}: {customers:,} customers, {sizes['contacts']:,} contacts; region {region_code} {region_name}; "
        f"Guanxi on :{guanxi_port}, floor on :{floor_port}",
        flush=True,
    )
    wait_for_quiet(args.max_load)
    facts = machine_facts(raw)
    servers: dict[str, Server] = {}
    try:
        servers["guanxi"] = start_guanxi("guanxi", env, guanxi_port, args.workers, args.threads)
        servers["floor"] = start_floor(floor_env, floor_port, args.workers, args.threads, "/api/customers/1")
        if args.variant:
            servers["variant"] = start_guanxi(
                "variant",
                variant_env(env, args.database_url, args.variant, "variant"),
                free_port(),
                args.workers,
                args.threads,
            )
        scenarios = build_scenarios(args, raw, rng, env, floor_env, guanxi_port, floor_port, users, region_id)
        measure_scenarios(scenarios, raw, servers, args.requests, args.warmup, (6, 22))
    finally:
        for server in servers.values():
            server.stop()

    plans = {}
    for scenario in scenarios:
        for sql, label_ in zip(scenario.raw_queries[0], scenario.labels, strict=True):
            if label_.startswith("customers"):
                plans[f"{scenario.user} {scenario.name}"] = raw.explain(sql)
    facts["load_end"] = os.getloadavg()
    gen_stats_path = DATA_DIR / "generate-stats.json"
    gen = json.loads(gen_stats_path.read_text()).get(args.database_url) if gen_stats_path.exists() else None
    section = render(label, args, facts, sizes, gen, scenarios, plans, raw.sqlite)
    print()
    print("\n".join(results_table(scenarios)))
    print()
    print("\n".join(cpu_table(scenarios, raw.sqlite)))
    print()
    print("\n".join(targets(scenarios)))
    print()
    print("\n".join(query_table(scenarios)))
    (DATA_DIR / f"results-{label}.json").write_text(
        json.dumps(
            {"facts": facts, "sizes": sizes, "scenarios": [{**vars(s), "raw_queries": None} for s in scenarios]},
            ensure_ascii=False,
            indent=1,
            default=str,
        )
    )
    (DATA_DIR / f"plans-{label}.txt").write_text("\n\n".join(f"== {k}\n{v}" for k, v in plans.items()))
    print(f"\nplans in {DATA_DIR / f'plans-{label}.txt'}; load average at end {facts['load_end'][0]:.2f}")
    if not args.no_write:
        write_results(Path(args.results), label, section)
        print(f"section {label} written to {args.results}")
    return 0


def build_scenarios(args, raw, rng, env, floor_env, guanxi_port, floor_port, users, region_id) -> list[Scenario]:
    """Tokens, paths (cursors followed over HTTP), sample ids and the captured SQL for every scenario."""
    scenarios = []
    floor = Client(floor_port)
    anonymous = Client(guanxi_port)
    for username in args.users.split(","):
        token = anonymous.post_json("/api/v1/auth/token", {"username": username, "password": PASSWORD})["token"]
        authorization = f"Bearer {token}"
        guanxi = Client(guanxi_port, {"Authorization": authorization})
        list_path = f"/api/v1/customers?region={region_id}&grade=key&ordering=name&limit=50"
        floor_list = f"/api/customers?region={region_id}&grade=key&limit=50"
        me = guanxi.json("/api/v1/me")
        if "account_manager" in me["roles"] and not {"admin", "executive"} & set(me["roles"]):
            floor_list += f"&owner={users[username]}&sensitive=false"
            visible = raw.all(
                "SELECT id FROM customers_customer WHERE owner_id = %s AND NOT sensitive", [users[username]]
            )
        elif {"admin", "executive"} & set(me["roles"]):
            visible = None
        else:
            raise SystemExit(f"{username}: only users who see all or their own customers are supported")
        deep_path, reached = follow(guanxi, list_path, args.deep)
        floor_deep, floor_reached = follow(floor, floor_list, args.deep)
        for mine, theirs in ((list_path, floor_list), (deep_path, floor_deep)):
            if item_ids(guanxi, mine) != item_ids(floor, theirs):
                raise RuntimeError(f"Guanxi and the floor disagree on {mine} / {theirs}")
        if reached != floor_reached:
            raise RuntimeError("Guanxi and the floor have different page counts")
        total = raw.all("SELECT max(id) FROM customers_customer")[0][0]
        if visible is None:
            ids = [rng.randint(1, total) for _ in range(args.requests)]
        else:
            ids = [row[0] for row in rng.sample(visible, min(args.requests, len(visible)))]
        sample_id = max(ids)
        captured = capture(
            env["DJANGO_SETTINGS_MODULE"],
            [f"{list_path} {authorization}", f"{deep_path} {authorization}"]
            + [f"/api/v1/customers/{sample_id} {authorization}"],
            env,
        )
        floor_captured = capture("floor.settings", [floor_list, floor_deep, f"/api/customers/{sample_id}"], floor_env)
        detail_template = template_detail(captured[2]["queries"], sample_id)
        for index, (name, guanxi_paths, floor_paths, queries) in enumerate(
            (
                ("list, first page", [list_path], [floor_list], [captured[0]["queries"]]),
                (f"list, page {reached + 1}", [deep_path], [floor_deep], [captured[1]["queries"]]),
                (
                    "detail (random ids)",
                    [f"/api/v1/customers/{i}" for i in ids],
                    [f"/api/customers/{i}" for i in ids],
                    [[sql.replace("{id}", str(i)) for sql in detail_template] for i in ids],
                ),
            )
        ):
            labelled = [query_label(sql) for sql in queries[0]]
            scenarios.append(
                Scenario(
                    user=username,
                    name=name,
                    guanxi_paths=guanxi_paths,
                    floor_paths=floor_paths,
                    raw_queries=queries,
                    labels=[label for label, _data in labelled],
                    data_mask=[data for _label, data in labelled],
                    floor_query_count=len(floor_captured[index]["queries"]),
                    authorization=authorization,
                )
            )
    return scenarios


if __name__ == "__main__":
    sys.exit(main())
