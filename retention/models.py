import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from offers.models import OfferKind, ReasonCategory
from subscribers.models import ContactChannel
from subscribers.phrases import said

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class User(AbstractUser):
    """A member of staff. Roles are the groups Agent, Manager and Admin (see retention.roles)."""

    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="Europe/Riga"
    )
    email_notifications = models.BooleanField(
        _("notify me by e-mail too"),
        default=False,
        help_text=_("Reminders and decisions also arrive by e-mail."),
    )
    language = models.CharField(
        _("language of e-mails"),
        max_length=8,
        choices=settings.LANGUAGES,
        blank=True,
        default="",
        help_text=_("Notifications sent by e-mail are written in it; empty: the desk's default."),
    )
    team = models.ForeignKey(
        "retention.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
        verbose_name=_("team"),
    )

    class Meta(AbstractUser.Meta):
        swappable = "AUTH_USER_MODEL"


class Heartbeat(models.Model):
    """One row, touched by the periodic heartbeat task: proof that worker and beat run."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    beat_at = models.DateTimeField(_("last beat"))
    beats = models.PositiveBigIntegerField(_("beats"), default=0)

    class Meta:
        verbose_name = _("heartbeat")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="heartbeat_singleton")]

    def __str__(self) -> str:
        return f"heartbeat #{self.beats} at {self.beat_at:%Y-%m-%d %H:%M:%S}"


class Team(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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
            # DESIGN: at most one open case per subscriber.
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
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subscriber_id} {self.get_status_display()}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_port_out(self) -> bool:
        return self.channel == self.Channel.PORT_OUT


class CaseHistory(models.Model):
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

    case = models.ForeignKey(CancellationCase, on_delete=models.CASCADE, related_name="history")
    at = models.DateTimeField(_("at"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("from"), max_length=20, blank=True, choices=CancellationCase.Status.choices
    )
    to_status = models.CharField(
        _("to"), max_length=20, blank=True, choices=CancellationCase.Status.choices
    )
    # What somebody wrote (a note, what the subscriber said). What the desk says itself is a
    # phrase (subscribers.phrases), said in the reader's language.
    note = models.TextField(_("note"), blank=True)
    code = models.CharField(_("phrase"), max_length=40, blank=True, default="")
    params = models.JSONField(_("phrase parameters"), default=dict, blank=True)

    class Meta:
        verbose_name = _("case history entry")
        verbose_name_plural = _("case history")
        indexes = [models.Index(fields=["case", "-at", "-id"], name="case_history_recent")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.from_status}→{self.to_status}"

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


class OutreachCampaign(models.Model):
    """Better terms offered proactively to subscribers who match the criteria."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        FINISHED = "finished", _("Finished")

    name = models.CharField(_("name"), max_length=120)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="draft")
    launched_at = models.DateTimeField(_("launched"), null=True, blank=True)
    fanned_out_at = models.DateTimeField(_("messages created"), null=True, blank=True)
    standing = models.BooleanField(
        _("standing"),
        default=False,
        help_text=_("Every night, subscribers who newly match are added while it runs."),
    )
    template = models.ForeignKey(
        "offers.OfferTemplate", on_delete=models.PROTECT, related_name="+", verbose_name=_("offer")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    # Criteria; empty means "any".
    min_tenure_months = models.PositiveSmallIntegerField(_("minimum tenure, months"), default=0)
    min_penalty_percent = models.PositiveSmallIntegerField(
        _("loyalty penalty at least, %"), default=0
    )
    promo_ended_days = models.PositiveSmallIntegerField(
        _("promo ended at least this many days ago"), null=True, blank=True
    )
    min_risk = models.PositiveSmallIntegerField(_("churn risk at least"), default=0)
    segment = models.CharField(_("segment"), max_length=20, blank=True)
    region = models.CharField(_("region"), max_length=64, blank=True)
    plan = models.ForeignKey(
        "subscribers.Plan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("plan"),
    )
    not_contacted_days = models.PositiveSmallIntegerField(
        _("not contacted in this many days"), default=30
    )
    subject = models.CharField(_("e-mail subject"), max_length=150, blank=True)
    body_lv = models.TextField(_("message (Latvian)"))
    body_ru = models.TextField(_("message (Russian)"))
    body_en = models.TextField(_("message (English)"))

    class Meta:
        verbose_name = _("outreach campaign")
        verbose_name_plural = _("outreach campaigns")

    def __str__(self) -> str:
        return self.name


class OutreachMessage(models.Model):
    """One message of a campaign to one subscriber: the outbox row, created before any send."""

    class State(models.TextChoices):
        PENDING = "pending", _("Pending")
        DEFERRED = "deferred", _("Deferred")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        SKIPPED = "skipped", _("Skipped")
        FAILED = "failed", _("Failed")
        RESPONDED = "responded", _("Responded")

    class Response(models.TextChoices):
        NONE = "", _("None")
        ACCEPTED = "accepted", _("Accepted the offer")
        CALL = "call", _("Asked for a call")

    campaign = models.ForeignKey(
        OutreachCampaign, on_delete=models.CASCADE, related_name="messages"
    )
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="+"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default="pending")
    due_at = models.DateTimeField(_("due"))
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    skip_reason = models.CharField(_("why skipped"), max_length=30, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    response = models.CharField(
        _("response"), max_length=10, choices=Response.choices, blank=True, default=""
    )
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True)

    class Meta:
        verbose_name = _("outreach message")
        verbose_name_plural = _("outreach messages")
        constraints = [
            # DESIGN: one message per campaign and subscriber.
            models.UniqueConstraint(
                fields=["campaign", "subscriber"], name="outreach_one_per_subscriber"
            )
        ]
        indexes = [
            # The sender: a campaign's messages that are due, in id order.
            models.Index(
                fields=["campaign", "due_at", "id"],
                name="outreach_due",
                condition=models.Q(state__in=["pending", "deferred"]),
            ),
            # The sweep: messages a dead worker left claimed.
            models.Index(
                fields=["claimed_at"], name="outreach_sending", condition=models.Q(state="sending")
            ),
            models.Index(fields=["campaign", "state"], name="outreach_progress"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id}/{self.subscriber_id} {self.state}"


class CaseOutcome(models.Model):
    """What one closed case came to, in the terms the dashboard counts: one row per closed case.

    Written only by retention.figures, from the case, its accepted offer, its contacts and its
    history, so any day can be computed again. The dashboard reads these rows (and DailyFigure),
    never the source tables: one narrow table, no joins, whatever the filters.
    """

    case = models.OneToOneField(
        CancellationCase, on_delete=models.CASCADE, primary_key=True, related_name="outcome"
    )
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="+"
    )
    closed_on = models.DateField(_("closed on"), help_text=_("In the desk's time zone."))
    closed_at = models.DateTimeField(_("closed"))
    status = models.CharField(_("outcome"), max_length=20, choices=CancellationCase.Status.choices)
    auto_processed = models.BooleanField(_("processed at the deadline"), default=False)
    channel = models.CharField(
        _("channel"), max_length=20, choices=CancellationCase.Channel.choices
    )
    reason = models.ForeignKey(
        CancellationReason, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Who closed it, and their team when the day was first computed (the tick does that within
    # minutes): computing the day again keeps it, so a save stays with the team that made it.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    segment = models.CharField(_("segment"), max_length=20, blank=True)
    region = models.CharField(_("region"), max_length=64, blank=True)
    offer_kind = models.CharField(
        _("offer accepted"), max_length=20, blank=True, choices=OfferKind.choices
    )
    retained_revenue = models.DecimalField(
        _("retained monthly revenue"),
        max_digits=9,
        decimal_places=2,
        default=0,
        help_text=_("What the saved subscriber paid a month before the offer."),
    )
    concession_cost = models.DecimalField(
        _("cost of concessions"), max_digits=9, decimal_places=2, default=0
    )
    first_contact_seconds = models.PositiveIntegerField(
        _("time to first contact, s"), null=True, blank=True
    )
    sla_met = models.BooleanField(_("first contact in time"), default=False)
    outbound_contacts = models.PositiveSmallIntegerField(_("outbound contacts"), default=0)
    refused_contacts = models.PositiveSmallIntegerField(_("contacts refused"), default=0)
    discount_ends = models.DateField(_("discount ends"), null=True, blank=True)
    # The day the subscriber next asked to leave, when that request ended in a cancellation.
    rechurned_on = models.DateField(_("cancelled again"), null=True, blank=True)
    rechurned_90 = models.BooleanField(_("cancelled within 90 days"), default=False)
    rechurned_after_discount = models.BooleanField(
        _("cancelled within 60 days after the discount"), default=False
    )
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("case outcome")
        verbose_name_plural = _("case outcomes")
        permissions = [
            ("view_team_money", _("Can see the team's money figures on an agent's page")),
        ]
        indexes = [
            # The dashboard: a period, filtered or not; an agent's own page; re-churn looks up a
            # subscriber's earlier saves.
            # Also the drill-down's order: newest day first, then case id.
            models.Index(fields=["closed_on", "case"], name="outcome_closed_on"),
            models.Index(fields=["agent", "closed_on"], name="outcome_agent_day"),
            models.Index(
                fields=["subscriber", "closed_at"],
                name="outcome_saves",
                condition=models.Q(status="saved"),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.case_id} {self.status} {self.closed_on}"


class DailyFigure(models.Model):
    """One day's outcomes summed for one slice, so long periods read a few rows per day.

    ``scope`` is "" for the whole desk or "<dimension>:<key>" (``team:3``, ``reason:7``) for a
    filtered view; ``dimension`` and ``key`` say which breakdown row this is ("" for the total).
    retention.figures writes them from CaseOutcome, a whole day at a time.
    """

    day = models.DateField(_("day"))
    scope = models.CharField(_("scope"), max_length=80, blank=True)
    dimension = models.CharField(_("dimension"), max_length=12, blank=True)
    key = models.CharField(_("key"), max_length=64, blank=True)
    closed = models.PositiveIntegerField(default=0)
    saved = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    withdrawn = models.PositiveIntegerField(default=0)
    auto_processed = models.PositiveIntegerField(default=0)
    retained_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    concession_cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    contacted = models.PositiveIntegerField(default=0)
    first_contact_seconds = models.BigIntegerField(default=0)
    sla_met = models.PositiveIntegerField(default=0)
    fc_15m = models.PositiveIntegerField(default=0)
    fc_1h = models.PositiveIntegerField(default=0)
    fc_4h = models.PositiveIntegerField(default=0)
    fc_1d = models.PositiveIntegerField(default=0)
    refused_contacts = models.PositiveIntegerField(default=0)
    port_outs = models.PositiveIntegerField(default=0)
    port_outs_recontacted = models.PositiveIntegerField(default=0)
    rechurned_90 = models.PositiveIntegerField(default=0)
    discount_saves = models.PositiveIntegerField(default=0)
    rechurned_after_discount = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("daily figure")
        verbose_name_plural = _("daily figures")
        # A day is computed again as a whole: its rows are deleted by day.
        indexes = [models.Index(fields=["day"], name="daily_figure_day")]
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "dimension", "day", "key"], name="daily_figure_uniq"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.scope or '*'} {self.dimension}={self.key}"


class LoyaltySnapshot(models.Model):
    """Subscribers paying more than a new customer pays for the same plan, counted each day
    by segment and region. Today's state only: a past day cannot be counted again."""

    day = models.DateField(_("day"))
    segment = models.CharField(_("segment"), max_length=20)
    region = models.CharField(_("region"), max_length=64)
    active = models.PositiveIntegerField(_("active subscribers"), default=0)
    overpaying = models.PositiveIntegerField(_("paying above the new-customer price"), default=0)
    overpayment = models.DecimalField(
        _("monthly overpayment"), max_digits=14, decimal_places=2, default=0
    )
    computed_at = models.DateTimeField(_("computed"), default=timezone.now)

    class Meta:
        verbose_name = _("loyalty snapshot")
        verbose_name_plural = _("loyalty snapshots")
        constraints = [
            models.UniqueConstraint(fields=["day", "segment", "region"], name="loyalty_day_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.segment} {self.region}: {self.overpaying}"
