from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

import retention.billing.admin
import retention.experiments.admin
import retention.hardship.admin
import retention.macros.admin
import retention.risk.admin  # noqa: F401  registers the churn-risk model versions
from retention.models import (
    CampaignHistory,
    CancellationCase,
    CancellationReason,
    CaseHistory,
    CaseOutcome,
    Heartbeat,
    LoyaltySnapshot,
    Notification,
    OutreachCampaign,
    OutreachMessage,
    Reminder,
    TariffFitSnapshot,
    Team,
    User,
)
from subscribers.admin import ListEditableNamedMixin, TabularInline


class StaffChangeForm(UserChangeForm):
    def clean_phone(self) -> str:
        # Typed as people write it ("+371 2000 0000", "+371-20-000-000"); kept as the SMS
        # provider takes it. The model's validator then checks the form.
        phone: str = self.cleaned_data["phone"]
        return "".join(ch for ch in phone if ch not in " -.()/")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = StaffChangeForm
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (_("Desk"), {"fields": ("team", "time_zone", "email_notifications", "language", "phone")}),
    )
    list_filter = ("groups", "team", "is_active", "is_staff")
    list_display = ("username", "first_name", "last_name", "team", "is_active", "is_staff")


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("beat_at", "beats")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(CancellationReason)
class CancellationReasonAdmin(ListEditableNamedMixin, admin.ModelAdmin):
    list_display = ("code", "name_en", "name_lv", "name_ru", "category", "is_active", "position")
    list_editable = ("is_active", "position")
    list_filter = ("category", "is_active")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only the services write (they keep the history and the exactly-once rules)."""

    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CaseHistoryInline(TabularInline):
    model = CaseHistory
    fields = ("at", "action", "from_status", "to_status", "actor", "note")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(CancellationCase)
class CancellationCaseAdmin(ReadOnlyAdmin):
    """Read-only: cases change only through the desk's services, which keep the history."""

    list_display = (
        "id",
        "subscriber",
        "status",
        "channel",
        "reason",
        "owner",
        "process_by",
        "priority",
    )
    list_filter = ("status", "channel", "reason", "auto_processed")
    list_select_related = ("subscriber", "reason", "owner")
    search_fields = ("=id", "=subscriber__account_number", "=external_id")
    raw_id_fields = ("subscriber", "owner", "opened_by")
    inlines = (CaseHistoryInline,)


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "due_at", "state", "recipient", "case", "subscriber")
    list_filter = ("kind", "state")
    list_select_related = ("recipient", "case", "subscriber")
    raw_id_fields = ("recipient", "case", "offer", "subscriber")
    search_fields = ("=id", "key")
    date_hierarchy = "due_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = ("id", "recipient", "__str__", "created_at", "read_at", "email_state")
    list_filter = ("email_state",)
    list_select_related = ("recipient",)
    raw_id_fields = ("recipient", "reminder")
    search_fields = ("=recipient__username",)


class CampaignHistoryInline(TabularInline):
    """Who created, changed, launched, paused and resumed the campaign; no one: the desk."""

    model = CampaignHistory
    fields = ("at", "action", "from_status", "to_status", "actor")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("-at", "-id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[CampaignHistory]:
        # The actors with their rows: one query for the whole history, not one per row.
        return super().get_queryset(request).select_related("actor")


@admin.register(OutreachCampaign)
class OutreachCampaignAdmin(ReadOnlyAdmin):
    """Campaigns are made and launched on the desk's campaign pages (preview first)."""

    list_display = ("id", "name", "state", "channel", "template", "standing", "launched_at")
    list_filter = ("state", "channel", "standing")
    list_select_related = ("template",)
    raw_id_fields = ("created_by", "template", "plan")
    inlines = (CampaignHistoryInline,)


@admin.register(OutreachMessage)
class OutreachMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "campaign", "subscriber", "state", "due_at", "sent_at", "response")
    list_filter = ("state", "response")
    list_select_related = ("campaign", "subscriber")
    raw_id_fields = ("campaign", "subscriber")
    search_fields = ("=id", "=subscriber__account_number")


@admin.register(CaseOutcome)
class CaseOutcomeAdmin(ReadOnlyAdmin):
    """What the dashboard counts for each closed case; recomputed by ``manage.py figures``."""

    list_display = (
        "case",
        "closed_on",
        "status",
        "auto_processed",
        "channel",
        "agent",
        "team",
        "offer_kind",
        "retained_revenue",
        "concession_cost",
        "rechurned_on",
    )
    list_filter = ("status", "auto_processed", "channel", "offer_kind", "rechurned_90")
    list_select_related = ("agent", "team")
    raw_id_fields = ("case", "subscriber", "agent", "team", "reason")
    date_hierarchy = "closed_on"
    search_fields = ("=case__id", "=subscriber__account_number")


@admin.register(LoyaltySnapshot)
class LoyaltySnapshotAdmin(ReadOnlyAdmin):
    list_display = ("day", "segment", "region", "active", "overpaying", "overpayment")
    list_filter = ("segment", "region")
    date_hierarchy = "day"


@admin.register(TariffFitSnapshot)
class TariffFitSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("day", "verdict", "subscribers", "current_total", "best_total", "overpayment")
    list_filter = ("verdict",)
    date_hierarchy = "day"
