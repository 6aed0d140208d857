"""`guanxi service_mail_fetch`: the unseen messages of the service mailbox (GUANXI_SERVICE_IMAP_URL) into tickets."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from guanxi.service import imap


class Command(BaseCommand):
    help = "Read unseen messages of the IMAP mailbox GUANXI_SERVICE_IMAP_URL: each becomes a ticket or a reply on one."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--limit", type=int, default=200, help="at most this many messages (default: 200)")
        parser.add_argument("--url", default=None, help="mailbox URL (default: GUANXI_SERVICE_IMAP_URL)")

    def handle(self, *args, **options) -> None:
        try:
            result = imap.fetch(url=options["url"], limit=options["limit"])
        except (ImproperlyConfigured, OSError) as exc:
            raise CommandError(str(exc)) from exc
        except imap.imaplib.IMAP4.error as exc:
            raise CommandError(f"IMAP: {exc}") from exc
        self.stdout.write(
            f"{result.created} new tickets, {result.added} replies on tickets, {result.duplicates} already taken in, "
            f"{result.refused} too large, {result.failed} failed."
        )
        if result.failed:
            raise CommandError(f"{result.failed} messages could not be taken in; they stay unseen for the next run.")
