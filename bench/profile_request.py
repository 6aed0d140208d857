#!/usr/bin/env python
"""Time (and optionally profile) one request handled in-process by the WSGI application: no HTTP, no gunicorn.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanxi_bench \\
      .venv/bin/python bench/profile_request.py guanxi.settings "/api/v1/customers?region=21&grade=key&limit=50" \\
      --user am1 --profile
    DATABASE_URL=... .venv/bin/python bench/profile_request.py floor.settings "/api/customers?region=21&grade=key"

Writes as the load test sends them (bench/locustfile.py), on a database of your own (they are committed):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/guanxi_me_bench .venv/bin/python bench/profile_request.py \
      guanxi.settings /api/v1/customers --user am1 --method POST \
      --json '{"name": "测试{n}公司", "kind": "organisation", "address": "压测路{n}号", "region_id": 21}'
    ... /api/v1/customers/17 /api/v1/customers/18 --user am1 --method PATCH --json '{"version": 0, "address": "x{n}"}'

`{n}` in the body becomes the request's number (names and addresses differ from one request to the next). A body
with `version` sends the version each path last answered, as the locustfile does (the first from an untimed GET).

Prints p50/p95 of the handler time, the number of SQL statements and the time spent in them (Django's cursor
wrapper), and with --profile a pyinstrument call tree (pip install pyinstrument into the venv; profiling only).
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("settings")
    parser.add_argument("path", nargs="+", help="one or more paths, requested in turn")
    parser.add_argument("--user", help="Guanxi: issue a bearer token for this user (password bench-pass)")
    parser.add_argument("--method", default="GET", help="GET (default), POST, PATCH …")
    parser.add_argument("--json", help="request body (JSON); {n} becomes the request's number")
    parser.add_argument("-n", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="pyinstrument call tree of the timed requests")
    parser.add_argument("--profile-interval", type=float, default=0.0002)
    args = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = args.settings
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection
    from django.test import RequestFactory

    headers = {}
    if args.user:
        from guanxi.core.services import token_issue

        headers["Authorization"] = "Bearer " + token_issue(username=args.user, password="bench-pass", client=None)[1]
    handler = WSGIHandler()
    factory = RequestFactory(headers=headers)
    sql_time = [0.0]
    sql_count = [0]

    def timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            sql_time[0] += time.perf_counter() - started
            sql_count[0] += 1

    cpu = []

    versions: dict[str, int] = {}
    numbering = iter(range(10**9))

    def respond(environ: dict) -> tuple[str, bytes]:
        status = []
        body = b"".join(handler(environ, lambda s, h, *_: status.append(s)))
        return status[0], body

    def request(path: str) -> dict:
        if args.json is None:
            return factory.get(path).environ
        body = json.loads(args.json.replace("{n}", str(next(numbering))))
        if "version" in body:
            if path not in versions:  # untimed: the version the client read
                status, read = respond(factory.get(path).environ)
                if not status.startswith("200"):
                    raise SystemExit(f"GET {path}: {status} {read[:300]!r}")
                versions[path] = json.loads(read)["version"]
            body["version"] = versions[path]
        return factory.generic(args.method, path, json.dumps(body), content_type="application/json").environ

    def call(path: str) -> float:
        environ = request(path)
        started, cpu_started = time.perf_counter(), time.thread_time()
        status, body = respond(environ)
        elapsed = time.perf_counter() - started
        cpu.append(time.thread_time() - cpu_started)
        if not status.startswith("20"):
            raise SystemExit(f"{path}: {status} {body[:300]!r}")
        if path in versions:
            versions[path] = json.loads(body)["version"]
        return elapsed

    for index in range(args.warmup):
        call(args.path[index % len(args.path)])
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=args.profile_interval)
        profiler.start()
    times = []
    cpu.clear()
    with connection.execute_wrapper(timer):
        for index in range(args.n):
            times.append(call(args.path[index % len(args.path)]))
    if profiler:
        profiler.stop()
    times.sort()
    method = "" if args.method == "GET" else args.method + " "
    print(
        f"{args.settings} {method}{args.path[0]}{' …' if len(args.path) > 1 else ''}: "
        f"p50 {statistics.median(times) * 1000:.2f} ms, p95 {times[int(0.95 * len(times)) - 1] * 1000:.2f} ms; "
        f"Python CPU p50 {statistics.median(cpu) * 1000:.2f} ms; "
        f"{sql_count[0] / args.n:.1f} statements, {sql_time[0] / args.n * 1000:.2f} ms of SQL per request (mean)"
    )
    if profiler:
        print(profiler.output_text(unicode=True, color=False, show_all=bool(os.environ.get("PROFILE_ALL"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
