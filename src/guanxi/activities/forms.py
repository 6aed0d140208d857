"""Forms of the activity pages. They only shape input: the rules are in the model and services (same as the API)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.activities.models import Activity

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class ActivityForm(forms.Form):
    """Create/edit; "log a call" is this form with an inbound or outbound call kind and "already done" ticked."""

    kind = forms.ChoiceField(label=_("kind"), choices=Activity.Kind.choices)
    subject = forms.CharField(label=_("subject"), max_length=200)
    customer = forms.CharField(
        label=_("customer number"), max_length=32, required=False, help_text=_("Leave empty for a task of your own.")
    )
    contact_ids = forms.TypedMultipleChoiceField(
        label=_("contacts"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    planned_start = forms.DateTimeField(
        label=_("planned start"), required=False, widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
    )
    planned_end = forms.DateTimeField(
        label=_("planned end"), required=False, widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
    )
    done = forms.BooleanField(label=_("already done"), required=False)
    phone_number = forms.CharField(label=_("phone number"), max_length=32, required=False)
    call_result = forms.ChoiceField(
        label=_("call result"), required=False, choices=[("", "—"), *Activity.CallResult.choices]
    )
    duration_seconds = forms.IntegerField(label=_("duration (seconds)"), required=False, min_value=0, max_value=86400)
    outcome = forms.CharField(label=_("outcome"), max_length=500, required=False)
    notes = forms.CharField(label=_("notes"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    next_step = forms.CharField(label=_("next step"), max_length=300, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, contacts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact_ids"].choices = [(c.pk, c.name) for c in contacts]

    def service_data(self, *, customer_id: int | None, editing: bool) -> dict:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("version", "customer", "done")}
        data["customer_id"] = customer_id
        data["call_result"] = data["call_result"] or None
        if self.cleaned_data["done"]:
            data["status"] = Activity.Status.DONE
        elif not editing:
            data["status"] = Activity.Status.PLANNED
        return data

    @classmethod
    def initial_for(cls, activity: Activity) -> dict:
        return {
            "kind": activity.kind,
            "subject": activity.subject,
            "customer": activity.customer.number if activity.customer_id else "",
            "contact_ids": [c.pk for c in activity.contacts.all()],
            "planned_start": activity.planned_start,
            "planned_end": activity.planned_end,
            "done": activity.status == Activity.Status.DONE,
            "phone_number": activity.phone_number,
            "call_result": activity.call_result,
            "duration_seconds": activity.duration_seconds,
            "outcome": activity.outcome,
            "notes": activity.notes,
            "next_step": activity.next_step,
            "version": activity.version,
        }


class CompleteForm(forms.Form):
    outcome = forms.CharField(label=_("outcome"), max_length=500, required=False)
    next_step = forms.CharField(
        label=_("next step"), max_length=300, required=False, help_text=_("Creates a follow-up task.")
    )
    next_step_at = forms.DateTimeField(
        label=_("follow-up at"), required=False, widget=DATETIME_WIDGET, input_formats=DATETIME_FORMATS
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


def apply_errors(form: forms.Form, errors: dict) -> None:
    """Put service validation errors (keyed by API field name) beside the form's fields."""
    aliases = {"customer_id": "customer", "status": "done", "done_at": "done"}
    for field, messages in errors.items():
        name = aliases.get(field, field)
        form.add_error(name if name in form.fields else None, messages)
