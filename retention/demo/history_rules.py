"""How the desk's past behaves in the demo history: how many ask to leave and why, through which
channel, how likely a save is, which offers an agent reaches for; and the small records the
history is drawn with.

Times are epoch seconds until a row is written, as in the demo subscribers' generator:
datetimes would dominate the cost at 1.5 million cases.
"""

import random
from dataclasses import dataclass, field
from typing import Any

from offers.models import AuthorityTier, OfferKind, OfferTemplate, ReasonCategory
from offers.pricing import Cost
from retention.demo.clock import HOUR
from retention.models import CancellationCase, ContactAttempt
from subscribers.models import ContactChannel, Subscriber

HISTORY_SOURCE = "history"  # CancellationCase.source of the generated cases
# Opening starts this many days before the first day, so that the first days close as many
# cases as any other (a case stays open up to 14 days, a port-out up to 30).
LEAD_DAYS = 31
# A saved subscriber is left alone this long, but for the planned re-churn below; one who
# left may come back (a new contract) after RETURN_DAYS, or sooner when the demo data's few
# subscribers would otherwise run out.
HONEYMOON_DAYS = 180
RETURN_DAYS = 365
# Saved subscribers who ask to leave again and go: within 90 days of the save, or within 60
# days after their discount ended (what the dashboard's re-churn figures count).
RECHURN_SHARE = 0.10
# A case in a running experiment's slot: how the arms work out. The holdout's subscriber asks
# for an offer now and then; an offer arm's agent chooses another offer now and then (recorded
# as not followed); each arm's offer saves with its own chance, times the usual one.
HOLDOUT_ASKS = 0.08
ARM_NOT_FOLLOWED = 0.10
ARM_SAVE: dict[str, float] = {"loyalty-tariff": 1.5, "discount-20-6": 1.15}

CHANNEL_WEIGHTS: dict[str, float] = {
    CancellationCase.Channel.PHONE: 40,
    CancellationCase.Channel.WEB: 25,
    CancellationCase.Channel.EMAIL: 15,
    CancellationCase.Channel.SHOP: 10,
    CancellationCase.Channel.PORT_OUT: 10,
}
REASON_WEIGHTS: dict[str, float] = {
    ReasonCategory.PRICE: 30,
    ReasonCategory.COMPETITOR: 20,
    ReasonCategory.QUALITY: 16,
    ReasonCategory.MOVING: 10,
    ReasonCategory.NOT_USING: 7,
    ReasonCategory.HARDSHIP: 6,
    ReasonCategory.OTHER: 6,
    ReasonCategory.EQUIPMENT: 5,
}
# A port-out notice comes from the competitor's side: the reason is nearly always theirs.
PORT_OUT_REASON_WEIGHTS: dict[str, float] = {
    ReasonCategory.COMPETITOR: 70,
    ReasonCategory.PRICE: 20,
    ReasonCategory.QUALITY: 10,
}
# The chance that a contacted subscriber accepts an offer, before the agent's skill and the
# channel: fair prices and fixes keep people, a move to another town rarely.
SAVE_CHANCE: dict[str, float] = {
    ReasonCategory.PRICE: 0.50,
    ReasonCategory.COMPETITOR: 0.42,
    ReasonCategory.QUALITY: 0.47,
    ReasonCategory.EQUIPMENT: 0.47,
    ReasonCategory.HARDSHIP: 0.52,
    ReasonCategory.NOT_USING: 0.27,
    ReasonCategory.MOVING: 0.10,
    ReasonCategory.OTHER: 0.30,
    "": 0.25,
}
CHANNEL_SAVE: dict[str, float] = {
    CancellationCase.Channel.PHONE: 1.10,
    CancellationCase.Channel.WEB: 0.95,
    CancellationCase.Channel.EMAIL: 0.90,
    CancellationCase.Channel.SHOP: 1.05,
    CancellationCase.Channel.PORT_OUT: 0.55,
}
SEGMENT_SAVE: dict[str, float] = {
    Subscriber.Segment.RESIDENTIAL: 1.0,
    Subscriber.Segment.SMALL_BUSINESS: 1.05,
    Subscriber.Segment.CORPORATE: 1.15,
}
# Which offers an agent reaches for, by reason: a service fix first when the service is the
# problem, deferral or a split payment in hardship; any other eligible offer weighs OTHER_OFFER.
OFFER_WEIGHTS: dict[str, dict[str, float]] = {
    ReasonCategory.PRICE: {
        OfferKind.PLAN_CHANGE: 5,
        OfferKind.PERCENT_DISCOUNT: 4,
        OfferKind.FIXED_DISCOUNT: 3,
        OfferKind.FREE_MONTHS: 1,
        OfferKind.LOYALTY_PERK: 1,
    },
    ReasonCategory.COMPETITOR: {
        OfferKind.PERCENT_DISCOUNT: 4,
        OfferKind.PLAN_CHANGE: 3,
        OfferKind.SPEED_UPGRADE: 2,
        OfferKind.FIXED_DISCOUNT: 2,
        OfferKind.FREE_MONTHS: 1,
    },
    ReasonCategory.QUALITY: {
        OfferKind.SERVICE_FIX: 6,
        OfferKind.ONE_TIME_CREDIT: 3,
        OfferKind.SPEED_UPGRADE: 2,
    },
    ReasonCategory.EQUIPMENT: {OfferKind.SERVICE_FIX: 6, OfferKind.ONE_TIME_CREDIT: 2},
    ReasonCategory.HARDSHIP: {
        OfferKind.PAYMENT_DEFERRAL: 4,
        OfferKind.SPLIT_PAYMENT: 3,
        OfferKind.ONE_TIME_CREDIT: 3,
    },
    ReasonCategory.NOT_USING: {
        OfferKind.PLAN_CHANGE: 5,
        OfferKind.PAUSE: 2,
        OfferKind.PERCENT_DISCOUNT: 1,
    },
    ReasonCategory.MOVING: {OfferKind.PAUSE: 4},
}
OTHER_OFFER = 0.3
# Monday to Sunday: the desk works weekdays, and people write in less at the weekend.
WEEKDAY_VOLUME = (1.25, 1.2, 1.15, 1.1, 1.0, 0.7, 0.6)
CONTACT_CHANNELS = (ContactChannel.PHONE, ContactChannel.EMAIL, ContactChannel.SMS)
CONTACT_CHANNEL_WEIGHTS = (80, 12, 8)
EARLIER_OUTCOMES = (
    ContactAttempt.Outcome.NO_ANSWER,
    ContactAttempt.Outcome.VOICEMAIL,
    ContactAttempt.Outcome.CALLBACK_REQUESTED,
)
# Contacts the policy refused: (channel, why), and when the refusal said it would be allowed.
REFUSALS = (("phone", "quiet_hours"), ("phone", "over_cap"), ("sms", "do_not_contact"))
SUBSCRIBER_FIELDS = (
    "plan_id",
    "monthly_price",
    "signup_date",
    "churn_risk",
    "segment",
    "balance",
)
PORT_OUT_REFUSAL = ("phone", "port_out_once")


@dataclass(frozen=True)
class Wave:
    """Something that brings a wave of cancellations, so the charts are not flat: it starts at
    ``start`` (a share of the range) and fades out over ``days``."""

    start: float
    days: int
    volume: float  # extra volume on the first day
    category: str  # the reason it brings
    boost: float  # that reason's weight, times
    load: float  # first contacts take this much longer, and more are missed


WAVES = (
    Wave(start=0.35, days=21, volume=0.7, category=ReasonCategory.PRICE, boost=3.0, load=1.3),
    Wave(start=0.72, days=6, volume=1.2, category=ReasonCategory.QUALITY, boost=6.0, load=1.9),
)


@dataclass(frozen=True)
class Mood:
    """What a day is like: how many ask to leave, why, how stretched the desk is, and how good
    it has become (it learns: saves rise and first contacts come sooner over the range)."""

    volume: float  # times per_day
    reasons: dict[str, float]  # weights of the reason categories
    load: float  # times the time to first contact, and the share never contacted
    skill: float  # times the chance of a save


@dataclass(frozen=True)
class Agent:
    pk: int
    skill: float  # times the chance of a save
    speed: float  # times the time to first contact
    away: range  # day numbers of the agent's holiday


@dataclass(frozen=True)
class Approver:
    """An authority tier and who may decide under it (nobody decides their own offer)."""

    tier: AuthorityTier
    members: tuple[int, ...]

    def covers(self, cost: Cost) -> bool:
        return cost.monthly <= self.tier.max_monthly and cost.total <= self.tier.max_total


# The offers open to a kind of subscriber, and how likely each is.
Menu = tuple[list[tuple[OfferTemplate, Cost, Approver | None]], list[float]]


@dataclass
class ClosedCase:
    """One closed case and what goes with it, written once the case has its key."""

    opened: float
    case: dict[str, Any]  # the case's columns
    offer: dict[str, Any] | None = None  # the accepted offer's columns, for a save
    contacts: list[tuple[float, str, str]] = field(default_factory=list)  # at, channel, outcome
    refusals: list[tuple[float, tuple[str, str]]] = field(default_factory=list)  # at, REFUSALS
    # at, action, from, note somebody wrote, and what the desk says (a phrase) or None
    closing: tuple[float, str, str, str, dict[str, Any] | None] = (0.0, "", "", "", None)


def time_of_day(rng: random.Random, channel: str) -> float:
    """Seconds after local midnight: calls and shops in opening hours, the web any time
    (mostly in the day and evening), port-out notices in office hours."""
    if channel == CancellationCase.Channel.PHONE:
        return rng.uniform(8, 19) * HOUR
    if channel == CancellationCase.Channel.SHOP:
        return rng.uniform(10, 19) * HOUR
    if channel == CancellationCase.Channel.PORT_OUT:
        return rng.uniform(9, 17) * HOUR
    return rng.uniform(8, 23) * HOUR if rng.random() < 0.75 else rng.uniform(0, 23.9) * HOUR
