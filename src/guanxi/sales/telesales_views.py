"""Telesales pages: call lists, a new list from the customer filter, and the caller's screen (script, the next
customer, the outcome form, progress)."""

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from pydantic import ValidationError as SchemaError

from guanxi.core.errors import Conflict
from guanxi.core.masking import phone_for
from guanxi.core.permissions import require
from guanxi.customers.filters import CustomerFilters
from guanxi.customers.forms import category_choices, region_choices
from guanxi.customers.models import Customer
from guanxi.sales import telesales
from guanxi.sales.models import CallListEntry


@login_required
def calllist_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "sales.view_calllist")
    call_lists = telesales.call_list_list(user=request.user)
    return render(request, "sales/calllist_list.html", {"call_lists": call_lists})


@login_required
def calllist_create(request: HttpRequest) -> HttpResponse:
    """Name, script and the customer filter (the customer list's fields)."""
    require(request.user, "sales.add_calllist")
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        raw = {k: v for k, v in request.POST.items() if k in CustomerFilters.model_fields and v != ""}
        try:
            filters = CustomerFilters(**raw)
        except SchemaError as exc:
            filters = None
            errors["filters"] = [f"{e['loc'][0]}: {e['msg']}" for e in exc.errors()]
        if filters is not None:
            try:
                call_list = telesales.call_list_create(
                    actor=request.user,
                    name=request.POST.get("name", ""),
                    script=request.POST.get("script", ""),
                    filters=filters,
                )
            except ValidationError as exc:
                errors = exc.message_dict
            else:
                messages.success(request, _("Call list created."))
                return redirect("sales:calllist_detail", call_list.pk)
    context = {
        "errors": errors,
        "values": request.POST,
        "categories": category_choices(),
        "regions": region_choices(),
        "grades": Customer.Grade.choices,
        "stages": Customer.Stage.choices,
    }
    return render(request, "sales/calllist_form.html", context)


@login_required
def calllist_detail(request: HttpRequest, call_list_id: int) -> HttpResponse:
    """The caller's screen: the script, the next customer to call with the outcome form, progress, the entries."""
    require(request.user, "sales.view_calllist")
    call_list = telesales.call_list_get(user=request.user, call_list_id=call_list_id)
    upcoming = telesales.next_entry(call_list=call_list)
    contact = upcoming.contact if upcoming and upcoming.contact_id else None
    context = {
        "call_list": call_list,
        "progress": telesales.call_list_progress(call_list=call_list),
        "next": upcoming,
        "next_phone": phone_for(request.user, (contact.mobile or contact.landline)) if contact else "",
        "entries": telesales.call_list_entries(call_list=call_list),
        "outcomes": CallListEntry.Outcome.choices,
    }
    return render(request, "sales/calllist_detail.html", context)


@login_required
def calllist_outcome(request: HttpRequest, call_list_id: int, entry_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("sales:calllist_detail", call_list_id)
    follow_up_at = None
    raw_at = request.POST.get("follow_up_at", "")
    try:
        if raw_at:
            follow_up_at = timezone.make_aware(datetime.fromisoformat(raw_at))
        telesales.call_record_outcome(
            actor=request.user,
            call_list_id=call_list_id,
            entry_id=entry_id,
            outcome=request.POST.get("outcome", ""),
            notes=request.POST.get("notes", ""),
            follow_up=request.POST.get("follow_up", ""),
            follow_up_at=follow_up_at,
        )
    except ValueError:
        messages.error(request, _("Enter a valid date and time."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Call recorded."))
    return redirect("sales:calllist_detail", call_list_id)
