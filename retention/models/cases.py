"""Cancellation cases, their reasons, their history and the contacts with the subscriber."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from offers.models import ReasonCategory
from retention.core.history import HistoryRecord
from subscribers.models import ContactChannel
from subscribers.phrases import said


class CancellationReason(models.Model):
    """Why subscribers leave; managed in the admin. ``category`` drives the offer builder."""

    # The categories live with the offer catalogue, whose eligibility is written in them.
    Category = ReasonCategory

    code = models.SlugField(_("code"), max_length=40, unique=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    name_en = models.CharField(_("name (English)"), max_length=100)
    name_lv = models.CharField(_("name (Latvian)"), max_length=100, blank=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("cancellation reason")
        verbose_name_plural = _("cancellation reasons")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        language = get_language() or "en"
        return getattr(self, f"name_{language[:2]}", "") or self.name_en


# The open statuses, as the partial indexes and constraints below spell them.
_OPEN = ["new", "in_progress", "offer_pending", "offer_presented"]


class CancellationCase(models.Model):
    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        WEB = "web", _("Web")
        EMAIL = "email", _("E-mail")
        SHOP = "shop", _("Shop")
        PORT_OUT = "port_out", _("Port-out notice")

    class Status(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        OFFER_PENDING = "offer_pending", _("Offer pending")
        OFFER_PRESENTED = "offer_presented", _("Offer presented")
        SAVED = "saved", _("Saved")
        CANCELLED = "cancelled", _("Cancelled")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN_STATUSES = (Status.NEW, Status.IN_PROGRESS, Status.OFFER_PENDING, Status.OFFER_PRESENTED)
    CLOSED_STATUSES = (Status.SAVED, Status.CANCELLED, Status.WITHDRAWN)

    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.PROTECT, related_name="cases"
    )
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    reason = models.ForeignKey(
        CancellationReason,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("reason"),
    )
    reason_detail = models.TextField(_("in the subscriber's words"), blank=True)
    competitor = models.CharField(_("competitor"), max_length=100, blank=True)
    requested_end_date = models.DateField(_("requested end date"), null=True, blank=True)
    process_by = models.DateField(_("process by"))
    first_contact_due = models.DateTimeField(_("first contact due"))
    first_contacted_at = models.DateTimeField(_("first contacted"), null=True, blank=True)
    priority = models.PositiveIntegerField(_("priority"), default=0)
    priority_explained = models.JSONField(_("priority, explained"), default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("owner"),
    )
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    callback_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("opened by"),
    )
    source = models.CharField(_("source"), max_length=32, default="desk")
    external_id = models.CharField(  # noqa: DJ001 - NULL keeps desk cases out of the constraint
        _("external id"), max_length=100, null=True, blank=True
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    outcome_note = models.TextField(_("outcome"), blank=True)
    effective_date = models.DateField(_("cancellation effective"), null=True, blank=True)
    auto_processed = models.BooleanField(
        _("processed at the deadline"),
        default=False,
        help_text=_("Closed by the deadline sweep because nobody resolved it in time."),
    )

    class Meta:
        verbose_name = _("cancellation case")
        verbose_name_plural = _("cancellation cases")
        constraints = [
            # At most one open case per subscriber: two agents must never work the same request.
            models.UniqueConstraint(
                fields=["subscriber"],
                condition=models.Q(status__in=_OPEN),
                name="case_one_open_per_subscriber",
            ),
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="case_source_external_id_uniq",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["saved", "cancelled", "withdrawn"])
                | models.Q(closed_at__isnull=False),
                name="case_closed_has_closed_at",
            ),
        ]
        indexes = [
            # The queue: open cases by priority, then due time, then id. Partial on the open
            # statuses and without the status column, so one ordered index scan serves the
            # page (a leading status column would make PostgreSQL merge four ranges and sort).
            models.Index(
                models.F("priority").desc(),
                "first_contact_due",
                "id",
                name="case_queue_open",
                condition=models.Q(status__in=_OPEN),
            ),
            models.Index(
                models.F("priority").desc(),
                "first_contact_due",
                "id",
                name="case_unclaimed",
                condition=models.Q(status="new", owner__isnull=True),
            ),
            models.Index(fields=["owner", "status"], name="case_owner_status"),
            # The overdue count: open cases whose first contact is late.
            models.Index(
                fields=["first_contact_due"],
                name="case_open_uncontacted_due",
                condition=models.Q(
                    status__in=_OPEN,
                    first_contacted_at__isnull=True,
                ),
            ),
            # The dashboard's figures are computed a closing day at a time.
            models.Index(
                fields=["closed_at"],
                name="case_closed_at",
                condition=models.Q(closed_at__isnull=False),
            ),
            # The deadline sweep and the overdue count read open cases by process-by date.
            models.Index(
                fields=["process_by"],
                name="case_open_process_by",
                condition=models.Q(status__in=_OPEN),
            ),
            # The queue sorted by a column (retention.queue.selectors.SORTS): the column, then
            # the id that breaks ties, so each page is one index scan from the cursor, either
            # way (PostgreSQL reads a B-tree backwards for the descending sort).
            *(
                models.Index(
                    fields=[column, "id"],
                    name=f"case_open_by_{column}",
                    condition=models.Q(status__in=_OPEN),
                )
                for column in ("priority", "first_contact_due", "process_by", "opened_at")
            ),
            # "My callbacks today": an agent's open cases with a callback, by its time.
            models.Index(
                fields=["owner", "callback_at"],
                name="case_owner_callback",
                condition=models.Q(status__in=_OPEN, callback_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subscriber_id} {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_port_out(self) -> bool:
        return self.channel == self.Channel.PORT_OUT


class CaseHistory(HistoryRecord):
    """Who did what to a case, when, from what to what, and why. Append-only."""

    class Action(models.TextChoices):
        OPENED = "opened", _("Opened")
        CLAIMED = "claimed", _("Claimed")
        RELEASED = "released", _("Released")
        REASSIGNED = "reassigned", _("Reassigned")
        REASON = "reason", _("Reason changed")
        NOTE = "note", _("Note")
        CONTACT = "contact", _("Contact logged")
        CONTACT_REFUSED = "contact_refused", _("Contact refused by the policy")
        CALLBACK = "callback", _("Callback set")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CANCELLED = "cancelled", _("Cancellation processed")
        AUTO_CANCELLED = "auto_cancelled", _("Processed at the deadline")
        OFFER = "offer", _("Offer")
        SAVED = "saved", _("Saved: offer accepted")
        REOPENED = "reopened", _("Reopened: billing refused the offer")

    case = models.ForeignKey(CancellationCase, on_delete=models.CASCADE, related_name="history")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("from"), max_length=20, blank=True, choices=CancellationCase.Status.choices
    )
    to_status = models.CharField(
        _("to"), max_length=20, blank=True, choices=CancellationCase.Status.choices
    )

    class Meta:
        verbose_name = _("case history entry")
        verbose_name_plural = _("case history")
        indexes = [models.Index(fields=["case", "-at", "-id"], name="case_history_recent")]

    @property
    def text(self) -> str:
        return said(self)


class ContactAttempt(models.Model):
    class Direction(models.TextChoices):
        OUTBOUND = "outbound", _("Outbound")
        INBOUND = "inbound", _("Inbound")

    class Outcome(models.TextChoices):
        REACHED = "reached", _("Reached")
        NO_ANSWER = "no_answer", _("No answer")
        VOICEMAIL = "voicemail", _("Voicemail")
        CALLBACK_REQUESTED = "callback_requested", _("Callback requested")
        REFUSED = "refused", _("Refused to talk")
        # Only a message sent from the case (retention.macros) is logged with this outcome.
        MESSAGE_SENT = "message_sent", _("Message sent")

    case = models.ForeignKey(
        CancellationCase, on_delete=models.CASCADE, null=True, blank=True, related_name="contacts"
    )
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="contact_attempts"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    # What the agent wrote; what the desk notes itself is a phrase (subscribers.phrases).
    note = models.TextField(_("note"), blank=True)
    code = models.CharField(_("phrase"), max_length=40, blank=True, default="")
    params = models.JSONField(_("phrase parameters"), default=dict, blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )

    class Meta:
        verbose_name = _("contact attempt")
        verbose_name_plural = _("contact attempts")
        indexes = [models.Index(fields=["case", "-at"], name="contact_case_recent")]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.get_outcome_display()}"
