"""`guanxi worker`: a Celery worker for Guanxi's background jobs (imports …), optionally with the scheduler."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a Celery worker for background jobs; --beat also runs the periodic scheduler (one per installation)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--concurrency",
            type=int,
            default=int(os.environ.get("GUANXI_WORKER_CONCURRENCY", "1")),
            help="worker processes (default 1: an import is one long transaction; SQLite has one writer anyway)",
        )
        parser.add_argument("--beat", action="store_true", help="also run the periodic scheduler (celery beat)")
        parser.add_argument("--loglevel", default=os.environ.get("GUANXI_WORKER_LOG_LEVEL", "INFO"))

    def handle(self, *args, **options) -> None:
        from guanxi.celery import app

        argv = [
            "worker",
            f"--loglevel={options['loglevel']}",
            f"--concurrency={options['concurrency']}",
            f"--queues={settings.CELERY_TASK_DEFAULT_QUEUE}",
            f"--hostname=guanxi@{os.uname().nodename}",
        ]
        if settings.GUANXI_EMBEDDED_BROKER:
            # The SQLAlchemy transport has no fanout exchange: no worker-to-worker chatter (there is one worker).
            argv += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        if options["beat"]:
            settings.GUANXI_HOME.mkdir(parents=True, exist_ok=True)
            argv += ["--beat", f"--schedule={settings.GUANXI_HOME / 'celerybeat-schedule'}"]
        app.worker_main(argv)
