"""Reminders (the source of truth for what is due) and in-app notices to staff."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from retention.models.cases import CancellationCase
from subscribers.phrases import said


class Notification(models.Model):
    """An in-app notice to a member of staff."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # A phrase (subscribers.phrases), said in the reader's language on the page and in the
    # recipient's in an e-mail; ``text`` only for notices written before phrases.
    code = models.CharField(_("phrase"), max_length=40, blank=True, default="")
    params = models.JSONField(_("phrase parameters"), default=dict, blank=True)
    text = models.CharField(_("text"), max_length=300, blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    # A reminder delivers one notification to each of its recipients, however often its
    # delivery is attempted (the unique constraint below).
    reminder = models.ForeignKey(
        "retention.Reminder",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )
    # E-mail to staff who opted in: claimed, then marked sent after the send.
    email_state = models.CharField(
        _("e-mail"),
        max_length=10,
        blank=True,
        default="",
        choices=[
            ("", "—"),
            ("pending", _("Pending")),
            ("sending", _("Sending")),
            ("sent", _("Sent")),
        ],
    )
    email_claimed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["recipient", "-created_at"],
                name="notification_unread",
                condition=models.Q(read_at__isnull=True),
            ),
            models.Index(
                fields=["email_claimed_at"],
                name="notification_email_due",
                condition=models.Q(email_state__in=["pending", "sending"]),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reminder", "recipient"],
                condition=models.Q(reminder__isnull=False),
                name="notification_once_per_reminder",
            )
        ]

    def __str__(self) -> str:
        return said(self)


class Reminder(models.Model):
    """Something somebody must not forget, due at a time: the source of truth for reminders.

    A beat tick every minute delivers the due ones (retention.reminders); a Celery countdown is
    never used for the wait. ``key`` makes scheduling idempotent: the same reminder asked for
    twice is one row.
    """

    class Kind(models.TextChoices):
        CALLBACK = "callback", _("Callback due")
        SLA_WARNING = "sla_warning", _("First contact due soon")
        SLA_BREACHED = "sla_breached", _("First contact overdue")
        APPROVAL_WAITING = "approval_waiting", _("Offer waiting for approval")
        PROCESS_BY = "process_by", _("Process-by date approaching")
        EQUIPMENT_RETURN = "equipment_return", _("Equipment return due")
        DISCOUNT_ENDING = "discount_ending", _("Retention discount ending")
        PAUSE_ENDING = "pause_ending", _("Paused service resumes soon")
        BILLING_REFUSED = "billing_refused", _("Billing refused a decision")
        BILLING_UNCONFIRMED = "billing_unconfirmed", _("Billing has not confirmed an offer")

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Delivered")
        CANCELLED = "cancelled", _("No longer needed")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    key = models.CharField(_("key"), max_length=120, unique=True)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="reminders",
        verbose_name=_("for"),
        help_text=_("Empty when the reminder goes to the subscriber."),
    )
    case = models.ForeignKey(
        CancellationCase, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    offer = models.ForeignKey(
        "offers.CounterOffer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    due_at = models.DateTimeField(_("due"))
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("reminder")
        verbose_name_plural = _("reminders")
        indexes = [
            # The tick: pending reminders by due time.
            models.Index(
                fields=["due_at"], name="reminder_pending_due", condition=models.Q(state="pending")
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_at:%Y-%m-%d %H:%M}"
