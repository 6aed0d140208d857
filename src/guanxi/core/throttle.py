"""Login throttling for the web login and POST /api/v1/auth/token.

Failed attempts are counted in the cache twice: per account (whatever the client: password guessing spread over many
addresses) and per client IP (whatever the account: one client trying many accounts). When either count reaches its
limit (GUANXI_LOGIN_MAX_FAILURES per account, GUANXI_LOGIN_MAX_FAILURES_PER_IP per IP), further attempts are refused
before the password is even checked, until GUANXI_LOGIN_WINDOW_SECONDS after the first counted failure. A successful
login clears the account's count, not the IP's: a client that knows one password cannot reset its count with it.

`check_client` / `client_failed` count failures per client IP alone, under a `scope` of their own (the SMS gateway's
inbound token, service.sms_api): a shared secret has no account to count against, and a client guessing it must not
lock out the real gateway calling from another address.

The cache is Redis when REDIS_URL is set (shared by every process); the local-memory cache otherwise counts per
process, which still bounds the attempts to (limit × processes).
"""

import hashlib

from django.conf import settings
from django.core.cache import cache


class TooManyAttempts(Exception):
    def __init__(self, retry_after: int):
        super().__init__("too many failed attempts")
        self.retry_after = retry_after


def _account_key(username: str) -> str:
    # Hashed: usernames are free text (a cache key must be short and without spaces or control characters).
    digest = hashlib.sha256((username or "").strip().lower().encode()).hexdigest()[:32]
    return f"login-failures:account:{digest}"


def _ip_key(ip: str | None, scope: str = "login") -> str:
    digest = hashlib.sha256((ip or "-").encode()).hexdigest()[:32]
    return f"{scope}-failures:ip:{digest}"


def check(*, username: str, ip: str | None) -> None:
    """Raise TooManyAttempts when the account or the client has used up its failed attempts."""
    counts = cache.get_many([_account_key(username), _ip_key(ip)])
    if (
        counts.get(_account_key(username), 0) >= settings.GUANXI_LOGIN_MAX_FAILURES
        or counts.get(_ip_key(ip), 0) >= settings.GUANXI_LOGIN_MAX_FAILURES_PER_IP
    ):
        raise TooManyAttempts(settings.GUANXI_LOGIN_WINDOW_SECONDS)


def failed(*, username: str, ip: str | None) -> None:
    """Count one failed attempt against the account and the client."""
    for key in (_account_key(username), _ip_key(ip)):
        _count(key)


def _count(key: str) -> None:
    if not cache.add(key, 1, settings.GUANXI_LOGIN_WINDOW_SECONDS):
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.add(key, 1, settings.GUANXI_LOGIN_WINDOW_SECONDS)


def check_client(*, scope: str, ip: str | None, limit: int) -> None:
    """Raise TooManyAttempts when the client has `limit` failures in `scope` within the window."""
    if cache.get(_ip_key(ip, scope), 0) >= limit:
        raise TooManyAttempts(settings.GUANXI_LOGIN_WINDOW_SECONDS)


def client_failed(*, scope: str, ip: str | None) -> None:
    """Count one failure of the client in `scope` (the window starts at its first counted failure)."""
    _count(_ip_key(ip, scope))


def succeeded(*, username: str) -> None:
    """The account's count starts again (the client's does not)."""
    cache.delete(_account_key(username))
