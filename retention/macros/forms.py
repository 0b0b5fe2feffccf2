"""The "Write to the subscriber" form: a macro, its text as the agent left it, a one-time key."""

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from retention.macros.rendering import GAP
from retention.models import CancellationCase, MessageTemplate


class MacroChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: MessageTemplate) -> str:
        return f"{obj.name} ({obj.get_channel_display()})"


class MessageForm(forms.Form):
    template = MacroChoiceField(
        label=_("Message template"), queryset=MessageTemplate.objects.filter(is_active=True)
    )
    subject = forms.CharField(label=_("Subject"), required=False, max_length=150)
    body = forms.CharField(
        label=_("Message"), max_length=5000, widget=forms.Textarea(attrs={"rows": 6})
    )
    # Made when the form is shown: a double click or a retried request sends once.
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, case: CancellationCase, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "message-%s")
        kwargs["initial"] = {"key": uuid.uuid4().hex, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.case = case

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        refusal = _("Fill in the gap marked %(gap)s (the offer: propose one first) before sending.")
        for name in ("subject", "body"):
            if GAP in (cleaned.get(name) or ""):
                self.add_error(name, refusal % {"gap": GAP})
        return cleaned
