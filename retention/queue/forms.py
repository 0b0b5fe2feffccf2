from django import forms
from django.utils.translation import gettext_lazy as _

from retention.core.forms import DateTimeInput
from retention.queue.services import BULK_MAX, NAME_MAX


class SavedViewForm(forms.Form):
    """Save the queue as it is filtered and sorted now; ``query`` carries that state."""

    name = forms.CharField(label=_("Name of the view"), max_length=NAME_MAX)
    team = forms.BooleanField(label=_("Share with my team"), required=False)
    query = forms.CharField(widget=forms.HiddenInput, required=False, max_length=2000)

    def __init__(self, *args, may_share: bool = False, **kwargs):
        kwargs.setdefault("auto_id", "view-%s")
        super().__init__(*args, **kwargs)
        if not may_share:
            del self.fields["team"]


class RenameForm(forms.Form):
    name = forms.CharField(label=_("New name"), max_length=NAME_MAX)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "rename-%s")
        super().__init__(*args, **kwargs)


class CaseIdsField(forms.Field):
    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": _("Tick the cases first.")}

    def to_python(self, value):
        if not value:
            return []
        values = value if isinstance(value, list | tuple) else [value]
        try:
            ids = [int(v) for v in values]
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(_("That is not a case.")) from exc
        if len(ids) > BULK_MAX:
            raise forms.ValidationError(_("At most %(n)s cases at once.") % {"n": BULK_MAX})
        return ids


class BulkForm(forms.Form):
    """The queue's bulk actions: one form, a button each (the reassign button posts the same
    fields to the reassign view). The fields one action needs are checked for that action."""

    ACTIONS = (("release", _("Release")), ("note", _("Add note")), ("callback", _("Callback")))

    select = CaseIdsField(label=_("Cases"))
    action = forms.ChoiceField(choices=ACTIONS)
    text = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    callback_at = forms.DateTimeField(
        label=_("Call back at"),
        required=False,
        widget=DateTimeInput,
        help_text=_("In your time zone."),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "bulk-%s")
        kwargs.setdefault("use_required_attribute", False)
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean() or {}
        action = data.get("action")
        if action == "note" and not (data.get("text") or "").strip():
            self.add_error("text", _("Write the note."))
        if action == "callback" and not data.get("callback_at"):
            self.add_error("callback_at", _("Choose when to call back."))
        return data
