"""Saves in the demo history: the offer an agent made to a subscriber who asked to leave, who
decided it, when it was presented and accepted; and the saved subscribers who ask to leave
again and go (the dashboard's re-churn)."""

import heapq
import math
from datetime import date, timedelta
from typing import Any

from django.conf import settings

from offers.exceptions import InvalidTerms
from offers.models import CounterOffer, OfferKind, OfferTemplate
from offers.pricing import Cost, Terms, add_months, offer_cost, terms_validate
from offers.selectors import template_eligible
from retention.demo.clock import DAY, HOUR, at
from retention.demo.history_rules import (
    OFFER_WEIGHTS,
    OTHER_OFFER,
    RECHURN_SHARE,
    Agent,
    ClosedCase,
    Menu,
    time_of_day,
)
from retention.demo.history_state import HistoryState
from retention.demo.phrases import names
from retention.models import CancellationCase, CaseHistory
from subscribers.models import Subscriber

# An accepted offer's moments: proposed, decided, presented, answered (epoch seconds).
_Moments = tuple[float, float, float, float]


def save(
    h: HistoryState,
    story: ClosedCase,
    subscriber: Subscriber,
    agent: Agent,
    reached: float,
    deadline: float,
    category: str,
    *,
    prefer: OfferTemplate | None = None,
) -> float:
    """The accepted offer, proposed on the call that reached the subscriber: approved at once
    or by a manager, presented, accepted and applied. Infinity when there was no offer to
    make or no time to settle it before the process-by day. ``prefer``: the offer to make
    when the subscriber is eligible for it (an experiment's arm)."""
    day = h.clock.date_of(reached)
    choice = _offer_choice(h, subscriber, category, day, agent.pk, prefer=prefer)
    if choice is None:
        return math.inf
    template, cost, decided_by, tier = choice
    moments = _moments(h, reached, approved_at_once=decided_by is None)
    presented, answered = moments[2], moments[3]
    valid_until = min(presented + settings.OFFER_ANSWER_DAYS * DAY, deadline)
    if answered >= valid_until:
        return math.inf
    story.offer = _offer_columns(
        template,
        cost,
        subscriber,
        moments,
        proposer=agent.pk,
        decided_by=decided_by,
        tier=tier,
        valid_until=valid_until,
        deadline=deadline,
        runs_until=_runs_until(template, h.clock.date_of(answered)),
    )
    note = f"Offer accepted: {template.name_en}"
    story.case.update(status=CancellationCase.Status.SAVED, outcome_note=note)
    presented_status = CancellationCase.Status.OFFER_PRESENTED
    said = {"code": "history.offer_accepted", "params": {"offer": names(template)}}
    story.closing = (answered, CaseHistory.Action.SAVED, presented_status, "", said)
    return answered


def _moments(h: HistoryState, reached: float, *, approved_at_once: bool) -> _Moments:
    """Proposed a few minutes into the call; approved at once or by a manager within hours;
    presented on the same call or later; answered at once or within hours."""
    rng, clock = h.rng, h.clock
    proposed = reached + rng.uniform(60, 600)
    if approved_at_once:
        decided = proposed
        same_call = rng.random() < 0.75
    else:
        decided = clock.add_work(proposed, rng.uniform(0.1, 6) * HOUR)
        same_call = False
    presented = (
        decided + rng.uniform(30, 300)
        if same_call
        else clock.add_work(decided, rng.uniform(0.05, 4) * HOUR)
    )
    answered = (
        presented + rng.uniform(10, 300)
        if rng.random() < 0.6
        else clock.add_work(presented, rng.uniform(0.5, 16) * HOUR)
    )
    return proposed, decided, presented, answered


def _runs_until(template: OfferTemplate, answered_day: date) -> date | None:
    if template.kind == OfferKind.PAYMENT_DEFERRAL:
        return answered_day + timedelta(days=template.days)
    if template.months:
        return add_months(answered_day, template.months)
    return None


def _offer_columns(
    template: OfferTemplate,
    cost: Cost,
    subscriber: Subscriber,
    moments: _Moments,
    *,
    proposer: int,
    decided_by: int | None,
    tier: int | None,
    valid_until: float,
    deadline: float,
    runs_until: date | None,
) -> dict[str, Any]:
    """The accepted offer's columns; every offer has the same keys, in this order."""
    proposed, decided, presented, answered = moments
    return {
        "kind": template.kind,
        "percent": template.percent,
        "amount": template.amount,
        "months": template.months,
        "days": template.days,
        "new_plan_id": template.new_plan_id,
        "subscriber_id": subscriber.pk,
        "template_id": template.pk,
        "status": CounterOffer.Status.ACCEPTED,
        "monthly_concession": cost.monthly,
        "counted_months": cost.months,
        "one_time_concession": cost.one_time,
        "total_cost": cost.total,
        "new_monthly_price": cost.new_monthly_price,
        "proposer_id": proposer,
        "proposed_at": at(proposed),
        "routed_tier_id": tier,
        "auto_approved": decided_by is None,
        "decided_by_id": decided_by,
        "decided_at": at(decided),
        "valid_until": at(valid_until),
        "deadline": at(deadline),
        "presented_at": at(presented),
        "answered_at": at(answered),
        "applied_at": at(answered),
        "price_before": subscriber.monthly_price,
        "runs_until": runs_until,
    }


def _offer_choice(
    h: HistoryState,
    subscriber: Subscriber,
    category: str,
    day: date,
    proposer: int,
    *,
    prefer: OfferTemplate | None = None,
) -> tuple[OfferTemplate, Cost, int | None, int | None] | None:
    """An offer the subscriber is eligible for, weighted by what suits the reason, with who
    decided it: nobody when within an agent's authority, else a member of the cheapest tier
    that covers it."""
    tenure = subscriber.tenure_months(day)
    # Everything eligibility and cost depend on: the same for many subscribers.
    key = (
        category,
        subscriber.segment,
        sum(tenure >= months for months in h.tenures),
        subscriber.plan_id,
        subscriber.monthly_price,
        subscriber.balance > 0,
    )
    if key not in h.menus:
        h.menus[key] = _menu(h, subscriber, category, day)
    choices, weights = h.menus[key]
    if not choices:
        return None
    preferred = [c for c in choices if prefer is not None and c[0].pk == prefer.pk]
    template, cost, approver = preferred[0] if preferred else h.rng.choices(choices, weights)[0]
    if approver is None:
        return template, cost, None, None
    others = [member for member in approver.members if member != proposer]
    if not others:
        return None
    return template, cost, h.rng.choice(others), approver.tier.pk


def _menu(h: HistoryState, subscriber: Subscriber, category: str, day: date) -> Menu:
    choices, weights = [], []
    for template in h.templates:
        if not template_eligible(
            template=template, subscriber=subscriber, reason_category=category, today=day
        ):
            continue
        cost = _cost(h, template, subscriber)
        if cost is None:
            continue
        approver = None
        if h.agent_tier is None or not h.agent_tier.covers(cost):
            approver = next(
                (a for a in h.approvers if a is not h.agent_tier and a.members and a.covers(cost)),
                None,
            )
            if approver is None:
                continue  # nobody may approve it
        choices.append((template, cost, approver))
        weights.append(OFFER_WEIGHTS.get(category, {}).get(template.kind, OTHER_OFFER))
    return choices, weights


def _cost(h: HistoryState, template: OfferTemplate, subscriber: Subscriber) -> Cost | None:
    key = (template.pk, subscriber.plan_id, subscriber.monthly_price, subscriber.balance > 0)
    if key not in h.costs:
        terms = Terms.of(template)
        try:
            terms_validate(terms, subscriber)
        except InvalidTerms:
            h.costs[key] = None
        else:
            h.costs[key] = offer_cost(terms=terms, subscriber=subscriber)
    return h.costs[key]


def plan_rechurn(h: HistoryState, k: int, closed: float, story: ClosedCase) -> None:
    """Some saved subscribers ask to leave again and go: within 90 days of the save, or in
    the 60 days after their discount ended."""
    rng, clock = h.rng, h.clock
    if rng.random() >= RECHURN_SHARE:
        return
    saved_on = clock.date_of(closed)
    ends = story.offer["runs_until"] if story.offer else None
    if ends is not None and rng.random() < 0.5:
        day = ends + timedelta(days=rng.randint(0, 58))
    else:
        day = saved_on + timedelta(days=rng.randint(7, 88))
    n = clock.index(day)
    if n > h.last_index:
        return
    channel = rng.choices(("port_out", "web", "phone"), (35, 30, 35))[0]
    opened = clock.midnight[n] + time_of_day(rng, channel)
    h.reserved[k] = 1
    heapq.heappush(h.planned, (opened, h.created + len(h.stories), k, channel))
