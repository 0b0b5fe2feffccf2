"""Billing delivery in the admin: endpoints (written through retention.billing.services, with
their history), the deliveries with their log, and redelivery."""

import re
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import AbstractUser
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from standardwebhooks.webhooks import Webhook

from retention.billing.services import (
    delivery_redeliver,
    endpoint_disable,
    endpoint_enable,
    endpoint_save,
)
from retention.core.refusals import Refusal
from retention.models import (
    DeliveryAttempt,
    EndpointHistory,
    EventDelivery,
    User,
    WebhookEndpoint,
)
from subscribers.admin import (
    HistoryAdmin,
    LargeTableAdmin,
    ServiceWrittenAdmin,
    TabularInline,
    admin_actor,
    history_link,
)
from subscribers.models import OutboundEvent

EDITABLE = ("name", "url", "secret", "event_types", "enabled")


class WebhookEndpointForm(forms.ModelForm):
    event_types = forms.MultipleChoiceField(
        label=_("event types"),
        choices=OutboundEvent.Type.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The events this endpoint receives."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = EDITABLE

    def clean_url(self) -> str:
        url: str = self.cleaned_data["url"]
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError(_("The URL must start with https:// or http://."))
        return url

    def clean_secret(self) -> str:
        secret: str = self.cleaned_data["secret"].strip()
        try:
            Webhook(secret)
        except Exception as exc:  # the library raises several kinds for a malformed secret
            raise forms.ValidationError(
                _("A secret is “whsec_” followed by base64 (at least 24 bytes).")
            ) from exc
        # Webhook() above skips what is not base64 and takes a secret without the prefix.
        body = secret.removeprefix("whsec_")
        if body == secret or len(body) < 32 or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", body):
            raise forms.ValidationError(
                _("A secret is “whsec_” followed by base64 (at least 24 bytes).")
            )
        return secret


def _actor(request: HttpRequest) -> User:
    actor: AbstractUser = admin_actor(request)
    return actor  # type: ignore[return-value]


def _each(request: HttpRequest, queryset: QuerySet[Any], service: Any, key: str, done: Any) -> None:
    """Call ``service`` for each chosen row; a refusal is reported, the others go on.
    ``done(count)`` says what was done."""
    count = 0
    for obj in queryset:
        try:
            service(**{key: obj, "actor": _actor(request)})
        except Refusal as exc:
            messages.warning(request, f"{obj}: {exc}")
        else:
            count += 1
    if count:
        messages.success(request, done(count))


def _enabled(count: int) -> str:
    return ngettext("%(count)s endpoint enabled.", "%(count)s endpoints enabled.", count) % {
        "count": count
    }


def _disabled(count: int) -> str:
    return ngettext("%(count)s endpoint disabled.", "%(count)s endpoints disabled.", count) % {
        "count": count
    }


def _redelivered(count: int) -> str:
    return ngettext(
        "%(count)s delivery will be sent again.", "%(count)s deliveries will be sent again.", count
    ) % {"count": count}


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ServiceWrittenAdmin):
    """Registered, changed, enabled and disabled through retention.billing.services, which
    records who did it. An endpoint is disabled, never deleted: its delivery log stays."""

    form = WebhookEndpointForm
    list_display = ("name", "url", "enabled", "failing_since", "created_at")
    list_filter = ("enabled",)
    fields = (*EDITABLE, "failing_since", "history", "deliveries")
    readonly_fields = ("failing_since", "history", "deliveries")
    actions = ("enable", "disable")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("history"))
    def history(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.pk is None:
            return "—"
        return history_link(
            "admin:retention_endpointhistory_changelist",
            _("Who changed this endpoint, and when"),
            endpoint__id__exact=endpoint.pk,
        )

    @admin.display(description=_("deliveries"))
    def deliveries(self, endpoint: WebhookEndpoint) -> str:
        if endpoint.pk is None:
            return "—"
        return history_link(
            "admin:retention_eventdelivery_changelist",
            _("What was sent to it, with each attempt"),
            endpoint__id__exact=endpoint.pk,
        )

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        values = {name: form.cleaned_data[name] for name in EDITABLE}
        saved = endpoint_save(
            endpoint=obj if change else None, values=values, actor=_actor(request)
        )
        obj.pk = saved.pk

    @admin.action(description=_("Enable the chosen endpoints"))
    def enable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        _each(request, queryset, endpoint_enable, "endpoint", _enabled)

    @admin.action(description=_("Disable the chosen endpoints"))
    def disable(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        _each(request, queryset, endpoint_disable, "endpoint", _disabled)


@admin.register(EndpointHistory)
class EndpointHistoryAdmin(HistoryAdmin):
    list_display = ("at", "actor", "endpoint", "action", "changes", "note")
    list_filter = ("action", "endpoint")
    list_select_related = ("actor", "endpoint")
    ordering = ("-at", "-id")


class AttemptInline(TabularInline):
    model = DeliveryAttempt
    fields = ("at", "succeeded", "status_code", "error", "latency_ms", "response_excerpt")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-at",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EventDelivery)
class EventDeliveryAdmin(HistoryAdmin, LargeTableAdmin):
    """Each event on its way to each endpoint, with every attempt. Read only, but for asking
    to send again."""

    list_display = (
        "id",
        "created_at",
        "event_type",
        "subscriber",
        "endpoint",
        "state",
        "attempts",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("state", "endpoint")
    list_select_related = ("event", "endpoint", "subscriber")
    search_fields = ("=subscriber__account_number", "=event__event_id")
    search_help_text = _("Exact account number or event id.")
    sortable_by = ()
    ordering = ("-id",)
    fields = (
        "event",
        "endpoint",
        "subscriber",
        "state",
        "attempts",
        "first_attempt_at",
        "next_attempt_at",
        "delivered_at",
    )
    readonly_fields = fields
    raw_id_fields = ("event", "subscriber")
    inlines = (AttemptInline,)
    actions = ("redeliver",)

    @admin.display(description=_("type"))
    def event_type(self, delivery: EventDelivery) -> str:
        return delivery.event.get_type_display()

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Send the chosen deliveries again"), permissions=["view"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[EventDelivery]) -> None:
        _each(request, queryset, delivery_redeliver, "delivery", _redelivered)
