from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offers.forms import StaffChoiceField
from retention.cases.opening import REQUESTED_END_MAX_DAYS, requested_end_problem
from retention.cases.selectors import case_workers, cases_open
from retention.cases.services import callback_problem, case_deadline
from retention.core.forms import DateInput, DateTimeInput
from retention.models import (
    CancellationCase,
    CancellationReason,
    ContactAttempt,
)
from subscribers.models import ContactChannel


class ReasonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: CancellationReason) -> str:
        return obj.label


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
    # "Message sent" is logged by sending a message from the case, not by hand.
    outcome = forms.ChoiceField(
        label=_("Outcome"),
        choices=[
            c for c in ContactAttempt.Outcome.choices if c[0] != ContactAttempt.Outcome.MESSAGE_SENT
        ],
    )
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
