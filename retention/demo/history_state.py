"""What the demo history is drawn from, loaded once: the agents and who may approve what, the
reason and offer catalogues, and every subscriber who may ask to leave with what their cases so
far rule out. The history's steps (retention.demo.history and the modules it calls) read and
update it as the days go by."""

import bisect
import math
import random
from array import array
from collections.abc import Sequence
from datetime import date, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from offers.models import AuthorityTier, OfferTemplate
from offers.pricing import Cost
from retention.core.roles import Role
from retention.demo.bulk import new_keys
from retention.demo.clock import DAY, DeskClock, at
from retention.demo.history_rules import (
    HONEYMOON_DAYS,
    LEAD_DAYS,
    RETURN_DAYS,
    Agent,
    Approver,
    ClosedCase,
    Menu,
)
from retention.demo.propensity import Propensity
from retention.experiments.assignment import arm_index, draw_for, tenure_fits
from retention.models import (
    CancellationCase,
    CancellationReason,
    Experiment,
    ExperimentArm,
    User,
)
from subscribers.models import Plan, Subscriber

KEY_BLOCK = 5_000


class HistoryState:
    def __init__(
        self,
        *,
        days: int,
        per_day: int,
        seed: int,
        agents: Sequence[User],
        end: date,
        timeline: bool,
    ) -> None:
        self.rng = random.Random(seed)
        self.per_day = per_day
        self.timeline = timeline
        first = end - timedelta(days=days - 1)
        self.clock = DeskClock(first - timedelta(days=LEAD_DAYS + 1), end + timedelta(days=45))
        self.first_index, self.last_index = self.clock.index(first), self.clock.index(end)
        self.start_ts = self.clock.midnight[self.first_index]
        self.limit_ts = min(self.clock.midnight[self.last_index + 1], timezone.now().timestamp())
        self._load_staff(agents)
        self._load_catalogue()
        self._load_subscribers()
        self._load_earlier_cases()
        self._load_experiment()
        # Re-churn cases planned by earlier saves: (opened, number, subscriber index, channel).
        self.planned: list[tuple[float, int, int, str]] = []
        self.stories: list[ClosedCase] = []
        self.created = 0

    def _load_staff(self, agents: Sequence[User]) -> None:
        rng = self.rng
        span = self.last_index - self.first_index + LEAD_DAYS
        self.agents = []
        for user in sorted(agents, key=lambda u: u.username):
            holiday = self.first_index - LEAD_DAYS + rng.randrange(max(span, 1))
            self.agents.append(
                Agent(
                    pk=user.pk,
                    skill=min(max(math.exp(rng.gauss(0, 0.25)), 0.55), 1.6),
                    speed=min(max(math.exp(rng.gauss(0, 0.5)), 0.35), 3.0),
                    away=range(holiday, holiday + rng.choice((0, 5, 10, 14))),
                )
            )
        weights = [rng.uniform(0.5, 1.5) for _ in self.agents]
        self.agent_weights = [sum(weights[: n + 1]) for n in range(len(weights))]
        self._load_approvers()

    def _load_approvers(self) -> None:
        """Who may approve what: the tiers of the role groups, cheapest first."""
        self.approvers = []
        tiers = AuthorityTier.objects.filter(group__isnull=False).select_related("group")
        for tier in tiers.order_by("rank", "pk"):
            members = User.objects.filter(groups=tier.group_id, is_active=True).order_by("pk")
            self.approvers.append(Approver(tier, tuple(members.values_list("pk", flat=True))))
        self.agent_tier = next(
            (a for a in self.approvers if a.tier.group and a.tier.group.name == Role.AGENT), None
        )

    def _load_experiment(self) -> None:
        """The running experiment on cases, if any: a case in its slot is worked as its arm
        says, so each case needs its key (the draw's) before it is written."""
        self.experiment = (
            Experiment.objects.filter(
                status=Experiment.Status.RUNNING, audience=Experiment.Audience.CASES
            )
            .order_by("pk")
            .first()
        )
        self.arms: list[ExperimentArm] = (
            list(self.experiment.arms.select_related("template")) if self.experiment else []
        )
        self._keys: list[int] = []

    def case_key(self) -> int:
        """The next case's primary key, drawn from the database a block at a time."""
        if not self._keys:
            self._keys = new_keys(CancellationCase, KEY_BLOCK)[::-1]
        return self._keys.pop()

    def arm_of(
        self, case_id: int, category: str, subscriber: Subscriber, opened: float
    ) -> ExperimentArm | None:
        """The arm of the case opened at ``opened``, if it is in the running experiment's
        slot: the same draw and slot as retention.experiments.assignment."""
        experiment = self.experiment
        if experiment is None or at(opened) < experiment.started_at:
            return None
        day = self.clock.date_of(opened)
        if experiment.reason_category and experiment.reason_category != category:
            return None
        if experiment.segments and subscriber.segment not in experiment.segments:
            return None
        if not tenure_fits(experiment, subscriber.tenure_months(day)):
            return None
        draw = draw_for(seed=experiment.seed, key=f"case:{case_id}")
        return self.arms[arm_index(weights=[a.weight for a in self.arms], draw=draw)]

    def _load_catalogue(self) -> None:
        self.reasons: dict[str, list[CancellationReason]] = {}
        for reason in CancellationReason.objects.filter(is_active=True).order_by("position", "pk"):
            self.reasons.setdefault(reason.category, []).append(reason)
        self.templates = list(
            OfferTemplate.objects.filter(is_active=True)
            .select_related("new_plan")
            .order_by("position", "code")
        )
        self.costs: dict[tuple[int, int, Decimal, bool], Cost | None] = {}
        self.menus: dict[tuple[str, str, int, int, Decimal, bool], Menu] = {}
        self.tenures = sorted({t.min_tenure_months for t in self.templates})
        self.plans = Plan.objects.in_bulk()

    def _load_subscribers(self) -> None:
        """Every active or suspended subscriber's id and signup day, and what of their story
        brings them to the desk (retention.demo.propensity)."""
        self.propensity = Propensity(
            Subscriber.objects.filter(
                status__in=[Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED]
            ),
            first=self.clock.first,
            last=self.clock.day(self.last_index),
        )
        self.ids, self.signups = self.propensity.ids, self.propensity.signups
        count = len(self.ids)
        self.busy = array("d", bytes(8 * count))  # when their last case closed
        self.saved_until = array("d", bytes(8 * count))  # left alone after a save
        self.left_until = array("d", bytes(8 * count))  # gone after a cancellation
        self.reserved = bytearray(count)  # a re-churn is planned, or drawn today already

    def _load_earlier_cases(self) -> None:
        """What their cases so far rule out: a new case opens after their last one closed,
        never while one is open."""
        count = len(self.ids)
        since = at(self.start_ts - (LEAD_DAYS + RETURN_DAYS) * DAY)
        earlier = CancellationCase.objects.filter(
            Q(closed_at__isnull=True) | Q(closed_at__gt=since)
        )
        for subscriber_id, status, closed_at in earlier.values_list(
            "subscriber_id", "status", "closed_at"
        ).iterator(chunk_size=20_000):
            k = bisect.bisect_left(self.ids, subscriber_id)
            if k == count or self.ids[k] != subscriber_id:
                continue
            closed = closed_at.timestamp() if closed_at else math.inf
            self.busy[k] = max(self.busy[k], closed)
            if status == CancellationCase.Status.SAVED:
                self.saved_until[k] = max(self.saved_until[k], closed + HONEYMOON_DAYS * DAY)
            elif status == CancellationCase.Status.CANCELLED:
                self.left_until[k] = max(self.left_until[k], closed + RETURN_DAYS * DAY)
