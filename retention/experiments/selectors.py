"""What the experiments pages read: the list, one experiment, and its figures per arm.

Figures are by intention to treat: every case counts in the arm it was assigned, whatever the
agent proposed. An arm is compared with the holdout on who stayed (saved, or withdrew the
request), not on saves: a holdout case makes no offer, so it can hardly be "saved", and the
question is whether an offer keeps people who would otherwise have gone. The figures come from
the cases' outcomes (retention.dashboard.figures writes one per closed case within minutes), in
one aggregate query per experiment, so the page costs the same whatever the number of cases.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from offers.models import CounterOffer
from retention.core.roles import Role, has_role
from retention.models import (
    CancellationCase,
    Experiment,
    ExperimentArm,
    ExperimentAssignment,
    OutreachMessage,
    User,
)

RECHURN_DAYS = 90
Z_95 = 1.959964  # the normal quantile of a two-sided 95 % interval


def _require_manager(user: User) -> None:
    if not has_role(user, Role.MANAGER):
        raise Http404


def experiments_list(*, user: User) -> list[Experiment]:
    """Every experiment, newest first, with its arms and how many cases each has. Three
    queries."""
    _require_manager(user)
    return list(
        Experiment.objects.select_related("started_by", "stopped_by")
        .annotate(assigned=Count("assignments"))
        .prefetch_related("arms__template")
    )


def experiment_get_for_user(*, user: User, pk: int) -> Experiment:
    _require_manager(user)
    return get_object_or_404(
        Experiment.objects.select_related("started_by", "stopped_by").prefetch_related(
            "arms__template", "history__actor"
        ),
        pk=pk,
    )


@dataclass(frozen=True)
class Interval:
    difference: float
    low: float
    high: float

    @property
    def includes_zero(self) -> bool:
        return self.low <= 0 <= self.high


def wald_difference(*, saves: int, closed: int, base_saves: int, base_closed: int) -> Interval:
    """The difference of two rates (arm minus holdout: who stayed, or who asked to cancel)
    with its Wald 95 % interval: d ± z * sqrt(p1 (1 - p1) / n1 + p0 (1 - p0) / n0)."""
    p1, p0 = saves / closed, base_saves / base_closed
    se = math.sqrt(p1 * (1 - p1) / closed + p0 * (1 - p0) / base_closed)
    d = p1 - p0
    return Interval(d, d - Z_95 * se, d + Z_95 * se)


def _filled(
    experiment: Experiment, rows: dict[int, dict[str, Any]], make: Any, measures: tuple[str, ...]
) -> list[Any]:
    """One figures object per arm, in the arms' order, with the measures its row has."""
    arms = []
    for arm in experiment.arms.all():
        row = rows.get(arm.pk, {})
        figures = make(arm=arm)
        for name in measures:
            if row.get(name) is not None:  # a sum over no rows is NULL: keep the zero
                setattr(figures, name, row[name])
        arms.append(figures)
    return arms


_OPPOSITE = {"better": "worse", "more": "fewer"}


def _compare(arms: list[Any], *, min_count: int, hits: str, count: str, more: str) -> Any:
    """Each offer arm against the holdout on the rate ``hits`` / ``count``: the difference and
    its Wald interval, and a verdict: ``too_small`` (fewer than ``min_count`` in the arm or the
    holdout, and at least one: a rate needs a denominator), ``no_difference`` (the interval
    includes 0), else ``more`` when the arm's rate is higher and its opposite when lower.
    Returns the holdout's figures, or None."""
    holdout = next((a for a in arms if a.arm.is_holdout), None)
    for figures in arms:
        if holdout is None or figures is holdout:
            continue
        n, base_n = getattr(figures, count), getattr(holdout, count)
        if min(n, base_n) < max(min_count, 1):
            figures.verdict = "too_small"
            continue
        interval = wald_difference(
            saves=getattr(figures, hits),
            closed=n,
            base_saves=getattr(holdout, hits),
            base_closed=base_n,
        )
        figures.versus_holdout = interval
        if interval.includes_zero:
            figures.verdict = "no_difference"
        else:
            figures.verdict = more if interval.difference > 0 else _OPPOSITE[more]
    return holdout


@dataclass
class ArmFigures:
    arm: ExperimentArm
    cases: int = 0
    closed: int = 0
    saves: int = 0
    stayed: int = 0  # saved, or withdrew the request: the subscriber did not leave
    retained_revenue: Decimal = Decimal("0.00")
    concession_cost: Decimal = Decimal("0.00")
    saves_old_enough: int = 0  # saved at least 90 days ago: their re-churn is known
    rechurned: int = 0
    proposed: int = 0
    deviations: int = 0  # the first offer proposed was not the arm's (any offer, for a holdout)
    versus_holdout: Interval | None = None
    verdict: str = ""  # "", "too_small", "no_difference", "better", "worse"

    @property
    def save_rate(self) -> float | None:
        return self.saves / self.closed if self.closed else None

    @property
    def stay_rate(self) -> float | None:
        return self.stayed / self.closed if self.closed else None

    @property
    def cost_per_save(self) -> Decimal | None:
        if not self.saves:
            return None
        return (self.concession_cost / self.saves).quantize(Decimal("0.01"))

    @property
    def rechurn_rate(self) -> float | None:
        return self.rechurned / self.saves_old_enough if self.saves_old_enough else None


MEASURES = (
    "cases",
    "closed",
    "saves",
    "stayed",
    "retained_revenue",
    "concession_cost",
    "saves_old_enough",
    "rechurned",
    "proposed",
    "deviations",
)


@dataclass(frozen=True)
class ExperimentFigures:
    arms: list[ArmFigures]
    min_closed: int
    has_holdout: bool


def experiment_figures(
    *, experiment: Experiment, now: datetime | None = None, min_closed: int | None = None
) -> ExperimentFigures:
    """Each arm's figures (``experiment`` as ``experiment_get_for_user`` loads it, arms
    prefetched) and, for an offer arm, the difference of its stay rate from the holdout's.
    One query."""
    now = now or timezone.now()
    min_closed = settings.EXPERIMENT_MIN_CLOSED if min_closed is None else min_closed
    saved = Q(case__outcome__status=CancellationCase.Status.SAVED)
    stayed = Q(
        case__outcome__status__in=(
            CancellationCase.Status.SAVED,
            CancellationCase.Status.WITHDRAWN,
        )
    )
    old = saved & Q(case__outcome__closed_at__lte=now - timedelta(days=RECHURN_DAYS))
    rows = (
        ExperimentAssignment.objects.filter(experiment=experiment, case__isnull=False)
        .values("arm_id")
        .annotate(
            cases=Count("pk"),
            closed=Count("case__outcome"),
            saves=Count("pk", filter=saved),
            stayed=Count("pk", filter=stayed),
            retained_revenue=Sum("case__outcome__retained_revenue", filter=saved),
            concession_cost=Sum("case__outcome__concession_cost", filter=saved),
            saves_old_enough=Count("pk", filter=old),
            rechurned=Count("pk", filter=old & Q(case__outcome__rechurned_90=True)),
            proposed=Count("pk", filter=Q(offered_template__isnull=False)),
            deviations=Count("pk", filter=Q(followed=False)),
        )
        .order_by()
    )
    by_arm: dict[int, dict[str, Any]] = {row["arm_id"]: dict(row) for row in rows}
    arms = _filled(experiment, by_arm, ArmFigures, MEASURES)
    # Who stayed among the closed cases: "better" when more stay than in the holdout.
    holdout = _compare(arms, min_count=min_closed, hits="stayed", count="closed", more="better")
    return ExperimentFigures(arms, min_closed, holdout is not None)


# --- An outreach experiment ---------------------------------------------------------------------


@dataclass
class OutreachArmFigures:
    """One arm of an outreach experiment. A save here is an accepted offer from the message;
    the holdout got no message, so what it is compared on is who asked to cancel: the share of
    recipients, assigned at least 90 days ago, who opened a cancellation case within 90 days."""

    arm: ExperimentArm
    recipients: int = 0
    responded: int = 0
    accepted: int = 0
    retained_revenue: Decimal = Decimal("0.00")
    concession_cost: Decimal = Decimal("0.00")
    old_enough: int = 0
    asked_to_cancel: int = 0
    versus_holdout: Interval | None = None
    verdict: str = ""  # "", "too_small", "no_difference", "fewer", "more"

    @property
    def acceptance_rate(self) -> float | None:
        return self.accepted / self.recipients if self.recipients else None

    @property
    def cost_per_acceptance(self) -> Decimal | None:
        if not self.accepted:
            return None
        return (self.concession_cost / self.accepted).quantize(Decimal("0.01"))

    @property
    def cancel_rate(self) -> float | None:
        return self.asked_to_cancel / self.old_enough if self.old_enough else None


@dataclass(frozen=True)
class OutreachFigures:
    arms: list[OutreachArmFigures]
    min_closed: int
    has_holdout: bool


def outreach_figures(
    *, experiment: Experiment, now: datetime | None = None, min_closed: int | None = None
) -> OutreachFigures:
    """Each arm's recipients (its assignments), the answers to its messages, what the accepted
    offers retain and cost, and the share who asked to cancel within 90 days, with each offer
    arm's difference from the holdout's share (Wald 95 %). Two aggregate queries."""
    now = now or timezone.now()
    min_closed = settings.EXPERIMENT_MIN_CLOSED if min_closed is None else min_closed
    old = Q(assigned_at__lte=now - timedelta(days=RECHURN_DAYS))
    asked = Exists(
        CancellationCase.objects.filter(
            subscriber_id=OuterRef("subscriber_id"),
            opened_at__gte=OuterRef("assigned_at"),
            opened_at__lt=OuterRef("assigned_at") + timedelta(days=RECHURN_DAYS),
        )
    )
    recipients = (
        ExperimentAssignment.objects.filter(experiment=experiment, case__isnull=True)
        .values("arm_id")
        .annotate(
            recipients=Count("pk"),
            old_enough=Count("pk", filter=old),
            asked_to_cancel=Count("pk", filter=old & Q(asked)),
        )
        .order_by()
    )
    accepted = Q(response=OutreachMessage.Response.ACCEPTED)
    # The offer the acceptance made: the subscriber's, of the message's offer, proposed by the
    # campaign's author when they answered (as selectors.message_offer finds it).
    cost = Subquery(
        CounterOffer.objects.filter(
            subscriber_id=OuterRef("subscriber_id"),
            template_id=Coalesce(OuterRef("template_id"), OuterRef("campaign__template_id")),
            proposer_id=OuterRef("campaign__created_by_id"),
            proposed_at__gte=OuterRef("responded_at"),
            status=CounterOffer.Status.ACCEPTED,
        )
        .order_by("proposed_at", "pk")
        .values("total_cost")[:1]
    )
    answers = (
        OutreachMessage.objects.filter(arm__experiment=experiment)
        .values("arm_id")
        .annotate(
            responded=Count("pk", filter=~Q(response="")),
            accepted=Count("pk", filter=accepted),
            retained_revenue=Sum("subscriber__monthly_price", filter=accepted),
            concession_cost=Sum(cost, filter=accepted),
        )
        .order_by()
    )
    by_arm: dict[int, dict[str, Any]] = {row["arm_id"]: dict(row) for row in recipients}
    for answered in answers:
        by_arm.setdefault(answered["arm_id"], {}).update(answered)
    arms = _filled(experiment, by_arm, OutreachArmFigures, OUTREACH_MEASURES)
    # Who asked to cancel among those old enough to tell: "more" is the worse news here.
    holdout = _compare(
        arms, min_count=min_closed, hits="asked_to_cancel", count="old_enough", more="more"
    )
    return OutreachFigures(arms, min_closed, holdout is not None)


OUTREACH_MEASURES = (
    "recipients",
    "responded",
    "accepted",
    "retained_revenue",
    "concession_cost",
    "old_enough",
    "asked_to_cancel",
)
