"""Django admin for subscribers, usable at a million subscribers and tens of millions of events.

Two things make the stock admin slow at that size, and both are avoided here: the full-table
COUNT(*) on every changelist load (``show_full_result_count`` and ``EstimatedCountPaginator``)
and <select> widgets listing every subscriber (``autocomplete_fields`` / ``raw_id_fields``).
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from retention.core.roles import Role, has_role
from subscribers import ingestion
from subscribers.admin_base import EXACT_COUNT_LIMIT as EXACT_COUNT_LIMIT
from subscribers.admin_base import BoundedFieldsMixin as BoundedFieldsMixin
from subscribers.admin_base import EstimatedCountPaginator as EstimatedCountPaginator
from subscribers.admin_base import HistoryAdmin as HistoryAdmin
from subscribers.admin_base import LargeTableAdmin as LargeTableAdmin
from subscribers.admin_base import ListEditableNamedMixin as ListEditableNamedMixin
from subscribers.admin_base import ServiceWrittenAdmin as ServiceWrittenAdmin
from subscribers.admin_base import TabularInline as TabularInline
from subscribers.admin_base import admin_actor as admin_actor
from subscribers.admin_base import history_link as history_link

# The desk's calendar (hours, calendar days, their history): registered by admin_calendar.
from subscribers.admin_calendar import DeskDayAdmin as DeskDayAdmin
from subscribers.admin_import import subscriber_import_urls

# Plans (with their pricing), usage months and tariff fits: registered by admin_usage.
from subscribers.admin_usage import PlanAdmin as PlanAdmin
from subscribers.models import (
    CONTACT_HOURS_FIELDS,
    ApiToken,
    ContactHours,
    ContactPolicy,
    ContactPolicyChange,
    Equipment,
    FieldConflict,
    FieldHold,
    OutboundEvent,
    Subscriber,
    TimelineEvent,
)
from subscribers.outbound import hold_release
from subscribers.services import POLICY_FIELDS, contact_policy_save


class EquipmentInline(TabularInline):
    model = Equipment
    extra = 0
    fields = ("kind", "model_name", "serial", "status", "return_method", "return_due_on")


class LatestEventsInline(TabularInline):
    """The newest events, read-only: the timeline is append-only and may be huge."""

    model = TimelineEvent
    verbose_name_plural = _("latest timeline events")
    fields = ("occurred_at", "kind", "line", "source", "actor")
    readonly_fields = fields
    can_delete = False
    extra = 0
    max_num = 0
    show_change_link = True
    LIMIT = 20

    @admin.display(description=_("summary"))
    def line(self, event: TimelineEvent) -> str:
        return event.text  # a phrase in the reader's language, or what the sender wrote

    def get_queryset(self, request: HttpRequest) -> QuerySet[TimelineEvent]:
        return super().get_queryset(request).select_related("actor").order_by("-occurred_at", "-id")

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        limit = self.LIMIT

        class LatestOnly(formset):  # type: ignore[misc, valid-type]
            def get_queryset(self) -> QuerySet[TimelineEvent]:
                # Slicing breaks the formset's own filtering, so fetch the ids first.
                queryset = super().get_queryset()
                ids = list(queryset.values_list("pk", flat=True)[:limit])
                return queryset.filter(pk__in=ids)

        return LatestOnly

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscriber)
class SubscriberAdmin(BoundedFieldsMixin, LargeTableAdmin):
    field_bounds = {
        "monthly_price": {"min_value": 0},
        "arrears": {"min_value": 0},
        "churn_risk": {"max_value": 100},
    }
    list_display = (
        "account_number",
        "name",
        "plan",
        "monthly_price",
        "status",
        "segment",
        "region",
        "churn_risk",
    )
    list_select_related = ("plan",)
    list_filter = ("status", "segment", "language", "plan__kind")
    # Prefix match on the account number uses its unique index; the others use the trigram
    # indexes on PostgreSQL.
    search_fields = ("=account_number", "name", "phone", "email")
    search_help_text = _("Account number (exact), or part of a name, phone or e-mail.")
    autocomplete_fields = ("plan",)
    # Paused until: set and cleared by the pause's acceptance and resume (offers.pauses) only.
    readonly_fields = ("updated_at", "paused_until")
    inlines = (EquipmentInline, LatestEventsInline)
    fieldsets = (
        (None, {"fields": ("account_number", "name", "status", "segment", "region")}),
        (_("Contact"), {"fields": ("phone", "email", "language", "time_zone")}),
        (_("Do not contact"), {"fields": ("do_not_call", "do_not_email", "do_not_sms")}),
        (
            _("Plan and billing"),
            {
                "fields": (
                    "plan",
                    "monthly_price",
                    "promo_ends_on",
                    "paused_until",
                    "signup_date",
                    "balance",
                    "arrears",
                    "payment_method",
                )
            },
        ),
        (_("Risk"), {"fields": ("churn_risk", "churn_risk_reasons", "updated_at")}),
    )
    change_list_template = "admin/subscribers/subscriber/change_list.html"

    def get_urls(self) -> list[Any]:
        # First: ModelAdmin's "<path:object_id>/" catch-all would otherwise take "import/".
        return [*subscriber_import_urls(self), *super().get_urls()]


@admin.register(Equipment)
class EquipmentAdmin(LargeTableAdmin):
    list_display = ("serial", "kind", "model_name", "status", "subscriber", "return_due_on")
    list_filter = ("status", "kind", "return_method")
    list_select_related = ("subscriber",)
    search_fields = ("=serial", "=subscriber__account_number")
    raw_id_fields = ("subscriber",)


@admin.register(FieldHold)
class FieldHoldAdmin(HistoryAdmin, LargeTableAdmin):
    """Fields a desk decision holds until billing confirms it. Releasing one lets the next
    import or pushed event set it again (the hold keeps who released it)."""

    list_display = ("subscriber", "field", "value", "before", "event", "created_at", "released_at")
    list_filter = ("field", "released_because")
    list_select_related = ("subscriber", "event")
    search_fields = ("=subscriber__account_number",)
    raw_id_fields = ("subscriber", "event")
    ordering = ("-id",)
    actions = ("release",)

    @admin.action(description=_("Release the chosen fields to billing"), permissions=["view"])
    def release(self, request: HttpRequest, queryset: QuerySet[FieldHold]) -> None:
        if not has_role(request.user, Role.ADMIN):
            raise PermissionDenied
        released = 0
        for hold in queryset.filter(released_at__isnull=True):
            hold_release(hold=hold, actor=admin_actor(request))
            released += 1
        messages.success(
            request,
            ngettext("%(count)s field released.", "%(count)s fields released.", released)
            % {"count": released},
        )


@admin.register(FieldConflict)
class FieldConflictAdmin(HistoryAdmin, LargeTableAdmin):
    """Values from billing that met a held field: not applied, listed for whoever resolves
    them (release the hold, or let billing's confirmation do it)."""

    list_display = ("at", "subscriber", "field", "incoming", "kept", "source", "where")
    list_filter = ("field", "source")
    list_select_related = ("subscriber",)
    search_fields = ("=subscriber__account_number",)
    raw_id_fields = ("subscriber", "hold")
    ordering = ("-at", "-id")


@admin.register(OutboundEvent)
class OutboundEventAdmin(HistoryAdmin, LargeTableAdmin):
    """What the desk told billing, as it was written with each decision: read only."""

    list_display = ("id", "created_at", "type", "subscriber", "event_id")
    list_filter = ("type",)
    list_select_related = ("subscriber",)
    search_fields = ("=subscriber__account_number", "=event_id")
    search_help_text = _("Exact account number or event id.")
    raw_id_fields = ("subscriber",)
    sortable_by = ()
    ordering = ("-id",)
    fields = ("event_id", "type", "version", "subscriber", "created_at", "payload")


@admin.register(TimelineEvent)
class TimelineEventAdmin(LargeTableAdmin):
    """Read-only: the timeline is append-only; corrections are new events."""

    list_display = ("occurred_at", "kind", "subscriber", "line", "source")
    list_filter = ("kind", "source")
    list_select_related = ("subscriber",)
    search_fields = ("=subscriber__account_number", "=external_id")
    search_help_text = _("Exact account number or external event id.")
    raw_id_fields = ("subscriber", "actor")
    # Sorting 20,000,000 rows by an unindexed column is not something a click should do.
    sortable_by = ()
    ordering = ("-id",)

    @admin.display(description=_("summary"))
    def line(self, event: TimelineEvent) -> str:
        return event.text  # a phrase in the reader's language, or what the sender wrote

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "prefix", "is_active", "created_at", "last_used_at")
    list_filter = ("is_active", "source")
    fields = ("name", "source", "is_active", "prefix", "created_at", "last_used_at")
    readonly_fields = ("prefix", "created_at", "last_used_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The source is part of every stored event's idempotency key: fixed once created.
        return (*self.readonly_fields, "source") if obj else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = ingestion.api_token_create(name=obj.name, source=obj.source)
        obj.pk = token.pk
        obj.token_hash, obj.prefix = token.token_hash, token.prefix
        messages.warning(
            request,
            _("The token for %(name)s is: %(token)s — copy it now, it is not shown again.")
            % {"name": token.name, "token": raw},
        )


class ContactHoursForm(forms.ModelForm):
    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        # In words, on the field, what the database's start-before-end constraint refuses.
        for days, message in (
            ("weekday", _("Weekday hours must end after they start.")),
            ("weekend", _("Weekend hours must end after they start.")),
        ):
            start, end = cleaned.get(f"{days}_start"), cleaned.get(f"{days}_end")
            if start is not None and end is not None and end <= start:
                self.add_error(f"{days}_end", message)
        return cleaned


class ContactHoursInline(TabularInline):
    model = ContactHours
    form = ContactHoursForm
    extra = 0
    max_num = 3
    can_delete = False


@admin.register(ContactPolicy)
class ContactPolicyAdmin(BoundedFieldsMixin, admin.ModelAdmin):
    """Quiet hours per channel and the frequency cap: one policy. Saved, with its hours, by
    subscribers.services.contact_policy_save, which records who changed what."""

    field_bounds = {"period_days": {"min_value": 1}}

    inlines = (ContactHoursInline,)
    list_display = ("__str__",)
    fields = (*POLICY_FIELDS, "history")
    readonly_fields = ("history",)

    @admin.display(description=_("history"))
    def history(self, obj: ContactPolicy) -> str:
        return history_link(
            "admin:subscribers_contactpolicychange_changelist",
            _("Who changed the contact policy, and when"),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        if not (super().has_add_permission(request) and has_role(request.user, Role.ADMIN)):
            return False
        # Asked several times for one page (the sidebar, the buttons): one query a request.
        exists: bool | None = getattr(request, "_contact_policy_exists", None)
        if exists is None:
            exists = ContactPolicy.objects.exists()
            request._contact_policy_exists = exists  # type: ignore[attr-defined]
        return not exists

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only those the service lets change it are offered the form; others may read it.
        return super().has_change_permission(request, obj) and has_role(request.user, Role.ADMIN)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ContactPolicy, form: Any, change: bool) -> None:
        """Nothing yet: the policy is saved with its hours in ``save_related``, as one change."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        values: dict[str, Any] = {name: form.cleaned_data[name] for name in POLICY_FIELDS}
        hours: dict[str, dict[str, Any]] = {}
        for formset in formsets:
            # What the admin's change message and log entry say was added or changed.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            for hours_form in formset.forms:
                data = hours_form.cleaned_data
                if not data or not data.get("channel") or not hours_form.has_changed():
                    continue  # an empty row, or one nobody touched
                hours[data["channel"]] = {name: data[name] for name in CONTACT_HOURS_FIELDS}
                if hours_form.instance.pk is None:
                    formset.new_objects.append(hours_form.instance)
                else:
                    formset.changed_objects.append((hours_form.instance, hours_form.changed_data))
        values["hours"] = hours
        policy = contact_policy_save(values=values, actor=admin_actor(request))
        form.instance.pk = policy.pk


@admin.register(ContactPolicyChange)
class ContactPolicyChangeAdmin(HistoryAdmin):
    """Who changed the contact policy, from what to what. Read-only."""

    list_display = ("at", "actor", "action", "what")
    list_filter = ("action",)
    list_select_related = ("actor",)
    ordering = ("-at", "-id")
    fields = ("at", "actor", "action", "what", "note")
    readonly_fields = fields

    @admin.display(description=_("what changed"))
    def what(self, change: ContactPolicyChange) -> str:
        return change.text
