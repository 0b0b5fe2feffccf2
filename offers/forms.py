from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offers.authority import delegation_period_problem
from offers.exceptions import InvalidTerms
from offers.models import CounterOffer, OfferKind, OfferTemplate
from offers.pricing import PERMANENT_MONTHS, Terms, terms_validate
from offers.selectors import tariff_fit_for_offer
from retention.core.roles import Role
from subscribers.models import Plan


class StaffChoiceField(forms.ModelChoiceField):
    """A member of staff, by their full name as the queue shows them (else the username)."""

    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.username


class TemplateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: OfferTemplate) -> str:
        return obj.label


class ProposeForm(forms.Form):
    template = TemplateChoiceField(
        label=_("Offer"),
        queryset=OfferTemplate.objects.filter(is_active=True).select_related("new_plan"),
        widget=forms.HiddenInput,
    )
    note = forms.CharField(
        label=_("Note for the approver"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # A pause's months and fee, chosen in the builder (other offers take the catalogue's).
    months = forms.IntegerField(label=_("Months of the pause"), required=False, min_value=0)
    amount = forms.DecimalField(
        label=_("Fee while paused, €"),
        required=False,
        min_value=0,
        max_digits=8,
        decimal_places=2,
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        template = cleaned.get("template")
        if template is None or template.kind != OfferKind.PAUSE:
            cleaned["months"] = cleaned["amount"] = None
            return cleaned
        if self.has_error("months") or self.has_error("amount"):
            return cleaned
        if cleaned.get("months") is None:
            self.add_error("months", _("Give the months of the pause."))
        if cleaned.get("amount") is None:
            self.add_error("amount", _("Give the fee while paused (0 for free)."))
        if self.errors:
            return cleaned
        try:
            terms_validate(
                Terms(kind=OfferKind.PAUSE, months=cleaned["months"], amount=cleaned["amount"])
            )
        except InvalidTerms as exc:
            self.add_error("months", str(exc))
        return cleaned

    def pause_terms(self) -> dict[str, Any]:
        """The pause's months and fee for the service (none for other offers)."""
        return {"months": self.cleaned_data["months"], "amount": self.cleaned_data["amount"]}


class PausePriceForm(ProposeForm):
    """A pause's months and fee as the agent types them in the builder, to price them."""

    template = TemplateChoiceField(
        label=_("Offer"),
        queryset=OfferTemplate.objects.filter(is_active=True, kind=OfferKind.PAUSE),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("That is not a pause from the catalogue.")},
    )


class OfferStepForm(forms.Form):
    """Present, answer or withdraw one offer."""

    offer = forms.ModelChoiceField(
        queryset=CounterOffer.objects.filter(status__in=CounterOffer.LIVE_STATUSES),
        widget=forms.HiddenInput,
        error_messages={"invalid_choice": _("That offer is no longer under way.")},
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class AnswerForm(OfferStepForm):
    answer = forms.ChoiceField(
        label=_("The subscriber's answer"),
        choices=[("accept", _("Accepted")), ("decline", _("Declined"))],
    )


class OfferWithdrawForm(OfferStepForm):
    note = forms.CharField(label=_("Why withdraw it?"), max_length=2000)


class DecisionForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class RejectForm(forms.Form):
    note = forms.CharField(label=_("Why reject it?"), max_length=2000)


class AmendForm(forms.Form):
    """New terms for a pending offer of the same kind; validated like the catalogue's."""

    percent = forms.DecimalField(
        label=_("Discount, %"), required=False, max_digits=5, decimal_places=2
    )
    amount = forms.DecimalField(
        label=_("Amount, €"), required=False, max_digits=8, decimal_places=2
    )
    months = forms.IntegerField(label=_("Months"), required=False, min_value=0, max_value=24)
    days = forms.IntegerField(label=_("Days"), required=False, min_value=0, max_value=90)
    new_plan = forms.ModelChoiceField(
        label=_("New plan"), required=False, queryset=Plan.objects.filter(is_sold=True)
    )
    note = forms.CharField(label=_("Why these terms?"), max_length=2000)

    def __init__(self, *args: Any, offer: CounterOffer, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", f"amend-{offer.pk}")
        super().__init__(*args, **kwargs)
        self.offer = offer
        self.fields["percent"].initial = offer.percent
        self.fields["amount"].initial = offer.amount
        self.fields["months"].initial = offer.months
        self.fields["days"].initial = offer.days
        self.fields["new_plan"].initial = offer.new_plan_id
        if offer.kind in (OfferKind.PLAN_CHANGE, OfferKind.SPEED_UPGRADE):
            self._show_permanent_terms(offer)
        # Only the parameters of this kind of offer are shown.
        for name in set(self.fields) - {"note", *AMENDABLE[OfferKind(offer.kind)]}:
            del self.fields[name]

    def _show_permanent_terms(self, offer: CounterOffer) -> None:
        """A plan change or upgrade with 0 months is for good (its cost counted over
        PERMANENT_MONTHS): the form says so, instead of "Months: 0" beside a card that counts
        12 months, and left empty it stays for good. Without a new plan, a plan change is the
        subscriber's own plan at the new-customer price (the loyalty tariff)."""
        months = self.fields["months"]
        months.initial = offer.months or None
        months.help_text = _("Empty: for good (its cost is counted over %(n)s months).") % {
            "n": PERMANENT_MONTHS
        }
        months.widget.attrs["placeholder"] = _("for good")
        if offer.kind == OfferKind.PLAN_CHANGE:
            new_plan = self.fields["new_plan"]
            assert isinstance(new_plan, forms.ModelChoiceField)
            new_plan.empty_label = _("Their own plan, at the new-customer price")

    def terms(self) -> Terms:
        data = self.cleaned_data
        new_plan = data.get("new_plan", self.offer.new_plan)
        return Terms(
            kind=self.offer.kind,
            percent=data.get("percent", self.offer.percent),
            amount=data.get("amount", self.offer.amount),
            months=data.get("months", self.offer.months) or 0,
            days=data.get("days", self.offer.days) or 0,
            new_plan=new_plan,
            # Still the move to the plan that fits while the plan is the one it moved to;
            # another plan makes it an ordinary plan change, checked as one.
            fitting=self.offer.to_fitting_plan and new_plan == self.offer.new_plan,
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.errors:
            terms = self.terms()
            fit = (
                tariff_fit_for_offer(subscriber_id=self.offer.subscriber_id)
                if terms.fitting
                else None
            )
            try:
                terms_validate(terms, self.offer.subscriber, fit=fit)
            except InvalidTerms as exc:
                raise forms.ValidationError(str(exc)) from None
        return cleaned


AMENDABLE: dict[OfferKind, tuple[str, ...]] = {
    OfferKind.PERCENT_DISCOUNT: ("percent", "months"),
    OfferKind.FIXED_DISCOUNT: ("amount", "months"),
    OfferKind.FREE_MONTHS: ("months",),
    OfferKind.PLAN_CHANGE: ("new_plan", "months"),
    OfferKind.SPEED_UPGRADE: ("new_plan", "months"),
    OfferKind.PAYMENT_DEFERRAL: ("days",),
    OfferKind.SPLIT_PAYMENT: ("months",),
    OfferKind.ONE_TIME_CREDIT: ("amount",),
    OfferKind.SERVICE_FIX: ("amount",),
    OfferKind.LOYALTY_PERK: ("amount", "months"),
    OfferKind.PAUSE: ("amount", "months"),
}


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DelegationForm(forms.Form):
    delegate = StaffChoiceField(
        label=_("Hand my approvals to"), queryset=get_user_model().objects.none()
    )
    starts_at = forms.DateTimeField(label=_("From"), widget=DateTimeInput)
    ends_at = forms.DateTimeField(label=_("Until"), widget=DateTimeInput)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args: Any, delegator: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delegator = delegator
        self.fields["delegate"].queryset = (  # type: ignore[attr-defined]
            get_user_model()
            .objects.filter(is_active=True, groups__name=Role.MANAGER)
            .exclude(pk=delegator.pk)
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        if not self.is_bound:
            self.fields["starts_at"].initial = timezone.localtime().replace(second=0, microsecond=0)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts, ends = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts and ends:
            problem = delegation_period_problem(starts_at=starts, ends_at=ends)
            if problem:
                raise forms.ValidationError(problem)
            if ends <= timezone.now():
                raise forms.ValidationError(_("The end must be in the future."))
        return cleaned
