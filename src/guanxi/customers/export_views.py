"""The export page view: the customer list's current filters as a file (the list links here)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _
from pydantic import ValidationError as SchemaError

from guanxi.customers import export
from guanxi.customers.filters import CustomerFilters


@login_required
def customer_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "xlsx")
    if fmt not in export.FORMATS:
        return HttpResponseBadRequest(_("Choose one of: %(choices)s.") % {"choices": ", ".join(export.FORMATS)})
    params = {key: value for key, value in request.GET.items() if key in CustomerFilters.model_fields and value != ""}
    try:
        filters = CustomerFilters(**params)
    except SchemaError as exc:
        fields = ", ".join(str(error["loc"][0]) for error in exc.errors())
        return HttpResponseBadRequest(_("Some filters are invalid: %(fields)s") % {"fields": fields})
    return export.response(user=request.user, filters=filters, fmt=fmt)
