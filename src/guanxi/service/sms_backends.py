"""SMS backends, chosen by GUANXI_SMS_BACKEND (a dotted path) like Django's email backends.

- ConsoleBackend (the default): prints each message (development).
- LocmemBackend: appends to `outbox` (tests).
- HttpBackend: POSTs JSON to GUANXI_SMS_URL — the common shape of Chinese SMS gateways: phone, sign (短信签名),
  template code and content — with a bearer token (GUANXI_SMS_TOKEN) and a timeout (GUANXI_SMS_TIMEOUT seconds).

A backend's send() returns the gateway's id of the message ("" when it has none) or raises SmsError; an error that
may pass (gateway down, 5xx, 429, a timeout) is `retryable`, a refusal of the message itself (4xx, "success": false:
an invalid number, an unapproved template) is not.
"""

import json
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings

outbox: list["Outgoing"] = []  # LocmemBackend's messages


class SmsError(Exception):
    """The gateway refused the message or could not be reached; `retryable` when sending it later may succeed."""

    def __init__(self, message: str, *, retryable: bool = False):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Outgoing:
    phone: str
    content: str
    template: str = ""
    sign: str = ""


class ConsoleBackend:
    def send(self, message: Outgoing) -> str:
        sys.stdout.write(f"SMS to {message.phone} [{message.sign}] {message.template}: {message.content}\n")
        sys.stdout.flush()
        return ""


class LocmemBackend:
    def send(self, message: Outgoing) -> str:
        outbox.append(message)
        return f"locmem-{len(outbox)}"


class HttpBackend:
    """POST {"phone", "sign", "template", "content"} as JSON; a 2xx answer is sent (its JSON "id", if any, is kept),
    anything else (another status, a timeout, a refused connection, "success": false) is an SmsError."""

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float | None = None):
        self.url = url or settings.GUANXI_SMS_URL
        self.token = token if token is not None else settings.GUANXI_SMS_TOKEN
        self.timeout = timeout if timeout is not None else settings.GUANXI_SMS_TIMEOUT
        if not self.url.startswith(("http://", "https://")):
            raise SmsError("GUANXI_SMS_URL must be an http(s) URL")

    def send(self, message: Outgoing) -> str:
        body = json.dumps(
            {"phone": message.phone, "sign": message.sign, "template": message.template, "content": message.content},
            ensure_ascii=False,
        ).encode()
        request = urllib.request.Request(self.url, data=body, method="POST")  # noqa: S310 - http(s) only, checked above
        request.add_header("Content-Type", "application/json; charset=utf-8")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - http(s) only
                answer = response.read(64 * 1024)
        except urllib.error.HTTPError as exc:
            retryable = exc.code >= 500 or exc.code in (408, 429)
            raise SmsError(f"HTTP {exc.code}: {exc.read(500).decode('utf-8', 'replace')}", retryable=retryable) from exc
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            raise SmsError(f"gateway unreachable: {getattr(exc, 'reason', exc)}", retryable=True) from exc
        try:
            data = json.loads(answer or b"{}")
        except ValueError:
            data = {}
        if isinstance(data, dict) and data.get("success") is False:
            raise SmsError(f"refused: {data.get('message') or data.get('code') or answer[:200]!r}")
        return str(data.get("id", "")) if isinstance(data, dict) else ""
