"""The admin of message templates (macros), and the messages sent from cases (read only)."""

import re

from django import forms
from django.contrib import admin
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from retention.macros.rendering import PLACEHOLDERS
from retention.models import CaseMessage, MessageTemplate

_BRACED = re.compile(r"\{(\w+)\}")
TEXT_FIELDS = ("subject_en", "subject_lv", "subject_ru", "body_en", "body_lv", "body_ru", "note")


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = "__all__"  # noqa: DJ007 - every field of a template is the admin's to set

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        for name in TEXT_FIELDS:
            unknown = sorted(set(_BRACED.findall(str(data.get(name) or ""))) - set(PLACEHOLDERS))
            if unknown:
                self.add_error(
                    name,
                    _("Unknown placeholders: %(names)s. Use %(known)s.")
                    % {"names": ", ".join(unknown), "known": known},
                )
        days, at = data.get("callback_days"), data.get("callback_time")
        if (days is None) != (at is None):
            self.add_error("callback_time", _("Give both the days and the time, or neither."))
        if days is not None and data.get("callback_hours"):
            self.add_error("callback_hours", _("Either after days at a time, or after hours."))
        return data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ("name", "channel", "is_active")
    list_filter = ("channel", "is_active", "reasons")
    search_fields = ("name",)
    filter_horizontal = ("reasons",)
    fieldsets = (
        (None, {"fields": ("name", "channel", "reasons", "is_active")}),
        (
            gettext_lazy("Text"),
            {
                "fields": TEXT_FIELDS[:6],
                "description": gettext_lazy(
                    "Placeholders: {name}, {plan}, {price}, {new_customer_price}, {offer}, "
                    "{agent}. A missing language falls back to English."
                ),
            },
        ),
        (
            gettext_lazy("What else sending it does"),
            {"fields": ("callback_days", "callback_time", "callback_hours", "note")},
        ),
    )


@admin.register(CaseMessage)
class CaseMessageAdmin(admin.ModelAdmin):
    list_display = ("case", "channel", "state", "created_at", "sent_at", "actor")
    list_filter = ("state", "channel")
    list_select_related = ("case", "actor")
    raw_id_fields = ("case", "subscriber", "contact", "template")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
