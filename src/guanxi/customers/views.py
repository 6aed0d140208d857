"""Customer and contact pages (htmx). Every read goes through selectors, every write through services."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from pydantic import ValidationError as SchemaError

from guanxi.core import selectors as core_selectors
from guanxi.core import services as core_services
from guanxi.core.errors import StaleVersion
from guanxi.core.masking import mask_id_number, sees_sensitive_fields
from guanxi.core.pagination import BadCursor
from guanxi.core.permissions import require
from guanxi.customers import duplicates, panels, selectors, services
from guanxi.customers.duplicate_views import tombstone_redirect
from guanxi.customers.filters import CustomerFilters
from guanxi.customers.forms import ContactForm, CustomerForm, apply_errors, category_choices, region_choices
from guanxi.customers.models import Contact, Customer
from guanxi.customers.vcard import contact_vcard

ORDERINGS = ["name", "-name", "number", "-number", "created_at", "-created_at", "updated_at", "-updated_at"]
STALE = _("This record was changed by someone else. Reload it and apply your change again.")


def _filters_from(params) -> tuple[CustomerFilters, list[str]]:
    raw = {key: value for key, value in params.items() if key in CustomerFilters.model_fields and value != ""}
    try:
        return CustomerFilters(**raw), []
    except SchemaError as exc:
        return CustomerFilters(), [str(e["loc"][0]) for e in exc.errors()]


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    filters, bad_fields = _filters_from(request.GET)
    ordering = request.GET.get("ordering") if request.GET.get("ordering") in ORDERINGS else "name"
    try:
        page = selectors.customer_list(
            user=request.user, filters=filters, ordering=ordering, cursor=request.GET.get("cursor"), limit=50
        )
    except BadCursor:
        page = selectors.customer_list(user=request.user, filters=filters, ordering=ordering, limit=50)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "page": page,
        "filters": filters,
        "bad_fields": bad_fields,
        "ordering": ordering,
        "query": query.urlencode(),
        "next_query": _with(query, cursor=page.next) if page.next else None,
        "sort_links": {
            field: _with(query, ordering=field if ordering != field else f"-{field}")
            for field in ("name", "number", "created_at")
        },
        "export_url": _url_or_none("customers:export"),
    }
    if request.htmx and request.GET.get("cursor"):
        return render(request, "customers/_rows.html", context)
    if request.htmx:
        return render(request, "customers/_table.html", context)
    context.update(
        categories=category_choices(),
        regions=region_choices(),
        owners=core_selectors.users_in_scope(user=request.user).order_by("username"),
        grades=Customer.Grade.choices,
        stages=Customer.Stage.choices,
        saved_filters=core_selectors.saved_filters(user=request.user, page="customers"),
    )
    return render(request, "customers/list.html", context)


@login_required
@require_POST
def saved_filter_save(request: HttpRequest) -> HttpResponse:
    try:
        core_services.saved_filter_save(
            actor=request.user, page="customers", name=request.POST.get("name", ""), query=request.POST.get("query", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(reverse("customers:list") + "?" + request.POST.get("query", ""))


@login_required
@require_POST
def saved_filter_delete(request: HttpRequest, filter_id: int) -> HttpResponse:
    core_services.saved_filter_delete(actor=request.user, filter_id=filter_id)
    return redirect("customers:list")


@login_required
@require_POST
def customer_bulk(request: HttpRequest) -> HttpResponse:
    """Bulk actions on the selected rows: transfer to another owner, add a tag."""
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    action = request.POST.get("action")
    if not ids:
        messages.error(request, _("Select at least one customer."))
        return redirect(request.POST.get("back") or "customers:list")
    try:
        if action == "tag":
            count = services.customers_tag(actor=request.user, customer_ids=ids, tag=request.POST.get("tag", ""))
            messages.success(request, _("Tagged %(count)d customers.") % {"count": count})
        elif action == "transfer":
            count = services.customer_transfer(
                actor=request.user,
                from_user_id=None,
                to_user_id=int(request.POST.get("to_user") or 0),
                customer_ids=ids,
            )
            messages.success(request, _("Transferred %(count)d customers.") % {"count": count})
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect(request.POST.get("back") or "customers:list")


@login_required
def customer_create(request: HttpRequest) -> HttpResponse:
    require(request.user, "customers.add_customer")  # read-only roles get no form they cannot submit
    form = CustomerForm(request.POST or None, initial={"stage": Customer.Stage.POTENTIAL})
    similar = []  # existing customers this one looks like: shown until the user confirms (duplicates.py)
    if request.method == "POST" and form.is_valid():
        if not request.POST.get("confirm_duplicates"):
            similar = duplicates.likely_duplicates_of(user=request.user, **duplicates.described_by(form.service_data()))
        if not similar:
            try:
                customer = services.customer_create(actor=request.user, data=form.service_data())
            except ValidationError as exc:
                apply_errors(form, exc.message_dict)
            else:
                messages.success(request, _("Customer %(number)s created.") % {"number": customer.number})
                return redirect("customers:detail", customer.pk)
    return render(request, "customers/form.html", {"form": form, "customer": None, "duplicates": similar})


@login_required
def customer_edit(request: HttpRequest, customer_id: int) -> HttpResponse:
    require(request.user, "customers.change_customer")
    customer = selectors.customer_get(user=request.user, customer_id=customer_id)
    initial = CustomerForm.initial_for(customer)
    masked_id = None
    if customer.id_number and not sees_sensitive_fields(request.user):
        masked_id = initial["id_number"] = mask_id_number(customer.id_number)
    form = CustomerForm(request.POST or None, initial=initial)
    stale = False
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if masked_id and data.get("id_number") == masked_id:
            data.pop("id_number")  # the user saw a masked value and did not change it
        try:
            services.customer_update(
                actor=request.user, customer_id=customer.pk, version=form.cleaned_data["version"] or 0, data=data
            )
        except StaleVersion:
            stale = True  # keep what the user typed; they reload in another tab and re-apply
        except ValidationError as exc:
            apply_errors(form, exc.message_dict)
        else:
            messages.success(request, _("Saved."))
            return redirect("customers:detail", customer.pk)
    return render(
        request, "customers/form.html", {"form": form, "customer": customer, "stale": stale, "stale_message": STALE}
    )


@login_required
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    """The 360 view: header and the user's chosen panels."""
    customer = selectors.customer_get(user=request.user, customer_id=customer_id)
    if customer.merged_into_id and (response := tombstone_redirect(request, customer)):
        return response
    chosen = panels.chosen_panels(request.user)
    data = panels.panel_data(user=request.user, customer=customer, panels=chosen)
    context = {
        "customer": customer,
        "panels": [(panel, data[panel.key]) for panel in chosen],
        "all_panels": panels.all_panels(),
        "chosen_keys": [panel.key for panel in chosen],
        "contact_count": len(data["contacts"]) if "contacts" in data else customer.contacts.count(),
    }
    return render(request, "customers/detail.html", context)


@login_required
@require_POST
def customer_panels(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Save the user's panel choice and order (个性化数据显示)."""
    known = [panel.key for panel in panels.all_panels()]
    chosen = [key for key in request.POST.getlist("panels") if key in known]

    def position(key: str) -> tuple[int, int]:
        value = request.POST.get(f"order_{key}", "")
        return (int(value) if value.isdigit() else 99, known.index(key))

    keys = sorted(chosen, key=position)
    core_services.preference_set(actor=request.user, key=panels.PREFERENCE_KEY, value=keys)
    return redirect("customers:detail", customer_id)


@login_required
@require_POST
def customer_archive(request: HttpRequest, customer_id: int) -> HttpResponse:
    archive = request.POST.get("action") != "restore"
    version = int(request.POST.get("version") or 0) or None
    try:
        if archive:
            services.customer_archive(actor=request.user, customer_id=customer_id, version=version)
        else:
            services.customer_restore(actor=request.user, customer_id=customer_id, version=version)
    except StaleVersion:
        messages.error(request, STALE)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("customers:detail", customer_id)


@login_required
def contact_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    try:
        page = selectors.contact_list(user=request.user, q=q, cursor=request.GET.get("cursor"), limit=50)
    except BadCursor:
        page = selectors.contact_list(user=request.user, q=q, limit=50)
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {"page": page, "q": q, "next_query": _with(query, cursor=page.next) if page.next else None}
    template = (
        "customers/_contact_rows.html" if request.htmx and request.GET.get("cursor") else "customers/contacts.html"
    )
    return render(request, template, context)


@login_required
def contact_create(request: HttpRequest, customer_id: int) -> HttpResponse:
    require(request.user, "customers.add_contact")
    customer = selectors.customer_get(user=request.user, customer_id=customer_id)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_create(actor=request.user, customer_id=customer.pk, data=form.service_data())
        except ValidationError as exc:
            apply_errors(form, exc.message_dict)
        else:
            return redirect(reverse("customers:detail", args=[customer.pk]) + "#contacts")
    return render(request, "customers/contact_form.html", {"form": form, "customer": customer, "contact": None})


@login_required
def contact_edit(request: HttpRequest, contact_id: int) -> HttpResponse:
    require(request.user, "customers.change_contact")
    contact = selectors.contact_get(user=request.user, contact_id=contact_id)
    masked = not sees_sensitive_fields(request.user)
    initial = {f: getattr(contact, f) for f in ContactForm.base_fields if f != "version"} | {"version": contact.version}
    if masked:  # phones are masked for this user: they may replace a number but never see or resend it
        initial.update(mobile="", landline="")
    form = ContactForm(request.POST or None, initial=initial)
    stale = False
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        if masked:
            data = {k: v for k, v in data.items() if not (k in ("mobile", "landline") and not v)}
        try:
            services.contact_update(
                actor=request.user, contact_id=contact.pk, version=form.cleaned_data["version"] or 0, data=data
            )
        except StaleVersion:
            stale = True
        except ValidationError as exc:
            apply_errors(form, exc.message_dict)
        else:
            return redirect(reverse("customers:detail", args=[contact.customer_id]) + "#contacts")
    return render(
        request,
        "customers/contact_form.html",
        {
            "form": form,
            "customer": contact.customer,
            "contact": contact,
            "stale": stale,
            "stale_message": STALE,
            "masked": masked,
        },
    )


@login_required
@require_POST
def contact_primary(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = selectors.contact_get(user=request.user, contact_id=contact_id)
    try:
        services.contact_update(
            actor=request.user,
            contact_id=contact.pk,
            version=int(request.POST.get("version") or 0),
            data={"primary": True},
        )
    except StaleVersion:
        messages.error(request, STALE)
    return redirect(reverse("customers:detail", args=[contact.customer_id]) + "#contacts")


@login_required
def contact_vcard_download(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact: Contact = selectors.contact_get(user=request.user, contact_id=contact_id)
    response = HttpResponse(contact_vcard(user=request.user, contact=contact), content_type="text/vcard; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="contact-{contact.pk}.vcf"'
    return response


def _with(query, **params) -> str:
    query = query.copy()
    for key, value in params.items():
        query[key] = value
    return query.urlencode()


def _url_or_none(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None
