"""Lead pages: list, create (also the telephony screen pop's "new lead"), detail, edit, qualify, assign, convert."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.core import selectors as core_selectors
from guanxi.core.errors import Conflict, StaleVersion
from guanxi.core.permissions import require
from guanxi.sales import deals_selectors, leads_selectors, leads_services
from guanxi.sales.leads_forms import STALE, ConvertForm, LeadForm, apply_errors, render_list
from guanxi.sales.leads_selectors import LeadFilters
from guanxi.sales.models import Lead


@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "sales.view_lead")
    context = {
        "statuses": Lead.Status.choices,
        "sources": Lead.Source.choices,
        "owners": core_selectors.users_in_scope(user=request.user).order_by("username"),
    }
    return render_list(request, "lead", leads_selectors.lead_list, LeadFilters, context)


@login_required
def lead_create(request: HttpRequest) -> HttpResponse:
    """The new-lead form; ?mobile=…&company_name=…&source=… prefill it (the screen pop for an unknown caller)."""
    require(request.user, "sales.add_lead")
    initial = {
        key: request.GET[key] for key in ("mobile", "company_name", "contact_name", "source") if key in request.GET
    }
    if "mobile" in initial and "source" not in initial:
        initial["source"] = Lead.Source.INBOUND_CALL
    form = LeadForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            lead = leads_services.lead_create(actor=request.user, data=form.service_data())
        except ValidationError as exc:
            apply_errors(form, exc.message_dict)
        else:
            messages.success(request, _("Lead created."))
            return redirect("sales:lead_detail", lead.pk)
    return render(request, "sales/lead_form.html", {"form": form, "lead": None})


@login_required
def lead_detail(request: HttpRequest, lead_id: int) -> HttpResponse:
    require(request.user, "sales.view_lead")
    lead = leads_selectors.lead_get(user=request.user, lead_id=lead_id)
    context = {
        "lead": lead,
        "owners": core_selectors.users_in_scope(user=request.user).order_by("username"),
        "progress_statuses": [
            (value, label)
            for value, label in Lead.Status.choices
            if value in (Lead.Status.NEW, Lead.Status.CONTACTED, Lead.Status.QUALIFIED)
        ],
    }
    return render(request, "sales/lead_detail.html", context)


@login_required
def lead_edit(request: HttpRequest, lead_id: int) -> HttpResponse:
    require(request.user, "sales.change_lead")  # read-only roles get no form they cannot submit
    lead = leads_selectors.lead_get(user=request.user, lead_id=lead_id)
    form = LeadForm(request.POST or None, initial=LeadForm.initial_for(lead))
    stale = False
    if request.method == "POST" and form.is_valid():
        try:
            leads_services.lead_update(
                actor=request.user, lead_id=lead.pk, version=form.cleaned_data["version"] or 0, data=form.service_data()
            )
        except StaleVersion:
            stale = True
        except Conflict as exc:
            messages.error(request, str(exc))
            return redirect("sales:lead_detail", lead.pk)
        except ValidationError as exc:
            apply_errors(form, exc.message_dict)
        else:
            messages.success(request, _("Saved."))
            return redirect("sales:lead_detail", lead.pk)
    return render(request, "sales/lead_form.html", {"form": form, "lead": lead, "stale": stale, "stale_message": STALE})


@login_required
@require_POST
def lead_status(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Qualification: contacted, qualified, disqualified (with a reason) or back to new."""
    data = {"status": request.POST.get("status", "")}
    if data["status"] == Lead.Status.DISQUALIFIED:
        data["disqualified_reason"] = request.POST.get("reason", "")
    try:
        leads_services.lead_update(
            actor=request.user, lead_id=lead_id, version=int(request.POST.get("version") or 0), data=data
        )
    except StaleVersion:
        messages.error(request, STALE)
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("sales:lead_detail", lead_id)


@login_required
@require_POST
def lead_assign(request: HttpRequest, lead_id: int) -> HttpResponse:
    owner = request.POST.get("owner_id", "")
    try:
        leads_services.lead_assign(
            actor=request.user,
            lead_id=lead_id,
            owner_id=int(owner) if owner.isdigit() else 0,
            version=int(request.POST.get("version") or 0),
        )
    except StaleVersion:
        messages.error(request, STALE)
    except (Conflict, PermissionDenied) as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Lead assigned."))
    return redirect("sales:lead_detail", lead_id)


@login_required
def lead_convert(request: HttpRequest, lead_id: int) -> HttpResponse:
    """Convert: shows the existing customers the duplicate check finds, the user picks one or a new customer, and
    names the deal; one service call does the rest."""
    require(request.user, "sales.change_lead")  # the service (lead_convert) needs both
    require(request.user, "sales.add_opportunity")
    lead = leads_selectors.lead_get(user=request.user, lead_id=lead_id)
    if lead.status == Lead.Status.CONVERTED:
        messages.info(request, _("This lead is already converted."))
        return redirect("sales:lead_detail", lead.pk)
    pipelines = deals_selectors.pipeline_list()
    candidates = leads_services.conversion_candidates(user=request.user, lead=lead)
    strong = leads_services.strong_match(candidates)
    initial = {
        "name": leads_services.default_deal_name(lead),
        "amount": lead.estimated_amount or 0,
        "version": lead.version,
        "customer": str(strong.pk) if strong else "new",
    }
    form = ConvertForm(request.POST or None, initial=initial, pipelines=pipelines)
    if request.method == "POST" and form.is_valid():
        choice = request.POST.get("customer_choice", "new")
        data = form.cleaned_data
        try:
            leads_services.lead_convert(
                actor=request.user,
                lead_id=lead.pk,
                version=data["version"],
                customer_id=int(choice) if choice.isdigit() else None,
                new_customer=choice == "new",
                opportunity={
                    "name": data["name"],
                    "amount": data["amount"],
                    "expected_close": data["expected_close"],
                    "pipeline_id": data["pipeline_id"],
                },
            )
        except StaleVersion:
            form.add_error(None, STALE)
        except (Conflict, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            apply_errors(form, exc.message_dict)
        else:
            messages.success(request, _("Lead converted."))
            return redirect("sales:lead_detail", lead.pk)
    context = {"lead": lead, "form": form, "candidates": candidates, "choice": request.POST.get("customer_choice")}
    return render(request, "sales/lead_convert.html", context)
