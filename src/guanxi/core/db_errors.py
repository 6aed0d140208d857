"""Database failures that are not the request's fault answer with a message and a status that says what to do, not 500.

| what the driver reports                                                   | kind        | answer              |
|---------------------------------------------------------------------------|-------------|---------------------|
| psycopg OperationalError/InterfaceError without SQLSTATE (connection lost, |             |                     |
|   could not connect, server closed the connection), Django InterfaceError | unavailable | 503 + Retry-After 5 |
| SQLSTATE class 08 (connection exception), 57P01-57P05 (admin or crash     |             |                     |
|   shutdown, cannot connect now, database dropped, idle session timeout),  |             |                     |
|   class 53 (too many connections, disk full, out of memory)               | unavailable | 503 + Retry-After 5 |
| SQLite CANTOPEN, IOERR, FULL                                              | unavailable | 503 + Retry-After 5 |
| 55P03 lock_not_available (lock_timeout), 57014 query_canceled             |             |                     |
|   (statement_timeout), SQLite BUSY/LOCKED ("database is locked")          | busy        | 503 + Retry-After 2 |
| 40001 serialization_failure, 40P01 deadlock_detected                      | conflict    | 409                 |
| any other database error (a missing table, a bad statement …)             | —           | 500 (a bug)         |

A busy database is not down: the message says so, and it is logged apart from outages. Busy is still a 503 because
the request was valid and the same request is expected to succeed in a moment, with nothing for the client to change
(RFC 9110: 503 is a temporary overload, with Retry-After). A serialization failure or deadlock is a collision with a
concurrent write, like the version conflicts the API already answers with 409; the transaction was rolled back. It is
not retried here: a request may have done work outside the database (mail, files, queued jobs) that a blind replay
would repeat, and the client knows whether its request is safe to send again.

Classification reads the driver's error codes (psycopg's SQLSTATE, sqlite3's result code), never message text.

Two paths catch these errors. A view (and every API operation: django-ninja re-raises what it has no handler for)
goes through `DatabaseUnavailableMiddleware.process_exception`; a middleware that reads the database before the view
(the session and user lookup) goes through Django's 500 handler, `server_error` (urls.handler500). Both answer JSON
for the API ({"detail", "errors"}) and a small page otherwise, in the request's language. Django drops a broken
connection at the end of the request (conn_health_checks also tests a kept one before reuse), so the next request
after an outage connects again: no restart needed.
"""

import enum
import logging
import sqlite3
import sys

import psycopg
from django.db import InterfaceError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
BUSY_RETRY_AFTER_SECONDS = 2


class Failure(enum.Enum):
    UNAVAILABLE = "unavailable"
    BUSY = "busy"
    CONFLICT = "conflict"


_CONNECTION_SQLSTATES = {"57P01", "57P02", "57P03", "57P04", "57P05"}  # shutdowns, starting up, dropped, idle
_CONNECTION_SQLSTATE_CLASSES = {"08", "53"}  # connection exception; insufficient resources
_BUSY_SQLSTATES = {"55P03", "57014"}  # lock_not_available (lock_timeout), query_canceled (statement_timeout)
_CONFLICT_SQLSTATES = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_SQLITE_BUSY = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_SQLITE_UNAVAILABLE = {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL}


def _classify_one(exc: BaseException) -> Failure | None:
    if isinstance(exc, psycopg.Error):
        state = exc.sqlstate
        if state is None:
            # Raised by the client library, not the server: the connection failed or was lost.
            connection_level = isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError)
            return Failure.UNAVAILABLE if connection_level else None
        if state in _CONNECTION_SQLSTATES or state[:2] in _CONNECTION_SQLSTATE_CLASSES:
            return Failure.UNAVAILABLE
        if state in _BUSY_SQLSTATES:
            return Failure.BUSY
        if state in _CONFLICT_SQLSTATES:
            return Failure.CONFLICT
        return None
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        primary = code & 0xFF if code is not None else None  # extended codes keep the primary one in the low byte
        if primary in _SQLITE_BUSY:
            return Failure.BUSY
        if primary in _SQLITE_UNAVAILABLE:
            return Failure.UNAVAILABLE
        return None
    return None


def classify(exc: BaseException | None) -> Failure | None:
    """What kind of database failure `exc` (or the driver error that caused it) is; None when it is none of ours."""
    seen = 0
    while exc is not None and seen < 10:
        failure = _classify_one(exc)
        if failure is not None:
            return failure
        cause = exc.__cause__ or exc.__context__
        if cause is None and isinstance(exc, InterfaceError):
            return Failure.UNAVAILABLE  # raised by Django itself on a connection it already knows is closed
        exc, seen = cause, seen + 1
    return None


def _texts(failure: Failure) -> tuple[int, str, str]:
    """(status, page title, message) of a failure, in the active language."""
    if failure is Failure.CONFLICT:
        message = _("Another change to the same records was saved at the same moment. Nothing was changed; try again.")
        return 409, _("Try again"), message
    if failure is Failure.BUSY:
        message = _("The database is busy and could not answer in time. Nothing was changed; try again in a moment.")
        return 503, _("Temporarily unavailable"), message
    message = _("The database cannot be reached at the moment. Nothing was changed; try again in a few seconds.")
    return 503, _("Temporarily unavailable"), message


def failure_response(request, failure: Failure) -> HttpResponse:
    status, title, message = _texts(failure)
    wants_json = request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")
    if wants_json:
        response = JsonResponse({"detail": message, "errors": []}, status=status)
    else:
        # Rendered without a request: no context processor (navigation, user) may touch the database.
        html = loader.get_template("core/unavailable.html").render({"title": title, "message": message})
        response = HttpResponse(html, status=status)
    if failure is Failure.UNAVAILABLE:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    elif failure is Failure.BUSY:
        response["Retry-After"] = str(BUSY_RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a view's database outage, busy database or write collision into its answer (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        failure = classify(exception)
        if failure is None:
            return None
        logger.warning("database %s: %s %s: %s", failure.value, request.method, request.path, exception)
        return failure_response(request, failure)


def server_error(request, template_name: str = defaults.ERROR_500_TEMPLATE_NAME):
    """handler500: a database failure met before the view (middleware) is answered the same way."""
    failure = classify(sys.exc_info()[1])
    if failure is not None:
        return failure_response(request, failure)
    return defaults.server_error(request, template_name)
