"""The desk's calendar in the admin: the hours of each weekday, the days that differ (with the
package's public holidays of the coming years listed above them, each a click from being made a
working day), and who changed what. Every save goes through subscribers.desk_calendar's
services, which record it."""

from datetime import time
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from subscribers.admin_base import (
    HistoryAdmin,
    ListEditableNamedMixin,
    ServiceWrittenAdmin,
    admin_actor,
)
from subscribers.calendar import CalendarChange, DeskDay, DeskHours
from subscribers.desk_calendar import (
    DAY_FIELDS,
    desk_calendar,
    desk_day_delete,
    desk_day_save,
    desk_hours_save,
    upcoming_holidays,
)
from subscribers.phrases import names


class DeskHoursForm(forms.ModelForm):
    class Meta:
        model = DeskHours
        fields = ("is_open", "opens", "closes")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # In words, on the field, what the database's open-before-close constraint refuses.
        opens, closes = cleaned.get("opens"), cleaned.get("closes")
        if opens is not None and closes is not None and closes <= opens:
            self.add_error("closes", _("The desk must close after it opens."))
        return cleaned


@admin.register(DeskHours)
class DeskHoursAdmin(ListEditableNamedMixin, ServiceWrittenAdmin):
    """One row a weekday: open or not, and from when to when (the desk's time zone)."""

    form = DeskHoursForm
    list_display = ("weekday", "is_open", "opens", "closes")
    list_editable = ("is_open", "opens", "closes")
    list_display_links = ("weekday",)
    fields = ("weekday", "is_open", "opens", "closes")
    readonly_fields = ("weekday",)
    ordering = ("weekday",)

    def get_changelist_form(self, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs["form"] = DeskHoursForm
        return super().get_changelist_form(request, **kwargs)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the seven weekdays are there from the start

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: DeskHours, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in ("is_open", "opens", "closes")}
        saved = desk_hours_save(weekday=obj.weekday, values=values, actor=admin_actor(request))
        obj.pk = saved.pk


class DeskDayForm(forms.ModelForm):
    class Meta:
        model = DeskDay
        fields = DAY_FIELDS

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("kind") == DeskDay.Kind.WORKING:
            opens, closes = cleaned.get("opens"), cleaned.get("closes")
            if opens is None:
                self.add_error("opens", _("A working day needs the hours the desk opens."))
            if closes is None:
                self.add_error("closes", _("A working day needs the hours the desk closes."))
            if opens is not None and closes is not None and closes <= opens:
                self.add_error("closes", _("The desk must close after it opens."))
        return cleaned


@admin.register(DeskDay)
class DeskDayAdmin(ServiceWrittenAdmin):
    """A public holiday the package lacks, a day the desk is closed, or a package holiday the
    desk works. Above the list: the package's holidays for this year and the next two."""

    form = DeskDayForm
    change_list_template = "admin/subscribers/deskday/change_list.html"
    list_display = ("day", "kind", "name", "opens", "closes")
    list_filter = ("kind",)
    date_hierarchy = "day"
    fields = DAY_FIELDS

    def save_model(self, request: HttpRequest, obj: DeskDay, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data.get(name) for name in DAY_FIELDS}
        values["name"] = values["name"] or ""
        saved = desk_day_save(
            values=values, actor=admin_actor(request), day=obj if change else None
        )
        obj.pk = saved.pk

    def delete_one(self, obj: DeskDay, actor: Any) -> None:
        desk_day_delete(day=obj, actor=actor)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        today = timezone.localdate()
        calendar = desk_calendar()
        add_url = reverse("admin:subscribers_deskday_add")
        rows = []
        for holiday in upcoming_holidays(today=today):
            hours = calendar.week[holiday.day.weekday()] or (time(8), time(18))
            name = names(holiday.names)
            work_url = None
            if holiday.rule_id is None:
                query = {
                    "day": holiday.day.isoformat(),
                    "kind": DeskDay.Kind.WORKING,
                    "name": name,
                    "opens": hours[0].strftime("%H:%M"),
                    "closes": hours[1].strftime("%H:%M"),
                }
                work_url = f"{add_url}?{urlencode(query)}"
            change_url = (
                reverse("admin:subscribers_deskday_change", args=[holiday.rule_id])
                if holiday.rule_id
                else None
            )
            rows.append(
                {
                    "day": holiday.day,
                    "name": name,
                    "working": holiday.working,
                    "work_url": work_url,
                    "change_url": change_url,
                }
            )
        context = {
            "upcoming_holidays": rows,
            "holidays_country": calendar.country,
            "may_change": self.has_add_permission(request),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)


@admin.register(CalendarChange)
class CalendarChangeAdmin(HistoryAdmin):
    """Who changed the desk's calendar, from what to what. Read-only."""

    list_display = ("at", "actor", "action", "subject", "what")
    list_filter = ("action",)
    list_select_related = ("actor",)
    ordering = ("-at", "-id")
    fields = ("at", "actor", "action", "subject", "what")
    readonly_fields = fields

    @admin.display(description=_("what changed"))
    def what(self, change: CalendarChange) -> str:
        labels = {
            f.name: str(f.verbose_name)
            for model in (DeskDay, DeskHours)
            for f in model._meta.fields
        }
        return "; ".join(
            f"{labels.get(name, name)}: {_said(old)} → {_said(new)}"
            for name, (old, new) in change.changes.items()
        )


def _said(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if value in DeskDay.Kind.values:
        return str(DeskDay.Kind(value).label)
    return str(value)
