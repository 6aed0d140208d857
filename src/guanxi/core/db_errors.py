"""The database is unreachable (restarting, failing over, network cut): answer 503 with a message, not a 500.

Two paths catch it. A view (and every API operation: django-ninja re-raises what it has no handler for) goes through
`DatabaseUnavailableMiddleware.process_exception`; a middleware that reads the database before the view (the session
and user lookup) goes through Django's 500 handler, `server_error` (urls.handler500). Both answer 503 with
Retry-After, JSON for the API ({"detail", "errors"}) and a small page otherwise, in the request's language. Django
drops a broken connection at the end of the request (conn_health_checks also tests a kept one before reuse), so the
next request after the outage connects again: no restart needed.
"""

import logging
import sys

import psycopg
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
_UNAVAILABLE = (OperationalError, InterfaceError, psycopg.OperationalError, psycopg.InterfaceError)


def database_unavailable(exc: BaseException | None) -> bool:
    """True when `exc` (or what caused it) says the database cannot be reached or used right now."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, _UNAVAILABLE):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def unavailable_response(request) -> HttpResponse:
    message = _("The database cannot be reached at the moment. Nothing was changed; try again in a few seconds.")
    wants_json = request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")
    if wants_json:
        response = JsonResponse({"detail": message, "errors": []}, status=503)
    else:
        # Rendered without a request: no context processor (navigation, user) may touch the database.
        html = loader.get_template("core/unavailable.html").render({"message": message})
        response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a view's database outage into 503 (see the module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if database_unavailable(exception):
            logger.warning("database unavailable: %s %s: %s", request.method, request.path, exception)
            return unavailable_response(request)
        return None


def server_error(request, template_name: str = defaults.ERROR_500_TEMPLATE_NAME):
    """handler500: a database outage met before the view (middleware) is a 503 as well."""
    if database_unavailable(sys.exc_info()[1]):
        return unavailable_response(request)
    return defaults.server_error(request, template_name)
