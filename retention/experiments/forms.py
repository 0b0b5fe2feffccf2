"""The form a manager starts an experiment with: its slot, up to three offer arms, a holdout."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from offers.models import OfferTemplate, ReasonCategory
from retention.experiments.services import ArmSpec, Slot, arms_problem
from retention.models import Experiment
from subscribers.models import Subscriber

OFFER_ARMS = 3


class ExperimentForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    audience = forms.ChoiceField(
        label=_("Who takes part"),
        choices=Experiment.Audience.choices,
        initial=Experiment.Audience.CASES,
        widget=forms.RadioSelect,
        required=False,
        help_text=_(
            "Cases: assigned when opened. Outreach recipients: assigned when a campaign's "
            "messages are made; a holdout recipient gets no message. A reason applies to cases "
            "only."
        ),
    )
    reason_category = forms.ChoiceField(
        label=_("Reason"),
        choices=[("", _("Any reason")), *ReasonCategory.choices],
        required=False,
    )
    segments = forms.MultipleChoiceField(
        label=_("Segments"),
        choices=Subscriber.Segment.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked means every segment."),
    )
    min_tenure_months = forms.IntegerField(
        label=_("Tenure at least, months"), min_value=0, max_value=1200, initial=0
    )
    max_tenure_months = forms.IntegerField(
        label=_("Tenure at most, months"),
        min_value=0,
        max_value=1200,
        required=False,
        help_text=_("Empty means no upper limit."),
    )
    holdout = forms.IntegerField(
        label=_("Holdout, %"),
        min_value=0,
        max_value=99,
        initial=10,
        help_text=_("Cases that get no counter-offer unless they ask; 0 for no holdout."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read once for the three arms' choices.
        self.templates = {
            str(t.pk): t
            for t in OfferTemplate.objects.filter(is_active=True).order_by("position", "code")
        }
        choices = [(pk, t.label) for pk, t in self.templates.items()]
        for n in range(1, OFFER_ARMS + 1):
            self.fields[f"offer_{n}"] = forms.ChoiceField(
                label=_("Offer %(n)s") % {"n": n},
                choices=choices if n == 1 else [("", _("(none)")), *choices],
                required=n == 1,
            )
            self.fields[f"weight_{n}"] = forms.IntegerField(
                label=_("Share of offer %(n)s, %%") % {"n": n},
                min_value=1,
                max_value=100,
                required=False,
            )

    def arm_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"offer_{n}"], self[f"weight_{n}"]) for n in range(1, OFFER_ARMS + 1)]

    def clean_audience(self) -> str:
        return self.cleaned_data.get("audience") or Experiment.Audience.CASES

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, OFFER_ARMS + 1):
            data[f"offer_{n}"] = self.templates.get(data.get(f"offer_{n}") or "")
        if data.get("audience") == Experiment.Audience.OUTREACH and data.get("reason_category"):
            self.add_error(
                "reason_category", _("A reason applies to cases only: choose any reason.")
            )
        low, high = data.get("min_tenure_months"), data.get("max_tenure_months")
        if low is not None and high is not None and high < low:
            self.add_error("max_tenure_months", _("The upper bound is below the lower bound."))
        for n in range(1, OFFER_ARMS + 1):
            offer, weight = data.get(f"offer_{n}"), data.get(f"weight_{n}")
            if offer is not None and weight is None and f"weight_{n}" not in self.errors:
                self.add_error(f"weight_{n}", _("Give this offer's share."))
            if offer is None and weight is not None:
                self.add_error(f"offer_{n}", _("Choose an offer for this share, or clear it."))
        if not self.errors:
            problem = arms_problem(self.arms())
            if problem:
                self.add_error(None, problem)
        return data

    def is_outreach(self) -> bool:
        return self.cleaned_data.get("audience") == Experiment.Audience.OUTREACH

    def reason_category_label(self) -> str:
        value = self.cleaned_data["reason_category"]
        return str(ReasonCategory(value).label) if value else ""

    def segment_labels(self) -> str:
        labels = dict(Subscriber.Segment.choices)
        return ", ".join(str(labels[s]) for s in self.cleaned_data["segments"])

    def slot(self) -> Slot:
        data = self.cleaned_data
        return Slot(
            reason_category=data["reason_category"],
            segments=tuple(data["segments"]),
            min_tenure_months=data["min_tenure_months"],
            max_tenure_months=data["max_tenure_months"],
        )

    def arms(self) -> list[ArmSpec]:
        data = self.cleaned_data
        arms = [
            ArmSpec(data[f"offer_{n}"], data[f"weight_{n}"])
            for n in range(1, OFFER_ARMS + 1)
            if data.get(f"offer_{n}") is not None
        ]
        if data.get("holdout"):
            arms.append(ArmSpec(None, data["holdout"]))
        return arms


class StopForm(forms.Form):
    note = forms.CharField(label=_("Why stop it? (optional)"), max_length=2000, required=False)
