"""The text-message list page (read-only) for service supervisors; the same selector and filters as `GET /sms`."""

import pydantic
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from guanxi.core.masking import phone_for
from guanxi.core.pagination import BadCursor
from guanxi.service import sms_selectors
from guanxi.service.models.sms import SmsMessage

FILTER_FIELDS = ("status", "purpose", "date_from", "date_to")


@login_required
def sms_list(request: HttpRequest) -> HttpResponse:
    """Outbound text messages of the user's scope, newest first, filtered by status, purpose and day."""
    values = {name: request.GET[name] for name in FILTER_FIELDS if request.GET.get(name, "") != ""}
    try:
        filters = sms_selectors.SmsFilters(**values)
    except pydantic.ValidationError as exc:
        fields = ", ".join(str(error["loc"][0]) for error in exc.errors())
        messages.error(request, _("Some filters are invalid: %(fields)s.") % {"fields": fields})
        filters, values = sms_selectors.SmsFilters(), {}
    try:
        page = sms_selectors.sms_list(user=request.user, filters=filters, cursor=request.GET.get("cursor"))
    except BadCursor as exc:
        raise Http404 from exc
    rows = [(message, phone_for(request.user, message.phone)) for message in page.items]
    context = {
        "rows": rows,
        "next": page.next,
        "values": values,
        "statuses": SmsMessage.Status.choices,
        "purposes": SmsMessage.Purpose.choices,
    }
    return render(request, "service/sms.html", context)
