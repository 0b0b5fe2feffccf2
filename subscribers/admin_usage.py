"""Django admin for what prices usage and what usage shows: plans with their pricing rules,
usage months (read-only: they come from network systems, by API or CSV import) and tariff fits
(read-only: computed nightly and when usage arrives, subscribers.fit)."""

from datetime import date
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from subscribers.admin_base import BoundedFieldsMixin, HistoryAdmin, LargeTableAdmin
from subscribers.admin_import import usage_import_urls
from subscribers.models import Plan, TariffFit, Usage
from subscribers.usage_ingest import period_bounds

# Each kind's pricing fields (the database's plan_pricing_by_kind constraint holds the same).
PRICING_FIELDS: dict[str, tuple[str, ...]] = {
    Plan.Kind.FLAT: (),
    Plan.Kind.METERED_TIME: ("included_hours", "extra_hour_price"),
    Plan.Kind.METERED_VOLUME: ("included_gb", "extra_gb_price"),
    Plan.Kind.BUSINESS: ("included_seats", "extra_seat_price"),
}
SEGMENT_FIELDS = ("sold_to_residential", "sold_to_small_business", "sold_to_corporate")


class PlanForm(forms.ModelForm):
    """Says on the field what the database's pricing constraints refuse: a kind's own pricing
    fields missing, another kind's filled, a cap with nothing to cap, no segment sold to."""

    # No Meta: PlanAdmin's form factory gives the model and the fields of its fieldsets.

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        kind = cleaned.get("kind")
        if kind in PRICING_FIELDS:
            label = Plan.Kind(kind).label
            own = PRICING_FIELDS[kind]
            for fields in PRICING_FIELDS.values():
                for name in fields:
                    value = cleaned.get(name)
                    if name in own and value is None and name not in self.errors:
                        self.add_error(
                            name,
                            _("Required for a plan of this kind (%(kind)s).") % {"kind": label},
                        )
                    elif name not in own and value is not None:
                        self.add_error(
                            name,
                            _("Leave this empty: a plan of this kind (%(kind)s) does not use it.")
                            % {"kind": label},
                        )
            if not own and cleaned.get("extras_cap") is not None:
                self.add_error(
                    "extras_cap", _("Leave this empty: a flat-rate plan has no extras to cap.")
                )
        if not any(cleaned.get(name) for name in SEGMENT_FIELDS):
            self.add_error(
                "sold_to_residential", _("Choose at least one segment the plan is sold to.")
            )
        return cleaned


@admin.register(Plan)
class PlanAdmin(BoundedFieldsMixin, admin.ModelAdmin):
    form = PlanForm
    field_bounds = {
        name: {"min_value": 0}
        for name in (
            "list_price",
            "new_customer_price",
            "extra_hour_price",
            "extra_gb_price",
            "extra_seat_price",
            "extras_cap",
        )
    }
    list_display = (
        "name",
        "code",
        "kind",
        "download_mbps",
        "list_price",
        "new_customer_price",
        "is_sold",
    )
    list_filter = ("kind", "is_sold")
    search_fields = ("name", "code")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "code",
                    "name",
                    "kind",
                    "download_mbps",
                    "upload_mbps",
                    "includes_tv",
                    "is_sold",
                )
            },
        ),
        (
            _("Monthly fee"),
            {"fields": ("list_price", "new_customer_price")},
        ),
        (
            _("Sold to"),
            {"fields": SEGMENT_FIELDS, "description": _("At least one segment.")},
        ),
        (
            Plan.Kind.METERED_TIME.label,
            {
                "fields": PRICING_FIELDS[Plan.Kind.METERED_TIME],
                "description": _("Only for a plan metered by time; leave empty otherwise."),
            },
        ),
        (
            Plan.Kind.METERED_VOLUME.label,
            {
                "fields": PRICING_FIELDS[Plan.Kind.METERED_VOLUME],
                "description": _("Only for a plan metered by volume; leave empty otherwise."),
            },
        ),
        (
            Plan.Kind.BUSINESS.label,
            {
                "fields": PRICING_FIELDS[Plan.Kind.BUSINESS],
                "description": _("Only for a business plan; leave empty otherwise."),
            },
        ),
        (
            _("Extras cap"),
            {
                "fields": ("extras_cap",),
                "description": _("Optional, for a plan metered by time or volume, or business."),
            },
        ),
        (
            _("Descriptions"),
            {"fields": ("description_en", "description_lv", "description_ru")},
        ),
    )


class MonthFilter(admin.SimpleListFilter):
    """The months that may be reported (subscribers/usage_ingest.py), newest first: no query."""

    title = _("month")
    parameter_name = "period"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        earliest, latest = period_bounds(timezone.localdate())
        months = []
        month = latest
        while month >= earliest:
            months.append((f"{month:%Y-%m}", f"{month:%Y-%m}"))
            previous = month.year * 12 + month.month - 2
            month = date(previous // 12, previous % 12 + 1, 1)
        return months

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        try:
            period = date(int(value[:4]), int(value[5:7]), 1)
        except ValueError:
            return queryset.none()
        return queryset.filter(period=period)


@admin.register(Usage)
class UsageAdmin(HistoryAdmin, LargeTableAdmin):
    """Usage months as network systems report them: read here, loaded by the API or the CSV
    import (the link above the list, for those with the model's add and change permissions)."""

    list_display = (
        "month",
        "account_number",
        "gb_down",
        "gb_up",
        "hours_online",
        "peak_devices",
        "people",
        "received_at",
    )
    list_filter = (MonthFilter,)
    list_select_related = ("subscriber",)
    search_fields = ("=subscriber__account_number",)
    search_help_text = _("Exact account number.")
    raw_id_fields = ("subscriber",)
    # The period index serves the newest months first; other sorts would scan the table.
    sortable_by = ()
    ordering = ("-period", "-id")
    change_list_template = "admin/subscribers/usage/change_list.html"

    @admin.display(description=_("month"), ordering="period")
    def month(self, usage: Usage) -> str:
        return f"{usage.period:%Y-%m}"

    @admin.display(description=_("account number"))
    def account_number(self, usage: Usage) -> str:
        return usage.subscriber.account_number

    def get_urls(self) -> list[Any]:
        # First: ModelAdmin's "<path:object_id>/" catch-all would otherwise take "import/".
        return [*usage_import_urls(self), *super().get_urls()]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        may_import = request.user.has_perms(["subscribers.add_usage", "subscribers.change_usage"])
        return super().changelist_view(request, {**(extra_context or {}), "may_import": may_import})


@admin.register(TariffFit)
class TariffFitAdmin(HistoryAdmin, LargeTableAdmin):
    """Each subscriber's tariff fit as last computed: read only."""

    list_display = (
        "subscriber",
        "verdict",
        "saving",
        "current_cost",
        "best_plan",
        "best_cost",
        "months",
        "computed_on",
    )
    list_filter = ("verdict",)
    list_select_related = ("subscriber", "best_plan")
    search_fields = ("=subscriber__account_number",)
    search_help_text = _("Exact account number.")
    raw_id_fields = ("subscriber", "best_plan")
    # Biggest saving first, by its index; the only other order offered is the saving's reverse.
    sortable_by = ("saving",)
    ordering = ("-saving", "subscriber_id")
