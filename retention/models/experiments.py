"""Experiments: offers tried against each other and a holdout on one slot of cases.

A slot is a reason category, segments and a tenure range. Cases in the slot are assigned an arm
by a draw computed from the experiment's seed and the case (retention.experiments.assignment),
so an assignment can be recomputed by anyone and never changes once made.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from offers.models import ReasonCategory
from retention.core.history import HistoryRecord


class Experiment(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        STOPPED = "stopped", _("Stopped")

    class Audience(models.TextChoices):
        CASES = "cases", _("Cancellation cases")
        OUTREACH = "outreach", _("Outreach recipients")

    name = models.CharField(_("name"), max_length=120)
    # Cases are assigned when opened; outreach recipients when a campaign's messages are made.
    # A reason applies to cases only; segments and tenure to both.
    audience = models.CharField(
        _("audience"), max_length=10, choices=Audience.choices, default=Audience.CASES
    )
    reason_category = models.CharField(
        _("reason"),
        max_length=20,
        blank=True,
        choices=ReasonCategory.choices,
        help_text=_("Empty means any reason."),
    )
    segments = models.JSONField(
        _("segments"), default=list, blank=True, help_text=_("Empty means every segment.")
    )
    min_tenure_months = models.PositiveSmallIntegerField(_("tenure at least, months"), default=0)
    max_tenure_months = models.PositiveSmallIntegerField(
        _("tenure at most, months"), null=True, blank=True, help_text=_("Empty means no limit.")
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    # Drawn once at the start and never changed: with the case it decides the arm.
    seed = models.CharField(_("seed"), max_length=32)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("started by"),
    )
    stopped_at = models.DateTimeField(_("stopped"), null=True, blank=True)
    stopped_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("stopped by"),
    )

    class Meta:
        verbose_name = _("experiment")
        verbose_name_plural = _("experiments")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_tenure_months__isnull=True)
                | models.Q(max_tenure_months__gte=models.F("min_tenure_months")),
                name="experiment_tenure_bounds",
            ),
            models.CheckConstraint(
                condition=models.Q(audience="cases") | models.Q(reason_category=""),
                name="experiment_outreach_any_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(status="running", stopped_at__isnull=True)
                | models.Q(status="stopped", stopped_at__isnull=False),
                name="experiment_stopped_when_stopped",
            ),
        ]
        indexes = [
            # Every case opening and offer builder looks up the running experiments.
            models.Index(
                fields=["reason_category"],
                name="experiment_running",
                condition=models.Q(status="running"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING

    @property
    def is_outreach(self) -> bool:
        return self.audience == self.Audience.OUTREACH


class ExperimentArm(models.Model):
    """One arm: an offer from the catalogue, or (no offer) the holdout, with its share in %."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="arms")
    template = models.ForeignKey(
        "offers.OfferTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("offer"),
        help_text=_("Empty: the holdout, which gets no counter-offer."),
    )
    weight = models.PositiveSmallIntegerField(_("share, %"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("experiment arm")
        verbose_name_plural = _("experiment arms")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weight__gte=1, weight__lte=100), name="experiment_arm_weight"
            ),
            models.UniqueConstraint(
                fields=["experiment", "template"], name="experiment_arm_one_per_offer"
            ),
            models.UniqueConstraint(
                fields=["experiment"],
                condition=models.Q(template__isnull=True),
                name="experiment_one_holdout",
            ),
        ]

    def __str__(self) -> str:
        return str(self.label)

    @property
    def is_holdout(self) -> bool:
        return self.template_id is None

    @property
    def label(self) -> str:
        return str(_("Holdout")) if self.template is None else self.template.label


class ExperimentAssignment(models.Model):
    """Which arm a case fell in, with the draw that put it there, and what the agent did.

    ``key`` is what was hashed with the seed ("case:<id>", or "subscriber:<id>" for an outreach
    recipient); ``draw`` the number in [0, 1) it
    gave (the first 13 hex digits of the SHA-256, over 16**13). Written once; only the
    agent's first proposal on the case is added later.
    """

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="assignments")
    arm = models.ForeignKey(ExperimentArm, on_delete=models.PROTECT, related_name="assignments")
    case = models.ForeignKey(
        "retention.CancellationCase",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="assignments",
    )
    subscriber = models.ForeignKey(
        "subscribers.Subscriber", on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(_("key"), max_length=40)
    draw = models.FloatField(_("draw"))
    assigned_at = models.DateTimeField(_("assigned"), default=timezone.now)
    offered_template = models.ForeignKey(
        "offers.OfferTemplate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("offer proposed"),
    )
    offered_at = models.DateTimeField(_("proposed"), null=True, blank=True)
    # Whether the first offer proposed was the arm's; None while nothing has been proposed.
    followed = models.BooleanField(_("followed the arm"), null=True, blank=True)

    class Meta:
        verbose_name = _("experiment assignment")
        verbose_name_plural = _("experiment assignments")
        ordering = ["-assigned_at", "-id"]
        constraints = [
            # Stable under repeats and races: one draw per experiment and key.
            models.UniqueConstraint(fields=["experiment", "key"], name="assignment_one_per_key"),
            models.UniqueConstraint(
                fields=["experiment", "case"],
                condition=models.Q(case__isnull=False),
                name="assignment_one_per_case",
            ),
            models.CheckConstraint(
                condition=models.Q(draw__gte=0, draw__lt=1), name="assignment_draw_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id} {self.key} → {self.arm_id}"


class ExperimentHistory(HistoryRecord):
    """Who started or stopped an experiment, and when. Append-only."""

    class Action(models.TextChoices):
        STARTED = "started", _("Started")
        STOPPED = "stopped", _("Stopped")

    experiment = models.ForeignKey(
        Experiment, on_delete=models.CASCADE, related_name="history", verbose_name=_("experiment")
    )
    action = models.CharField(_("action"), max_length=20, choices=Action.choices)
    from_status = models.CharField(
        _("from"), max_length=10, blank=True, choices=Experiment.Status.choices
    )
    to_status = models.CharField(
        _("to"), max_length=10, blank=True, choices=Experiment.Status.choices
    )

    class Meta:
        verbose_name = _("experiment history")
        verbose_name_plural = _("experiment history")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.experiment_id} {self.action}"
