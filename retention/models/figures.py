"""What the dashboard reads: one row per closed case, daily rollups, loyalty snapshots."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offers.models import OfferKind
from retention.models.cases import CancellationCase, CancellationReason
from retention.models.staff import Team
from subscribers.models import TariffFit


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


class TariffFitSnapshot(models.Model):
    """Subscribers by tariff-fit verdict, counted each night after the fits are computed, with
    what they pay a month now and what they would pay on the plan that fits: the dashboard reads
    a few rows instead of summing every subscriber's fit. Written by
    retention.dashboard.tariff_fit.fit_snapshot_take, a row for every verdict, a day at a time."""

    day = models.DateField(_("day"))
    verdict = models.CharField(_("verdict"), max_length=10, choices=TariffFit.Verdict.choices)
    subscribers = models.PositiveIntegerField(_("subscribers"), default=0)
    current_total = models.DecimalField(
        _("pay a month now"), max_digits=14, decimal_places=2, default=0
    )
    best_total = models.DecimalField(
        _("would pay a month on the plan that fits"), max_digits=14, decimal_places=2, default=0
    )
    # The savings above zero only: a shared account's plan that fits may cost more, and that
    # must not hide what the others overpay.
    overpayment = models.DecimalField(
        _("overpay a month"), max_digits=14, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("tariff fit snapshot")
        verbose_name_plural = _("tariff fit snapshots")
        constraints = [
            models.UniqueConstraint(fields=["day", "verdict"], name="tariff_fit_snapshot_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.verdict}: {self.subscribers}"

    @property
    def revenue_change(self) -> Decimal:
        """What moving them all would change the provider's monthly revenue by (negative: the
        provider earns less)."""
        return self.best_total - self.current_total
