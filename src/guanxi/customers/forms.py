"""Forms of the customer pages. They only shape input: the rules are in the models and services (same as the API)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Category, Contact, Customer, Region


def _tree_choices(nodes, label) -> list[tuple[str, str]]:
    """Indented options for a materialised-path tree (parents come before children in path order)."""
    return [("", "—")] + [(str(n.pk), "\u3000" * (n.path.count("/") - 2) + label(n)) for n in nodes]


def category_choices() -> list[tuple[str, str]]:
    return _tree_choices(Category.objects.order_by("path"), lambda n: n.name)


def region_choices() -> list[tuple[str, str]]:
    return _tree_choices(Region.objects.order_by("path"), lambda n: n.name)


class CustomerForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=200)
    kind = forms.ChoiceField(label=_("kind"), choices=Customer.Kind.choices)
    category_id = forms.TypedChoiceField(label=_("category"), required=False, coerce=int, empty_value=None)
    region_id = forms.TypedChoiceField(label=_("region"), required=False, coerce=int, empty_value=None)
    area = forms.ChoiceField(label=_("urban/rural"), required=False, choices=[("", "—"), *Customer.Area.choices])
    address = forms.CharField(label=_("address"), max_length=300, required=False)
    credit_code = forms.CharField(label=_("unified social credit code"), max_length=32, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=32, required=False)
    stage = forms.ChoiceField(label=_("lifecycle stage"), choices=Customer.Stage.choices)
    grade = forms.ChoiceField(label=_("grade"), choices=Customer.Grade.choices, initial=Customer.Grade.GENERAL)
    vip = forms.BooleanField(label=_("VIP"), required=False)
    tags = forms.CharField(label=_("tags"), required=False, help_text=_("Separate tags with commas."))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category_id"].choices = category_choices()
        self.fields["region_id"].choices = region_choices()

    def service_data(self) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        data["tags"] = [t.strip() for t in data["tags"].replace("，", ",").split(",") if t.strip()]
        return data

    @classmethod
    def initial_for(cls, customer: Customer) -> dict:
        return {
            "name": customer.name,
            "kind": customer.kind,
            "category_id": customer.category_id,
            "region_id": customer.region_id,
            "area": customer.area,
            "address": customer.address,
            "credit_code": customer.credit_code or "",
            "id_number": customer.id_number or "",
            "stage": customer.stage,
            "grade": customer.grade,
            "vip": customer.vip,
            "tags": ", ".join(t.name for t in customer.tags.all()),
            "version": customer.version,
        }


class ContactForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    role = forms.ChoiceField(label=_("role"), required=False, choices=[("", "—"), *Contact.Role.choices])
    title = forms.CharField(label=_("job title"), max_length=100, required=False)
    mobile = forms.CharField(label=_("mobile"), max_length=20, required=False)
    landline = forms.CharField(label=_("landline"), max_length=32, required=False)
    email = forms.CharField(label=_("email"), max_length=254, required=False)
    wechat = forms.CharField(label=_("WeChat"), max_length=64, required=False)
    birthday = forms.DateField(label=_("birthday"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    preferred_channel = forms.ChoiceField(
        label=_("preferred channel"), required=False, choices=[("", "—"), *Contact.Channel.choices]
    )
    opt_out_phone = forms.BooleanField(label=_("no phone calls"), required=False)
    opt_out_sms = forms.BooleanField(label=_("no SMS"), required=False)
    opt_out_email = forms.BooleanField(label=_("no email"), required=False)
    opt_out_wechat = forms.BooleanField(label=_("no WeChat"), required=False)
    primary = forms.BooleanField(label=_("primary contact"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def service_data(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if k != "version"}


def apply_errors(form: forms.Form, errors: dict) -> None:
    """Put service validation errors (keyed by API field name) beside the form's fields."""
    for field, messages in errors.items():
        form.add_error(field if field in form.fields else None, messages)
