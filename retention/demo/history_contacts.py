"""How a demo history case went: when the owner first reached out, the contact attempts and
the contacts the policy refused, and how the case closed when it was not a save."""

import math

from retention.demo.clock import DAY, HOUR, at
from retention.demo.history_rules import (
    ARM_NOT_FOLLOWED,
    ARM_SAVE,
    CHANNEL_SAVE,
    CONTACT_CHANNEL_WEIGHTS,
    CONTACT_CHANNELS,
    EARLIER_OUTCOMES,
    HOLDOUT_ASKS,
    PORT_OUT_REFUSAL,
    REFUSALS,
    SAVE_CHANCE,
    SEGMENT_SAVE,
    Agent,
    ClosedCase,
    Mood,
)
from retention.demo.history_state import HistoryState
from retention.demo.saves import save
from retention.models import CancellationCase, CaseHistory, ContactAttempt, ExperimentArm
from subscribers.models import Subscriber


def first_contact(h: HistoryState, agent: Agent, mood: Mood) -> float | None:
    """Working seconds from opening to the first outbound contact, or None for never."""
    rng = h.rng
    if rng.random() < 0.025 * mood.load:
        return None
    u = rng.random()
    if u < 0.58:
        hours = rng.uniform(2, 60) / 60
    elif u < 0.86:
        hours = rng.uniform(1, 4)
    else:
        hours = rng.uniform(4, 14)
    return hours * HOUR * agent.speed * mood.load


def uncontacted(
    h: HistoryState,
    story: ClosedCase,
    agent: Agent,
    opened: float,
    deadline: float,
    *,
    rechurn: bool,
) -> float:
    """Nobody reached the subscriber: mostly processed at the deadline, unclaimed (each one a
    failure of the desk); some claimed and then withdrawn or processed on request."""
    rng, case = h.rng, story.case
    if rng.random() < 0.3:
        case["owner_id"] = agent.pk
        claimed = h.clock.add_work(opened, rng.uniform(0.05, 3) * HOUR)
        case["claimed_at"] = at(min(claimed, deadline - 60))
        u = rng.random()
        if u < 0.3 and not rechurn:
            closed = max(opened + rng.uniform(2 * HOUR, 3 * DAY), claimed + 60)
            if closed < deadline:
                return close(story, closed, "withdrawn")
        elif u < 0.45:
            closed = h.clock.add_work(claimed, rng.uniform(0.2, 8) * HOUR)
            if closed < deadline:
                return close(story, closed, "cancelled")
    return close(story, deadline + rng.uniform(20, 290), "auto")


def contacted(
    h: HistoryState,
    story: ClosedCase,
    subscriber: Subscriber,
    agent: Agent,
    first: float,
    deadline: float,
    category: str,
    *,
    skill: float,
    rechurn: bool,
    arm: ExperimentArm | None = None,
) -> float:
    """The owner reached out, once or a few times, then saved the subscriber with an
    offer, or processed the cancellation, or the subscriber withdrew it.

    A case in an experiment's arm (``arm``) is worked as the arm says: the holdout gets no
    offer unless the subscriber asks for one (a few do), so they stay only by withdrawing; an
    offer arm's case gets the arm's offer (but for a few the agent chose another), with the
    save chance that offer has (retention.demo.history_rules.ARM_SAVE)."""
    rng, case, opened = h.rng, story.case, story.opened
    port_out = case["channel"] == CancellationCase.Channel.PORT_OUT
    case["owner_id"] = agent.pk
    case["claimed_at"] = at(max(opened + 20, first - rng.uniform(60, 1500)))
    case["first_contacted_at"] = at(first)
    times = _attempt_times(h, first, deadline, port_out=port_out)
    channel = rng.choices(CONTACT_CHANNELS, CONTACT_CHANNEL_WEIGHTS)[0]
    last = times[-1]
    if not port_out and rng.random() < 0.04 and first - opened > 120:
        story.refusals.append((rng.uniform(opened + 60, first - 60), rng.choice(REFUSALS)))
    u = rng.random()
    closed, outcome = math.inf, ""
    chance = _save_chance(agent.skill * skill, subscriber, case["channel"], category)
    prefer = None
    if arm is not None:
        drawn = rng.random()
        if arm.template is None and drawn >= HOLDOUT_ASKS:
            chance = 0.0  # no counter-offer: they stay only by withdrawing
        elif arm.template is not None and drawn >= ARM_NOT_FOLLOWED:
            prefer = arm.template
            chance = min(chance * ARM_SAVE.get(arm.template.code, 1.0), 0.9)
    if not rechurn and u < chance:
        closed = save(h, story, subscriber, agent, last, deadline, category, prefer=prefer)
        outcome = "saved" if closed < math.inf else ""
    if not outcome:
        outcome, closed = _not_saved(h, last, deadline, rechurn=rechurn)
    _record_contacts(h, story, times, channel, outcome)
    if port_out and len(times) == 1 and rng.random() < 0.06 and closed - last > 120:
        story.refusals.append(
            (rng.uniform(last + 60, min(closed, last + DAY) - 60), PORT_OUT_REFUSAL)
        )
    if outcome != "saved":
        close(story, closed, outcome)
    return closed


def _attempt_times(
    h: HistoryState, first: float, deadline: float, *, port_out: bool
) -> list[float]:
    """When the owner tried: a few times, before the deadline. A port-out gets one save
    contact; a few are wrongly called twice."""
    rng = h.rng
    if port_out:
        attempts = 2 if rng.random() < 0.03 else 1
    else:
        attempts = rng.choices((1, 2, 3), (55, 30, 15))[0]
    times = [first]
    for _ in range(attempts - 1):
        then = h.clock.add_work(times[-1], rng.uniform(0.3, 6) * HOUR)
        if then >= deadline:
            break
        times.append(then)
    return times


def _not_saved(
    h: HistoryState, last: float, deadline: float, *, rechurn: bool
) -> tuple[str, float]:
    """How a case the owner did not save closed, and when."""
    rng, clock = h.rng, h.clock
    u = rng.random()
    if u < 0.007:
        return "auto", deadline + rng.uniform(20, 290)  # the owner let it run out
    if u < 0.22 and not rechurn:
        outcome = "withdrawn"
        closed = clock.add_work(last, rng.uniform(0.05, 10) * HOUR)
    else:
        outcome = "cancelled"
        hours = rng.uniform(0.02, 3) if rng.random() < 0.8 else rng.uniform(3, 20)
        closed = clock.add_work(last, hours * HOUR)
    if closed >= deadline:
        closed = last + rng.uniform(60, 900)  # the deadline is near: done on the call
    return outcome, closed


def _record_contacts(
    h: HistoryState, story: ClosedCase, times: list[float], channel: str, outcome: str
) -> None:
    """The attempts' outcomes: the last reached the subscriber, unless nobody did."""
    reached = outcome != "auto"
    for n, when in enumerate(times):
        if n < len(times) - 1 or not reached:
            result = h.rng.choice(EARLIER_OUTCOMES)
        elif outcome == "cancelled" and h.rng.random() < 0.08:
            result = ContactAttempt.Outcome.REFUSED
        else:
            result = ContactAttempt.Outcome.REACHED
        story.contacts.append((when, channel, result))


def _save_chance(skill: float, subscriber: Subscriber, channel: str, category: str) -> float:
    chance = SAVE_CHANCE.get(category, 0.25) * skill * CHANNEL_SAVE[channel]
    return min(chance * SEGMENT_SAVE.get(subscriber.segment, 1.0), 0.85)


def close(story: ClosedCase, closed: float, outcome: str) -> float:
    """The case closed at ``closed``: processed at the deadline (auto), withdrawn, or
    cancelled by its owner; returns ``closed``."""
    case = story.case
    Status, Action = CancellationCase.Status, CaseHistory.Action
    before = Status.IN_PROGRESS if case["owner_id"] else Status.NEW
    if outcome == "auto":
        said = {
            "code": "history.auto_cancelled",
            "params": {"date": case["process_by"].isoformat()},
        }
        case.update(status=Status.CANCELLED, auto_processed=True, effective_date=case["process_by"])
        story.closing = (closed, Action.AUTO_CANCELLED, before, "", said)
    elif outcome == "withdrawn":
        note = "The subscriber decided to stay."
        case.update(status=Status.WITHDRAWN, outcome_note=note)
        story.closing = (closed, Action.WITHDRAWN, before, note, None)
    else:
        case["status"] = Status.CANCELLED
        story.closing = (closed, Action.CANCELLED, before, "", None)
    return closed
