"""Demo and benchmark cancellation cases, deterministic for a seed.

Cases are built with the same deadline and priority formulas as the intake service
(retention.priority) and written in bulk: opening 100,000 cases one by one through the
service would take many minutes and prove nothing the service's own tests don't. On
PostgreSQL the rows go in with COPY, like the subscriber loader's (DESIGN.md section 7).

``cases_seed`` opens cases for the queue; ``history_seed`` writes the desk's past, closed
cases with their accepted offers, contacts and history rows, for the dashboard's figures.
"""

import bisect
import heapq
import math
import operator
import random
import zoneinfo
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models import Q
from django.utils import timezone
from psycopg.types.json import Jsonb

from offers.exceptions import InvalidTerms
from offers.models import AuthorityTier, CounterOffer, OfferKind, OfferTemplate, ReasonCategory
from offers.pricing import Cost, Terms, add_months, offer_cost, terms_validate
from offers.selectors import template_eligible
from retention.cases.priority import add_working_hours, case_priority, process_by_date
from retention.core.roles import Role
from retention.models import (
    CancellationCase,
    CancellationReason,
    CaseHistory,
    ContactAttempt,
    Team,
    User,
)
from subscribers.models import ContactChannel, Plan, Subscriber, TimelineEvent

CHUNK = 5_000
COMPETITORS = ["Tele2", "Bite", "LMT", "Baltcom", ""]


def cases_seed(*, count: int, seed: int = 7, owner: User | None = None, owned: int = 0) -> int:
    """Open ``count`` cases for active subscribers without one; ``owned`` of them for ``owner``.

    Opening times spread over the last five days, so some first contacts are overdue and some
    process-by dates are near. Returns how many cases were created.
    """
    rng = random.Random(seed)
    reasons = list(CancellationReason.objects.filter(is_active=True))
    now = timezone.now()
    today = timezone.localdate(now)
    # Nor a case closed in the last five days: its open period could overlap the new one's.
    taken = CancellationCase.objects.filter(
        Q(status__in=CancellationCase.OPEN_STATUSES) | Q(closed_at__gt=now - timedelta(days=5))
    ).values("subscriber_id")
    candidates = (
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
        .exclude(pk__in=taken)
        .order_by("pk")
    )
    created = 0
    last = 0
    channels = [c for c, _ in CancellationCase.Channel.choices]
    while created < count:
        batch = list(candidates.filter(pk__gt=last)[: min(CHUNK, count - created) * 3])
        if not batch:
            break
        last = batch[-1].pk
        rng.shuffle(batch)
        batch = batch[: count - created]
        cases = []
        for subscriber in batch:
            channel = rng.choices(channels, weights=[40, 25, 15, 10, 10])[0]
            opened = now - timedelta(minutes=rng.randint(5, 5 * 24 * 60))
            opened_day = timezone.localdate(opened)
            port_out = channel == CancellationCase.Channel.PORT_OUT
            requested = (
                opened_day + timedelta(days=rng.randint(2, 30))
                if rng.random() < 0.6 or port_out
                else None
            )
            process_by = max(
                process_by_date(opened=opened_day, requested_end=requested, port_out=port_out),
                today,
            )
            priority = case_priority(
                subscriber=subscriber, process_by=process_by, port_out=port_out, today=today
            )
            reason = rng.choice(reasons) if reasons else None
            cases.append(
                CancellationCase(
                    subscriber=subscriber,
                    channel=channel,
                    reason=reason,
                    reason_detail="",
                    competitor=rng.choice(COMPETITORS) if port_out or rng.random() < 0.3 else "",
                    requested_end_date=requested,
                    process_by=process_by,
                    first_contact_due=add_working_hours(opened, 4),
                    priority=priority.score,
                    priority_explained=priority.explained,
                    opened_at=opened,
                    source="seed",
                )
            )
        if owner is not None and owned > 0:
            mine = cases[:owned]
            owned -= len(mine)
            for case in mine:
                case.owner, case.claimed_at = owner, now
                case.status = CancellationCase.Status.IN_PROGRESS
        with transaction.atomic():
            _insert(cases)
            _insert(
                [
                    CaseHistory(
                        case=case,
                        at=case.opened_at,
                        action=CaseHistory.Action.OPENED,
                        to_status="new",
                    )
                    for case in cases
                ]
            )
            _insert(
                [
                    TimelineEvent(
                        subscriber_id=case.subscriber_id,
                        kind=TimelineEvent.Kind.PORT_OUT
                        if case.is_port_out
                        else TimelineEvent.Kind.CANCELLATION_REQUEST,
                        occurred_at=case.opened_at,
                        source="seed",
                        code="case.requested_reason" if case.reason else "case.requested",
                        params={"channel": case.channel}
                        | ({"reason": _names(case.reason)} if case.reason else {}),
                        data={"case": case.pk, "channel": case.channel},
                    )
                    for case in cases
                ]
            )
        created += len(cases)
    return created


def _names(row: Any) -> dict[str, str]:
    """A reason's or offer's name in each language, for a phrase (subscribers.phrases)."""
    names = {"en": row.name_en, "lv": row.name_lv, "ru": row.name_ru}
    return {language: name for language, name in names.items() if name}


def _insert(objs: Sequence[models.Model]) -> None:
    """``bulk_create`` for new rows of one model, primary keys set on the objects.

    On PostgreSQL the same values go in with one COPY: bulk_create spends most of its time
    in Python preparing each value of each row, about a minute for 100,000 cases with their
    history and timeline events.
    """
    if not objs:
        return
    model = type(objs[0])
    # The connection itself, not django.db.connection: its proxy costs a lookup per value.
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        model._default_manager.db_manager(db.alias).bulk_create(objs, batch_size=1000)
        return
    meta = model._meta
    fields = meta.concrete_fields
    quote = db.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    with db.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor, for copy()
        # Keys drawn from the table's identity sequence, as the inserts would have drawn them.
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [quote(meta.db_table), meta.pk.column, len(objs)],
        )
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
        with cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                # What bulk_create's compiler does with each value: pre_save, then prepare.
                copy.write_row([f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = db.alias


def _insert_rows(
    model: type[models.Model], rows: Sequence[dict[str, Any]], *, keys: bool = False
) -> list[int]:
    """``_insert`` for rows given as column values (by attname) rather than model instances,
    every row with the same keys in the same order; the model's defaults fill the other
    columns. Returns the new rows' keys when asked for them.

    For the history's millions of rows: building model instances and preparing each of their
    values the way ``_insert`` does costs several times what the COPY itself does.
    """
    if not rows:
        return []
    db = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    if db.vendor != "postgresql":
        objs = [model(**row) for row in rows]
        model._default_manager.db_manager(db.alias).bulk_create(objs, batch_size=1000)
        return [obj.pk for obj in objs] if keys else []
    given = list(rows[0])
    by_attname = {f.attname: f for f in meta.concrete_fields}
    fields = [by_attname[name] for name in given]
    missing = [f for f in meta.concrete_fields if f not in fields and not f.primary_key]
    # The other columns' defaults, prepared once for every row.
    defaults = [f.get_db_prep_save(f.get_default(), db) for f in missing]
    json = [n for n, f in enumerate(fields) if isinstance(f, models.JSONField)]
    quote = db.ops.quote_name
    columns = [str(f.column) for f in ([meta.pk] if keys else []) + fields + missing]
    values = operator.itemgetter(*given)
    new: list[int] = []
    with db.cursor() as wrapper:
        cursor = wrapper.cursor  # psycopg's own cursor, for copy()
        if keys:
            # Keys drawn from the table's identity sequence, as the inserts would have drawn them.
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [quote(meta.db_table), meta.pk.column, len(rows)],
            )
            new = [pk for (pk,) in cursor.fetchall()]
        names = ", ".join(map(quote, columns))
        with cursor.copy(f"COPY {quote(meta.db_table)} ({names}) FROM STDIN") as copy:
            for n, row in enumerate(rows):
                line = list(values(row)) if len(given) > 1 else [values(row)]
                for index in json:
                    line[index] = Jsonb(line[index])
                copy.write_row(([new[n]] if keys else []) + line + defaults)
    return new


# --- History ---------------------------------------------------------------------------------
#
# Closed cases of the days before ``end``, as the desk would have left them: the case with its
# times and outcome, the accepted offer of a save, the outbound contacts, history rows and the
# request on the subscriber's timeline. Times are epoch seconds until a row is written, as in
# subscribers.seeding: datetimes would dominate the cost at 1.5 million cases.

HISTORY_SOURCE = "history"  # CancellationCase.source of the generated cases
HOUR = 3600
DAY = 86_400
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
# Which offers an agent reaches for, by reason (DESIGN principles 5 and 6: fix before discount,
# hardship handled humanely); any other eligible offer weighs OTHER_OFFER.
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
    ReasonCategory.NOT_USING: {OfferKind.PLAN_CHANGE: 5, OfferKind.PERCENT_DISCOUNT: 1},
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


def _refusal(at: float, channel: str, why: str) -> dict[str, Any]:
    """A refusal as the history keeps it: a phrase with the subscriber's time it names (the
    next morning, or three days on for the frequency cap)."""
    local = datetime.fromtimestamp(at, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    later = (local + timedelta(days=3 if why == "over_cap" else 1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    when = later.isoformat() if why in ("quiet_hours", "over_cap") else ""
    return {
        "code": "history.contact_refused",
        "params": {"channel": channel, "why": {"code": f"refusal.{why}", "params": {"when": when}}},
    }


@dataclass(frozen=True)
class _Event:
    """Something that brings a wave of cancellations, so the charts are not flat: it starts at
    ``start`` (a share of the range) and fades out over ``days``."""

    start: float
    days: int
    volume: float  # extra volume on the first day
    category: str  # the reason it brings
    boost: float  # that reason's weight, times
    load: float  # first contacts take this much longer, and more are missed


EVENTS = (
    _Event(start=0.35, days=21, volume=0.7, category=ReasonCategory.PRICE, boost=3.0, load=1.3),
    _Event(start=0.72, days=6, volume=1.2, category=ReasonCategory.QUALITY, boost=6.0, load=1.9),
)


@dataclass(frozen=True)
class _Mood:
    """What a day is like: how many ask to leave, why, how stretched the desk is, and how good
    it has become (it learns: saves rise and first contacts come sooner over the range)."""

    volume: float  # times per_day
    reasons: dict[str, float]  # weights of the reason categories
    load: float  # times the time to first contact, and the share never contacted
    skill: float  # times the chance of a save


@dataclass(frozen=True)
class _Agent:
    pk: int
    skill: float  # times the chance of a save
    speed: float  # times the time to first contact
    away: range  # day numbers of the agent's holiday


@dataclass(frozen=True)
class _Approver:
    """An authority tier and who may decide under it (nobody decides their own offer)."""

    tier: AuthorityTier
    members: tuple[int, ...]

    def covers(self, cost: Cost) -> bool:
        return cost.monthly <= self.tier.max_monthly and cost.total <= self.tier.max_total


# The offers open to a kind of subscriber, and how likely each is.
_Menu = tuple[list[tuple[OfferTemplate, Cost, _Approver | None]], list[float]]


@dataclass
class _Story:
    """One closed case and what goes with it, written once the case has its key."""

    opened: float
    case: dict[str, Any]  # the case's columns
    offer: dict[str, Any] | None = None  # the accepted offer's columns, for a save
    contacts: list[tuple[float, str, str]] = field(default_factory=list)  # at, channel, outcome
    refusals: list[tuple[float, tuple[str, str]]] = field(default_factory=list)  # at, REFUSALS
    # at, action, from, note somebody wrote, and what the desk says (a phrase) or None
    closing: tuple[float, str, str, str, dict[str, Any] | None] = (0.0, "", "", "", None)


class _Clock:
    """The desk's days as epoch seconds: local midnights and working hours, worked out once, so
    that a deadline costs a few comparisons instead of add_working_hours' datetime arithmetic
    (the same answers: tests hold the two together)."""

    def __init__(self, first: date, last: date) -> None:
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        open_hour, close_hour = settings.WORKING_HOURS
        self.first = first
        days = [first + timedelta(days=n) for n in range((last - first).days + 2)]
        self.midnight = [datetime.combine(d, time.min, zone).timestamp() for d in days]
        self.opening: list[float | None] = []
        self.closing: list[float] = []
        for d in days[:-1]:
            working = d.weekday() in settings.WORKING_DAYS
            opening = datetime.combine(d, time(open_hour), zone).timestamp()
            self.opening.append(opening if working else None)
            self.closing.append(datetime.combine(d, time(close_hour), zone).timestamp())

    def index(self, day: date) -> int:
        return (day - self.first).days

    def day(self, index: int) -> date:
        return self.first + timedelta(days=index)

    def index_of(self, ts: float) -> int:
        return bisect.bisect_right(self.midnight, ts) - 1

    def date_of(self, ts: float) -> date:
        return self.day(self.index_of(ts))

    def add_work(self, ts: float, seconds: float) -> float:
        """``ts`` plus ``seconds`` of working time; infinity beyond the clock's last day."""
        n = self.index_of(ts)
        remaining = seconds
        while 0 <= n < len(self.opening):
            opening = self.opening[n]
            if opening is not None:
                begin, closing = max(ts, opening), self.closing[n]
                if begin < closing:
                    if begin + remaining <= closing:
                        return begin + remaining
                    remaining -= closing - begin
            n += 1
            ts = self.midnight[n]
        return math.inf


def _at(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


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
    history = _History(
        days=days, per_day=per_day, seed=seed, agents=agents, end=end, timeline=timeline
    )
    return history.run()


class _History:
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
        self.clock = _Clock(first - timedelta(days=LEAD_DAYS + 1), end + timedelta(days=45))
        self.first_index, self.last_index = self.clock.index(first), self.clock.index(end)
        self.start_ts = self.clock.midnight[self.first_index]
        self.limit_ts = min(self.clock.midnight[self.last_index + 1], timezone.now().timestamp())
        self._load_staff(agents)
        self._load_catalogue()
        self._load_subscribers()
        # Re-churn cases planned by earlier saves: (opened, number, subscriber index, channel).
        self.planned: list[tuple[float, int, int, str]] = []
        self.stories: list[_Story] = []
        self.created = 0

    # --- What the generator draws from ------------------------------------------------------

    def _load_staff(self, agents: Sequence[User]) -> None:
        rng = self.rng
        span = self.last_index - self.first_index + LEAD_DAYS
        self.agents = []
        for user in sorted(agents, key=lambda u: u.username):
            holiday = self.first_index - LEAD_DAYS + rng.randrange(max(span, 1))
            self.agents.append(
                _Agent(
                    pk=user.pk,
                    skill=min(max(math.exp(rng.gauss(0, 0.25)), 0.55), 1.6),
                    speed=min(max(math.exp(rng.gauss(0, 0.5)), 0.35), 3.0),
                    away=range(holiday, holiday + rng.choice((0, 5, 10, 14))),
                )
            )
        weights = [rng.uniform(0.5, 1.5) for _ in self.agents]
        self.agent_weights = [sum(weights[: n + 1]) for n in range(len(weights))]
        # Who may approve what: the tiers of the role groups, cheapest first.
        self.approvers = []
        tiers = AuthorityTier.objects.filter(group__isnull=False).select_related("group")
        for tier in tiers.order_by("rank", "pk"):
            members = User.objects.filter(groups=tier.group_id, is_active=True).order_by("pk")
            self.approvers.append(_Approver(tier, tuple(members.values_list("pk", flat=True))))
        self.agent_tier = next(
            (a for a in self.approvers if a.tier.group and a.tier.group.name == Role.AGENT), None
        )

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
        self.menus: dict[tuple[str, str, int, int, Decimal, bool], _Menu] = {}
        self.tenures = sorted({t.min_tenure_months for t in self.templates})
        self.plans = Plan.objects.in_bulk()

    def _load_subscribers(self) -> None:
        """Every active or suspended subscriber's id and signup day, and what their cases so far
        rule out: a new case opens after their last one closed, never while one is open."""
        rows = (
            Subscriber.objects.filter(
                status__in=[Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED]
            )
            .order_by("pk")
            .values_list("pk", "signup_date")
        )
        self.ids = array("q")
        self.signups = array("l")
        for pk, signup in rows.iterator(chunk_size=20_000):
            self.ids.append(pk)
            self.signups.append(signup.toordinal())
        count = len(self.ids)
        self.busy = array("d", bytes(8 * count))  # when their last case closed
        self.saved_until = array("d", bytes(8 * count))  # left alone after a save
        self.left_until = array("d", bytes(8 * count))  # gone after a cancellation
        self.reserved = bytearray(count)  # a re-churn is planned, or drawn today already
        since = _at(self.start_ts - (LEAD_DAYS + RETURN_DAYS) * DAY)
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

    # --- Days ---------------------------------------------------------------------------------

    def run(self) -> int:
        for n in range(self.first_index - LEAD_DAYS, self.last_index + 1):
            self._day(n)
            if len(self.stories) >= CHUNK:
                self._write()
        self._write()
        return self.created

    def _mood(self, n: int) -> _Mood:
        day = self.clock.day(n)
        span = max(self.last_index - self.first_index, 1)
        position = min(max((n - self.first_index) / span, 0.0), 1.0)
        volume = WEEKDAY_VOLUME[day.weekday()] * (0.85 + 0.3 * position)
        volume *= max(self.rng.gauss(1.0, 0.07), 0.5)
        # Fewer leave over the winter holidays and in high summer.
        if (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 6):
            volume *= 0.6
        elif (7, 15) <= (day.month, day.day) <= (8, 15):
            volume *= 0.85
        reasons: dict[str, float] = dict(REASON_WEIGHTS)
        load = 1.0
        for event in EVENTS:
            since = n - (self.first_index + round(event.start * span))
            if 0 <= since < event.days:
                fade = 1 - since / event.days
                volume *= 1 + event.volume * fade
                reasons[event.category] *= 1 + (event.boost - 1) * fade
                load *= 1 + (event.load - 1) * fade
        # The desk learns: more saves, and sooner first contacts, as the range goes on.
        skill = 0.9 + 0.15 * position
        load *= 1.15 - 0.3 * position
        return _Mood(volume=volume, reasons=reasons, load=load, skill=skill)

    def _day(self, n: int) -> None:
        rng = self.rng
        mood = self._mood(n)
        wanted = round(self.per_day * mood.volume)
        midnight = self.clock.midnight[n]
        # Subscriber index, opening time, channel, whether a planned re-churn.
        picks: list[tuple[int, float, str, bool]] = []
        while self.planned and self.planned[0][0] < self.clock.midnight[n + 1]:
            opened, _, k, channel = heapq.heappop(self.planned)
            self.reserved[k] = 0
            if self.busy[k] < opened:
                picks.append((k, opened, channel, True))
        channels, weights = list(CHANNEL_WEIGHTS), list(CHANNEL_WEIGHTS.values())
        drawn = []
        for _ in range(max(wanted - len(picks), 0)):
            channel = rng.choices(channels, weights)[0]
            opened = midnight + self._time_of_day(channel)
            pick = self._draw(n, opened)
            if pick is not None:
                self.reserved[pick] = 1
                drawn.append(pick)
                picks.append((pick, opened, channel, False))
        for k in drawn:
            self.reserved[k] = 0  # only while drawing: a re-churn planned below reserves again
        # What the priority, the offers' eligibility and their cost read, and nothing else:
        # a million and a half subscribers are fetched. Their plans are the few loaded once.
        subscribers = Subscriber.objects.only(*SUBSCRIBER_FIELDS).in_bulk(
            [self.ids[k] for k, *_ in picks]
        )
        for k, opened, channel, rechurn in picks:
            subscriber = subscribers[self.ids[k]]
            subscriber.plan = self.plans[subscriber.plan_id]
            self._case(k, subscriber, opened, channel, mood, rechurn=rechurn)

    def _time_of_day(self, channel: str) -> float:
        """Seconds after local midnight: calls and shops in opening hours, the web any time
        (mostly in the day and evening), port-out notices in office hours."""
        rng = self.rng
        if channel == CancellationCase.Channel.PHONE:
            return rng.uniform(8, 19) * HOUR
        if channel == CancellationCase.Channel.SHOP:
            return rng.uniform(10, 19) * HOUR
        if channel == CancellationCase.Channel.PORT_OUT:
            return rng.uniform(9, 17) * HOUR
        return rng.uniform(8, 23) * HOUR if rng.random() < 0.75 else rng.uniform(0, 23.9) * HOUR

    def _draw(self, n: int, opened: float) -> int | None:
        """A subscriber free to ask to leave at ``opened``: a customer for a month at least,
        no case open then, not just saved; preferably one who has not left."""
        day = self.clock.first.toordinal() + n
        count = len(self.ids)
        if not count:
            return None
        for attempt in range(60):
            k = int(self.rng.random() * count)
            if (
                self.reserved[k]
                or self.busy[k] >= opened
                or self.saved_until[k] > opened
                or self.signups[k] + 30 > day
                or (attempt < 30 and self.left_until[k] > opened)
            ):
                continue
            return k
        return None

    # --- One case -----------------------------------------------------------------------------

    def _agent(self, n: int) -> _Agent:
        for _ in range(5):
            agent = self.rng.choices(self.agents, cum_weights=self.agent_weights)[0]
            if n not in agent.away:
                return agent
        return agent

    def _reason(self, channel: str, mood: _Mood) -> CancellationReason | None:
        rng = self.rng
        if channel in ("web", "email") and rng.random() < 0.02:
            return None  # the form's reason left empty
        weights = PORT_OUT_REASON_WEIGHTS if channel == "port_out" else mood.reasons
        categories = [c for c in weights if c in self.reasons]
        if not categories:
            return None
        category = rng.choices(categories, [weights[c] for c in categories])[0]
        return rng.choice(self.reasons[category])

    def _first_contact(self, agent: _Agent, mood: _Mood) -> float | None:
        """Working seconds from opening to the first outbound contact, or None for never."""
        rng = self.rng
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

    def _case(
        self,
        k: int,
        subscriber: Subscriber,
        opened: float,
        channel: str,
        mood: _Mood,
        *,
        rechurn: bool,
    ) -> None:
        rng, clock = self.rng, self.clock
        n = clock.index_of(opened)
        day = clock.day(n)
        port_out = channel == CancellationCase.Channel.PORT_OUT
        requested = (
            day + timedelta(days=rng.randint(2, 30)) if rng.random() < 0.6 or port_out else None
        )
        process_by = process_by_date(opened=day, requested_end=requested, port_out=port_out)
        deadline = clock.midnight[clock.index(process_by)]
        reason = self._reason(channel, mood)
        category = reason.category if reason else ""
        agent = self._agent(n)
        priority = case_priority(
            subscriber=subscriber, process_by=process_by, port_out=port_out, today=day
        )
        competitor = port_out or (category == ReasonCategory.COMPETITOR and rng.random() < 0.6)
        # Every case has the same keys, in this order (see _insert_rows).
        case: dict[str, Any] = {
            "subscriber_id": subscriber.pk,
            "channel": channel,
            "reason_id": reason.pk if reason else None,
            "competitor": rng.choice(COMPETITORS[:-1]) if competitor else "",
            "requested_end_date": requested,
            "process_by": process_by,
            "first_contact_due": _at(clock.add_work(opened, 4 * HOUR)),
            "first_contacted_at": None,
            "priority": priority.score,
            "priority_explained": priority.explained,
            "status": "",
            "owner_id": None,
            "claimed_at": None,
            "opened_at": _at(opened),
            "source": HISTORY_SOURCE,
            "closed_at": None,
            "outcome_note": "",
            "effective_date": None,
            "auto_processed": False,
        }
        story = _Story(opened=opened, case=case)
        delay = self._first_contact(agent, mood)
        first = clock.add_work(opened, delay) if delay is not None else math.inf
        if first >= deadline:
            closed = self._uncontacted(story, agent, opened, deadline, rechurn=rechurn)
        else:
            closed = self._contacted(
                story,
                subscriber,
                agent,
                first,
                deadline,
                category,
                skill=mood.skill,
                rechurn=rechurn,
            )
        if not self.start_ts <= closed < self.limit_ts:
            return  # closed before the first day, or not yet: no part of this history
        case["closed_at"] = _at(closed)
        self.busy[k] = closed
        if case["status"] == CancellationCase.Status.SAVED:
            self.saved_until[k] = closed + HONEYMOON_DAYS * DAY
            self._plan_rechurn(k, closed, story)
        elif case["status"] == CancellationCase.Status.CANCELLED:
            self.left_until[k] = closed + RETURN_DAYS * DAY
            if not case["auto_processed"]:
                closed_day = clock.date_of(closed)
                wanted = requested or closed_day + timedelta(days=rng.randint(0, 10))
                latest = max(process_by, closed_day)
                case["effective_date"] = min(max(wanted, closed_day), latest)
        self.stories.append(story)

    def _uncontacted(
        self, story: _Story, agent: _Agent, opened: float, deadline: float, *, rechurn: bool
    ) -> float:
        """Nobody reached the subscriber: mostly processed at the deadline, unclaimed (each one a
        failure of the desk); some claimed and then withdrawn or processed on request."""
        rng, case = self.rng, story.case
        if rng.random() < 0.3:
            case["owner_id"] = agent.pk
            claimed = self.clock.add_work(opened, rng.uniform(0.05, 3) * HOUR)
            case["claimed_at"] = _at(min(claimed, deadline - 60))
            u = rng.random()
            if u < 0.3 and not rechurn:
                closed = max(opened + rng.uniform(2 * HOUR, 3 * DAY), claimed + 60)
                if closed < deadline:
                    return self._close(story, closed, "withdrawn")
            elif u < 0.45:
                closed = self.clock.add_work(claimed, rng.uniform(0.2, 8) * HOUR)
                if closed < deadline:
                    return self._close(story, closed, "cancelled")
        return self._close(story, deadline + rng.uniform(20, 290), "auto")

    def _contacted(
        self,
        story: _Story,
        subscriber: Subscriber,
        agent: _Agent,
        first: float,
        deadline: float,
        category: str,
        *,
        skill: float,
        rechurn: bool,
    ) -> float:
        """The owner reached out, once or a few times, then saved the subscriber with an
        offer, or processed the cancellation, or the subscriber withdrew it."""
        rng, clock, case = self.rng, self.clock, story.case
        port_out = case["channel"] == CancellationCase.Channel.PORT_OUT
        case["owner_id"] = agent.pk
        opened = story.opened
        case["claimed_at"] = _at(max(opened + 20, first - rng.uniform(60, 1500)))
        case["first_contacted_at"] = _at(first)
        if port_out:
            # One save contact; a few are wrongly called twice, a few more tried and refused.
            attempts = 2 if rng.random() < 0.03 else 1
        else:
            attempts = rng.choices((1, 2, 3), (55, 30, 15))[0]
        times = [first]
        for _ in range(attempts - 1):
            then = clock.add_work(times[-1], rng.uniform(0.3, 6) * HOUR)
            if then >= deadline:
                break
            times.append(then)
        channel = rng.choices(CONTACT_CHANNELS, CONTACT_CHANNEL_WEIGHTS)[0]
        last = times[-1]
        if not port_out and rng.random() < 0.04 and first - opened > 120:
            story.refusals.append((rng.uniform(opened + 60, first - 60), rng.choice(REFUSALS)))
        u = rng.random()
        closed = math.inf
        outcome = ""
        chance = self._save_chance(agent.skill * skill, subscriber, case["channel"], category)
        if not rechurn and u < chance:
            closed = self._save(story, subscriber, agent, last, deadline, category)
            outcome = "saved" if closed < math.inf else ""
        if not outcome:
            u = rng.random()
            if u < 0.007:
                outcome = "auto"  # the owner let it run out
                closed = deadline + rng.uniform(20, 290)
            elif u < 0.22 and not rechurn:
                outcome = "withdrawn"
                closed = clock.add_work(last, rng.uniform(0.05, 10) * HOUR)
            else:
                outcome = "cancelled"
                hours = rng.uniform(0.02, 3) if rng.random() < 0.8 else rng.uniform(3, 20)
                closed = clock.add_work(last, hours * HOUR)
            if outcome != "auto" and closed >= deadline:
                closed = last + rng.uniform(60, 900)  # the deadline is near: done on the call
        reached = outcome != "auto"
        for n, at in enumerate(times):
            if n < len(times) - 1 or not reached:
                result = rng.choice(EARLIER_OUTCOMES)
            elif outcome == "cancelled" and rng.random() < 0.08:
                result = ContactAttempt.Outcome.REFUSED
            else:
                result = ContactAttempt.Outcome.REACHED
            story.contacts.append((at, channel, result))
        if port_out and len(times) == 1 and rng.random() < 0.06 and closed - last > 120:
            story.refusals.append(
                (rng.uniform(last + 60, min(closed, last + DAY) - 60), PORT_OUT_REFUSAL)
            )
        if outcome != "saved":
            self._close(story, closed, outcome)
        return closed

    def _save_chance(
        self, skill: float, subscriber: Subscriber, channel: str, category: str
    ) -> float:
        chance = SAVE_CHANCE.get(category, 0.25) * skill * CHANNEL_SAVE[channel]
        return min(chance * SEGMENT_SAVE.get(subscriber.segment, 1.0), 0.85)

    def _close(self, story: _Story, closed: float, outcome: str) -> float:
        case = story.case
        Status, Action = CancellationCase.Status, CaseHistory.Action
        before = Status.IN_PROGRESS if case["owner_id"] else Status.NEW
        if outcome == "auto":
            said = {
                "code": "history.auto_cancelled",
                "params": {"date": case["process_by"].isoformat()},
            }
            case.update(
                status=Status.CANCELLED, auto_processed=True, effective_date=case["process_by"]
            )
            story.closing = (closed, Action.AUTO_CANCELLED, before, "", said)
        elif outcome == "withdrawn":
            note = "The subscriber decided to stay."
            case.update(status=Status.WITHDRAWN, outcome_note=note)
            story.closing = (closed, Action.WITHDRAWN, before, note, None)
        else:
            case["status"] = Status.CANCELLED
            story.closing = (closed, Action.CANCELLED, before, "", None)
        return closed

    # --- Saves --------------------------------------------------------------------------------

    def _offer_choice(
        self, subscriber: Subscriber, category: str, day: date, proposer: int
    ) -> tuple[OfferTemplate, Cost, int | None, int | None] | None:
        """An offer the subscriber is eligible for, weighted by what suits the reason, with who
        decided it: nobody when within an agent's authority, else a member of the cheapest tier
        that covers it."""
        tenure = subscriber.tenure_months(day)
        # Everything eligibility and cost depend on: the same for many subscribers.
        key = (
            category,
            subscriber.segment,
            sum(tenure >= months for months in self.tenures),
            subscriber.plan_id,
            subscriber.monthly_price,
            subscriber.balance > 0,
        )
        if key not in self.menus:
            self.menus[key] = self._menu(subscriber, category, day)
        choices, weights = self.menus[key]
        if not choices:
            return None
        template, cost, approver = self.rng.choices(choices, weights)[0]
        if approver is None:
            return template, cost, None, None
        others = [member for member in approver.members if member != proposer]
        if not others:
            return None
        return template, cost, self.rng.choice(others), approver.tier.pk

    def _menu(self, subscriber: Subscriber, category: str, day: date) -> _Menu:
        choices, weights = [], []
        for template in self.templates:
            if not template_eligible(
                template=template, subscriber=subscriber, reason_category=category, today=day
            ):
                continue
            cost = self._cost(template, subscriber)
            if cost is None:
                continue
            approver = None
            if self.agent_tier is None or not self.agent_tier.covers(cost):
                approver = next(
                    (
                        a
                        for a in self.approvers
                        if a is not self.agent_tier and a.members and a.covers(cost)
                    ),
                    None,
                )
                if approver is None:
                    continue  # nobody may approve it
            choices.append((template, cost, approver))
            weights.append(OFFER_WEIGHTS.get(category, {}).get(template.kind, OTHER_OFFER))
        return choices, weights

    def _cost(self, template: OfferTemplate, subscriber: Subscriber) -> Cost | None:
        key = (template.pk, subscriber.plan_id, subscriber.monthly_price, subscriber.balance > 0)
        if key not in self.costs:
            terms = Terms.of(template)
            try:
                terms_validate(terms, subscriber)
            except InvalidTerms:
                self.costs[key] = None
            else:
                self.costs[key] = offer_cost(terms=terms, subscriber=subscriber)
        return self.costs[key]

    def _save(
        self,
        story: _Story,
        subscriber: Subscriber,
        agent: _Agent,
        reached: float,
        deadline: float,
        category: str,
    ) -> float:
        """The accepted offer, proposed on the call that reached the subscriber: approved at once
        or by a manager, presented, accepted and applied. Infinity when there was no offer to
        make or no time to settle it before the process-by day."""
        rng, clock, case = self.rng, self.clock, story.case
        day = clock.date_of(reached)
        choice = self._offer_choice(subscriber, category, day, agent.pk)
        if choice is None:
            return math.inf
        template, cost, decided_by, tier = choice
        proposed = reached + rng.uniform(60, 600)
        if decided_by is None:
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
        valid_until = min(presented + settings.OFFER_ANSWER_DAYS * DAY, deadline)
        if answered >= valid_until:
            return math.inf
        answered_day = clock.date_of(answered)
        if template.kind == OfferKind.PAYMENT_DEFERRAL:
            runs_until: date | None = answered_day + timedelta(days=template.days)
        elif template.months:
            runs_until = add_months(answered_day, template.months)
        else:
            runs_until = None
        story.offer = {
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
            "proposer_id": agent.pk,
            "proposed_at": _at(proposed),
            "routed_tier_id": tier,
            "auto_approved": decided_by is None,
            "decided_by_id": decided_by,
            "decided_at": _at(decided),
            "valid_until": _at(valid_until),
            "deadline": _at(deadline),
            "presented_at": _at(presented),
            "answered_at": _at(answered),
            "applied_at": _at(answered),
            "price_before": subscriber.monthly_price,
            "runs_until": runs_until,
        }
        note = f"Offer accepted: {template.name_en}"
        case.update(status=CancellationCase.Status.SAVED, outcome_note=note)
        presented_status = CancellationCase.Status.OFFER_PRESENTED
        said = {"code": "history.offer_accepted", "params": {"offer": _names(template)}}
        story.closing = (answered, CaseHistory.Action.SAVED, presented_status, "", said)
        return answered

    def _plan_rechurn(self, k: int, closed: float, story: _Story) -> None:
        """Some saved subscribers ask to leave again and go: within 90 days of the save, or in
        the 60 days after their discount ended."""
        rng, clock = self.rng, self.clock
        if rng.random() >= RECHURN_SHARE:
            return
        saved_on = clock.date_of(closed)
        ends = story.offer["runs_until"] if story.offer else None
        if ends is not None and rng.random() < 0.5:
            day = ends + timedelta(days=rng.randint(0, 58))
        else:
            day = saved_on + timedelta(days=rng.randint(7, 88))
        n = clock.index(day)
        if n > self.last_index:
            return
        channel = rng.choices(("port_out", "web", "phone"), (35, 30, 35))[0]
        opened = clock.midnight[n] + self._time_of_day(channel)
        self.reserved[k] = 1
        heapq.heappush(self.planned, (opened, self.created + len(self.stories), k, channel))

    # --- Writing ------------------------------------------------------------------------------

    def _write(self) -> None:
        stories, self.stories = self.stories, []
        if not stories:
            return
        Action = CaseHistory.Action
        offers, contacts, history, events = [], [], [], []
        with transaction.atomic():
            keys = _insert_rows(CancellationCase, [s.case for s in stories], keys=True)
            for pk, s in zip(keys, stories, strict=True):
                case = s.case
                owner = case["owner_id"]
                Row = tuple[datetime, int | None, str, str, str, str, dict[str, Any] | None]
                rows: list[Row] = [(case["opened_at"], None, Action.OPENED, "", "new", "", None)]
                rows += [
                    (
                        _at(at),
                        owner,
                        Action.CONTACT_REFUSED,
                        "in_progress",
                        "in_progress",
                        "",
                        _refusal(at, *refusal),
                    )
                    for at, refusal in s.refusals
                ]
                at, action, before, note, said = s.closing
                closer = None if case["auto_processed"] else owner
                rows.append((_at(at), closer, action, before, case["status"], note, said))
                history += [
                    {
                        "case_id": pk,
                        "at": when,
                        "actor_id": actor,
                        "action": what,
                        "from_status": before,
                        "to_status": after,
                        "note": text,
                        "code": phrase["code"] if phrase else "",
                        "params": phrase["params"] if phrase else {},
                    }
                    for when, actor, what, before, after, text, phrase in rows
                ]
                contacts += [
                    {
                        "case_id": pk,
                        "subscriber_id": case["subscriber_id"],
                        "channel": channel,
                        "direction": ContactAttempt.Direction.OUTBOUND,
                        "outcome": outcome,
                        "at": _at(at),
                        "actor_id": owner,
                    }
                    for at, channel, outcome in s.contacts
                ]
                if s.offer is not None:
                    offers.append({**s.offer, "case_id": pk})
                if self.timeline:
                    port_out = case["channel"] == CancellationCase.Channel.PORT_OUT
                    kind = TimelineEvent.Kind.PORT_OUT if port_out else "cancellation_request"
                    events.append(
                        {
                            "subscriber_id": case["subscriber_id"],
                            "kind": kind,
                            "occurred_at": case["opened_at"],
                            "source": HISTORY_SOURCE,
                            "code": "case.requested",
                            "params": {"channel": case["channel"]},
                            "data": {"case": pk, "channel": case["channel"]},
                        }
                    )
            _insert_rows(CounterOffer, offers)
            _insert_rows(ContactAttempt, contacts)
            _insert_rows(CaseHistory, history)
            _insert_rows(TimelineEvent, events)
        self.created += len(stories)


# --- Demo staff --------------------------------------------------------------------------------

DEMO_TEAMS = ("Riga", "Regions", "Business")
# username, first name, last name, team: agents with no password, whose work the demo's history
# shows (nobody logs in as them).
DEMO_AGENTS = (
    ("anna.ozolina", "Anna", "Ozoliņa", "Riga"),
    ("janis.berzins", "Jānis", "Bērziņš", "Riga"),
    ("olga.ivanova", "Olga", "Ivanova", "Riga"),
    ("martins.kalns", "Mārtiņš", "Kalns", "Regions"),
    ("dace.liepina", "Dace", "Liepiņa", "Regions"),
    ("sergejs.petrovs", "Sergejs", "Petrovs", "Regions"),
    ("inese.zarina", "Inese", "Zariņa", "Business"),
    ("pavel.smirnov", "Pavel", "Smirnov", "Business"),
)
# The demo logins of retention.services.DEMO_USERS, and their teams.
DEMO_USER_TEAMS = {"agent": "Riga", "manager": "Riga", "lead": "Regions"}


def demo_staff_ensure() -> list[User]:
    """The demo teams and agents, and the demo logins put into teams; returns the agents whose
    cases the demo history shows (the demo agent login among them, when it exists).
    Idempotent; development data only."""
    with transaction.atomic():
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in DEMO_TEAMS}
        group = Group.objects.get_or_create(name=Role.AGENT)[0]
        agents = []
        for username, first_name, last_name, team in DEMO_AGENTS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first_name, "last_name": last_name, "team": teams[team]},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            agents.append(user)
        group.user_set.add(*agents)
        for username, team in DEMO_USER_TEAMS.items():
            User.objects.filter(username=username, team__isnull=True).update(team=teams[team])
        demo_agent = User.objects.filter(username="agent", groups=group).first()
    return agents + ([demo_agent] if demo_agent else [])
