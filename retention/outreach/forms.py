"""A campaign's draft."""

from datetime import datetime
from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offers.models import OfferTemplate
from retention.core.refusals import InvalidInput
from retention.models import OutreachCampaign
from retention.outreach.rendering import PLACEHOLDERS, body_check
from retention.outreach.services import DRAFT_FIELDS
from subscribers.models import ContactChannel, Plan, Subscriber
from subscribers.selectors import regions


class OfferChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OfferTemplate) -> str:
        return obj.label


class CampaignForm(forms.ModelForm):
    """A draft campaign: who it is for, the offer, and the message in each language."""

    template = OfferChoiceField(
        label=_("Offer"), queryset=OfferTemplate.objects.filter(is_active=True)
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(c.value, c.label) for c in (ContactChannel.EMAIL, ContactChannel.SMS)],
    )
    segment = forms.ChoiceField(
        label=_("Segment"), choices=[("", _("Any")), *Subscriber.Segment.choices], required=False
    )
    region = forms.ChoiceField(label=_("Region"), choices=(), required=False)
    plan = forms.ModelChoiceField(
        label=_("Plan"),
        queryset=Plan.objects.order_by("name"),
        required=False,
        empty_label=_("Any"),
    )
    min_risk = forms.IntegerField(
        label=_("Churn risk at least"), min_value=0, max_value=100, initial=0
    )
    rate_per_minute = forms.IntegerField(
        label=_("Messages per minute"),
        help_text=_("At most this many messages a minute once it starts. Empty: no limit."),
        min_value=1,
        max_value=100_000,
        required=False,
    )
    min_saving = forms.DecimalField(
        label=_("Would save at least, EUR a month"),
        help_text=_(
            "On the plan that fits how they use the service (their tariff fit). Empty: any."
        ),
        min_value=Decimal("0"),
        max_value=Decimal("9999.99"),
        max_digits=7,
        decimal_places=2,
        required=False,
    )

    class Meta:
        model = OutreachCampaign
        fields = list(DRAFT_FIELDS)
        widgets = {
            "body_lv": forms.Textarea(attrs={"rows": 5}),
            "body_ru": forms.Textarea(attrs={"rows": 5}),
            "body_en": forms.Textarea(attrs={"rows": 5}),
        }

    BODIES = ("body_lv", "body_ru", "body_en")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        region = self.fields["region"]
        assert isinstance(region, forms.ChoiceField)
        region.choices = [("", _("Any")), *((r, r) for r in regions())]
        placeholders = " ".join("{" + name + "}" for name in PLACEHOLDERS)
        for name in self.BODIES:
            self.fields[name].help_text = _(
                "Placeholders: %(placeholders)s (name, offer, current price, price with the "
                "offer, the subscriber's personal link)."
            ) % {"placeholders": placeholders}
        self.fields["subject"].help_text = _("E-mail only; empty: the offer's name.")

    def clean(self):
        cleaned = super().clean() or {}
        for name in self.BODIES:
            body = cleaned.get(name)
            if body:
                try:
                    body_check(body)
                except InvalidInput as exc:
                    self.add_error(name, str(exc))
        return cleaned

    def values(self) -> dict:
        """What the draft services take: the cleaned fields."""
        return {name: self.cleaned_data[name] for name in DRAFT_FIELDS}


class LaunchForm(forms.Form):
    """The launch's confirmation: when it starts (empty: now), and how many the manager was
    shown would get a message (the count is taken again at launch)."""

    start = forms.DateTimeField(
        label=_("Start at"),
        required=False,
        help_text=_("In your time zone. Empty: start now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        error_messages={"invalid": _("Enter a date and time, e.g. 2026-03-02 09:00.")},
    )
    shown = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args, now: datetime | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.now = now or timezone.now()

    def clean_start(self) -> datetime | None:
        start = self.cleaned_data.get("start")
        if start is not None and start <= self.now:
            raise forms.ValidationError(_("The start time must be in the future."))
        return start


class CampaignTestForm(forms.Form):
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("lv", _("Latvian")), ("ru", _("Russian")), ("en", _("English"))],
    )
