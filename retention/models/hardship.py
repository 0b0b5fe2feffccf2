"""Hardship arrangements: a payment deferral's or split payment's schedule, kept or broken by
the payments billing reports (retention.hardship)."""

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from retention.core.history import HistoryRecord
from retention.models.cases import CancellationCase


class HardshipArrangement(models.Model):
    """What a subscriber in hardship owed when they accepted a deferral or split payment, and
    the instalments they pay it in. While it is kept, billing holds late fees and suspension."""

    class Kind(models.TextChoices):
        DEFERRAL = "deferral", _("Payment deferral")
        SPLIT = "split", _("Split payment")

    class Status(models.TextChoices):
        KEPT = "kept", _("Kept")
        BROKEN = "broken", _("Broken")
        COMPLETED = "completed", _("Completed")
        # Billing refused the offer: it never booked the schedule.
        CANCELLED = "cancelled", pgettext_lazy("payment arrangement", "Cancelled")

    # The tick looks at these: payments may still arrive, an instalment may still be missed.
    OPEN_STATUSES = (Status.KEPT, Status.BROKEN)

    subscriber = models.ForeignKey(
        "subscribers.Subscriber",
        on_delete=models.CASCADE,
        related_name="hardship_arrangements",
        verbose_name=_("subscriber"),
    )
    offer = models.OneToOneField(
        "offers.CounterOffer",
        on_delete=models.PROTECT,
        related_name="hardship_arrangement",
        verbose_name=_("offer"),
    )
    case = models.ForeignKey(
        CancellationCase,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    owed = models.DecimalField(
        _("owed at acceptance"),
        max_digits=10,
        decimal_places=2,
        help_text=_("The subscriber's balance when they accepted the offer."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.KEPT
    )
    grace_days = models.PositiveSmallIntegerField(
        _("grace days"), help_text=_("An instalment is missed this many days after it is due.")
    )
    # The subscriber's newest payment event when the offer was accepted (under the lock that
    # the payments' own application takes): that one and those before it were in the balance
    # owed; the ones after count towards the instalments.
    payments_after = models.BigIntegerField(_("payments counted after event"), default=0)
    created_at = models.DateTimeField(_("started"), default=timezone.now)
    status_changed_at = models.DateTimeField(_("status since"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)

    class Meta:
        verbose_name = _("hardship arrangement")
        verbose_name_plural = _("hardship arrangements")
        constraints = [
            models.CheckConstraint(condition=Q(owed__gt=0), name="hardship_owed_positive"),
        ]
        indexes = [
            # The tick walks the open arrangements only, in id order; completed ones pile up.
            models.Index(
                fields=["id"],
                name="hardship_open",
                condition=Q(status__in=["kept", "broken"]),
            ),
            # The subscriber page and the case pane: a subscriber's newest arrangement.
            models.Index(fields=["subscriber", "-created_at"], name="hardship_subscriber_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class Instalment(models.Model):
    class State(models.TextChoices):
        DUE = "due", _("Due")
        PAID = "paid", _("Paid")
        MISSED = "missed", _("Missed")

    arrangement = models.ForeignKey(
        HardshipArrangement, on_delete=models.CASCADE, related_name="instalments"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    due_on = models.DateField(_("due on"))
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    paid = models.DecimalField(_("paid"), max_digits=10, decimal_places=2, default=Decimal("0.00"))
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="due")

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["arrangement", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["arrangement", "number"], name="instalment_number_unique"
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="instalment_amount_positive"),
            models.CheckConstraint(
                condition=Q(paid__gte=0) & Q(paid__lte=F("amount")),
                name="instalment_paid_within_amount",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}: {self.amount} {self.due_on}"

    @property
    def left(self) -> Decimal:
        return self.amount - self.paid


class HardshipPayment(models.Model):
    """A payment billing reported (a timeline event of kind payment) as it was counted towards
    an arrangement: the unique event makes counting it twice impossible, whoever runs the
    tick and however often."""

    arrangement = models.ForeignKey(
        HardshipArrangement, on_delete=models.CASCADE, related_name="payments"
    )
    event = models.OneToOneField(
        "subscribers.TimelineEvent",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("payment"),
    )
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    counted = models.DecimalField(
        _("counted"),
        max_digits=10,
        decimal_places=2,
        help_text=_("What went to the instalments; the rest was more than they owed."),
    )
    # {instalment number: amount}, as text: which instalments this payment paid.
    instalments = models.JSONField(_("instalments paid"), default=dict, blank=True)
    at = models.DateTimeField(_("counted at"), default=timezone.now)

    class Meta:
        verbose_name = _("hardship payment")
        verbose_name_plural = _("hardship payments")

    def __str__(self) -> str:
        return f"{self.amount} → #{self.arrangement_id}"


class ArrangementHistory(HistoryRecord):
    """Who (or the tick) moved an arrangement from what to what, and why. Append-only."""

    class Action(models.TextChoices):
        STARTED = "started", _("Started")
        PAID = "paid", _("Instalment paid")
        BROKEN = "broken", _("Broken")
        RECOVERED = "recovered", _("Recovered")
        COMPLETED = "completed", _("Completed")
        CANCELLED = "cancelled", _("Cancelled: billing refused the offer")

    arrangement = models.ForeignKey(
        HardshipArrangement, on_delete=models.CASCADE, related_name="history"
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("from"), max_length=10, blank=True, choices=HardshipArrangement.Status.choices
    )
    to_status = models.CharField(
        _("to"), max_length=10, blank=True, choices=HardshipArrangement.Status.choices
    )

    class Meta:
        verbose_name = _("arrangement history entry")
        verbose_name_plural = _("arrangement history")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["arrangement", "at"], name="arrangement_history_at")]
