"""Macros: message templates an agent sends from a case, and the messages sent (the outbox)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from subscribers.models import ContactChannel

MACRO_CHANNELS = [
    (ContactChannel.EMAIL.value, ContactChannel.EMAIL.label),
    (ContactChannel.SMS.value, ContactChannel.SMS.label),
]


class MessageTemplate(models.Model):
    """A message written once in each language, with placeholders filled in when sent
    (retention.macros.rendering), and what else sending it does: a callback and a note."""

    name = models.CharField(_("name"), max_length=120)
    reasons = models.ManyToManyField(
        "retention.CancellationReason",
        blank=True,
        related_name="+",
        verbose_name=_("offered first for these reasons"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=MACRO_CHANNELS)
    subject_en = models.CharField(_("e-mail subject (English)"), max_length=150, blank=True)
    subject_lv = models.CharField(_("e-mail subject (Latvian)"), max_length=150, blank=True)
    subject_ru = models.CharField(_("e-mail subject (Russian)"), max_length=150, blank=True)
    body_en = models.TextField(_("message (English)"))
    body_lv = models.TextField(_("message (Latvian)"), blank=True)
    body_ru = models.TextField(_("message (Russian)"), blank=True)
    callback_days = models.PositiveSmallIntegerField(
        _("call back after days"),
        null=True,
        blank=True,
        help_text=_("At the time below in the subscriber's time zone."),
    )
    callback_time = models.TimeField(_("call back at"), null=True, blank=True)
    callback_hours = models.PositiveSmallIntegerField(
        _("call back after hours"), null=True, blank=True
    )
    note = models.TextField(_("note added to the case"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["name", "id"]
        constraints = [
            # A callback is either "after N days at a time" or "after N hours", never both.
            models.CheckConstraint(
                condition=models.Q(callback_days__isnull=True, callback_time__isnull=True)
                | models.Q(callback_days__isnull=False, callback_time__isnull=False),
                name="macro_callback_days_with_time",
            ),
            models.CheckConstraint(
                condition=models.Q(callback_days__isnull=True)
                | models.Q(callback_hours__isnull=True),
                name="macro_one_callback_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CaseMessage(models.Model):
    """One message an agent sent from a case: the outbox row, created with the contact it
    counts as, before any send; sent once under its key by retention.macros.sending."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    case = models.ForeignKey(
        "retention.CancellationCase", on_delete=models.CASCADE, related_name="messages"
    )
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="+"
    )
    contact = models.OneToOneField(
        "retention.ContactAttempt", on_delete=models.CASCADE, related_name="message"
    )
    template = models.ForeignKey(
        MessageTemplate, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The form's one-time key: a double click or a retried request finds the row it made.
    key = models.CharField(_("key"), max_length=64, unique=True)
    channel = models.CharField(_("channel"), max_length=10, choices=MACRO_CHANNELS)
    language = models.CharField(_("language"), max_length=5)
    to = models.CharField(_("to"), max_length=254)
    subject = models.CharField(_("subject"), max_length=150, blank=True)
    body = models.TextField(_("message"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="pending")
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("case message")
        verbose_name_plural = _("case messages")
        indexes = [
            # The sweep: messages a dead worker left claimed, or whose task was lost.
            models.Index(
                fields=["created_at"],
                name="case_message_unsent",
                condition=models.Q(state__in=["pending", "sending"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.channel} {self.state}"
