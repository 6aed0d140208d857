#!/usr/bin/env python
"""Load test: account-manager traffic from 100 concurrent users against `guanxi serve` as deployed, beside the floor.

    .venv/bin/python bench/load.py                        # PostgreSQL guanxi_bench (1,000,000 customers)
    .venv/bin/python bench/load.py --time 60 --profile 45 # shorter, and a py-spy profile of the server under load

Bounded: 127.0.0.1 only, --users (100) simulated users for --time (180 s) per target, then it stops by itself.

1. Set-up (idempotent, in the bench database): account managers until there are --managers (100) of them — new ones
   (load_am001 …) join the teams of am2 … am12 and take over --portfolio (100) of those managers' customers, so am1's
   portfolio, which api_bench and run.py measure, stays as generated — and one API token each.
2. Per run: for each manager, a sample of visible customer ids with their current versions, search terms cut from
   their customers' names and phones, their branch and a district (bench/data/load-config.json), and the SQL of a
   sample of 360 views and searches for the floor to replay.
3. `guanxi serve` (gunicorn, its default worker count on PostgreSQL: 2 × CPUs + 1, 4 threads each, idle connections
   kept 75 s) and the floor (bench/floor under gunicorn with the same workers, threads and keep-alive) on free ports.
4. Locust (bench/locustfile.py, headless, FastHttpUser) against Guanxi, then the same users and mix against the floor:
   list 40 %, 360 view 25 %, search 15 %, create/update 20 %; think time --wait (0.5-1.5 s) between requests.
   Requests/s, p50/p95/p99, errors, and the CPU used by the generator, the server processes and PostgreSQL.
5. With --profile N: a further N-second run against Guanxi with py-spy sampling every worker; the functions where the
   workers spend their time (inclusive and own samples), written to bench/data/load-profile.txt.
6. Customers and audit entries created by the runs are deleted; RESULTS.md gets the section `load-<database>-<scale>`.
"""

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402  (bench scripts share helpers; bench/ is not a package)
    BENCH_DIR,
    DATA_DIR,
    DEFAULT_DATABASE_URL,
    PASSWORD,
    RUN_TAG,
    CpuMeter,
    RawDb,
    bench_pythonpath,
    capture,
    free_port,
    machine_facts,
    migrate,
    process_cpu,
    ratio,
    start_server,
    with_application_name,
    write_results,
)
from generate import SCALES, normalise_database_url, setup_django  # noqa: E402

TOKENS_FILE = DATA_DIR / "load-tokens.json"
KEEPALIVE = 75  # the floor keeps idle connections as long as `guanxi serve` does (its KEEPALIVE_SECONDS)


# --------------------------------------------------------------------------------------------------------------------
# Set-up: managers, portfolios, tokens


def setup_managers(url: str, managers: int, portfolio: int) -> dict[str, str]:
    """{username: clear token} for --managers account managers; creates what is missing."""
    setup_django(url)
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.test.utils import override_settings

    from guanxi.core import services
    from guanxi.core.models import ApiToken
    from guanxi.core.roles import ACCOUNT_MANAGER

    User = get_user_model()
    existing = list(
        User.objects.filter(groups__name=ACCOUNT_MANAGER).select_related("profile__org_unit").order_by("id")
    )
    donors = [u for u in existing if not u.username.startswith("load_") and u.username != "am1"]
    rng = random.Random(11)
    # One password hash for all (a bench user logs in with its token; 100 hashes of the production hasher take minutes).
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    fast.enable()
    for number in range(len(existing) + 1, managers + 1):
        donor = donors[number % len(donors)]
        username = f"load_am{number:03d}"
        with transaction.atomic():
            user = services.user_create(
                username=username,
                password=PASSWORD,
                role=ACCOUNT_MANAGER,
                org_unit_code=donor.profile.org_unit.code,
                full_name=f"压测客户经理{number}",
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM customers_customer WHERE owner_id = %s AND archived_at IS NULL AND NOT sensitive "
                    "ORDER BY id DESC LIMIT 20000",
                    [donor.pk],
                )
                ids = rng.sample([row[0] for row in cursor.fetchall()], portfolio)
                cursor.execute(
                    "UPDATE customers_customer SET owner_id = %s WHERE id = ANY(%s)"
                    if connection.vendor == "postgresql"
                    else f"UPDATE customers_customer SET owner_id = %s WHERE id IN ({', '.join(['%s'] * len(ids))})",
                    [user.pk, ids] if connection.vendor == "postgresql" else [user.pk, *ids],
                )
        print(f"  {username}: {portfolio} customers of {donor.username}", flush=True)
    fast.disable()
    stored = json.loads(TOKENS_FILE.read_text()) if TOKENS_FILE.exists() else {}
    tokens = stored.get(url, {})
    users = User.objects.filter(groups__name=ACCOUNT_MANAGER).order_by("id")[:managers]
    for user in users:
        clear = tokens.get(user.username)
        if clear and ApiToken.objects.filter(key_hash=services._hash(clear), revoked_at__isnull=True).exists():
            continue
        # As services.token_issue, without checking the password again (100 password hashes would take minutes).
        clear = services.TOKEN_PREFIX + uuid.uuid4().hex + uuid.uuid4().hex
        ApiToken.objects.create(user=user, name="load test", key_hash=services._hash(clear), prefix=clear[:8])
        tokens[user.username] = clear
    stored[url] = tokens
    TOKENS_FILE.parent.mkdir(parents=True, exist_ok=True)
    TOKENS_FILE.write_text(json.dumps(stored, indent=1))
    return {user.username: tokens[user.username] for user in users}


def build_config(raw: RawDb, tokens: dict[str, str], args, run: str) -> dict:
    rng = random.Random(args.seed)
    ids_by_name = dict(raw.all("SELECT username, id FROM auth_user"))
    users = []
    for username, token in tokens.items():
        user_id = ids_by_name[username]
        rows = raw.all(
            "SELECT id, version, name, number FROM customers_customer WHERE owner_id = %s AND NOT sensitive "
            "AND archived_at IS NULL ORDER BY id DESC LIMIT 2000",
            [user_id],
        )
        rows = rng.sample(rows, min(args.sample, len(rows)))
        if not rows:
            continue
        marks = ", ".join(["%s"] * min(5, len(rows)))
        mobiles = [
            r[0]
            for r in raw.all(
                f"SELECT mobile FROM customers_contact WHERE customer_id IN ({marks}) AND mobile <> ''",
                [r[0] for r in rows[:5]],
            )
        ]
        terms = []
        for _id, _version, name, _number in rows[:8]:
            start = rng.randint(0, max(0, min(4, len(name) - 3)))
            terms.append(name[start : start + 3])
        terms += [m[-4:] for m in mobiles[:3]] + [rows[0][3]]
        district = raw.all(
            "SELECT region_id FROM customers_customer WHERE owner_id = %s AND region_id IS NOT NULL LIMIT 1", [user_id]
        )[0][0]
        users.append(
            {
                "username": username,
                "id": user_id,
                "token": token,
                "branch": rows[0][3][1:-7],
                "region_id": district,
                "versions": {str(r[0]): r[1] for r in rows},
                "terms": terms,
                "names": [r[2] for r in rows[:20]],
            }
        )
    return {"users": users, "wait": args.wait, "run": run}


def replay_statements(config: dict, env: dict, count: int) -> dict[str, list[list[str]]]:
    """The data statements of `count` 360 views and searches (of different managers) for the floor to replay."""
    from run import data_statements

    rng = random.Random(5)
    specs = {"overview": [], "search": []}
    for index in range(count):
        user = config["users"][index % len(config["users"])]
        authorization = f"Bearer {user['token']}"
        customer_id = rng.choice(list(user["versions"]))
        specs["overview"].append(f"/api/v1/customers/{customer_id}/overview {authorization}")
        from urllib.parse import urlencode

        specs["search"].append(
            f"/api/v1/search?{urlencode({'q': rng.choice(user['terms']), 'limit': 10})} {authorization}"
        )
    return {
        key: [data_statements(entry["queries"]) for entry in capture("guanxi.settings", paths, env)]
        for key, paths in specs.items()
    }


# --------------------------------------------------------------------------------------------------------------------
# Running Locust


def refresh_versions(raw: RawDb, config_path: Path) -> None:
    """The customers' current versions (the previous run updated some), so that no update is stale."""
    config = json.loads(config_path.read_text())
    for user in config["users"]:
        ids = [int(i) for i in user["versions"]]
        marks = ", ".join(["%s"] * len(ids))
        rows = raw.all(f"SELECT id, version FROM customers_customer WHERE id IN ({marks})", ids)
        user["versions"] = {str(i): v for i, v in rows}
    config_path.write_text(json.dumps(config, ensure_ascii=False))


def run_locust(target: str, port: int, seconds: int, args, config_path: Path, meters: dict, profile: bool = False):
    refresh_versions(meters["server"].raw, config_path)
    prefix = DATA_DIR / f"load-{target}{'-profile' if profile and not args.profile_main else ''}"
    env = dict(os.environ, LOAD_CONFIG=str(config_path), LOAD_TARGET=target, PYTHONPATH=bench_pythonpath())
    command = [
        str(Path(sys.executable).parent / "locust"),
        "-f",
        str(BENCH_DIR / "locustfile.py"),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate),
        "--run-time",
        f"{seconds}s",
        "--host",
        f"http://127.0.0.1:{port}",
        "--csv",
        str(prefix),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    load_start = os.getloadavg()
    before = {name: meter.sample() for name, meter in meters.items()}
    started = time.perf_counter()
    with open(DATA_DIR / f"load-{target}.log", "w") as log:
        locust = subprocess.Popen(command, env=env, cwd=BENCH_DIR.parent, stdout=log, stderr=subprocess.STDOUT)
        spy = None
        if profile:
            spy = start_profiler(meters["server"].server_pid, seconds - args.spawn_seconds - 5)
        generator_cpu = 0.0
        while locust.poll() is None:
            generator_cpu = process_cpu(locust.pid) or generator_cpu
            time.sleep(0.5)
        if spy:
            spy.wait(timeout=120)
    elapsed = time.perf_counter() - started
    after = {name: meter.sample() for name, meter in meters.items()}
    stats = read_stats(prefix)
    requests = stats["Aggregated"]["count"] or 1
    cpu = {
        name: (CpuMeter.spent(before[name][0], after[name][0]), CpuMeter.spent(before[name][1], after[name][1]))
        for name in meters
    }
    return {
        "target": target,
        "seconds": seconds,
        "elapsed": elapsed,
        "stats": stats,
        "generator_cpu": generator_cpu,
        "generator_share": generator_cpu / elapsed,
        "server_cpu_ms": cpu["server"][0] / requests * 1000,
        "db_cpu_ms": cpu["server"][1] / requests * 1000,
        "load_start": load_start,
        "load_end": os.getloadavg(),
    }


def read_stats(prefix: Path) -> dict:
    stats = {}
    with open(f"{prefix}_stats.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            stats[row["Name"]] = {
                "count": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
            }
    failures_path = Path(f"{prefix}_failures.csv")
    stats["_failures"] = failures_path.read_text()[:2000] if failures_path.exists() else ""
    return stats


# --------------------------------------------------------------------------------------------------------------------
# Profile: py-spy on every worker, summarised by function


def start_profiler(master_pid: int, seconds: int) -> subprocess.Popen:
    output = DATA_DIR / "load-profile.raw"
    command = [
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "--pid",
        str(master_pid),
        "--subprocesses",
        "--duration",
        str(max(10, seconds)),
        "--rate",
        "50",
        "--format",
        "raw",
        "--nonblocking",
        "--output",
        str(output),
    ]
    time.sleep(5)  # users spawned
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarise_profile(top: int = 30) -> str:
    """Inclusive and own samples per function of the collapsed stacks (idle threads waiting for work left out)."""
    path = DATA_DIR / "load-profile.raw"
    if not path.exists():
        return "(no profile)"
    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = 0
    idle_markers = ("select (selectors.py", "wait (threading.py", "_worker (concurrent/futures", "accept (socket.py")
    for line in path.read_text().splitlines():
        stack, _sep, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        if any(marker in frames[-1] for marker in idle_markers) or "run_for_one" in frames[-1]:
            continue
        samples = int(count)
        total += samples
        seen = set()
        for frame in frames:
            name = short_frame(frame)
            if name not in seen:
                inclusive[name] += samples
                seen.add(name)
        own[short_frame(frames[-1])] += samples
    if not total:
        return "(no busy samples)"
    views, panels, auth = breakdown(path)
    lines = [f"{total} busy samples (worker threads handling requests)", "", "by API operation (% of busy samples):"]
    lines += [f"  {n / total * 100:5.1f} %  {name}" for name, n in views.most_common()]
    lines += [f"  {auth / total * 100:5.1f} %  authentication (ninja auth: token, user, roles)", ""]
    lines += ["by 360 panel (% of busy samples):"]
    lines += [f"  {n / total * 100:5.1f} %  {name}" for name, n in panels.most_common()]
    lines += ["", "inclusive (% of busy samples):"]
    interesting = [
        (name, n) for name, n in inclusive.most_common() if "guanxi" in name or "ninja" in name or "django" in name
    ]
    lines += [f"  {n / total * 100:5.1f} %  {name}" for name, n in interesting[:top]]
    lines += ["", "own time (% of busy samples):"]
    lines += [f"  {n / total * 100:5.1f} %  {name}" for name, n in own.most_common(top)]
    return "\n".join(lines)


def breakdown(path: Path) -> tuple[Counter, Counter, int]:
    """Samples per API operation (the first guanxi frame under ninja's Operation.run), per 360 panel (the frame under
    panels.panel_data) and in authentication."""
    views: Counter = Counter()
    panels: Counter = Counter()
    auth = 0
    for line in path.read_text().splitlines():
        stack, _sep, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = stack.split(";")
        samples = int(count)
        for index, frame in enumerate(frames[:-1]):
            if frame.startswith("Operation.run ") and "guanxi/" in frames[index + 1]:
                views[short_frame(frames[index + 1])] += samples
            elif frame.startswith("Operation._run_authentication "):
                auth += samples
            elif frame.startswith("panel_data.<locals>.<dictcomp> "):
                panels[short_frame(frames[index + 1])] += samples
    return views, panels, auth


def short_frame(frame: str) -> str:
    """`function (path/to/site-packages/pkg/module.py:line)` -> `function (pkg/module.py)`."""
    name, _sep, where = frame.partition(" (")
    where = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/src/", "python3.11/"):
        if marker in where:
            where = where.split(marker, 1)[1]
            break
    return f"{name} ({where})"


# --------------------------------------------------------------------------------------------------------------------
# Report


def render(label: str, args, facts: dict, sizes: dict, runs: list[dict], profile: str | None) -> str:
    command = " ".join([".venv/bin/python bench/load.py", *sys.argv[1:]])
    names = ["list", "list, next page", "360 view", "search", "create", "update", "Aggregated"]
    out = [
        f"<!-- BEGIN RUN {label} -->",
        f"## {label}",
        "",
        f"- date: {facts['date']}; commit `{facts['commit']}`",
        f"- machine: {facts['nproc']} CPUs ({facts['cpu']}), {facts['memory']}, shared with other work; "
        f"{facts['database']}",
        f"- data: {sizes['customers']:,} customers, {sizes['contacts']:,} contacts; {sizes['managers']} account "
        f"managers with a token each (am1 … am12: ~83,000 customers each, load_am…: {args.portfolio} each)",
        f"- servers: `guanxi serve` ({args.server_workers or 'default: 2 × CPUs + 1 ='} {sizes['workers']} gunicorn "
        f"gthread workers × {args.threads} threads, PostgreSQL, CONN_MAX_AGE 60 as shipped) and the floor (gunicorn, "
        f"same workers and threads)",
        f"- generator: Locust {sizes['locust']} headless (FastHttpUser), {args.users} users spawned at "
        f"{args.spawn_rate}/s, think time {args.wait[0]}–{args.wait[1]} s, {args.time} s per target, on the same "
        "2 cores",
        f"- command: `{command}`",
        "",
        "| target | requests | requests/s | p50 / p95 / p99 ms | errors | generator CPU (share of one core) "
        "| server CPU ms/request: app + PostgreSQL | load average at start → end |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        a = r["stats"]["Aggregated"]
        out.append(
            f"| {r['target']} | {a['count']:,} | {a['rps']:.1f} | {a['p50']:.0f} / {a['p95']:.0f} / {a['p99']:.0f} "
            f"| {a['failures']} | {r['generator_cpu']:.1f} s ({r['generator_share'] * 100:.0f} %) "
            f"| {r['server_cpu_ms']:.1f} + {r['db_cpu_ms']:.1f} "
            f"| {r['load_start'][0]:.2f} → {r['load_end'][0]:.2f} |"
        )
    out += ["", "Per request kind (p50 / p95 / p99 ms, requests/s):", ""]
    out += ["| kind | " + " | ".join(r["target"] for r in runs) + " |", "|---|" + "---|" * len(runs)]
    for name in names[:-1]:
        cells = []
        for r in runs:
            s = r["stats"].get(name)
            cells.append(
                f"{s['p50']:.0f} / {s['p95']:.0f} / {s['p99']:.0f} ({s['rps']:.1f}/s, {s['failures']} errors)"
                if s
                else "–"
            )
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    guanxi = next((r for r in runs if r["target"] == "guanxi"), None)
    floor = next((r for r in runs if r["target"] == "floor"), None)
    if guanxi and floor:
        g, f = guanxi["stats"]["Aggregated"], floor["stats"]["Aggregated"]
        out += [
            "",
            "Targets (issue 6, section 2):",
            "",
            f"- zero errors: {g['failures']} {'met' if g['failures'] == 0 else '**missed**'}",
            f"- p95 ≤ 100 ms: {g['p95']:.0f} ms {'met' if g['p95'] <= 100 else '**missed**'}",
            f"- requests/s ≥ 60 % of the floor's: {g['rps']:.1f} / {f['rps']:.1f} = "
            f"{g['rps'] / f['rps'] * 100:.0f} % {'met' if g['rps'] >= 0.6 * f['rps'] else '**missed**'}; "
            f"server CPU per request Guanxi / floor "
            f"{ratio(guanxi['server_cpu_ms'] + guanxi['db_cpu_ms'], floor['server_cpu_ms'] + floor['db_cpu_ms'])}",
        ]
    if profile:
        out += ["", "<details><summary>py-spy profile of the Guanxi workers under load</summary>", "", "```", profile]
        out += ["```", "", "</details>"]
    out.append(f"<!-- END RUN {label} -->")
    return "\n".join(out)


# --------------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--users", type=int, default=100, help="concurrent simulated users (≤ 200)")
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--time", type=int, default=180, help="seconds per target (≤ 300)")
    parser.add_argument("--wait", type=float, nargs=2, default=[0.5, 1.5], help="think time range, seconds")
    parser.add_argument("--managers", type=int, default=100)
    parser.add_argument("--portfolio", type=int, default=100, help="customers of each new load_am manager")
    parser.add_argument("--sample", type=int, default=100, help="customer ids per manager the users work on")
    parser.add_argument("--server-workers", type=int, default=0, help="0: guanxi serve's default")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--targets", default="guanxi,floor")
    parser.add_argument("--profile", type=int, default=0, help="seconds of a further profiled run against Guanxi")
    parser.add_argument(
        "--profile-main", action="store_true", help="sample the workers with py-spy during the Guanxi run itself"
    )
    parser.add_argument("--label")
    parser.add_argument("--results", default=str(BENCH_DIR / "RESULTS.md"))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    if args.users > 200 or args.time > 300 or args.profile > 300:
        parser.error("bounded: at most 200 users and 300 s per run")
    args.spawn_seconds = int(args.users / args.spawn_rate)

    url = normalise_database_url(args.database_url)
    migrate(url)
    raw = RawDb(url)
    customers = raw.all("SELECT count(*) FROM customers_customer")[0][0]
    scale = {v: k for k, v in SCALES.items()}.get(customers, str(customers))
    label = args.label or f"load-{'sqlite' if raw.sqlite else 'postgresql'}-{scale}"
    print(f"{label}: set-up of {args.managers} account managers …", flush=True)
    tokens = setup_managers(url, args.managers, args.portfolio)
    run = uuid.uuid4().hex[:6]
    config = build_config(raw, tokens, args, run)
    config_path = DATA_DIR / "load-config.json"
    env = dict(os.environ)
    env.update(
        DATABASE_URL=with_application_name(url, f"{RUN_TAG}-guanxi"),
        GUANXI_HOME=str(DATA_DIR / "home"),
        PYTHONPATH=bench_pythonpath(),
        GUANXI_LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="guanxi.settings",
    )
    (DATA_DIR / "home" / "static").mkdir(parents=True, exist_ok=True)
    replay = replay_statements(config, env, 40)
    config["replay_sizes"] = {key: len(value) for key, value in replay.items()}
    config_path.write_text(json.dumps(config, ensure_ascii=False))
    replay_path = DATA_DIR / "load-replay.json"
    replay_path.write_text(json.dumps(replay, ensure_ascii=False))
    maxima = {
        table: raw.all(f"SELECT coalesce(max(id), 0) FROM {table}")[0][0]
        for table in ("customers_customer", "core_auditlog")
    }
    facts = machine_facts(raw)
    from importlib.metadata import version

    workers = args.server_workers or (os.cpu_count() * 2 + 1)
    sizes = {
        "customers": customers,
        "contacts": raw.all("SELECT count(*) FROM customers_contact")[0][0],
        "managers": len(config["users"]),
        "workers": workers,
        "locust": version("locust"),
    }
    bin_dir = Path(sys.executable).parent
    runs: list[dict] = []
    profile_text = None
    servers = []
    try:
        port, floor_port = free_port(), free_port()
        serve = [str(bin_dir / "guanxi"), "serve", "--host", "127.0.0.1", "--port", str(port)]
        serve += ["--threads", str(args.threads), "--no-worker"]
        if args.server_workers:
            serve += ["--workers", str(args.server_workers)]
        servers.append(start_server("load-guanxi", serve, env, port, "/api/v1/me"))
        floor_env = dict(
            env,
            DJANGO_SETTINGS_MODULE="floor.settings",
            DATABASE_URL=with_application_name(url, f"{RUN_TAG}-floor"),
            FLOOR_REPLAY=str(replay_path),
        )
        floor_command = [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{floor_port}", "--worker-class", "gthread"]
        floor_command += ["--workers", str(workers), "--threads", str(args.threads), "--keep-alive", str(KEEPALIVE)]
        floor_command.append("floor.wsgi:application")
        servers.append(start_server("load-floor", floor_command, floor_env, floor_port, "/api/customers/1"))
        targets = {"guanxi": (port, servers[0]), "floor": (floor_port, servers[1])}
        for target in args.targets.split(","):
            target_port, server = targets[target]
            meters = {"server": CpuMeter(raw, server.process.pid, f"{RUN_TAG}-{target}")}
            print(f"  {target}: {args.users} users for {args.time} s …", end="", flush=True)
            profiled = args.profile_main and target == "guanxi"
            result = run_locust(target, target_port, args.time, args, config_path, meters, profile=profiled)
            if profiled:
                profile_text = summarise_profile()
                (DATA_DIR / "load-profile.txt").write_text(profile_text)
            runs.append(result)
            a = result["stats"]["Aggregated"]
            print(
                f" {a['count']:,} requests, {a['rps']:.1f}/s, p50/p95/p99 {a['p50']:.0f}/{a['p95']:.0f}/{a['p99']:.0f}"
                f" ms, {a['failures']} errors; generator {result['generator_share'] * 100:.0f} % of a core; server "
                f"CPU {result['server_cpu_ms']:.1f} + {result['db_cpu_ms']:.1f} ms/request",
                flush=True,
            )
            if a["failures"]:
                print(result["stats"]["_failures"][:1500])
        if args.profile:
            meters = {"server": CpuMeter(raw, servers[0].process.pid, f"{RUN_TAG}-guanxi")}
            print(f"  guanxi, profiled with py-spy: {args.profile} s …", flush=True)
            run_locust("guanxi", port, args.profile, args, config_path, meters, profile=True)
            profile_text = summarise_profile()
            (DATA_DIR / "load-profile.txt").write_text(profile_text)
            print(profile_text)
    finally:
        for server in servers:
            server.stop()
        with raw.transaction():
            raw.all("DELETE FROM core_auditlog WHERE id > %s", [maxima["core_auditlog"]])
            raw.all("DELETE FROM customers_customer WHERE id > %s", [maxima["customers_customer"]])
    facts["load_end"] = os.getloadavg()
    section = render(label, args, facts, sizes, runs, profile_text)
    (DATA_DIR / f"results-{label}.json").write_text(json.dumps({"runs": runs, "sizes": sizes}, indent=1, default=str))
    if runs and not args.no_write:
        write_results(Path(args.results), label, section)
        print(f"section {label} written to {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
