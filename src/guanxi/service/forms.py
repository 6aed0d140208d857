"""Forms of the ticket pages. They only shape input: the rules are in the services (same as the API)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.service.models import Ticket
from guanxi.service.models.config import Kind, Priority


class TicketForm(forms.Form):
    """What a 95598 agent records while the customer is on the line."""

    channel = forms.ChoiceField(label=_("channel"), choices=Ticket.Channel.choices, initial=Ticket.Channel.HOTLINE)
    ticket_type = forms.ChoiceField(label=_("type"), choices=Kind.choices)
    sub_type_id = forms.TypedChoiceField(label=_("sub-type"), coerce=int, required=False, empty_value=None)
    priority = forms.ChoiceField(label=_("priority"), choices=Priority.choices, initial=Priority.NORMAL)
    customer = forms.CharField(
        label=_("customer number"), max_length=32, required=False, help_text=_("Leave empty for an unknown caller.")
    )
    caller_name = forms.CharField(label=_("caller name"), max_length=100, required=False)
    caller_phone = forms.CharField(label=_("caller phone"), max_length=32, required=False)
    caller_address = forms.CharField(label=_("caller address"), max_length=300, required=False)
    subject = forms.CharField(label=_("subject"), max_length=200)
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, sub_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sub_type_id"].choices = [("", "—")] + [
            (s.pk, f"{s.ticket_type.get_code_display()} · {s.name}") for s in sub_types
        ]


def apply_errors(form: forms.Form, errors: dict[str, list[str]]) -> None:
    """Put a service's ValidationError messages on the form fields (API names mapped to form names)."""
    names = {"customer_id": "customer", "contact_id": None}
    for field, messages in errors.items():
        name = names.get(field, field)
        for message in messages:
            form.add_error(name if name in form.fields else None, message)
