"""`guanxi serve`: the production web server (gunicorn), not Django's runserver."""

import multiprocessing
import os

from django.conf import settings
from django.core.management.base import BaseCommand
from gunicorn.app.base import BaseApplication


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

    def handle(self, *args, **options) -> None:
        sqlite = settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")
        workers = options["workers"] or (2 if sqlite else multiprocessing.cpu_count() * 2 + 1)
        self.stdout.write(f"Guanxi on http://{options['host']}:{options['port']}/ ({workers} workers)")
        GuanxiServer(
            {
                "bind": f"{options['host']}:{options['port']}",
                "workers": workers,
                "threads": options["threads"],
                "worker_class": "gthread",
                "accesslog": os.environ.get("GUANXI_ACCESS_LOG") or None,
                "timeout": 60,
                "graceful_timeout": 20,
            }
        ).run()
