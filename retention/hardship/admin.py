"""Hardship arrangements in the admin: read only, with their instalments, the payments counted
and their history. Only the tick and the acceptance of an offer write them."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from retention.models import ArrangementHistory, HardshipArrangement, HardshipPayment, Instalment
from subscribers.admin import HistoryAdmin, LargeTableAdmin, TabularInline
from subscribers.phrases import said


class ReadOnlyInline(TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InstalmentInline(ReadOnlyInline):
    model = Instalment
    fields = readonly_fields = ("number", "due_on", "amount", "paid", "paid_on", "state")


class PaymentInline(ReadOnlyInline):
    model = HardshipPayment
    fields = readonly_fields = ("event", "amount", "counted", "instalments", "at")


class HistoryInline(ReadOnlyInline):
    model = ArrangementHistory
    fields = readonly_fields = ("at", "actor", "action", "from_status", "to_status", "said")

    @admin.display(description=_("what happened"))
    def said(self, entry: ArrangementHistory) -> str:
        return said(entry)


@admin.register(HardshipArrangement)
class HardshipArrangementAdmin(HistoryAdmin, LargeTableAdmin):
    list_display = ("pk", "subscriber", "kind", "owed", "status", "created_at", "status_changed_at")
    list_filter = ("status", "kind")
    list_select_related = ("subscriber",)
    search_fields = ("subscriber__account_number",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "subscriber",
        "offer",
        "case",
        "kind",
        "owed",
        "status",
        "grace_days",
        "payments_after",
        "created_at",
        "status_changed_at",
        "ended_at",
    )
    fields = readonly_fields
    inlines = (InstalmentInline, PaymentInline, HistoryInline)
