from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offers.forms import StaffChoiceField
from offers.models import OfferKind, OfferTemplate
from retention import dashboard
from retention.cases import (
    REQUESTED_END_MAX_DAYS,
    callback_problem,
    case_deadline,
    requested_end_problem,
)
from retention.figures import desk_today as dashboard_today
from retention.models import (
    CancellationCase,
    CancellationReason,
    ContactAttempt,
    OutreachCampaign,
    Team,
    User,
)
from retention.outreach import DRAFT_FIELDS, PLACEHOLDERS, CampaignError, body_check
from retention.selectors import case_workers, cases_open
from subscribers.models import ContactChannel, Plan, Subscriber
from subscribers.selectors import regions


class PreferencesForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["time_zone", "email_notifications", "language"]


class ReasonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: CancellationReason) -> str:
        return obj.label


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class CaseOpenForm(forms.Form):
    channel = forms.ChoiceField(
        label=_("How did they ask?"),
        choices=[c for c in CancellationCase.Channel.choices if c[0] != "port_out"],
        initial=CancellationCase.Channel.PHONE,
    )
    reason = ReasonChoiceField(
        label=_("Reason"), queryset=CancellationReason.objects.filter(is_active=True)
    )
    reason_detail = forms.CharField(
        label=_("In the subscriber's words"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    competitor = forms.CharField(label=_("Competitor"), max_length=100, required=False)
    requested_end_date = forms.DateField(
        label=_("Requested end date"), required=False, widget=DateInput
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        # The browser's date picker offers only the dates the server accepts.
        self.fields["requested_end_date"].widget.attrs.update(
            min=today.isoformat(),
            max=(today + timedelta(days=REQUESTED_END_MAX_DAYS)).isoformat(),
        )

    def clean_requested_end_date(self):
        value = self.cleaned_data["requested_end_date"]
        if value is None:
            return value
        today = timezone.localdate()
        if value < today:
            raise forms.ValidationError(_("The end date cannot be in the past."))
        problem = requested_end_problem(requested_end=value, asked_on=today)
        if problem:
            raise forms.ValidationError(problem)
        return value


class ContactForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=ContactChannel.choices)
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=ContactAttempt.Direction.choices,
        initial=ContactAttempt.Direction.OUTBOUND,
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=ContactAttempt.Outcome.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class CallbackForm(forms.Form):
    callback_at = forms.DateTimeField(
        label=_("Call back at"),
        widget=DateTimeInput,
        help_text=_("Before the process-by date, within the hours the subscriber may be called."),
    )

    def __init__(self, *args, case: CancellationCase, **kwargs):
        super().__init__(*args, **kwargs)
        self.case = case
        # The browser's picker stops where the server would refuse (in the user's time zone,
        # as the field is read); the hours of the day are checked on the server only.
        latest = case_deadline(case) - timedelta(minutes=1)
        self.fields["callback_at"].widget.attrs.update(
            min=timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            max=timezone.localtime(latest).strftime("%Y-%m-%dT%H:%M"),
        )

    def clean_callback_at(self):
        value = self.cleaned_data["callback_at"]
        problem = callback_problem(case=self.case, at=value)
        if problem:
            raise forms.ValidationError(problem)
        return value


class ReasonForm(forms.Form):
    reason = ReasonChoiceField(
        label=_("Reason"), queryset=CancellationReason.objects.filter(is_active=True)
    )
    reason_detail = forms.CharField(
        label=_("In the subscriber's words"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    competitor = forms.CharField(label=_("Competitor"), max_length=100, required=False)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class WithdrawForm(forms.Form):
    note = forms.CharField(
        label=_("What did the subscriber say?"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
    )

    def __init__(self, *args, **kwargs):
        # Ids of its own: the case page shows the contact and cancel forms' notes too, and a
        # label pointing at another form's "id_note" fills the wrong box.
        kwargs.setdefault("auto_id", "withdraw-%s")
        super().__init__(*args, **kwargs)


class CancelForm(forms.Form):
    effective_date = forms.DateField(label=_("Service and billing end on"), widget=DateInput)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, *args, case: CancellationCase, **kwargs):
        kwargs.setdefault("auto_id", "cancel-%s")  # see WithdrawForm
        super().__init__(*args, **kwargs)
        self.case = case
        today = timezone.localdate()
        self.fields["effective_date"].initial = min(
            max(case.requested_end_date or today, today), max(case.process_by, today)
        )

    def clean_effective_date(self):
        value = self.cleaned_data["effective_date"]
        today = timezone.localdate()
        if value < today:
            raise forms.ValidationError(_("The date cannot be in the past."))
        if value > max(self.case.process_by, today):
            raise forms.ValidationError(
                _("The subscriber must be able to leave by %(date)s.")
                % {"date": self.case.process_by.strftime("%d.%m.%Y")}
            )
        return value


class ReassignForm(forms.Form):
    select = forms.ModelMultipleChoiceField(
        label=_("Cases"),
        queryset=cases_open(),
        widget=forms.MultipleHiddenInput,
    )
    to_user = StaffChoiceField(
        label=_("Assign to"),
        queryset=case_workers(),
    )
    reason = forms.CharField(label=_("Why"), max_length=300)


# --- Outreach ------------------------------------------------------------------------------------


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
                except CampaignError as exc:
                    self.add_error(name, str(exc))
        return cleaned

    def values(self) -> dict:
        """What the draft services take: the cleaned fields."""
        return {name: self.cleaned_data[name] for name in DRAFT_FIELDS}


class DashboardForm(forms.Form):
    """The dashboard's period and filters, from the query string. Empty means the default:
    the last 30 days by day, broken down by reason, for the whole desk."""

    period = forms.ChoiceField(
        label=_("Period"),
        required=False,
        choices=[(k, label) for k, (label, _days, _grain) in dashboard.PERIODS.items()]
        + [("custom", _("From … to …"))],
    )
    start = forms.DateField(label=_("From"), required=False, widget=DateInput)
    end = forms.DateField(label=_("To"), required=False, widget=DateInput)
    grain = forms.ChoiceField(
        label=_("By"),
        required=False,
        # Empty: what suits the period (days for a month, months for a year).
        choices=[("", _("Automatic")), *dashboard.GRAINS.items()],
    )
    by = forms.ChoiceField(
        label=_("Break down by"), required=False, choices=list(dashboard.DIMENSION_LABELS.items())
    )
    team = forms.ModelChoiceField(
        label=_("Team"), required=False, queryset=Team.objects.all(), empty_label=_("All teams")
    )
    agent = StaffChoiceField(
        label=_("Agent"), required=False, queryset=User.objects.none(), empty_label=_("All agents")
    )
    reason = ReasonChoiceField(
        label=_("Reason"),
        required=False,
        queryset=CancellationReason.objects.all(),
        empty_label=_("All reasons"),
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        required=False,
        choices=[("", _("All channels")), *CancellationCase.Channel.choices],
    )
    offer_kind = forms.ChoiceField(
        label=_("Offer kind"),
        required=False,
        choices=[("", _("All offer kinds")), *OfferKind.choices],
    )
    segment = forms.ChoiceField(
        label=_("Segment"),
        required=False,
        choices=[("", _("All segments")), *Subscriber.Segment.choices],
    )
    region = forms.ChoiceField(label=_("Region"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        agent = self.fields["agent"]
        region = self.fields["region"]
        assert isinstance(agent, forms.ModelChoiceField)
        assert isinstance(region, forms.ChoiceField)
        agent.queryset = case_workers()
        # A callable: the cached list is read only when the field is shown or checked.
        region.choices = lambda: [("", _("All regions")), *((r, r) for r in regions())]

    def clean(self):
        data = super().clean() or {}
        today = dashboard_today()
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("Give both dates of the period."))
            if start > end:
                raise forms.ValidationError(_("The period must start before it ends."))
            if end > today:
                self.add_error("end", _("The period cannot end in the future."))
            if (end - start).days >= dashboard.LONGEST_DAYS:
                raise forms.ValidationError(_("Choose a period of at most three years."))
        return data

    def filters(self) -> dashboard.Filters:
        """The valid form's filters (or the defaults for an unbound form)."""
        data = self.cleaned_data if self.is_bound else {}
        today = dashboard_today()
        period = data.get("period") or "30d"
        if period == "custom":
            start, end = data["start"], data["end"]
            grain = data.get("grain") or ("day" if (end - start).days <= 62 else "month")
        else:
            _label, days, grain_default = dashboard.PERIODS[period]
            start, end = today - timedelta(days=days - 1), today
            grain = data.get("grain") or grain_default
        chosen = {
            name: (value.pk if hasattr(value, "pk") else value)
            for name in dashboard.FILTERS
            if (value := data.get(name))
        }
        return dashboard.Filters(
            start=start,
            end=end,
            grain=grain,
            by=data.get("by") or "reason",
            period=period,
            **chosen,
        )


class DrillForm(DashboardForm):
    what = forms.ChoiceField(
        label=_("Cases"), required=False, choices=[(k, v[0]) for k, v in dashboard.WHAT.items()]
    )
