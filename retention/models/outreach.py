"""Outreach campaigns, their history and their messages: the message row is the outbox."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from retention.core.history import HistoryRecord
from subscribers.models import ContactChannel

if TYPE_CHECKING:
    from offers.models import OfferTemplate


class OutreachCampaign(models.Model):
    """Better terms offered proactively to subscribers who match the criteria; or, with the
    purpose "best tariff notice", the desk's own campaign of a year that tells every active
    subscriber with a tariff fit which plan fits them best (retention.outreach.notice)."""

    class Purpose(models.TextChoices):
        OFFER = "offer", _("Offer")
        BEST_TARIFF = "best_tariff", _("Best tariff notice")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
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
    # A scheduled campaign starts at this moment: the outreach tick (every minute) starts the
    # ones due, rather than a long countdown on the broker.
    starts_at = models.DateTimeField(_("starts at"), null=True, blank=True)
    # At most this many messages a minute from the moment it starts; empty: as fast as the
    # sender goes.
    rate_per_minute = models.PositiveIntegerField(
        _("messages per minute"),
        null=True,
        blank=True,
        help_text=_("Empty: as fast as the sender goes."),
    )
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
    # Would save at least this much a month on the plan that fits them (their tariff fit).
    min_saving = models.DecimalField(
        _("would save at least, EUR a month"),
        max_digits=7,
        decimal_places=2,
        null=True,
        blank=True,
    )
    purpose = models.CharField(
        _("purpose"), max_length=12, choices=Purpose.choices, default=Purpose.OFFER
    )
    # The year a best tariff notice campaign is for: its key, one a year.
    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    subject = models.CharField(_("e-mail subject"), max_length=150, blank=True)
    body_lv = models.TextField(_("message (Latvian)"))
    body_ru = models.TextField(_("message (Russian)"))
    body_en = models.TextField(_("message (English)"))

    class Meta:
        verbose_name = _("outreach campaign")
        verbose_name_plural = _("outreach campaigns")
        constraints = [
            # One best tariff notice a year: two nightly runs at once create one campaign, and
            # its unique (campaign, subscriber) messages make the notice once a year each.
            models.UniqueConstraint(
                fields=["year"],
                condition=models.Q(purpose="best_tariff"),
                name="outreach_one_notice_a_year",
            ),
            models.CheckConstraint(
                condition=models.Q(purpose="offer", year__isnull=True)
                | models.Q(purpose="best_tariff", year__isnull=False),
                name="outreach_notice_has_year",
            ),
            models.CheckConstraint(
                condition=models.Q(min_saving__isnull=True) | models.Q(min_saving__gte=0),
                name="outreach_min_saving_not_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(rate_per_minute__isnull=True) | models.Q(rate_per_minute__gt=0),
                name="outreach_rate_positive",
            ),
            # A scheduled campaign knows when it starts.
            models.CheckConstraint(
                condition=~models.Q(state="scheduled") | models.Q(starts_at__isnull=False),
                name="outreach_scheduled_has_start",
            ),
        ]
        indexes = [
            # The tick's look for scheduled campaigns that are due.
            models.Index(
                fields=["starts_at"],
                name="outreach_scheduled_due",
                condition=models.Q(state="scheduled"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_notice(self) -> bool:
        return self.purpose == self.Purpose.BEST_TARIFF

    @property
    def title(self) -> str:
        """The campaign's name as pages show it: a notice is named in the reader's language."""
        if self.is_notice:
            return gettext("Best tariff notice %(year)s") % {"year": self.year}
        return self.name


class CampaignHistory(HistoryRecord):
    """Who created, changed, launched, paused or resumed a campaign, and when; a row without an
    actor is the desk's own doing (it finishes a campaign with nothing left to send).
    Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", _("Created")
        EDITED = "edited", _("Edited")
        LAUNCHED = "launched", _("Launched")
        SCHEDULED = "scheduled", _("Scheduled")
        UNSCHEDULED = "unscheduled", _("Schedule cancelled")
        STARTED = "started", _("Started as scheduled")
        TEST_SENT = "test_sent", _("Test sent")
        PAUSED = "paused", _("Paused")
        RESUMED = "resumed", _("Resumed")
        FINISHED = "finished", _("Finished")

    campaign = models.ForeignKey(
        OutreachCampaign,
        on_delete=models.CASCADE,
        related_name="history",
        verbose_name=_("campaign"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("from"), max_length=10, blank=True, choices=OutreachCampaign.State.choices
    )
    to_status = models.CharField(
        _("to"), max_length=10, blank=True, choices=OutreachCampaign.State.choices
    )

    class Meta:
        verbose_name = _("campaign history entry")
        verbose_name_plural = _("campaign history")
        # The campaign page lists a campaign's history, newest first.
        indexes = [models.Index(fields=["campaign", "-at", "-id"], name="campaign_history_recent")]


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
        SWITCHED = "switched", _("Switched to the plan that fits")

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
    # An outreach experiment's arm the recipient fell in, and the arm's offer, which replaces
    # the campaign's for this message (null: the campaign's). A holdout's message is skipped.
    arm = models.ForeignKey(
        "retention.ExperimentArm",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("experiment arm"),
    )
    template = models.ForeignKey(
        "offers.OfferTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("offer"),
        help_text=_("An experiment arm's offer in place of the campaign's."),
    )

    class Meta:
        verbose_name = _("outreach message")
        verbose_name_plural = _("outreach messages")
        constraints = [
            # One message per campaign and subscriber: a repeated fan-out adds nobody twice.
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

    @property
    def offer_template(self) -> "OfferTemplate":
        """The offer this message makes: its experiment arm's, else the campaign's."""
        if self.template is not None:
            return self.template
        return self.campaign.template
