"""Forms of the lead pages, and the input plumbing the lead and deal pages share. They only shape input: the rules
are in the models and services (same as the API)."""

from collections.abc import Callable
from typing import TypeVar

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel
from pydantic import ValidationError as SchemaError

from guanxi.core.pagination import BadCursor, Page
from guanxi.customers.models import Customer
from guanxi.sales.models import Lead

Filters = TypeVar("Filters", bound=BaseModel)
STALE = _("This record was changed by someone else. Reload it and apply your change again.")


class LeadForm(forms.Form):
    company_name = forms.CharField(label=_("company or person name"), max_length=200)
    kind = forms.ChoiceField(label=_("kind"), choices=Customer.Kind.choices, initial=Customer.Kind.ORGANISATION)
    source = forms.ChoiceField(label=_("source"), choices=Lead.Source.choices, initial=Lead.Source.OTHER)
    credit_code = forms.CharField(label=_("unified social credit code"), max_length=32, required=False)
    contact_name = forms.CharField(label=_("contact name"), max_length=100, required=False)
    contact_title = forms.CharField(label=_("job title"), max_length=100, required=False)
    mobile = forms.CharField(label=_("mobile"), max_length=20, required=False)
    email = forms.CharField(label=_("email"), max_length=254, required=False)
    address = forms.CharField(label=_("address"), max_length=300, required=False)
    estimated_amount = forms.DecimalField(
        label=_("estimated amount (CNY)"), max_digits=14, decimal_places=2, min_value=0, required=False
    )
    need = forms.CharField(label=_("need"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}

    @classmethod
    def initial_for(cls, lead: Lead) -> dict:
        return {name: getattr(lead, name) for name in cls.base_fields if name != "version"} | {"version": lead.version}


class ConvertForm(forms.Form):
    name = forms.CharField(label=_("deal name"), max_length=200)
    amount = forms.DecimalField(label=_("amount (CNY)"), max_digits=14, decimal_places=2, min_value=0)
    expected_close = forms.DateField(label=_("expected close date"), widget=forms.DateInput(attrs={"type": "date"}))
    pipeline_id = forms.TypedChoiceField(label=_("pipeline"), coerce=int)
    # "new" or an existing customer's id (from the duplicate check)
    customer = forms.CharField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, pipelines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pipeline_id"].choices = [(p.pk, p.label) for p in pipelines]


def apply_errors(form: forms.Form, errors: dict) -> None:
    """Service errors (keyed by API field name) beside the form's fields; the rest on top of the form."""
    for field, messages in errors.items():
        form.add_error(field if field in form.fields else None, messages)


def filters_from(params, filters_class: type[Filters]) -> tuple[Filters, list[str]]:
    """The list filter from a query string; invalid fields are named and the filter falls back to none."""
    raw = {key: value for key, value in params.items() if key in filters_class.model_fields and value != ""}
    try:
        return filters_class(**raw), []
    except SchemaError as exc:
        return filters_class(), [str(e["loc"][0]) for e in exc.errors()]


def render_list(
    request: HttpRequest, name: str, list_page: Callable[..., Page], filters_class: type[BaseModel], context: dict
) -> HttpResponse:
    """A keyset-paginated list page `sales/<name>_list.html`: htmx gets the table (a new filter) or the next rows
    (`cursor`, `sales/<name>_rows.html`); a cursor that no longer reads starts over."""
    filters, bad_fields = filters_from(request.GET, filters_class)
    try:
        page = list_page(user=request.user, filters=filters, cursor=request.GET.get("cursor"))
    except BadCursor:
        page = list_page(user=request.user, filters=filters)
    query = request.GET.copy()
    query.pop("cursor", None)
    if page.next:
        query["cursor"] = page.next
    context = {
        **context,
        "page": page,
        "filters": filters,
        "bad_fields": bad_fields,
        "next_query": query.urlencode() if page.next else None,
    }
    part = "list"
    if request.htmx:
        part = "rows" if request.GET.get("cursor") else "table"
    return render(request, f"sales/{name}_{part}.html", context)
