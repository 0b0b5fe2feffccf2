"""Django admin for the offer catalogue and who may approve what, for the system administrator.

The catalogue and the authority tiers are edited here; every form checks what the database
constraints would refuse and says so in words, so a mistake is a form error, never a 500. A tier
is saved and deleted by offers.tiers, which records who changed which limit from what to what.
Counter-offers are read-only: they change only through offers.services, which keeps their
history.
"""

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.models import AbstractUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from offers.authority import delegation_period_problem
from offers.delegation import FIELDS as DELEGATION_FIELDS
from offers.delegation import (
    delegation_change,
    delegation_create,
    delegation_delete,
)
from offers.exceptions import InvalidTerms
from offers.models import (
    ApprovalDelegation,
    AuthorityTier,
    AuthorityTierChange,
    CounterOffer,
    DelegationChange,
    OfferHistory,
    OfferTemplate,
    ReasonCategory,
)
from offers.pricing import Terms, terms_validate
from offers.tiers import TIER_FIELDS, authority_tier_delete, authority_tier_save
from retention.core.roles import Role, has_role
from subscribers.admin import (
    HistoryAdmin,
    LargeTableAdmin,
    ListEditableNamedMixin,
    ServiceWrittenAdmin,
    TabularInline,
    admin_actor,
    history_link,
)
from subscribers.models import Subscriber

# --- Catalogue ----------------------------------------------------------------------------------


def _in_choice_order(selected: list[str], choices: list[tuple[str, Any]]) -> list[str]:
    return [value for value, _label in choices if value in selected]


class OfferTemplateForm(forms.ModelForm):
    # Stored as JSON lists of choice values; ticking nothing means "any".
    segments = forms.MultipleChoiceField(
        label=_("segments"),
        choices=Subscriber.Segment.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Tick none for every segment."),
    )
    reason_categories = forms.MultipleChoiceField(
        label=_("reasons"),
        choices=ReasonCategory.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Tick none for any reason."),
    )

    class Meta:
        model = OfferTemplate
        fields = (
            "code",
            "name_en",
            "name_lv",
            "name_ru",
            "is_active",
            "position",
            "kind",
            "percent",
            "amount",
            "months",
            "days",
            "new_plan",
            "to_fitting_plan",
            "min_tenure_months",
            "segments",
            "reason_categories",
        )

    def clean_segments(self) -> list[str]:
        return _in_choice_order(self.cleaned_data["segments"], Subscriber.Segment.choices)

    def clean_reason_categories(self) -> list[str]:
        return _in_choice_order(self.cleaned_data["reason_categories"], ReasonCategory.choices)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        terms_fields = (
            "kind",
            "percent",
            "amount",
            "months",
            "days",
            "new_plan",
            "to_fitting_plan",
        )
        # A field that is already wrong (e.g. "abc" as a percentage) has its own error.
        if any(name in self.errors for name in terms_fields):
            return cleaned
        terms = Terms(
            kind=cleaned.get("kind") or "",
            percent=cleaned.get("percent"),
            amount=cleaned.get("amount"),
            months=cleaned.get("months") or 0,
            days=cleaned.get("days") or 0,
            new_plan=cleaned.get("new_plan"),
            fitting=bool(cleaned.get("to_fitting_plan")),
        )
        try:
            terms_validate(terms)
        except InvalidTerms as exc:
            raise forms.ValidationError(str(exc), code="invalid_terms") from exc
        return cleaned


@admin.register(OfferTemplate)
class OfferTemplateAdmin(ListEditableNamedMixin, admin.ModelAdmin):
    form = OfferTemplateForm
    list_display = (
        "code",
        "name",
        "kind",
        "terms",
        "min_tenure_months",
        "is_active",
        "position",
    )
    list_display_links = ("code", "name")
    list_editable = ("is_active", "position")
    list_filter = ("kind", "is_active")
    list_select_related = ("new_plan",)
    search_fields = ("code", "name_en", "name_lv", "name_ru")
    autocomplete_fields = ("new_plan",)
    fieldsets = (
        (None, {"fields": ("code", "name_en", "name_lv", "name_ru", "is_active", "position")}),
        (
            _("Terms"),
            {
                "fields": (
                    "kind",
                    "percent",
                    "amount",
                    "months",
                    "days",
                    "new_plan",
                    "to_fitting_plan",
                ),
                "description": _(
                    "Fill in what the kind needs and leave the rest empty: a percentage "
                    "discount needs the percentage and months; a fixed discount or loyalty perk "
                    "the amount and months; free months the months; a one-time credit or "
                    "service fix the amount; a payment deferral the days; a split payment the "
                    "number of instalments as months; a speed upgrade the faster plan; a pause "
                    "the months (within the desk's bounds, PAUSE_MIN_MONTHS to "
                    "PAUSE_MAX_MONTHS) and the fee while paused as the amount (0: free). A plan "
                    "change without a plan is the loyalty tariff."
                ),
            },
        ),
        (_("Who it suits"), {"fields": ("min_tenure_months", "segments", "reason_categories")}),
    )

    @admin.display(description=_("name"), ordering="name_en")
    def name(self, obj: OfferTemplate) -> str:
        return obj.label

    @admin.display(description=_("terms"))
    def terms(self, obj: OfferTemplate) -> str:
        parts = []
        if obj.percent is not None:
            parts.append(f"{obj.percent.normalize():f}%")
        if obj.amount is not None:
            parts.append(f"€{obj.amount}")
        if obj.months:
            parts.append(ngettext("%(n)s month", "%(n)s months", obj.months) % {"n": obj.months})
        if obj.days:
            parts.append(ngettext("%(n)s day", "%(n)s days", obj.days) % {"n": obj.days})
        if obj.new_plan is not None:
            parts.append(f"→ {obj.new_plan.name}")
        if obj.to_fitting_plan:
            parts.append(f"→ {_('the plan that fits')}")
        return " · ".join(parts) or "—"


# --- Authority ----------------------------------------------------------------------------------


class AuthorityTierForm(forms.ModelForm):
    class Meta:
        model = AuthorityTier
        fields = ("name", "rank", "group", "user", "max_monthly", "max_total", "max_cumulative")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        has_group = cleaned.get("group") is not None
        has_user = cleaned.get("user") is not None
        # Errors on fields, not on the form, so the database constraints are not checked again
        # with their technical messages.
        if has_group and has_user:
            self.add_error("user", _("Choose a group or a user, not both."))
        elif not has_group and not has_user and "group" not in self.errors:
            self.add_error("group", _("Choose the group (or the one user) this tier is for."))
        for name in ("max_monthly", "max_total", "max_cumulative"):
            value = cleaned.get(name)
            if value is not None and value < 0:
                self.add_error(name, _("A limit cannot be negative."))
        return cleaned


@admin.register(AuthorityTier)
class AuthorityTierAdmin(ServiceWrittenAdmin):
    """Tiers change through offers.tiers, which records who changed which limit."""

    form = AuthorityTierForm
    list_display = ("name", "rank", "group", "user", "max_monthly", "max_total", "max_cumulative")
    list_select_related = ("group", "user")
    autocomplete_fields = ("user",)
    fields = (*TIER_FIELDS, "history")
    readonly_fields = ("history",)

    @admin.display(description=_("history"))
    def history(self, tier: AuthorityTier) -> str:
        if tier.pk is None:
            return "—"
        return history_link(
            "admin:offers_authoritytierchange_changelist",
            _("Who changed this tier's limits, and when"),
            tier__id__exact=tier.pk,
        )

    def save_model(self, request: HttpRequest, obj: AuthorityTier, form: Any, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in TIER_FIELDS}
        saved = authority_tier_save(
            tier=obj if change else None, values=values, actor=admin_actor(request)
        )
        obj.pk = saved.pk

    def delete_one(self, obj: AuthorityTier, actor: AbstractUser) -> None:
        authority_tier_delete(tier=obj, actor=actor)


@admin.register(AuthorityTierChange)
class AuthorityTierChangeAdmin(HistoryAdmin):
    """Who created, changed or deleted which tier, from what to what. Read-only."""

    list_display = ("at", "actor", "tier_name", "action", "what")
    list_filter = ("action", "tier")
    list_select_related = ("actor",)
    search_fields = ("tier_name",)
    ordering = ("-at", "-id")
    fields = ("at", "actor", "action", "tier", "tier_name", "what", "note")
    readonly_fields = fields

    @admin.display(description=_("what changed"))
    def what(self, change: AuthorityTierChange) -> str:
        return change.text

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuthorityTierChange]:
        return super().get_queryset(request).select_related("actor", "tier")


class ApprovalDelegationForm(forms.ModelForm):
    class Meta:
        model = ApprovalDelegation
        fields = ("delegator", "delegate", "starts_at", "ends_at", "note")
        # The model calls both the delegator and the start "from"; on one form that confuses.
        labels = {"delegator": _("manager who is away"), "delegate": _("approvals go to")}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        delegator, delegate = cleaned.get("delegator"), cleaned.get("delegate")
        if delegator is not None and delegate is not None:
            if delegator == delegate:
                self.add_error(
                    "delegate", _("A manager cannot hand their approvals to themselves.")
                )
            elif not has_role(delegate, Role.MANAGER):
                self.add_error(
                    "delegate",
                    _("%(user)s is not a manager, so could not approve anything.")
                    % {"user": delegate},
                )
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at is not None and ends_at is not None:
            problem = delegation_period_problem(starts_at=starts_at, ends_at=ends_at)
            if problem:
                self.add_error("ends_at", problem)
        return cleaned


@admin.register(ApprovalDelegation)
class ApprovalDelegationAdmin(ServiceWrittenAdmin):
    """Admins correct hand-overs here (managers hand over on the delegation page), through
    offers.delegation, which records each."""

    form = ApprovalDelegationForm
    list_display = ("away", "stand_in", "starts_at", "ends_at", "note")
    autocomplete_fields = ("delegator", "delegate")
    fields = (*DELEGATION_FIELDS, "history")
    readonly_fields = ("history",)
    ordering = ("-starts_at",)

    @admin.display(description=_("manager who is away"), ordering="delegator__username")
    def away(self, obj: ApprovalDelegation) -> str:
        return str(obj.delegator)

    @admin.display(description=_("approvals go to"), ordering="delegate__username")
    def stand_in(self, obj: ApprovalDelegation) -> str:
        return str(obj.delegate)

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApprovalDelegation]:
        # Its name is both users' names: wherever one is shown, both are needed.
        return super().get_queryset(request).select_related("delegator", "delegate")

    @admin.display(description=_("history"))
    def history(self, delegation: ApprovalDelegation) -> str:
        if delegation.pk is None:
            return "—"
        return history_link(
            "admin:offers_delegationchange_changelist",
            _("Who handed over, changed or ended this, and when"),
            delegation__id__exact=delegation.pk,
        )

    # Every write through offers.delegation, which records it.
    def save_model(
        self, request: HttpRequest, obj: ApprovalDelegation, form: Any, change: bool
    ) -> None:
        values = {name: form.cleaned_data[name] for name in DELEGATION_FIELDS}
        actor = admin_actor(request)
        if change:
            saved = delegation_change(delegation=obj, values=values, actor=actor)
        else:
            saved = delegation_create(**values, actor=actor)
        obj.pk = saved.pk

    def delete_one(self, obj: ApprovalDelegation, actor: AbstractUser) -> None:
        delegation_delete(delegation=obj, actor=actor)


@admin.register(DelegationChange)
class DelegationChangeAdmin(HistoryAdmin):
    """Who created, changed, ended or deleted which hand-over, from what to what. Read-only."""

    list_display = ("at", "actor", "action", "what")
    list_filter = ("action",)
    list_select_related = ("actor",)
    ordering = ("-at", "-id")
    fields = ("at", "actor", "action", "delegation", "what", "note")
    readonly_fields = fields

    @admin.display(description=_("what changed"))
    def what(self, change: DelegationChange) -> str:
        return change.text

    def get_queryset(self, request: HttpRequest) -> QuerySet[DelegationChange]:
        return super().get_queryset(request).select_related("actor", "delegation")


# --- Counter-offers (read-only) -----------------------------------------------------------------


class OfferHistoryInline(TabularInline):
    model = OfferHistory
    fields = ("at", "action", "from_status", "to_status", "actor", "note", "data")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[OfferHistory]:
        return super().get_queryset(request).select_related("actor").order_by("at", "pk")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CounterOffer)
class CounterOfferAdmin(LargeTableAdmin):
    """Read-only: offers change only through offers.services, which keep the history."""

    list_display = (
        "id",
        "subscriber",
        "kind",
        "status",
        "total_cost",
        "proposer",
        "decided_by",
        "proposed_at",
    )
    list_filter = ("status", "kind")
    list_select_related = ("subscriber", "proposer", "decided_by")
    search_fields = ("=id", "=subscriber__account_number")
    search_help_text = _("Offer number or account number (exact).")
    # Never a <select> of a million subscribers, should this admin ever allow changes.
    raw_id_fields = ("subscriber", "case", "proposer", "decided_by", "decided_for")
    # Newest first by the primary key: sorting by an unindexed column is not for a click.
    ordering = ("-id",)
    sortable_by = ("id",)
    inlines = (OfferHistoryInline,)
    fieldsets = (
        (None, {"fields": ("subscriber", "case", "template", "status")}),
        (_("Terms"), {"fields": ("kind", "percent", "amount", "months", "days", "new_plan")}),
        (
            _("Cost"),
            {
                "fields": (
                    "monthly_concession",
                    "counted_months",
                    "one_time_concession",
                    "total_cost",
                    "price_before",
                    "new_monthly_price",
                )
            },
        ),
        (
            _("Decision"),
            {
                "fields": (
                    "proposer",
                    "proposed_at",
                    "proposal_note",
                    "routed_tier",
                    "escalated_at",
                    "auto_approved",
                    "decided_by",
                    "decided_for",
                    "decided_at",
                    "decision_note",
                )
            },
        ),
        (
            _("Presenting and answer"),
            {
                "fields": (
                    "valid_until",
                    "deadline",
                    "presented_at",
                    "answered_at",
                    "answer_note",
                    "applied_at",
                    "runs_until",
                    "resumed_at",
                )
            },
        ),
    )
    readonly_fields = ("auto_approved",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CounterOffer]:
        # The change page shows every related row; one join each instead of a query each.
        return (
            super()
            .get_queryset(request)
            .select_related(
                "subscriber",
                "case",
                "template",
                "new_plan",
                "proposer",
                "routed_tier",
                "decided_by",
                "decided_for",
            )
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
