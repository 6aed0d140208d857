"""Fetching the service mailbox over IMAP (imaplib) into the email intake.

GUANXI_SERVICE_IMAP_URL names the mailbox: imaps://user:password@host:993/INBOX (TLS), or imap://…:143/INBOX
(plain; add ?starttls=1 to upgrade). User and password are percent-encoded like any URL. Unseen messages are read
with BODY.PEEK[] and marked \\Seen only once the intake has stored them (or found them already stored, or refused them
as too large), so a failure leaves the message for the next run; re-reading a message is harmless (Message-ID).
POP3 is not supported.
"""

import contextlib
import imaplib
import logging
import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from guanxi.service import intake

logger = logging.getLogger(__name__)


@dataclass
class FetchResult:
    created: int = 0
    added: int = 0
    duplicates: int = 0
    refused: int = 0
    failed: int = 0


@dataclass
class MailboxUrl:
    secure: bool
    starttls: bool
    host: str
    port: int
    user: str
    password: str
    folder: str


def parse_url(url: str) -> MailboxUrl:
    parts = urlsplit(url or "")
    if parts.scheme not in ("imap", "imaps") or not parts.hostname:
        raise ImproperlyConfigured("GUANXI_SERVICE_IMAP_URL must look like imaps://user:password@host:993/INBOX.")
    secure = parts.scheme == "imaps"
    return MailboxUrl(
        secure=secure,
        starttls=parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes"),
        host=parts.hostname,
        port=parts.port or (993 if secure else 143),
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        folder=unquote(parts.path.lstrip("/")) or "INBOX",
    )


def _connect(box: MailboxUrl, timeout: float) -> imaplib.IMAP4:
    if box.secure:
        return imaplib.IMAP4_SSL(box.host, box.port, ssl_context=ssl.create_default_context(), timeout=timeout)
    client = imaplib.IMAP4(box.host, box.port, timeout=timeout)
    if box.starttls:
        client.starttls(ssl_context=ssl.create_default_context())
    return client


def fetch(*, url: str | None = None, limit: int = 200, timeout: float = 30) -> FetchResult:
    """Read up to `limit` unseen messages of the mailbox into the intake."""
    box = parse_url(url if url is not None else getattr(settings, "GUANXI_SERVICE_IMAP_URL", ""))
    result = FetchResult()
    client = _connect(box, timeout)
    try:
        client.login(box.user, box.password)
        status, _data = client.select(_quote(box.folder))
        if status != "OK":
            raise ImproperlyConfigured(f"The IMAP folder {box.folder!r} cannot be opened.")
        status, data = client.uid("SEARCH", None, "UNSEEN")
        uids = (data[0] or b"").split()[:limit] if status == "OK" else []
        for uid in uids:
            _take(client, uid, result)
        client.close()
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    return result


def _take(client: imaplib.IMAP4, uid: bytes, result: FetchResult) -> None:
    status, data = client.uid("FETCH", uid, "(BODY.PEEK[])")
    raw = next((item[1] for item in data or [] if isinstance(item, tuple)), None) if status == "OK" else None
    if raw is None:
        result.failed += 1
        return
    try:
        outcome = intake.receive(raw)
    except intake.MailTooLarge:
        logger.warning("service mailbox: message %s is too large; marked seen and left in the mailbox", uid)
        result.refused += 1
    except Exception:  # noqa: BLE001 - one bad message must not stop the others; it stays unseen for the next run
        logger.exception("service mailbox: message %s could not be taken in", uid)
        result.failed += 1
        return
    else:
        if outcome.outcome == "created":
            result.created += 1
        elif outcome.outcome == "added":
            result.added += 1
        else:
            result.duplicates += 1
    client.uid("STORE", uid, "+FLAGS", "(\\Seen)")


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
