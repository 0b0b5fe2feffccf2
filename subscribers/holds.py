"""Subscriber fields a desk decision holds until billing confirms it, and the values from
billing (an import row, a pushed event) that met such a hold. Models of the subscribers app,
registered by subscribers.models, which imports them."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FieldHold(models.Model):
    """A subscriber field the desk changed with a decision billing has not confirmed yet (the
    decision's outbound event). Until billing answers, or an admin releases it, the import and
    pushed events leave the field as the desk set it and record a ``FieldConflict`` instead:
    the next billing file does not undo a promise billing has not applied yet."""

    class Field(models.TextChoices):
        MONTHLY_PRICE = "monthly_price", _("current monthly price")
        PLAN = "plan", _("plan")
        PROMO_ENDS_ON = "promo_ends_on", _("promo ends on")
        BALANCE = "balance", _("balance")
        STATUS = "status", _("status")
        BILLING_ENDS_ON = "billing_ends_on", _("billing ends on")

    class Released(models.TextChoices):
        APPLIED = "applied", _("Billing applied it")
        REFUSED = "refused", _("Billing refused it")
        SUPERSEDED = "superseded", _("A later decision replaced it")
        ADMIN = "admin", _("Released by an admin")

    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        on_delete=models.CASCADE,
        related_name="holds",
        verbose_name=_("subscriber"),
    )
    field = models.CharField(_("field"), max_length=20, choices=Field.choices)
    # The desk's value, as JSON text ("24.99", a plan's code, "2027-01-31", "cancelling"), and
    # the value before the decision: what the field goes back to if billing refuses it.
    value = models.JSONField(_("the desk's value"), null=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    event = models.ForeignKey(
        "subscribers.OutboundEvent",
        on_delete=models.PROTECT,
        related_name="holds",
        verbose_name=_("event"),
    )
    created_at = models.DateTimeField(_("since"), default=timezone.now)
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_because = models.CharField(
        _("released because"), max_length=10, choices=Released.choices, blank=True
    )
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("released by"),
    )

    class Meta:
        verbose_name = _("field held for billing")
        verbose_name_plural = _("fields held for billing")
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "field"],
                condition=models.Q(released_at__isnull=True),
                name="hold_one_per_field",
            )
        ]

    def __str__(self) -> str:
        return f"{self.subscriber_id}.{self.field}"


class FieldConflict(models.Model):
    """A value from billing (an import row, a pushed event) for a field the desk holds: not
    applied, and kept here for whoever resolves it. Append-only."""

    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("subscriber"),
    )
    field = models.CharField(_("field"), max_length=20, choices=FieldHold.Field.choices)
    incoming = models.JSONField(_("billing's value"), null=True)
    kept = models.JSONField(_("the desk's value, kept"), null=True)
    hold = models.ForeignKey(
        FieldHold,
        on_delete=models.SET_NULL,
        null=True,
        related_name="conflicts",
        verbose_name=_("hold"),
    )
    # "import" or the API token's source, and where: a line of the file, an event's id.
    source = models.CharField(_("source"), max_length=32)
    where = models.CharField(_("where"), max_length=120, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("conflict with billing")
        verbose_name_plural = _("conflicts with billing")
        indexes = [models.Index(fields=["-at"], name="conflict_at")]

    def __str__(self) -> str:
        return f"{self.subscriber_id}.{self.field}: {self.incoming} ≠ {self.kept}"
