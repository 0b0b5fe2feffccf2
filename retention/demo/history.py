"""The desk's past for the demo and the benchmark: closed cases of the days before ``end``, as
the desk would have left them: the case with its times and outcome, the accepted offer of a
save, the outbound contacts, history rows and the request on the subscriber's timeline.

Cases are built with the same deadline and priority formulas as the intake service
(retention.cases.priority) and written in bulk (retention.demo.bulk). A day draws who asks to
leave (retention.demo.history_rules says how many and why), each case is followed to its close
(retention.demo.history_contacts, retention.demo.saves), and every few thousand cases go to the
database (retention.demo.history_writing).
"""

import heapq
import math
import zoneinfo
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from offers.models import ReasonCategory
from retention.cases.priority import case_priority, process_by_date
from retention.demo.cases import CHUNK, COMPETITORS
from retention.demo.clock import DAY, HOUR, at
from retention.demo.history_contacts import contacted, first_contact, uncontacted
from retention.demo.history_rules import (
    CHANNEL_WEIGHTS,
    HISTORY_SOURCE,
    HONEYMOON_DAYS,
    LEAD_DAYS,
    PORT_OUT_REASON_WEIGHTS,
    REASON_WEIGHTS,
    RETURN_DAYS,
    SUBSCRIBER_FIELDS,
    WAVES,
    WEEKDAY_VOLUME,
    Agent,
    ClosedCase,
    Mood,
    time_of_day,
)
from retention.demo.history_state import HistoryState
from retention.demo.history_writing import write
from retention.demo.propensity import CAP, OUTAGE_REASON, PRICE_REASON
from retention.demo.saves import plan_rechurn
from retention.models import CancellationCase, CancellationReason, User
from subscribers.models import Subscriber

__all__ = ["HISTORY_SOURCE", "history_seed"]


def history_seed(
    *,
    days: int,
    per_day: int,
    seed: int = 7,
    agents: Sequence[User],
    end: date | None = None,
    timeline: bool = True,
) -> int:
    """Write about ``per_day`` closed cases a day for the ``days`` days up to ``end`` (by
    default yesterday, in the desk's time zone; a case closes no later than now), handled by
    ``agents``, for subscribers drawn from those in the database; returns how many.

    A subscriber's cases never overlap one another or a case they have already, so it can run
    again over the same days (it adds cases for other subscribers) or for later days.
    ``timeline=False`` leaves out the request's timeline event (one row per case).
    """
    if not agents:
        raise ValueError("history_seed needs at least one agent")
    end = end or timezone.localdate(timezone.now(), zoneinfo.ZoneInfo(settings.TIME_ZONE)) - (
        timedelta(days=1)
    )
    h = HistoryState(
        days=days, per_day=per_day, seed=seed, agents=agents, end=end, timeline=timeline
    )
    for n in range(h.first_index - LEAD_DAYS, h.last_index + 1):
        _day(h, n)
        if len(h.stories) >= CHUNK:
            write(h)
    write(h)
    return h.created


# --- Days -------------------------------------------------------------------------------------


def _mood(h: HistoryState, n: int) -> Mood:
    day = h.clock.day(n)
    span = max(h.last_index - h.first_index, 1)
    position = min(max((n - h.first_index) / span, 0.0), 1.0)
    volume = WEEKDAY_VOLUME[day.weekday()] * (0.85 + 0.3 * position)
    volume *= max(h.rng.gauss(1.0, 0.07), 0.5)
    # Fewer leave over the winter holidays and in high summer.
    if (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 6):
        volume *= 0.6
    elif (7, 15) <= (day.month, day.day) <= (8, 15):
        volume *= 0.85
    reasons: dict[str, float] = dict(REASON_WEIGHTS)
    load = 1.0
    for wave in WAVES:
        since = n - (h.first_index + round(wave.start * span))
        if 0 <= since < wave.days:
            fade = 1 - since / wave.days
            volume *= 1 + wave.volume * fade
            reasons[wave.category] *= 1 + (wave.boost - 1) * fade
            load *= 1 + (wave.load - 1) * fade
    # The desk learns: more saves, and sooner first contacts, as the range goes on.
    skill = 0.9 + 0.15 * position
    load *= 1.15 - 0.3 * position
    return Mood(volume=volume, reasons=reasons, load=load, skill=skill)


def _day(h: HistoryState, n: int) -> None:
    mood = _mood(h, n)
    picks = _picks(h, n, wanted=round(h.per_day * mood.volume))
    # What the priority, the offers' eligibility and their cost read, and nothing else:
    # a million and a half subscribers are fetched. Their plans are the few loaded once.
    subscribers = Subscriber.objects.only(*SUBSCRIBER_FIELDS).in_bulk([h.ids[k] for k, *_ in picks])
    for k, opened, channel, rechurn in picks:
        subscriber = subscribers[h.ids[k]]
        subscriber.plan = h.plans[subscriber.plan_id]
        _case(h, k, subscriber, opened, channel, mood, rechurn=rechurn)


def _picks(h: HistoryState, n: int, *, wanted: int) -> list[tuple[int, float, str, bool]]:
    """Who asks to leave on day ``n``: the re-churns planned for the day, then as many more as
    the day wants: (subscriber index, opening time, channel, whether a planned re-churn)."""
    midnight = h.clock.midnight[n]
    picks: list[tuple[int, float, str, bool]] = []
    while h.planned and h.planned[0][0] < h.clock.midnight[n + 1]:
        opened, _, k, channel = heapq.heappop(h.planned)
        h.reserved[k] = 0
        if h.busy[k] < opened:
            picks.append((k, opened, channel, True))
    channels, weights = list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values())
    drawn = []
    for _ in range(max(wanted - len(picks), 0)):
        channel = h.rng.choices(channels, weights)[0]
        opened = midnight + time_of_day(h.rng, channel)
        pick = _draw(h, n, opened)
        if pick is not None:
            h.reserved[pick] = 1
            drawn.append(pick)
            picks.append((pick, opened, channel, False))
    for k in drawn:
        h.reserved[k] = 0  # only while drawing: a re-churn planned later reserves again
    return picks


def _draw(h: HistoryState, n: int, opened: float) -> int | None:
    """A subscriber free to ask to leave at ``opened``: a customer for a month at least,
    no case open then, not just saved; preferably one who has not left. Who it is follows
    their story (retention.demo.propensity): a candidate drawn at random is kept with the
    chance their weight over CAP says, else another is drawn (rejection sampling). Only the
    kept ones count as attempts, so the day's volume stays what it was."""
    day = h.clock.first.toordinal() + n
    count = len(h.ids)
    if not count:
        return None
    rnd, weight = h.rng.random, h.propensity.weight
    for attempt in range(60):
        k = int(rnd() * count)
        while rnd() * CAP >= weight(k, day):
            k = int(rnd() * count)
        if (
            h.reserved[k]
            or h.busy[k] >= opened
            or h.saved_until[k] > opened
            or h.signups[k] + 30 > day
            or (attempt < 30 and h.left_until[k] > opened)
        ):
            continue
        return k
    return None


# --- One case ---------------------------------------------------------------------------------


def _agent(h: HistoryState, n: int) -> Agent:
    for _ in range(5):
        agent = h.rng.choices(h.agents, cum_weights=h.agent_weights)[0]
        if n not in agent.away:
            return agent
    return agent


def _reason(
    h: HistoryState, k: int, day: int, channel: str, mood: Mood
) -> CancellationReason | None:
    """The reason subscriber ``k`` gives on ``day`` (an ordinal): the day's mix, leaning to
    the service after an outage and to the price after a price shock."""
    rng = h.rng
    if channel in ("web", "email") and rng.random() < 0.02:
        return None  # the form's reason left empty
    weights = PORT_OUT_REASON_WEIGHTS if channel == "port_out" else mood.reasons
    outage, price = h.propensity.drivers(k, day)
    if outage or price:
        weights = dict(weights)
        if outage and ReasonCategory.QUALITY in weights:
            weights[ReasonCategory.QUALITY] *= OUTAGE_REASON
        if price and ReasonCategory.PRICE in weights:
            weights[ReasonCategory.PRICE] *= PRICE_REASON
    categories = [c for c in weights if c in h.reasons]
    if not categories:
        return None
    category = rng.choices(categories, [weights[c] for c in categories])[0]
    return rng.choice(h.reasons[category])


def _case(
    h: HistoryState,
    k: int,
    subscriber: Subscriber,
    opened: float,
    channel: str,
    mood: Mood,
    *,
    rechurn: bool,
) -> None:
    """The case subscriber ``k`` opened at ``opened``, followed to its close; kept when it
    closed within the history's days."""
    rng, clock = h.rng, h.clock
    n = clock.index_of(opened)
    day = clock.day(n)
    port_out = channel == CancellationCase.Channel.PORT_OUT
    requested = day + timedelta(days=rng.randint(2, 30)) if rng.random() < 0.6 or port_out else None
    process_by = process_by_date(opened=day, requested_end=requested, port_out=port_out)
    deadline = clock.midnight[clock.index(process_by)]
    reason = _reason(h, k, day.toordinal(), channel, mood)
    category = reason.category if reason else ""
    agent = _agent(h, n)
    # A case in the running experiment's slot is worked as its arm says; its arm is drawn from
    # its key, so the key is drawn now.
    key = h.case_key() if h.experiment is not None else None
    arm = h.arm_of(key, category, subscriber, opened) if key is not None else None
    case = _columns(
        h,
        subscriber,
        opened,
        channel,
        reason,
        requested=requested,
        process_by=process_by,
        today=day,
    )
    if key is not None:
        case = {"id": key, **case}
    story = ClosedCase(opened=opened, case=case)
    delay = first_contact(h, agent, mood)
    first = clock.add_work(opened, delay) if delay is not None else math.inf
    if first >= deadline:
        closed = uncontacted(h, story, agent, opened, deadline, rechurn=rechurn)
    else:
        closed = contacted(
            h, story, subscriber, agent, first, deadline, category, skill=mood.skill,
            rechurn=rechurn, arm=arm,
        )  # fmt: skip
    if not h.start_ts <= closed < h.limit_ts:
        return  # closed before the first day, or not yet: no part of this history
    _after_close(h, k, story, closed)
    h.stories.append(story)


def _columns(
    h: HistoryState,
    subscriber: Subscriber,
    opened: float,
    channel: str,
    reason: CancellationReason | None,
    *,
    requested: date | None,
    process_by: date,
    today: date,
) -> dict[str, Any]:
    """The case's columns as it opened. Every case has the same keys, in this order (see
    retention.demo.bulk.insert_rows)."""
    port_out = channel == CancellationCase.Channel.PORT_OUT
    priority = case_priority(
        subscriber=subscriber, process_by=process_by, port_out=port_out, today=today
    )
    category = reason.category if reason else ""
    competitor = port_out or (category == ReasonCategory.COMPETITOR and h.rng.random() < 0.6)
    return {
        "subscriber_id": subscriber.pk,
        "channel": channel,
        "reason_id": reason.pk if reason else None,
        "competitor": h.rng.choice(COMPETITORS[:-1]) if competitor else "",
        "requested_end_date": requested,
        "process_by": process_by,
        "first_contact_due": at(h.clock.add_work(opened, 4 * HOUR)),
        "first_contacted_at": None,
        "priority": priority.score,
        "priority_explained": priority.explained,
        "status": "",
        "owner_id": None,
        "claimed_at": None,
        "opened_at": at(opened),
        "source": HISTORY_SOURCE,
        "closed_at": None,
        "outcome_note": "",
        "effective_date": None,
        "auto_processed": False,
    }


def _after_close(h: HistoryState, k: int, story: ClosedCase, closed: float) -> None:
    """What the close means for the subscriber's next case: left alone a while after a save
    (but for a planned re-churn), gone for a year after a cancellation, which takes effect
    on the day they asked for, within the process-by date."""
    case = story.case
    case["closed_at"] = at(closed)
    h.busy[k] = closed
    if case["status"] == CancellationCase.Status.SAVED:
        h.saved_until[k] = closed + HONEYMOON_DAYS * DAY
        plan_rechurn(h, k, closed, story)
    elif case["status"] == CancellationCase.Status.CANCELLED:
        h.left_until[k] = closed + RETURN_DAYS * DAY
        if not case["auto_processed"]:
            closed_day = h.clock.date_of(closed)
            requested, process_by = case["requested_end_date"], case["process_by"]
            wanted = requested or closed_day + timedelta(days=h.rng.randint(0, 10))
            latest = max(process_by, closed_day)
            case["effective_date"] = min(max(wanted, closed_day), latest)
