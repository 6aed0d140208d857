"""How the API answers errors: a JSON body with a human message in the request's language and the bad fields.

{"detail": "…", "errors": [{"field": "credit_code", "message": "…"}]}
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as SchemaValidationError
from ninja.parser import Parser

from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.pagination import BadCursor
from guanxi.core.throttle import TooManyAttempts

# Parameter names that wrap the real fields in ninja's error locations (body → payload → name).
_WRAPPERS = {"body", "query", "path", "header", "cookie", "form", "payload", "filters", "params", "data"}


def _schema_message(error: dict) -> str:
    """Pydantic's messages are English only; the common cases get a translated message."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    messages = {
        "missing": _("This field is required."),
        "string_type": _("Enter text."),
        "int_parsing": _("Enter a whole number."),
        "int_type": _("Enter a whole number."),
        "int_from_float": _("Enter a whole number."),
        "bool_parsing": _("Enter true or false."),
        "bool_type": _("Enter true or false."),
        "date_from_datetime_parsing": _("Enter a valid date (YYYY-MM-DD)."),
        "date_parsing": _("Enter a valid date (YYYY-MM-DD)."),
        "date_type": _("Enter a valid date (YYYY-MM-DD)."),
        "extra_forbidden": _("Unknown field."),
        "list_type": _("Enter a list."),
        "model_attributes_type": _("Enter an object."),
        "dict_type": _("Enter an object."),
        "json_invalid": _("The request body is not valid JSON."),
    }
    if kind in messages:
        return str(messages[kind])
    if kind in ("enum", "literal_error"):
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}
    if kind == "string_too_long":
        return _("Enter at most %(max)s characters.") % {"max": ctx.get("max_length", "")}
    if kind == "string_too_short":
        return _("Enter at least %(min)s characters.") % {"min": ctx.get("min_length", "")}
    if kind in ("greater_than_equal", "greater_than"):
        return _("Enter a number of at least %(min)s.") % {"min": ctx.get("ge", ctx.get("gt", ""))}
    if kind in ("less_than_equal", "less_than"):
        return _("Enter a number of at most %(max)s.") % {"max": ctx.get("le", ctx.get("lt", ""))}
    return error.get("msg", _("Invalid value."))


def _field_of(loc) -> str:
    parts = [str(part) for part in loc]
    while parts and parts[0] in _WRAPPERS:
        parts.pop(0)
    return ".".join(parts) or "__all__"


def error_body(detail: str, errors: list[dict] | None = None) -> dict:
    return {"detail": detail, "errors": errors or []}


class NotAnObject(ValueError):
    """A JSON body that is not an object (`false`, `[]`, `"x"`): ninja would read the fields of a schema whose fields
    are all optional from it as attributes, i.e. accept it as an empty object."""


class NulCharacter(ValueError):
    """A string of the request holds U+0000. PostgreSQL cannot store it in a text column (the driver raises when it
    is sent), SQLite would store it and cut the text short in some readers: refused as invalid input everywhere, on
    every database alike, instead of a misleading 422 or a 500 from the database."""

    def __init__(self, fields: list[str]):
        super().__init__(fields)
        self.fields = fields


def _fields_with_nul(value, path: tuple = ()) -> list[str]:
    """Dotted paths (as in the API's other errors: contacts.0.mobile) of every string of `value` holding U+0000."""
    found = []
    if isinstance(value, str):
        if "\x00" in value:
            found.append(".".join(map(str, path)) or "__all__")
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "\x00" in key:
                found.append(".".join(map(str, (*path, key.replace("\x00", "\\0")))))
            found += _fields_with_nul(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _fields_with_nul(item, (*path, index))
    return found


def refuse_nul(data) -> None:
    """Raises NulCharacter (a 422 naming the fields) if a string of `data` holds U+0000. The parser below calls it
    for every operation; an operation that reads its input itself (multipart and JSON alike) calls it too."""
    fields = _fields_with_nul(data)
    if fields:
        raise NulCharacter(fields)


class JSONObjectParser(Parser):
    """The one place where the API reads its input (JSON bodies, query strings, form fields): every JSON body is an
    object, and no string holds a NUL character; anything else is invalid input (422), like broken JSON."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise NotAnObject
        refuse_nul(data)
        return data

    def parse_querydict(self, data, list_fields, request):
        result = super().parse_querydict(data, list_fields, request)
        refuse_nul(result)
        return result


def _nul_response(api: NinjaAPI, request, exc: NulCharacter):
    message = _("Text may not contain the NUL character (U+0000).")
    errors = [{"field": field, "message": message} for field in exc.fields]
    return api.create_response(request, error_body(_("Some fields are invalid."), errors), status=422)


def install_error_handlers(api: NinjaAPI) -> None:
    api.parser = JSONObjectParser()

    @api.exception_handler(SchemaValidationError)
    def schema_invalid(request, exc):
        errors = [{"field": _field_of(e.get("loc", ())), "message": _schema_message(e)} for e in exc.errors]
        return api.create_response(request, error_body(_("Some fields are invalid."), errors), status=422)

    @api.exception_handler(ValidationError)
    def invalid(request, exc):
        if hasattr(exc, "error_dict"):
            errors = [
                {"field": field, "message": str(message)}
                for field, messages in exc.message_dict.items()
                for message in messages
            ]
        else:
            errors = [{"field": "__all__", "message": str(m)} for m in exc.messages]
        return api.create_response(request, error_body(_("Some fields are invalid."), errors), status=422)

    @api.exception_handler(NulCharacter)
    def nul_character(request, exc):
        return _nul_response(api, request, exc)  # in a query string or form (a body's comes as a 400, below)

    @api.exception_handler(BadCursor)
    def bad_cursor(request, exc):
        errors = [{"field": "cursor", "message": _("This cursor is not valid; start from the first page.")}]
        return api.create_response(request, error_body(_("Some fields are invalid."), errors), status=422)

    @api.exception_handler(StaleVersion)
    def stale(request, exc):
        body = error_body(str(StaleVersion.message), [{"field": "version", "message": str(StaleVersion.message)}])
        if exc.current_version is not None:
            body["current_version"] = exc.current_version
        return api.create_response(request, body, status=409)

    @api.exception_handler(Conflict)
    def conflict(request, exc):
        return api.create_response(request, error_body(str(exc)), status=409)

    @api.exception_handler(Http404)
    def not_found(request, exc):
        return api.create_response(request, error_body(_("Not found.")), status=404)

    @api.exception_handler(PermissionDenied)
    def forbidden(request, exc):
        return api.create_response(request, error_body(str(exc) or _("You are not allowed to do this.")), status=403)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request, exc):
        return api.create_response(request, error_body(_("Authentication required.")), status=401)

    @api.exception_handler(TooManyAttempts)
    def throttled(request, exc):
        response = api.create_response(request, error_body(_("Too many failed attempts. Try again later.")), status=429)
        response["Retry-After"] = str(exc.retry_after)
        return response

    @api.exception_handler(OverflowError)
    @api.exception_handler(DataError)
    def out_of_range(request, exc):
        # A number too large for the database (SQLite raises OverflowError, PostgreSQL DataError): bad input, not a 500.
        errors = [{"field": "__all__", "message": _("A value is out of range.")}]
        return api.create_response(request, error_body(_("Some fields are invalid."), errors), status=422)

    @api.exception_handler(HttpError)
    def http_error(request, exc):
        if exc.status_code == 400 and isinstance(exc.__cause__, NulCharacter):
            return _nul_response(api, request, exc.__cause__)
        if exc.status_code == 400 and exc.__cause__ is not None:
            # ninja's "Cannot parse request body" (broken JSON, bad encoding, a body that is not an object): invalid
            # input like any other, answered in the request's language and the usual shape.
            if isinstance(exc.__cause__, NotAnObject):
                message = _("Enter an object.")
            else:
                message = _("The request body is not valid JSON.")
            body = error_body(_("Some fields are invalid."), [{"field": "__all__", "message": message}])
            return api.create_response(request, body, status=422)
        return api.create_response(request, error_body(str(exc)), status=exc.status_code)
