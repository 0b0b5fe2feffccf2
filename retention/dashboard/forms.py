"""The dashboard's filters, shared by its page, its exports and its drill-down."""

from datetime import timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from offers.forms import StaffChoiceField
from offers.models import OfferKind
from retention.cases.forms import ReasonChoiceField
from retention.cases.selectors import case_workers
from retention.core.forms import DateInput
from retention.dashboard import filters as dashboard
from retention.dashboard.drill import WHAT
from retention.dashboard.figures import desk_today as dashboard_today
from retention.models import (
    CancellationCase,
    CancellationReason,
    Team,
    User,
)
from subscribers.models import Subscriber
from subscribers.selectors import regions


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
        label=_("Cases"), required=False, choices=[(k, v[0]) for k, v in WHAT.items()]
    )
