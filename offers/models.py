"""The offer catalogue, who may approve what, and the counter-offers made to subscribers."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from retention.core.history import HistoryRecord
from subscribers.phrases import changes_said, moment, money, said
from subscribers.phrases.catalogue import tier_name


class ReasonCategory(models.TextChoices):
    """Why subscribers leave, in the broad strokes that rank the offer builder.

    The desk's cancellation reasons each belong to one of these; they live here because the
    offer catalogue's eligibility is written in them and offers must not import the desk.
    """

    PRICE = "price", _("Price")
    QUALITY = "quality", _("Service quality / outages")
    COMPETITOR = "competitor", _("Competitor offer")
    MOVING = "moving", _("Moving")
    HARDSHIP = "hardship", _("Financial hardship")
    NOT_USING = "not_using", _("Not using it")
    EQUIPMENT = "equipment", _("Equipment / installation")
    OTHER = "other", _("Other")


class OfferKind(models.TextChoices):
    PERCENT_DISCOUNT = "percent_discount", _("Percentage discount for N months")
    FIXED_DISCOUNT = "fixed_discount", _("Fixed discount for N months")
    FREE_MONTHS = "free_months", _("Free months")
    PLAN_CHANGE = "plan_change", _("Plan change")
    SPEED_UPGRADE = "speed_upgrade", _("Speed upgrade at the same price")
    PAYMENT_DEFERRAL = "payment_deferral", _("Payment deferral")
    SPLIT_PAYMENT = "split_payment", _("Split payment")
    ONE_TIME_CREDIT = "one_time_credit", _("One-time credit")
    SERVICE_FIX = "service_fix", _("Service fix (technician visit, line upgrade)")
    LOYALTY_PERK = "loyalty_perk", _("Loyalty perk")
    PAUSE = "pause", _("Pause of the service")


class OfferTerms(models.Model):
    """The parameters of an offer; which ones matter depends on the kind (see offers.pricing)."""

    kind = models.CharField(_("kind"), max_length=20, choices=OfferKind.choices)
    percent = models.DecimalField(
        _("discount, %"), max_digits=5, decimal_places=2, null=True, blank=True
    )
    amount = models.DecimalField(
        _("amount, €"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_(
            "Fixed discount per month, credit, monthly value of a perk, what a service fix "
            "costs us, or the fee while paused (0: free)."
        ),
    )
    months = models.PositiveSmallIntegerField(
        _("months"),
        default=0,
        help_text=_(
            "How long it runs; for split payment, the number of instalments. A plan change or "
            "speed upgrade with 0 months is permanent."
        ),
    )
    days = models.PositiveSmallIntegerField(
        _("days"), default=0, help_text=_("For a payment deferral: how many days later.")
    )
    new_plan = models.ForeignKey(
        "subscribers.Plan",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("new plan"),
        help_text=_(
            "Plan change or speed upgrade. A plan change without one moves the subscriber to "
            "their own plan's new-customer price (the loyalty tariff)."
        ),
    )

    to_fitting_plan = models.BooleanField(
        _("to the plan that fits"),
        default=False,
        help_text=_(
            "A plan change to the plan that fits how the subscriber uses the service, from "
            "their usage (their tariff fit): the new plan is filled in for each subscriber."
        ),
    )

    class Meta:
        abstract = True


class OfferTemplate(OfferTerms):
    """An offer in the catalogue, with who it suits. Managed in the admin."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_lv = models.CharField(_("name (Latvian)"), max_length=120, blank=True)
    name_ru = models.CharField(_("name (Russian)"), max_length=120, blank=True)
    min_tenure_months = models.PositiveSmallIntegerField(_("minimum tenure, months"), default=0)
    segments = models.JSONField(
        _("segments"), default=list, blank=True, help_text=_("Empty means every segment.")
    )
    reason_categories = models.JSONField(
        _("reasons"), default=list, blank=True, help_text=_("Empty means any reason.")
    )
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("offer template")
        verbose_name_plural = _("offer catalogue")
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        language = get_language() or "en"
        return getattr(self, f"name_{language[:2]}", "") or self.name_en


class AuthorityTier(models.Model):
    """How much a group's members, or one user, may concede without anyone else's approval.

    A user's own tier wins over their groups'; among groups, the highest rank. An offer that
    waits too long escalates to the tier of the next rank.
    """

    name = models.CharField(_("name"), max_length=80, unique=True)
    rank = models.PositiveSmallIntegerField(
        _("rank"), help_text=_("Higher ranks are escalated to after lower ones.")
    )
    group = models.OneToOneField(
        Group,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="authority_tier",
        verbose_name=_("group"),
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="authority_tier",
        verbose_name=_("user"),
    )
    max_monthly = models.DecimalField(_("most per month, €"), max_digits=8, decimal_places=2)
    max_total = models.DecimalField(
        _("most for one offer, €"),
        max_digits=9,
        decimal_places=2,
        help_text=_("Monthly value × months, plus one-time amounts."),
    )
    max_cumulative = models.DecimalField(
        _("most per subscriber in 12 months, €"), max_digits=9, decimal_places=2
    )

    class Meta:
        verbose_name = _("authority tier")
        verbose_name_plural = _("authority tiers")
        ordering = ["rank", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(group__isnull=True, user__isnull=False)
                | models.Q(group__isnull=False, user__isnull=True),
                name="authority_tier_group_xor_user",
            ),
            models.CheckConstraint(
                condition=models.Q(max_monthly__gte=0, max_total__gte=0, max_cumulative__gte=0),
                name="authority_tier_limits_gte_0",
            ),
        ]

    def __str__(self) -> str:
        """The name in the reader's language for a tier the desk comes with; as written for a
        tier an admin named."""
        return tier_name(self.name)


class AuthorityTierChange(HistoryRecord):
    """Who created, changed or deleted an authority tier, and each field from what to what
    (offers.tiers writes it in the same transaction as the change). Append-only."""

    class Action(models.TextChoices):
        CREATED = "created", pgettext_lazy("authority tier", "Created")
        CHANGED = "changed", pgettext_lazy("authority tier", "Changed")
        DELETED = "deleted", pgettext_lazy("authority tier", "Deleted")

    tier = models.ForeignKey(
        AuthorityTier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("authority tier"),
    )
    # The name as it was, so that a deleted tier's history still says whose limits they were.
    tier_name = models.CharField(_("tier"), max_length=80)
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # {field: [old, new]} for every field that changed; amounts as "20.00", the group and the
    # user by name; null for "none" (before a creation, after a deletion).
    changes = models.JSONField(_("what changed"), default=dict, blank=True)

    class Meta:
        verbose_name = _("authority tier change")
        verbose_name_plural = _("authority tier changes")
        indexes = [models.Index(fields=["tier", "at"], name="tier_change_tier_at")]

    @property
    def text(self) -> str:
        """What changed, in the reader's language: "most per month €20.00 → €30.00"."""
        return changes_said(self.changes, TIER_CHANGE_FIELDS)


# How the tier's history names each field and shows its values, in this order. The form's
# labels end in ", €", which the amounts say already.
TIER_CHANGE_FIELDS = {
    "name": (_("name"), None),
    "rank": (_("rank"), None),
    "group": (_("group"), None),
    "user": (_("user"), None),
    "max_monthly": (_("most per month"), money),
    "max_total": (_("most for one offer"), money),
    "max_cumulative": (_("most per subscriber in 12 months"), money),
}


class ApprovalDelegation(models.Model):
    """A manager who is away hands their approvals inbox to another manager for a period."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations_given",
        verbose_name=_("manager who is away"),
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="delegations_received",
        verbose_name=_("approvals go to"),
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("approval delegation")
        verbose_name_plural = _("approval delegations")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(delegator=models.F("delegate")),
                name="delegation_not_to_self",
            ),
            models.CheckConstraint(
                condition=models.Q(starts_at__lt=models.F("ends_at")),
                name="delegation_starts_before_end",
            ),
        ]
        indexes = [models.Index(fields=["delegate", "ends_at"], name="delegation_delegate")]

    def __str__(self) -> str:
        return f"{self.delegator} → {self.delegate}"


class DelegationChange(HistoryRecord):
    """Who handed whose approvals to whom, changed or ended a hand-over, from what to what
    (offers.delegation writes it in the same transaction). Append-only: a deleted delegation's
    row keeps what it was."""

    class Action(models.TextChoices):
        CREATED = "created", pgettext_lazy("delegation", "Created")
        CHANGED = "changed", pgettext_lazy("delegation", "Changed")
        ENDED = "ended", pgettext_lazy("delegation", "Ended early")
        DELETED = "deleted", pgettext_lazy("delegation", "Deleted")

    delegation = models.ForeignKey(
        ApprovalDelegation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="changes",
        verbose_name=_("approval delegation"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    # {field: [old, new]}: the managers by username, the times in ISO 8601; null for "none".
    changes = models.JSONField(_("what changed"), default=dict, blank=True)

    class Meta:
        verbose_name = _("approval delegation change")
        verbose_name_plural = _("approval delegation changes")
        indexes = [models.Index(fields=["delegation", "at"], name="delegation_change_at")]

    @property
    def text(self) -> str:
        """What changed, in the reader's language: "ends 12.12.2026 18:00 → 10.12.2026 09:30"."""
        return changes_said(self.changes, DELEGATION_CHANGE_FIELDS)


DELEGATION_CHANGE_FIELDS = {
    "delegator": (_("manager who is away"), None),
    "delegate": (_("approvals go to"), None),
    "starts_at": (_("starts"), moment),
    "ends_at": (_("ends"), moment),
    "note": (_("note"), None),
}


# Statuses in which an offer is still under way, as the constraints below spell them.
_LIVE = ["pending", "approved", "presented"]
# Statuses that required a decision: each has one, made by someone other than the proposer.
_DECIDED = ["approved", "rejected", "presented", "accepted", "declined"]


class BillingState(models.TextChoices):
    NONE = "", "—"
    TOLD = "told", _("Waiting for billing")
    APPLIED = "applied", _("Applied by billing")
    REFUSED = "refused", _("Refused by billing")


class CounterOffer(OfferTerms):
    """A concrete offer to one subscriber, with its cost, who proposed and who decided it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        PRESENTED = "presented", _("Presented")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    LIVE_STATUSES = (Status.PENDING, Status.APPROVED, Status.PRESENTED)

    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.PROTECT, related_name="offers"
    )
    case = models.ForeignKey(
        "retention.CancellationCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers",
        verbose_name=_("case"),
        help_text=_("Empty for a proactive offer."),
    )
    template = models.ForeignKey(
        OfferTemplate,
        on_delete=models.PROTECT,
        related_name="offers",
        verbose_name=_("from the catalogue"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status.choices)
    # The cost, computed by offers.pricing when proposed and again when amended.
    monthly_concession = models.DecimalField(
        _("concession per month"), max_digits=8, decimal_places=2
    )
    counted_months = models.PositiveSmallIntegerField(_("months counted"))
    one_time_concession = models.DecimalField(
        _("one-time concession"), max_digits=8, decimal_places=2
    )
    total_cost = models.DecimalField(_("total cost"), max_digits=9, decimal_places=2)
    new_monthly_price = models.DecimalField(_("new monthly price"), max_digits=8, decimal_places=2)
    proposer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="offers_proposed",
        verbose_name=_("proposed by"),
    )
    proposed_at = models.DateTimeField(_("proposed"), default=timezone.now)
    proposal_note = models.TextField(_("agent's note"), blank=True)
    routed_tier = models.ForeignKey(
        AuthorityTier,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("waiting for"),
    )
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    auto_approved = models.BooleanField(
        _("within the proposer's authority"), default=False, editable=False
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="offers_decided",
        verbose_name=_("decided by"),
    )
    decided_for = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("on behalf of"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    valid_until = models.DateTimeField(_("valid until"))
    deadline = models.DateTimeField(
        _("must be settled by"),
        null=True,
        blank=True,
        help_text=_("The end of the case's process-by day: no offer outlives the right to leave."),
    )
    presented_at = models.DateTimeField(_("presented"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answer_note = models.TextField(_("the subscriber's answer"), blank=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)
    # Where billing stands with an accepted offer: told (an outbound event was written with the
    # acceptance), applied (billing confirmed it), or refused (billing rejected it, with why).
    billing = models.CharField(
        _("billing"), max_length=10, choices=BillingState.choices, blank=True, default=""
    )
    billing_at = models.DateTimeField(_("billing answered"), null=True, blank=True)
    billing_note = models.CharField(_("billing's reason"), max_length=500, blank=True)
    price_before = models.DecimalField(
        _("price before"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    runs_until = models.DateField(_("runs until"), null=True, blank=True)
    # A pause: when the service resumed and billing was told so (the pauses tick claims the
    # resume by setting it, so it is written once however often the tick runs).
    resumed_at = models.DateTimeField(_("resumed"), null=True, blank=True)

    class Meta:
        verbose_name = _("counter-offer")
        verbose_name_plural = _("counter-offers")
        constraints = [
            # One offer under way per case, and one proactive offer under way per subscriber:
            # the agent presents one thing at a time, and two tabs cannot propose twice.
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status__in=_LIVE, case__isnull=False),
                name="offer_one_live_per_case",
            ),
            models.UniqueConstraint(
                fields=["subscriber"],
                condition=models.Q(status__in=_LIVE, case__isnull=True),
                name="offer_one_live_proactive",
            ),
            # Nobody approves their own offer: an offer within the proposer's authority is
            # approved by the rules (auto_approved), never "by" the proposer.
            models.CheckConstraint(
                condition=~models.Q(decided_by=models.F("proposer")),
                name="offer_not_decided_by_proposer",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=_DECIDED)
                | (
                    models.Q(decided_at__isnull=False)
                    & (models.Q(decided_by__isnull=False) | models.Q(auto_approved=True))
                ),
                name="offer_decided_has_decision",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="pending") | models.Q(decided_by__isnull=True),
                name="offer_pending_undecided",
            ),
            models.CheckConstraint(
                condition=models.Q(total_cost__gte=0, monthly_concession__gte=0),
                name="offer_cost_gte_0",
            ),
        ]
        indexes = [
            # Accepted offers billing has yet to confirm (the billing tick looks for late ones).
            models.Index(
                fields=["answered_at"],
                name="offer_billing_told",
                condition=models.Q(billing="told"),
            ),
            # The approvals inbox: pending offers, oldest first.
            models.Index(
                fields=["proposed_at"],
                name="offer_pending_inbox",
                condition=models.Q(status="pending"),
            ),
            # Earlier concessions of a subscriber (the cumulative limit), newest first.
            models.Index(fields=["subscriber", "-decided_at"], name="offer_subscriber_decided"),
            # Accepted pauses not yet resumed (the pauses tick), and a subscriber's last pause.
            models.Index(
                fields=["runs_until"],
                name="offer_pause_to_resume",
                condition=models.Q(kind="pause", status="accepted", resumed_at__isnull=True),
            ),
            # The expiry sweep.
            models.Index(
                fields=["valid_until"],
                name="offer_live_valid_until",
                condition=models.Q(status__in=_LIVE),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} ({self.get_status_display()})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES

    @property
    def changes_price(self) -> bool:
        return self.price_before is not None and self.new_monthly_price != self.price_before


class OfferHistory(HistoryRecord):
    """Who did what to an offer, when, from what to what, and why. Append-only."""

    class Action(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        AUTO_APPROVED = "auto_approved", _("Approved within the proposer's authority")
        APPROVED = "approved", _("Approved")
        AMENDED = "amended", _("Amended and approved")
        REJECTED = "rejected", _("Rejected")
        ESCALATED = "escalated", _("Escalated")
        PRESENTED = "presented", _("Presented")
        ACCEPTED = "accepted", _("Accepted and applied")
        DECLINED = "declined", _("Declined")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        BILLING_APPLIED = "billing_applied", _("Applied by billing")
        BILLING_REFUSED = "billing_refused", _("Refused by billing")
        RESUMED = "resumed", _("Service resumed after the pause")

    offer = models.ForeignKey(CounterOffer, on_delete=models.CASCADE, related_name="history")
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("from"), max_length=12, blank=True, choices=CounterOffer.Status.choices
    )
    to_status = models.CharField(
        _("to"), max_length=12, blank=True, choices=CounterOffer.Status.choices
    )
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("offer history entry")
        verbose_name_plural = _("offer history")
        indexes = [models.Index(fields=["offer", "at"], name="offer_history_offer")]

    @property
    def text(self) -> str:
        return said(self)
