"""`guanxi service_smtpd --host 127.0.0.1 --port 2525`: the SMTP listener of the service email intake."""

import signal
import threading

from django.core.management.base import BaseCommand

from guanxi.service import intake, smtpd


class Command(BaseCommand):
    help = "Receive email for the service address over SMTP: each message becomes a ticket or a reply on one."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
        parser.add_argument("--port", type=int, default=2525, help="port to listen on (default: 2525)")

    def handle(self, *args, **options) -> None:
        intake.mail_receiver()  # refuse to start without a receiver rather than answer 451 to every message
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_args: stop.set())
        server = smtpd.controller(host=options["host"], port=options["port"])
        server.start()
        self.stdout.write(
            f"Service email intake listening on {options['host']}:{options['port']} "
            f"for {', '.join(sorted(smtpd.accepted_recipients()))}"
        )
        try:
            stop.wait()
        finally:
            server.stop()
