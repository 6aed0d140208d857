"""The SMTP listener of the email intake (aiosmtpd): each message for the service address goes to intake.receive.

The handler answers as an MTA expects: 250 once the message is stored (or was already), 552 when it is too large,
550 for a recipient that is not the service address, and 451 (try again later) for anything else, so the sending
server retries instead of losing the mail. Run it with `guanxi service_smtpd --host 127.0.0.1 --port 2525`, behind the
organisation's mail server (which relays the service address to it); it speaks plain SMTP without authentication and
must not be exposed to the internet.
"""

import logging
from email.utils import parseaddr

from aiosmtpd.controller import Controller
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections

from guanxi.service import intake

logger = logging.getLogger(__name__)


def accepted_recipients() -> set[str]:
    address = parseaddr(getattr(settings, "GUANXI_SERVICE_MAIL_ADDRESS", ""))[1]
    return {address.lower()} if address else set()


def _receive(raw: bytes) -> intake.IntakeResult:
    close_old_connections()  # a long-running listener: never use a connection the database has dropped
    try:
        return intake.receive(raw)
    finally:
        close_old_connections()


class IntakeHandler:
    """aiosmtpd handler: RCPT checks the address, DATA hands the bytes to the intake in a worker thread."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() not in accepted_recipients():
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        try:
            result = await sync_to_async(_receive, thread_sensitive=False)(raw)
        except intake.MailTooLarge:
            return "552 5.3.4 Message too big"
        except Exception:  # noqa: BLE001 - any failure: the sender keeps the mail and retries
            logger.exception("service email intake failed (from %s)", envelope.mail_from)
            return "451 4.3.0 Temporary failure, try again later"
        return f"250 OK {result.ticket.number}"


def controller(*, host: str, port: int) -> Controller:
    """An aiosmtpd Controller (its own thread and event loop) for the intake; call .start() and .stop()."""
    return Controller(
        IntakeHandler(),
        hostname=host,
        port=port,
        data_size_limit=intake.max_bytes(),
        decode_data=False,
        enable_SMTPUTF8=True,
        server_hostname=host,
    )
