"""`guanxi serve`: the production web server (gunicorn), not Django's runserver.

Without an external broker (REDIS_URL) it also starts `guanxi worker --beat` beside gunicorn, so one machine runs
background jobs with nothing else to set up; the worker stops with the server.
"""

import argparse
import multiprocessing
import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication

# How long an idle kept-alive connection stays open. gunicorn's default (2 s) is shorter than a client's pause between
# two requests (a person reading a page, a reverse proxy's pooled upstream connection: nginx keeps them 60 s): the
# server then closes a connection the client is reusing at that very moment, and a POST or PATCH already on its way
# is lost ("connection closed"; clients retry only idempotent requests, RFC 9110 section 9.2.2 — the load test lost
# 11 writes that way). The side that closes idle connections must be the client or the proxy, so the server waits
# longer than they do. It costs a socket, not a thread: gthread workers park idle connections in their poller.
KEEPALIVE_SECONDS = 75


class GuanxiServer(BaseApplication):
    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from guanxi.wsgi import application

        return application


class Command(BaseCommand):
    help = "Serve Guanxi with gunicorn (threaded workers)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("GUANXI_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("GUANXI_PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("GUANXI_WORKERS", "0")),
            help="worker processes (default: 2 × CPUs + 1 on PostgreSQL, 2 on SQLite)",
        )
        parser.add_argument("--threads", type=int, default=int(os.environ.get("GUANXI_THREADS", "4")))
        parser.add_argument(
            "--keepalive",
            type=int,
            default=int(os.environ.get("GUANXI_KEEPALIVE", str(KEEPALIVE_SECONDS))),
            help=f"seconds an idle connection is kept open (default {KEEPALIVE_SECONDS}: longer than a client's or "
            "proxy's idle timeout, so that they close it, never the server while a request is on its way)",
        )
        parser.add_argument(
            "--worker",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="start a background worker beside the web server (default: when no external broker is configured)",
        )

    def handle(self, *args, **options) -> None:
        sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        workers = options["workers"] or (2 if sqlite else multiprocessing.cpu_count() * 2 + 1)
        self.stdout.write(f"Guanxi on http://{options['host']}:{options['port']}/ ({workers} workers)")
        start_worker = options["worker"]
        if start_worker is None:
            start_worker = settings.GUANXI_EMBEDDED_BROKER or os.environ.get("GUANXI_SERVE_WORKER") == "1"
        worker = _spawn_worker() if start_worker else None
        try:
            self._serve(options, workers)
        finally:
            if worker is not None:
                _stop(worker)

    def _serve(self, options: dict, workers: int) -> None:
        GuanxiServer(
            {
                "bind": f"{options['host']}:{options['port']}",
                "workers": workers,
                "threads": options["threads"],
                "worker_class": "gthread",
                "keepalive": options["keepalive"],
                "accesslog": os.environ.get("GUANXI_ACCESS_LOG") or None,
                "timeout": 60,
                "graceful_timeout": 20,
            }
        ).run()


def _spawn_worker() -> subprocess.Popen:
    """`guanxi worker --beat` as a child process; on Linux it is told to stop if this process dies."""
    command = [sys.executable, "-m", "guanxi.cli", "worker", "--beat"]
    return subprocess.Popen(command, preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)


def _die_with_parent() -> None:
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(worker: subprocess.Popen) -> None:
    """Warm shutdown: the worker finishes its current task (an import commits or rolls back), then exits."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()
