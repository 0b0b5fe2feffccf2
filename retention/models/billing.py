"""Delivering the outbound events (subscribers.OutboundEvent) to billing as signed webhooks.

An admin registers an endpoint (URL, secret, the event types it wants). Each event gets one
``EventDelivery`` per endpoint that wants it: the delivery is the outbox row a worker claims,
sends and marks, and every try of it leaves a ``DeliveryAttempt`` (the delivery log).
"""

import base64
import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from retention.core.history import HistoryRecord


def webhook_secret_new() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class WebhookEndpoint(models.Model):
    """A receiver of billing events. Disabled (by an admin, or by the desk when every delivery
    has failed for ``BILLING_DISABLE_AFTER``) it is sent nothing; its events wait, in order,
    until it is enabled again."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        default=webhook_secret_new,
        help_text=_("The receiver verifies each request's signature with it (Standard Webhooks)."),
    )
    # Values of subscribers.OutboundEvent.Type.
    event_types = models.JSONField(_("event types"), default=list)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Set at the first failure after a success, cleared by the next success: how long the
    # endpoint has failed without a break.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.name


class EventDelivery(models.Model):
    """One event on its way to one endpoint: the row a worker claims (``claim``, until
    ``leased_until``), sends and marks. A lease that runs out (the worker died) lets another
    worker send it again with the same ``webhook-id``, which the receiver drops if it has it."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Failed")

    event = models.ForeignKey(
        "subscribers.OutboundEvent",
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("event"),
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    # The event's, kept here for the per-subscriber order (an index below).
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    # Since it was last sent again by an admin (the log keeps every attempt).
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claim = models.UUIDField(null=True, blank=True, editable=False)
    leased_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Retries stop when this is BILLING_RETRY_FOR ago; a redelivery starts it again.
    first_attempt_at = models.DateTimeField(_("first attempt"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("event delivery")
        verbose_name_plural = _("event deliveries")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event"], name="delivery_once_per_endpoint")
        ]
        indexes = [
            # What is due: the claim's scan.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=models.Q(state="pending"),
            ),
            # "Is an earlier event of this subscriber still on its way to this endpoint?"
            models.Index(
                fields=["endpoint", "subscriber", "event"],
                name="delivery_undelivered",
                condition=~models.Q(state="delivered"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One request to an endpoint and what came back: the delivery log. Append-only."""

    delivery = models.ForeignKey(
        EventDelivery,
        on_delete=models.CASCADE,
        related_name="log",
        verbose_name=_("delivery"),
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=200, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"))
    response_excerpt = models.CharField(_("response"), max_length=500, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        indexes = [models.Index(fields=["delivery", "at"], name="attempt_of_delivery")]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} ({self.latency_ms} ms)"


class EndpointHistory(HistoryRecord):
    """Who registered, changed, enabled or disabled an endpoint, or asked for a redelivery; a
    row without an actor is the desk's own doing (it disables an endpoint that keeps failing).
    Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", pgettext_lazy("webhook endpoint", "Created")
        CHANGED = "changed", pgettext_lazy("webhook endpoint", "Changed")
        ENABLED = "enabled", pgettext_lazy("webhook endpoint", "Enabled")
        DISABLED = "disabled", pgettext_lazy("webhook endpoint", "Disabled")
        REDELIVERED = "redelivered", pgettext_lazy("webhook endpoint", "Redelivery asked for")

    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="history",
        verbose_name=_("endpoint"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # {field: [old, new]} for a change (the secret is never written here, only that it changed).
    changes = models.JSONField(_("what changed"), default=dict, blank=True)

    class Meta:
        verbose_name = _("endpoint history")
        verbose_name_plural = _("endpoint history")
        indexes = [models.Index(fields=["endpoint", "at"], name="endpoint_history_at")]
