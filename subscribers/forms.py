from django import forms
from django.utils.translation import gettext_lazy as _

from subscribers.models import Equipment, TimelineEvent


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False, strip=True)


class TimelineFilterForm(forms.Form):
    kind = forms.MultipleChoiceField(
        label=_("Event kinds"), choices=TimelineEvent.Kind.choices, required=False
    )
    after = forms.CharField(required=False, max_length=200)


class EquipmentReturnedForm(forms.Form):
    method = forms.ChoiceField(
        label=_("Returned by"),
        choices=[c for c in Equipment.ReturnMethod.choices if c[0]],
        required=False,
    )
