"""Forms of the deal pages; they only shape input (rules are in the models and services)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from guanxi.sales.models import TeamMember


class DealForm(forms.Form):
    customer_id = forms.IntegerField(label=_("customer"), widget=forms.HiddenInput)
    name = forms.CharField(label=_("name"), max_length=200)
    amount = forms.DecimalField(label=_("amount (CNY)"), max_digits=14, decimal_places=2, min_value=0)
    expected_close = forms.DateField(label=_("expected close date"), widget=forms.DateInput(attrs={"type": "date"}))
    pipeline_id = forms.TypedChoiceField(label=_("pipeline"), coerce=int)
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, pipelines=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pipeline_id"].choices = [(p.pk, p.label) for p in pipelines]


class DealEditForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=200)
    amount = forms.DecimalField(label=_("amount (CNY)"), max_digits=14, decimal_places=2, min_value=0)
    expected_close = forms.DateField(label=_("expected close date"), widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(widget=forms.HiddenInput)


class CompetitorForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=200)
    offer_amount = forms.DecimalField(
        label=_("their offer (CNY)"), max_digits=14, decimal_places=2, min_value=0, required=False
    )
    offer = forms.CharField(label=_("their offer"), max_length=300, required=False)
    strengths = forms.CharField(label=_("strengths"), required=False)
    weaknesses = forms.CharField(label=_("weaknesses"), required=False)


class TeamMemberForm(forms.Form):
    user_id = forms.TypedChoiceField(label=_("user"), coerce=int)
    role = forms.ChoiceField(label=_("role"), choices=TeamMember.Role.choices)

    def __init__(self, *args, users=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user_id"].choices = [(u.pk, u.get_full_name() or u.username) for u in users]
