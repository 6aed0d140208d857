"""Helpers shared by the bench scripts (api_bench, search_bench, run, load): servers on 127.0.0.1, a keep-alive
HTTP client, the raw database side, CPU accounting from /proc, percentiles, machine facts and RESULTS.md sections.

Importable without Django (the floor imports nothing from here but its write statements, see floor/writes.py).
"""

import contextlib
import http.client
import json
import math
import os
import platform
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
DATA_DIR = BENCH_DIR / "data"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/guanxi_bench"
PASSWORD = "bench-pass"
RUN_TAG = f"bench-{os.getpid()}"  # application_name prefix, unique to this run

# --------------------------------------------------------------------------------------------------------------------
# Database access without Django (the raw side)


class RawDb:
    def __init__(self, url: str):
        self.url = url
        self.sqlite = url.startswith("sqlite:")
        if self.sqlite:
            import sqlite3

            self.path = url[len("sqlite:///") :]
            self.conn = sqlite3.connect(self.path)
            self.conn.execute("PRAGMA foreign_keys = ON")
        else:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True, application_name=f"{RUN_TAG}-raw")
            self.cursor = psycopg.ClientCursor(self.conn)  # Django's psycopg 3 backend binds client-side too

    def all(self, sql: str, params=()) -> list[tuple]:
        if self.sqlite:
            sql = sql.replace("%%", "\0").replace("%s", "?").replace("\0", "%")
            return self.conn.execute(sql, params).fetchall()
        cursor = self.cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []

    def run(self, sql: str) -> int:
        """Execute one captured statement as Django sent it (no parameters) and fetch every row."""
        if self.sqlite:
            return len(self.conn.execute(sql).fetchall())
        return len(self.cursor.execute(sql).fetchall())

    def explain(self, sql: str) -> str:
        if self.sqlite:
            rows = self.conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
            return "\n".join(f"{'  ' * (row[1] > 0)}{row[-1]}" for row in rows)
        rows = self.cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql).fetchall()
        return "\n".join(row[0] for row in rows)

    @contextlib.contextmanager
    def transaction(self):
        """One transaction, committed at the end (the raw side of a write); rolled back on an error."""
        if not self.sqlite:
            with self.conn.transaction():
                yield
            return
        try:
            yield
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise

    def version(self) -> str:
        if self.sqlite:
            import sqlite3

            return f"SQLite {sqlite3.sqlite_version}"
        return "PostgreSQL " + self.all("SHOW server_version")[0][0]


# --------------------------------------------------------------------------------------------------------------------
# Servers and the HTTP client


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # the gunicorn master stops its workers
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_server(name: str, command: list[str], env: dict, port: int, probe: str) -> Server:
    log = DATA_DIR / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    handle = log.open("w")
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)
    server = Server(name, port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited ({process.returncode}); see {log}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", probe)
            conn.getresponse().read()
            conn.close()
            return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise RuntimeError(f"{name} did not answer on port {port}; see {log}")


def server_env(database_url: str, settings: str = "guanxi.settings") -> dict:
    """The environment of a Guanxi server under measurement."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=with_application_name(database_url, f"{RUN_TAG}-guanxi"),
        GUANXI_HOME=str(DATA_DIR / "home"),
        PYTHONPATH=bench_pythonpath(),
        GUANXI_LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE=settings,
        # Keep PostgreSQL connections for the whole run (default 60 s): a backend that ends mid-scenario would take
        # its CPU time with it. The cost hidden is one connect per thread per minute.
        GUANXI_CONN_MAX_AGE="3600",
    )
    (DATA_DIR / "home" / "static").mkdir(parents=True, exist_ok=True)
    return env


def variant_env(env: dict, database_url: str, settings: str, name: str) -> dict:
    """`env` for another server (the floor: floor.settings) whose PostgreSQL backends carry their own name."""
    return dict(
        env, DJANGO_SETTINGS_MODULE=settings, DATABASE_URL=with_application_name(database_url, f"{RUN_TAG}-{name}")
    )


def start_guanxi(name: str, env: dict, port: int, workers: int, threads: int) -> Server:
    """`guanxi serve` on 127.0.0.1:`port`, without the embedded background worker: the benches time the web server,
    and the worker's beat jobs would add their CPU to Guanxi's figures and write to the bench database mid-run."""
    guanxi = str(Path(sys.executable).parent / "guanxi")
    command = [guanxi, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    return start_server(name, [*command, "--threads", str(threads), "--no-worker"], env, port, "/api/v1/me")


def start_floor(env: dict, port: int, workers: int, threads: int, probe: str) -> Server:
    """The floor (bench/floor) under gunicorn with Guanxi's gthread settings; `probe` is a path it answers."""
    command = [str(Path(sys.executable).parent / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--worker-class"]
    command += ["gthread", "--workers", str(workers), "--threads", str(threads), "--timeout", "60"]
    return start_server("floor", [*command, "--graceful-timeout", "20", "floor.wsgi:application"], env, port, probe)


class Client:
    """One keep-alive connection; reconnects (untimed) when the server closed an idle connection."""

    def __init__(self, port: int, headers: dict | None = None):
        self.port = port
        self.headers = {"Accept": "application/json", **(headers or {})}
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        """(status, body, seconds); an idle connection the server closed is reopened and the request sent again."""
        headers = {**self.headers, **(headers or {})}
        for attempt in range(2):
            try:
                started = time.perf_counter()
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                content = response.read()
                return response.status, content, time.perf_counter() - started
            except (http.client.RemoteDisconnected, ConnectionError, http.client.BadStatusLine):
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> tuple[int, bytes, float]:
        return self.request("GET", path)

    def json(self, path: str) -> dict:
        status, body, _elapsed = self.get(path)
        if status != 200:
            raise RuntimeError(f"GET {path} on port {self.port}: {status} {body[:300]!r}")
        return json.loads(body)

    def post_json(self, path: str, payload: dict) -> dict:
        body = json.dumps(payload).encode()
        status, content, _elapsed = self.request("POST", path, body, {"Content-Type": "application/json"})
        if status != 200:
            raise RuntimeError(f"POST {path}: {status} {content[:300]!r}")
        return json.loads(content)


# --------------------------------------------------------------------------------------------------------------------
# CPU accounting: wall-clock latency on a shared machine depends on what else runs; CPU time per request much less.

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads); 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def child_pids(parent: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


class CpuMeter:
    """CPU seconds of a server's worker processes and, on PostgreSQL, of the backends serving it (found by the
    application_name its DATABASE_URL sets)."""

    def __init__(self, raw: "RawDb", server_pid: int | None, application_name: str | None):
        self.raw, self.server_pid, self.application_name = raw, server_pid, application_name

    def sample(self) -> tuple[dict, dict]:
        app = {pid: process_cpu(pid) for pid in child_pids(self.server_pid)} if self.server_pid else {}
        db = {}
        if self.application_name and not self.raw.sqlite:
            for (pid,) in self.raw.all(
                "SELECT pid FROM pg_stat_activity WHERE application_name = %s", [self.application_name]
            ):
                db[pid] = process_cpu(pid)
        return app, db

    @staticmethod
    def spent(before: dict, after: dict) -> float:
        """CPU between two samples; processes that ended in between lose what they spent (rare: reported)."""
        return sum(value - before.get(pid, 0.0) for pid, value in after.items())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def capture(settings_module: str, specs: list[str], env: dict) -> list[dict]:
    """The SQL of each request spec ("path Bearer token"), through capture_queries.py in a subprocess."""
    output = subprocess.run(
        [sys.executable, str(BENCH_DIR / "capture_queries.py"), settings_module, *specs],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if output.returncode:
        raise RuntimeError(f"capture_queries.py failed:\n{output.stderr[-3000:]}")
    captured = json.loads(output.stdout)
    for entry in captured:
        if entry["status"] != 200:
            raise RuntimeError(f"capture of {entry['path']} answered {entry['status']}")
    return captured


def machine_facts(raw: RawDb) -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "src"], cwd=ROOT, capture_output=True, text=True)
    from importlib.metadata import version

    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": memory,
        "commit": commit.stdout.strip() + (" (src has uncommitted changes)" if dirty.stdout.strip() else ""),
        "database": raw.version(),
        "python": platform.python_version(),
        "django": version("django"),
        "ninja": version("django-ninja"),
        "load": os.getloadavg(),
    }


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "–"


PLAN_LINES = re.compile(
    r"Scan|Index Cond|Recheck Cond|Filter:|Rows Removed by Filter|Planning Time|Execution Time|SEARCH|SCAN"
)


def condense_plan(plan: str) -> str:
    """The lines of a plan that show how the customers table is reached; the full plans go to bench/data/."""
    return "\n".join(line for line in plan.splitlines() if PLAN_LINES.search(line))


HEADER = """# Guanxi benchmarks

Produced by `bench/generate.py` and `bench/api_bench.py` (see their docstrings). Each run section below is rewritten
by the next run with the same database and scale; the notes at the end are written by hand.
"""


def write_results(path: Path, label: str, section: str) -> None:
    text = path.read_text() if path.exists() else HEADER
    pattern = re.compile(rf"<!-- BEGIN RUN {re.escape(label)} -->.*?<!-- END RUN {re.escape(label)} -->", re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _m: section, text)
    elif "\n## Notes" in text:
        head, tail = text.split("\n## Notes", 1)
        text = f"{head.rstrip()}\n\n{section}\n\n## Notes{tail}"
    else:
        text = f"{text.rstrip()}\n\n{section}\n"
    path.write_text(text)


def with_application_name(url: str, name: str) -> str:
    """PostgreSQL URLs get ?application_name= (dj-database-url passes it on), so CPU can be charged per server."""
    if url.startswith("sqlite:"):
        return url
    return f"{url}{'&' if '?' in url else '?'}application_name={name}"


def wait_for_quiet(max_load: float) -> None:
    if max_load <= 0:
        return
    deadline = time.monotonic() + 600
    while os.getloadavg()[0] >= max_load and time.monotonic() < deadline:
        print(f"  load average {os.getloadavg()[0]:.2f} ≥ {max_load}: waiting", flush=True)
        time.sleep(30)


# --------------------------------------------------------------------------------------------------------------------
# The SQL of a customer create and update, without Guanxi's layers: the raw side of the write scenarios (bench/run.py)
# and the floor's write endpoints (floor/api.py) both run these statements, through psycopg / sqlite3 and through
# Django's cursor respectively. `%s` placeholders on both databases (RawDb and Django translate them for SQLite).


def utc_now_value(sqlite: bool):
    """A timestamp parameter as each backend stores it: naive UTC text on SQLite, an aware datetime on PostgreSQL."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now


class CustomerWrites:
    """Statements of `customer_create` / `customer_update` as the database sees them: number from the branch's
    sequence, the customer row, one audit entry; a versioned UPDATE (no row = stale) and one audit entry.

    `template` is one customer row (column -> value) whose other columns a new customer copies, so the INSERT names
    every column as Guanxi's does.
    """

    def __init__(self, template: dict, sqlite: bool):
        self.sqlite = sqlite
        self.template = {k: v for k, v in template.items() if k != "id"}
        self.columns = list(self.template)

    def insert_customer(self, *, number: str, name: str, address: str, actor_id: int):
        now = utc_now_value(self.sqlite)
        row = dict(
            self.template,
            number=number,
            name=name,
            address=address,
            credit_code=None,
            id_number=None,
            parent_id=None,
            archived_at=None,
            merged_into_id=None,
            created_by_id=actor_id,
            created_at=now,
            updated_at=now,
            version=1,
        )
        columns = ", ".join(f'"{c}"' for c in self.columns)
        marks = ", ".join(["%s"] * len(self.columns))
        return (
            f"INSERT INTO customers_customer ({columns}) VALUES ({marks}) RETURNING id",
            [row[c] for c in self.columns],
        )

    def audit(self, *, actor_id: int, action: str, customer_id: int, name: str, changes: dict, ip: str = "127.0.0.1"):
        return (
            "INSERT INTO core_auditlog (actor_id, at, action, object_type, object_id, object_repr, changes, ip) "
            "VALUES (%s, %s, %s, 'customers.customer', %s, %s, %s, %s)",
            [actor_id, utc_now_value(self.sqlite), action, str(customer_id), name[:200], json.dumps(changes), ip],
        )

    def update(self, *, customer_id: int, version: int, address: str):
        return (
            "UPDATE customers_customer SET address = %s, updated_at = %s, version = version + 1 "
            "WHERE id = %s AND version = %s RETURNING version",
            [address, utc_now_value(self.sqlite), customer_id, version],
        )

    def run_create(self, execute, *, branch: str, name: str, address: str, actor_id: int) -> tuple[int, str]:
        """Create through `execute(sql, params) -> rows` inside the caller's transaction; (id, number)."""
        [(last,)] = execute(
            "UPDATE customers_customersequence SET last = last + 1 WHERE branch_code = %s RETURNING last", [branch]
        )
        number = f"C{branch}{last:07d}"
        [(customer_id,)] = execute(*self.insert_customer(number=number, name=name, address=address, actor_id=actor_id))
        execute(
            *self.audit(
                actor_id=actor_id,
                action="create",
                customer_id=customer_id,
                name=name,
                changes={"name": [None, name], "address": [None, address]},
            )
        )
        return customer_id, number

    def run_update(self, execute, *, customer_id: int, version: int, address: str, actor_id: int) -> int | None:
        """The new version, or None when the row is not at `version` (stale: nothing written)."""
        rows = execute(*self.update(customer_id=customer_id, version=version, address=address))
        if not rows:
            return None
        execute(
            *self.audit(
                actor_id=actor_id,
                action="update",
                customer_id=customer_id,
                name="",
                changes={"address": ["?", address]},
            )
        )
        return rows[0][0]


def bench_pythonpath() -> str:
    """bench/ first (floor, common), then the caller's PYTHONPATH: e.g. a git worktree's src/ ahead of the venv's
    editable install, so its servers run the code being measured."""
    return os.pathsep.join(part for part in (str(BENCH_DIR), os.environ.get("PYTHONPATH", "")) if part)


def migrate(url: str) -> None:
    """Bring the bench database to the code's schema (other modules add tables after the data was generated).

    BENCH_NO_MIGRATE=1 leaves the schema alone: a shared bench database must not receive a working tree's unfinished
    migrations (an empty placeholder applied there is recorded as done and its operations never run later)."""
    if os.environ.get("BENCH_NO_MIGRATE") == "1":
        print("BENCH_NO_MIGRATE=1: the bench database's schema is left as it is", flush=True)
        return
    env = dict(
        os.environ, DATABASE_URL=url, GUANXI_HOME=str(DATA_DIR / "home"), DJANGO_SETTINGS_MODULE="guanxi.settings"
    )
    guanxi = Path(sys.executable).parent / "guanxi"
    subprocess.run([str(guanxi), "migrate", "--noinput", "-v", "0"], env=env, cwd=ROOT, check=True)


# --- the set-up every HTTP bench shares (service_bench, analysis_bench) ----------------------------------------------


def add_bench_arguments(parser, *, requests: int, warmup: int) -> None:
    """The options of a bench that measures a Guanxi server on a PostgreSQL database and writes RESULTS.md."""
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--requests", type=int, default=requests, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--results", default=str(BENCH_DIR / "RESULTS.md"))
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--label")
    parser.add_argument("--max-load", type=float, default=0.0)


def postgresql_url(database_url: str, why: str) -> str:
    """The normalised URL of the bench database; SystemExit on SQLite (`why`: what needs PostgreSQL)."""
    from generate import normalise_database_url

    url = normalise_database_url(database_url)
    if url.startswith("sqlite:"):
        raise SystemExit(f"{why} needs PostgreSQL (guanxi_bench).")
    return url


def publish(args, label: str, section: str) -> None:
    """Print the section and, unless --no-write, put it into the results file."""
    print()
    print(section)
    if not args.no_write:
        write_results(Path(args.results), label, section)
        print(f"section {label} written to {args.results}")
