import zoneinfo
from datetime import date, time
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from retention.core.history import HistoryRecord
from subscribers.phrases import changes_said, said

# Plans, priced as they are sold: in a module of their own, registered here with the others.
from subscribers.plans import Plan


class Subscriber(models.Model):
    class Language(models.TextChoices):
        LATVIAN = "lv", _("Latvian")
        RUSSIAN = "ru", _("Russian")
        ENGLISH = "en", _("English")

    class Segment(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        SMALL_BUSINESS = "small_business", _("Small business")
        CORPORATE = "corporate", _("Corporate")

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        SUSPENDED = "suspended", _("Suspended")
        CANCELLING = "cancelling", _("Cancelling")
        CANCELLED = "cancelled", _("Cancelled")

    class PaymentMethod(models.TextChoices):
        DIRECT_DEBIT = "direct_debit", _("Direct debit")
        CARD = "card", _("Card")
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        CASH = "cash", _("Cash at a partner point")

    account_number = models.CharField(_("account number"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=200)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.LATVIAN
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Riga")
    region = models.CharField(_("region"), max_length=64, db_index=True)
    segment = models.CharField(
        _("segment"), max_length=20, choices=Segment.choices, default=Segment.RESIDENTIAL
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ACTIVE
    )
    signup_date = models.DateField(_("customer since"))
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="subscribers")
    monthly_price = models.DecimalField(_("current monthly price"), max_digits=8, decimal_places=2)
    promo_ends_on = models.DateField(_("promo ends on"), null=True, blank=True)
    # While an accepted pause runs: the day the service resumes (the desk sets it with the
    # pause and clears it with the resume; billing's import never touches it).
    paused_until = models.DateField(_("paused until"), null=True, blank=True)
    balance = models.DecimalField(
        _("balance"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("Amount owed now; negative means the subscriber is in credit."),
    )
    arrears = models.DecimalField(
        _("arrears"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        help_text=_("Overdue part of the balance."),
    )
    payment_method = models.CharField(
        _("payment method"),
        max_length=20,
        choices=PaymentMethod.choices,
        default=PaymentMethod.DIRECT_DEBIT,
    )
    do_not_call = models.BooleanField(_("do not call"), default=False)
    do_not_email = models.BooleanField(_("do not e-mail"), default=False)
    do_not_sms = models.BooleanField(_("do not send SMS"), default=False)
    billing_ends_on = models.DateField(
        _("billing ends on"),
        null=True,
        blank=True,
        help_text=_("Set when a cancellation is processed; equipment return never moves it."),
    )
    churn_risk = models.PositiveSmallIntegerField(_("churn risk, 0–100"), default=0)
    # A list of phrases ({"code": …, "params": …}, see subscribers.phrases): shown in the
    # reader's language.
    churn_risk_reasons = models.JSONField(_("churn risk reasons"), default=list, blank=True)
    # Which version of the churn model computed the score, and on which day: empty until the
    # nightly scoring (or scoring on arrival) has computed one.
    churn_risk_version = models.PositiveIntegerField(
        _("churn model version"), null=True, blank=True
    )
    churn_risk_scored_on = models.DateField(_("churn risk scored on"), null=True, blank=True)
    # "learned" or "rules" (a rule-based score, while there is too little history to learn
    # from): the subscriber page says which, without reading the desk's model table.
    churn_risk_kind = models.CharField(
        _("churn model kind"), max_length=10, blank=True, default="", db_default=""
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(monthly_price__gte=0), name="subscriber_price_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(arrears__gte=0), name="subscriber_arrears_gte_0"
            ),
            models.CheckConstraint(
                condition=models.Q(churn_risk__lte=100), name="subscriber_risk_lte_100"
            ),
        ]
        indexes = [
            # Search uses trigram GIN indexes on name, phone, e-mail and account number; they
            # are PostgreSQL-only, so migration 0002 creates them there and SQLite scans.
            models.Index(fields=["plan", "status"], name="subscriber_plan_status"),
            # The 5-minute tick looks for subscribers nobody has scored yet: a partial index,
            # empty once everyone is scored, instead of a scan of a million rows.
            models.Index(
                fields=["id"],
                condition=models.Q(churn_risk_scored_on__isnull=True),
                name="subscriber_unscored",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.account_number})"

    @property
    def monthly_value(self) -> Decimal:
        return self.monthly_price

    @property
    def loyalty_penalty(self) -> Decimal:
        """How much more per month than a new customer pays for the same plan (never negative)."""
        return max(self.monthly_price - self.plan.new_customer_price, Decimal("0.00"))

    @property
    def loyalty_penalty_percent(self) -> Decimal:
        base = self.plan.new_customer_price
        if base <= 0:
            return Decimal("0")
        return (self.loyalty_penalty * 100 / base).quantize(Decimal("0.1"))

    def tenure_months(self, today: date | None = None) -> int:
        today = today or timezone.localdate()
        months = (today.year - self.signup_date.year) * 12 + today.month - self.signup_date.month
        if today.day < self.signup_date.day:
            months -= 1
        return max(months, 0)

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo(settings.TIME_ZONE)

    @property
    def writes_in(self) -> str:
        """The language every message to them is written in: theirs, or Latvian (the
        default) where a row from outside left a code the desk does not write."""
        if self.language in self.Language.values:
            return self.language
        return self.Language.LATVIAN


class Equipment(models.Model):
    class Kind(models.TextChoices):
        ROUTER = "router", _("Router")
        SET_TOP_BOX = "set_top_box", _("Set-top box")
        ONT = "ont", _("Optical terminal (ONT)")
        MODEM = "modem", _("Modem")
        MESH = "mesh", _("Wi-Fi mesh point")

    class Status(models.TextChoices):
        ON_LOAN = "on_loan", _("On loan")
        RETURN_REQUESTED = "return_requested", _("Return requested")
        RETURNED = "returned", _("Returned")
        LOST = "lost", _("Lost")

    class ReturnMethod(models.TextChoices):
        NONE = "", _("Not chosen")
        COURIER = "courier", _("Courier pickup")
        DROP_OFF = "drop_off", _("Drop-off at a partner point")
        MAIL = "mail", _("Prepaid mail label")

    subscriber = models.ForeignKey(Subscriber, on_delete=models.CASCADE, related_name="equipment")
    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    model_name = models.CharField(_("model"), max_length=80, blank=True)
    serial = models.CharField(_("serial number"), max_length=64, unique=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ON_LOAN
    )
    return_method = models.CharField(
        _("return method"), max_length=20, choices=ReturnMethod.choices, blank=True, default=""
    )
    return_due_on = models.DateField(_("return due"), null=True, blank=True)
    shipped_on = models.DateField(_("shipped"), null=True, blank=True)
    returned_on = models.DateField(_("returned"), null=True, blank=True)

    class Meta:
        verbose_name = _("equipment item")
        verbose_name_plural = _("equipment")
        ordering = ["kind", "serial"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.serial}"


class TimelineEvent(models.Model):
    """One thing that happened to a subscriber. Append-only; tens of millions of rows."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", _("Signup")
        PLAN_CHANGE = "plan_change", _("Plan change")
        PRICE_CHANGE = "price_change", _("Price change")
        PROMO_ENDED = "promo_ended", _("Promo ended")
        PAYMENT = "payment", _("Payment")
        MISSED_PAYMENT = "missed_payment", _("Missed payment")
        OUTAGE = "outage", _("Outage")
        TICKET = "ticket", _("Support ticket")
        CONTACT = "contact", _("Contact")
        CANCELLATION_REQUEST = "cancellation_request", _("Cancellation request")
        PORT_OUT = "port_out", _("Port-out notice")
        CANCELLED = "cancelled", _("Cancellation processed")
        WITHDRAWN = "withdrawn", _("Cancellation withdrawn")
        EQUIPMENT_RETURN_REQUESTED = "equipment_return_requested", _("Equipment return requested")
        OFFER_PROPOSED = "offer_proposed", _("Offer proposed")
        OFFER_APPROVED = "offer_approved", _("Offer approved")
        OFFER_REJECTED = "offer_rejected", _("Offer rejected")
        OFFER_ACCEPTED = "offer_accepted", _("Offer accepted")
        OFFER_DECLINED = "offer_declined", _("Offer declined")
        OFFER_PRESENTED = "offer_presented", _("Offer presented")
        OFFER_EXPIRED = "offer_expired", _("Offer expired")
        OFFER_WITHDRAWN = "offer_withdrawn", _("Offer withdrawn")
        EQUIPMENT_SHIPPED = "equipment_shipped", _("Equipment shipped")
        EQUIPMENT_RETURNED = "equipment_returned", _("Equipment returned")
        NOTE = "note", _("Note")
        BILLING = "billing", _("Billing")
        SUSPENDED = "suspended", _("Service suspended")
        REACTIVATED = "reactivated", _("Service reactivated")

    # Kinds that billing and network systems may push through the API or an import.
    EXTERNAL_KINDS = (
        Kind.PLAN_CHANGE,
        Kind.PRICE_CHANGE,
        Kind.PROMO_ENDED,
        Kind.PAYMENT,
        Kind.MISSED_PAYMENT,
        Kind.OUTAGE,
        Kind.TICKET,
        Kind.EQUIPMENT_SHIPPED,
        Kind.EQUIPMENT_RETURNED,
        Kind.NOTE,
        Kind.SIGNUP,
        Kind.SUSPENDED,
        Kind.REACTIVATED,
    )

    id = models.BigAutoField(primary_key=True)
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.CASCADE,
        related_name="events",
        db_index=False,  # covered by the (subscriber, occurred_at, id) indexes below
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
        help_text=_("The member of staff; empty for systems."),
    )
    source = models.CharField(
        _("source"), max_length=32, default="desk", help_text=_("desk, billing, network, …")
    )
    # NULL, not "", for events without an id: the unique constraint must not pair them up.
    external_id = models.CharField(  # noqa: DJ001
        _("external id"), max_length=100, null=True, blank=True
    )
    # What the sender wrote (billing, the network) or a note somebody wrote: shown as it is.
    # The desk's own events leave it empty and store a phrase instead (subscribers.phrases),
    # said in the reader's language.
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    code = models.CharField(_("phrase"), max_length=40, blank=True, default="")
    params = models.JSONField(_("phrase parameters"), default=dict, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline events")
        constraints = [
            # Idempotent ingestion: a source's event id is stored once.
            models.UniqueConstraint(
                fields=["source", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="timeline_event_source_external_id_uniq",
            ),
        ]
        indexes = [
            # The timeline is read newest first with keyset pagination on (occurred_at, id).
            models.Index(
                fields=["subscriber", "-occurred_at", "-id"], name="timeline_subscriber_recent"
            ),
            models.Index(
                fields=["subscriber", "kind", "-occurred_at", "-id"],
                name="timeline_subscriber_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.text}"

    @property
    def text(self) -> str:
        """The line agents read, in the active language."""
        return said(self)


class ApiToken(models.Model):
    """A credential for a billing or network system. Only a SHA-256 of the token is stored."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    source = models.CharField(
        _("source"),
        max_length=32,
        help_text=_("Events pushed with this token are stored under this source, e.g. billing."),
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("token starts with"), max_length=8, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ContactChannel(models.TextChoices):
    PHONE = "phone", _("Phone call")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class ContactPolicy(models.Model):
    """The one contact policy: quiet hours and a cap on outbound contacts; managed in the admin
    (subscribers.services.contact_policy_save)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    max_outbound = models.PositiveSmallIntegerField(
        _("most outbound contacts"),
        default=2,
        help_text=_("Across every source: agents' calls, outreach e-mail and SMS."),
    )
    period_days = models.PositiveSmallIntegerField(_("in this many days"), default=7)
    closed_on_public_holidays = models.BooleanField(
        _("no outbound contact on public holidays"),
        default=True,
        help_text=_(
            "Public holidays of the desk's calendar are closed for every channel; "
            "outreach waits for the next allowed moment."
        ),
    )

    class Meta:
        verbose_name = _("contact policy")
        verbose_name_plural = _("contact policy")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="contact_policy_singleton"),
            models.CheckConstraint(
                condition=models.Q(period_days__gte=1), name="policy_period_gte_1"
            ),
        ]

    def __str__(self) -> str:
        return str(_("at most %(n)s outbound contacts in %(d)s days")) % {
            "n": self.max_outbound,
            "d": self.period_days,
        }


class ContactHours(models.Model):
    """Allowed hours of one channel, in the subscriber's local time."""

    policy = models.ForeignKey(ContactPolicy, on_delete=models.CASCADE, related_name="hours")
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    weekday_start = models.TimeField(_("weekdays from"), default=time(9))
    weekday_end = models.TimeField(_("weekdays until"), default=time(20))
    weekend_start = models.TimeField(_("weekends from"), default=time(10))
    weekend_end = models.TimeField(_("weekends until"), default=time(18))

    class Meta:
        verbose_name = _("contact hours")
        verbose_name_plural = _("contact hours")
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "channel"], name="contact_hours_channel_uniq"
            ),
            models.CheckConstraint(
                condition=models.Q(weekday_start__lt=models.F("weekday_end"))
                & models.Q(weekend_start__lt=models.F("weekend_end")),
                name="contact_hours_start_before_end",
            ),
        ]

    def __str__(self) -> str:
        return self.get_channel_display()


# The fields of a channel's hours, as the contact policy's history keeps them ("phone.weekday_end").
CONTACT_HOURS_FIELDS = ("weekday_start", "weekday_end", "weekend_start", "weekend_end")


class OutboundEvent(models.Model):
    """A decision that billing (or another system) must act on, written in the same transaction
    as the decision: the transactional outbox (subscribers.outbound writes it). ``payload`` is
    the whole message as a receiver gets it (README, "Events for billing"); ``event_id`` is its
    ``webhook-id``, so a receiver drops one it has seen. Per subscriber, ``id`` orders them."""

    class Type(models.TextChoices):
        OFFER_ACCEPTED = "offer.accepted", _("Offer accepted")
        CANCELLATION_PROCESSED = "cancellation.processed", _("Cancellation processed")
        CANCELLATION_WITHDRAWN = "cancellation.withdrawn", _("Cancellation withdrawn")
        EQUIPMENT_RETURN_REQUESTED = "equipment.return_requested", _("Equipment return requested")
        EQUIPMENT_RETURNED = "equipment.returned", _("Equipment returned")
        PAUSE_RESUMED = "pause.resumed", _("Paused service resumed")
        HARDSHIP_HOLD = "hardship.hold", _("Hardship: hold fees and suspension")
        HARDSHIP_RELEASED = "hardship.released", _("Hardship: hold released")

    event_id = models.UUIDField(_("event id"), unique=True, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=Type.choices)
    version = models.PositiveSmallIntegerField(_("version"))
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.PROTECT,
        related_name="outbound_events",
        verbose_name=_("subscriber"),
    )
    payload = models.JSONField(_("payload"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    # When delivery made this event's deliveries, one per endpoint that wants it.
    fanned_out_at = models.DateTimeField(_("deliveries made"), null=True, blank=True)
    # Billing's answer (POST /api/v1/events/confirmations), given once: applied, or refused
    # with a reason; the token's source says who answered.
    confirmation = models.CharField(
        _("billing's answer"),
        max_length=10,
        blank=True,
        default="",
        choices=[("", "—"), ("applied", _("Applied")), ("refused", _("Refused"))],
    )
    confirmed_at = models.DateTimeField(_("answered"), null=True, blank=True)
    confirmation_reason = models.CharField(_("reason"), max_length=500, blank=True)
    confirmed_by = models.CharField(_("answered by"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("outbound event")
        verbose_name_plural = _("outbound events")
        indexes = [
            models.Index(fields=["subscriber", "id"], name="outbound_subscriber_order"),
            # The few events delivery has not picked up yet.
            models.Index(
                fields=["id"],
                name="outbound_not_fanned_out",
                condition=models.Q(fanned_out_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class ContactPolicyChange(HistoryRecord):
    """Who changed the contact policy (the cap, the period, a channel's hours) from what to what
    (subscribers.services.contact_policy_save writes it with the change). Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", pgettext_lazy("contact policy", "Created")
        CHANGED = "changed", pgettext_lazy("contact policy", "Changed")

    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # {field: [old, new]} for every field that changed; a channel's hours as "phone.weekday_end"
    # with times as "19:00"; null for "none" (before a creation).
    changes = models.JSONField(_("what changed"), default=dict, blank=True)

    class Meta:
        verbose_name = _("contact policy change")
        verbose_name_plural = _("contact policy changes")
        indexes = [models.Index(fields=["at"], name="policy_change_at")]

    @property
    def text(self) -> str:
        """What changed, in the reader's language: "Phone call, weekdays until 20:00 → 19:00"."""
        return changes_said(self.changes, contact_policy_fields())


def contact_policy_fields() -> dict[str, tuple[Any, None]]:
    """How the policy's history names each field, in this order, in the active language."""
    fields: dict[str, tuple[Any, None]] = {
        field.name: (field.verbose_name, None)
        for field in ContactPolicy._meta.fields
        if field.name in ("max_outbound", "period_days", "closed_on_public_holidays")
    }
    hours = {field.name: field.verbose_name for field in ContactHours._meta.fields}
    for channel, label in ContactChannel.choices:
        for name in CONTACT_HOURS_FIELDS:
            fields[f"{channel}.{name}"] = (f"{label}, {hours[name]}", None)
    return fields


# Fields the desk holds for billing, and the conflicts they meet: in a module of their own,
# registered here with the other models.
# The desk's calendar (hours, public holidays and the days that differ), likewise.
from subscribers.calendar import CalendarChange, DeskDay, DeskHours  # noqa: E402, F401
from subscribers.holds import FieldConflict, FieldHold  # noqa: E402, F401

# Monthly usage and the tariff fit computed from it, likewise.
from subscribers.usage import TariffFit, Usage  # noqa: E402, F401
