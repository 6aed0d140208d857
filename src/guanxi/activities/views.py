"""Activity pages (htmx): my activities, log/edit, detail, complete with next step, timeline fragment, screen pops.

Every read goes through selectors (and timeline/telephony), every write through services.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError as SchemaError

from guanxi.activities import selectors, services, telephony, timeline
from guanxi.activities.filters import ActivityFilters
from guanxi.activities.forms import ActivityForm, CompleteForm, apply_errors
from guanxi.activities.models import Activity
from guanxi.activities.panels import entry_data
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.pagination import BadCursor
from guanxi.core.permissions import require
from guanxi.customers.selectors import contacts_of_customer, customer_get

STALE = _("This record was changed by someone else. Reload it and apply your change again.")
LIST_FILTERS = ("kind", "status", "customer_id", "date_from", "date_to", "q")


def _filters_from(request: HttpRequest) -> tuple[ActivityFilters, list[str], bool]:
    """The list's filters from the query string; "mine" (the default) narrows to the user's own activities."""
    raw = {key: value for key, value in request.GET.items() if key in LIST_FILTERS and value != ""}
    mine = request.GET.get("scope", "mine") != "all"
    if mine:
        raw["owner_id"] = request.user.pk
    try:
        return ActivityFilters(**raw), [], mine
    except SchemaError as exc:
        return (
            ActivityFilters(owner_id=request.user.pk if mine else None),
            [str(e["loc"][0]) for e in exc.errors()],
            mine,
        )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """My activities (or all I may see), newest first, filtered; htmx swaps the table or appends rows."""
    filters, bad_fields, mine = _filters_from(request)
    try:
        page = selectors.activity_list(user=request.user, filters=filters, cursor=request.GET.get("cursor"), limit=50)
    except BadCursor:
        page = selectors.activity_list(user=request.user, filters=filters, limit=50)
    query = request.GET.copy()
    query.pop("cursor", None)
    next_query = None
    if page.next:
        query["cursor"] = page.next
        next_query = query.urlencode()
    context = {
        "page": page,
        "filters": filters,
        "bad_fields": bad_fields,
        "mine": mine,
        "next_query": next_query,
        "kinds": Activity.Kind.choices,
        "statuses": Activity.Status.choices,
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "activities/_rows.html", context)
    if request.htmx:
        return render(request, "activities/_table.html", context)
    return render(request, "activities/home.html", context)


@login_required
def activity_create(request: HttpRequest) -> HttpResponse:
    """New activity / log a call. `?customer=<id>` (the 360 view's button) fixes the customer and offers its contacts;
    `?kind=` preselects the kind."""
    require(request.user, "activities.add_activity")  # read-only roles get no form they cannot submit
    customer = None
    if (request.GET.get("customer") or "").isdigit():
        customer = customer_get(user=request.user, customer_id=int(request.GET["customer"]))
    initial = {"kind": request.GET.get("kind") or Activity.Kind.OUTBOUND_CALL}
    if customer:
        initial["customer"] = customer.number
    contacts = contacts_of_customer(user=request.user, customer_id=customer.pk) if customer else ()
    form = ActivityForm(request.POST or None, initial=initial, contacts=contacts)
    if request.method == "POST":
        form = _bound_with_contacts(request, form)
        if form.is_valid():
            target = _customer_of(request, form)
            if target is not False:
                try:
                    activity = services.activity_create(
                        actor=request.user, data=form.service_data(customer_id=target, editing=False)
                    )
                except ValidationError as exc:
                    apply_errors(form, exc.message_dict)
                except PermissionDenied as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, _("Activity saved."))
                    if customer:
                        return redirect(reverse("customers:detail", args=[customer.pk]) + "#timeline")
                    return redirect("activities:detail", activity.pk)
    return render(request, "activities/form.html", {"form": form, "activity": None, "customer": customer})


@login_required
def activity_edit(request: HttpRequest, activity_id: int) -> HttpResponse:
    require(request.user, "activities.change_activity")
    activity = selectors.activity_get(user=request.user, activity_id=activity_id)
    contacts = contacts_of_customer(user=request.user, customer_id=activity.customer_id) if activity.customer_id else ()
    form = ActivityForm(request.POST or None, initial=ActivityForm.initial_for(activity), contacts=contacts)
    stale = False
    if request.method == "POST":
        form = _bound_with_contacts(request, form)
        if form.is_valid():
            target = _customer_of(request, form)
            if target is not False:
                try:
                    services.activity_update(
                        actor=request.user,
                        activity_id=activity.pk,
                        version=form.cleaned_data["version"] or 0,
                        data=form.service_data(customer_id=target, editing=True),
                    )
                except StaleVersion:
                    stale = True
                except ValidationError as exc:
                    apply_errors(form, exc.message_dict)
                except PermissionDenied as exc:
                    form.add_error(None, str(exc))
                else:
                    messages.success(request, _("Saved."))
                    return redirect("activities:detail", activity.pk)
    context = {"form": form, "activity": activity, "customer": None, "stale": stale, "stale_message": STALE}
    return render(request, "activities/form.html", context)


@login_required
def activity_detail(request: HttpRequest, activity_id: int) -> HttpResponse:
    activity = selectors.activity_get(user=request.user, activity_id=activity_id)
    complete_form = CompleteForm(initial={"version": activity.version})
    return render(request, "activities/detail.html", {"activity": activity, "complete_form": complete_form})


@login_required
@require_POST
def activity_complete(request: HttpRequest, activity_id: int) -> HttpResponse:
    """Done, with outcome; a next step creates the follow-up task in the same action."""
    activity = selectors.activity_get(user=request.user, activity_id=activity_id)
    form = CompleteForm(request.POST)
    if form.is_valid():
        try:
            _done, follow_up = services.activity_complete(
                actor=request.user,
                activity_id=activity.pk,
                version=form.cleaned_data["version"],
                outcome=form.cleaned_data["outcome"],
                next_step=form.cleaned_data["next_step"],
                next_step_at=form.cleaned_data["next_step_at"],
            )
        except StaleVersion:
            messages.error(request, STALE)
        except (Conflict, PermissionDenied) as exc:
            messages.error(request, str(exc))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Activity completed."))
            if follow_up:
                messages.success(request, _("Follow-up task created: %(subject)s") % {"subject": follow_up.subject})
            return redirect("activities:detail", activity.pk)
    else:
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("activities:detail", activity.pk)


@login_required
@require_POST
def activity_cancel(request: HttpRequest, activity_id: int) -> HttpResponse:
    try:
        services.activity_cancel(
            actor=request.user, activity_id=activity_id, version=int(request.POST.get("version") or 0)
        )
    except StaleVersion:
        messages.error(request, STALE)
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    return redirect("activities:detail", activity_id)


@login_required
@require_POST
def activity_delete(request: HttpRequest, activity_id: int) -> HttpResponse:
    version = int(request.POST.get("version") or 0) or None
    try:
        services.activity_delete(actor=request.user, activity_id=activity_id, version=version)
    except StaleVersion:
        messages.error(request, STALE)
        return redirect("activities:detail", activity_id)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("activities:detail", activity_id)
    messages.success(request, _("Activity deleted."))
    return redirect("activities:home")


@login_required
def customer_timeline(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The 360 panel's entries for a kind filter or the next page (an htmx fragment)."""
    kinds = [kind for kind in request.GET.getlist("kind") if kind]
    try:
        page = timeline.customer_timeline(
            user=request.user, customer_id=customer_id, kinds=kinds or None, cursor=request.GET.get("cursor")
        )
    except BadCursor:
        page = timeline.customer_timeline(user=request.user, customer_id=customer_id, kinds=kinds or None)
    query = request.GET.copy()
    next_query = None
    if page.next:
        query["cursor"] = page.next
        next_query = query.urlencode()
    return render(
        request,
        "activities/_timeline_entries.html",
        {"entries": [entry_data(e) for e in page.items], "next_query": next_query, "customer_id": customer_id},
    )


@login_required
def screen_pops(request: HttpRequest) -> HttpResponse:
    """The agent's open screen pops, polled by every page (htmx); empty when there are none."""
    pops = [telephony.screen_pop(request.user, call) for call in telephony.pending_screen_pops(user=request.user)]
    return render(request, "activities/_screen_pops.html", {"pops": pops})


@login_required
@require_POST
def screen_pop_dismiss(request: HttpRequest, phone_call_id: int) -> HttpResponse:
    telephony.screen_pop_dismiss(actor=request.user, phone_call_id=phone_call_id)
    return screen_pops(request)


def _bound_with_contacts(request: HttpRequest, form: ActivityForm) -> ActivityForm:
    """Re-bind with the contacts of the customer typed in, so they are valid choices."""
    customer = selectors.customer_by_number(user=request.user, number=request.POST.get("customer", ""))
    contacts = contacts_of_customer(user=request.user, customer_id=customer.pk) if customer else ()
    return ActivityForm(request.POST, initial=form.initial, contacts=contacts)


def _customer_of(request: HttpRequest, form: ActivityForm):
    """The customer id for the number typed in; None for none; False (with a form error) for an unknown one."""
    number = form.cleaned_data["customer"]
    if not number:
        return None
    customer = selectors.customer_by_number(user=request.user, number=number)
    if customer is None:
        form.add_error("customer", _("No such customer."))
        return False
    return customer.pk
