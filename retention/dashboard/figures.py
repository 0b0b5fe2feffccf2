"""The dashboard's figures, computed: one CaseOutcome per closed case, and DailyFigure sums.

``figures_refresh(day=…)`` computes one day again from the source tables (cases, accepted
offers, contact attempts, case history) and replaces what that day had, so it is idempotent and
works for any day. A beat tick keeps today (and yesterday, once after midnight) current; the
``figures`` command recomputes a range after a data fix or a load.

Days are counted in the desk's time zone (``settings.TIME_ZONE``), whoever looks.

Every measure is a count or a sum, so a period's figure is the sum of its days' figures, and a
slice's rows can be added up in SQL (DailyFigure) or counted from the outcomes directly
(``measure_aggregates``): the dashboard uses whichever has the rows it needs (see
retention.dashboard), and a test holds the two to the same answers.
"""

import zoneinfo
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.utils import timezone

from offers.models import CounterOffer
from retention.models import (
    CancellationCase,
    CaseHistory,
    CaseOutcome,
    ContactAttempt,
    DailyFigure,
    LoyaltySnapshot,
)
from subscribers.models import Subscriber

Status = CancellationCase.Status

# The breakdowns, and the CaseOutcome column each reads.
DIMENSIONS = {
    "reason": "reason_id",
    "channel": "channel",
    "agent": "agent_id",
    "team": "team_id",
    "offer_kind": "offer_kind",
    "segment": "segment",
    "region": "region",
}
# Filters that have their own DailyFigure rows ("team:3"). An agent's figures are read from the
# outcomes (one agent closes few cases a day), and so is any combination of two filters.
SCOPE_DIMENSIONS = ("team", "reason", "channel", "offer_kind", "segment", "region")
# Inside a scope other than a team, a breakdown by agent would multiply the rows per day by the
# number of agents; those read the outcomes too.
AGENT_SCOPES = ("", "team")

# Time to first contact: upper bounds of the buckets, in seconds; slower ones are "later".
FIRST_CONTACT_BUCKETS = (
    ("fc_15m", 15 * 60),
    ("fc_1h", 3600),
    ("fc_4h", 4 * 3600),
    ("fc_1d", 86400),
)
RECHURN_DAYS = 90
AFTER_DISCOUNT_DAYS = 60

MEASURES = tuple(
    f.name
    for f in DailyFigure._meta.concrete_fields
    if f.name not in ("id", "day", "scope", "dimension", "key", "computed_at")
)
MONEY = ("retained_revenue", "concession_cost")


def desk_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def desk_today(now: datetime | None = None) -> date:
    return timezone.localdate(now or timezone.now(), desk_zone())


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The day's first instant and the next day's, in the desk's time zone."""
    zone = desk_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def scope_key(dimension: str, key: object) -> str:
    return f"{dimension}:{'' if key is None else key}"


def outcome_key(outcome: CaseOutcome, dimension: str) -> str:
    value = getattr(outcome, DIMENSIONS[dimension])
    return "" if value is None else str(value)


# --- Measures ------------------------------------------------------------------------------


def outcome_measures(o: CaseOutcome) -> dict[str, Any]:
    """What one outcome adds to each measure."""
    saved = o.status == Status.SAVED
    seconds = o.first_contact_seconds
    port_out = o.channel == CancellationCase.Channel.PORT_OUT
    values: dict[str, Any] = {
        "closed": 1,
        "saved": int(saved),
        "cancelled": int(o.status == Status.CANCELLED),
        "withdrawn": int(o.status == Status.WITHDRAWN),
        "auto_processed": int(o.auto_processed),
        "retained_revenue": o.retained_revenue,
        "concession_cost": o.concession_cost,
        "contacted": int(seconds is not None),
        "first_contact_seconds": seconds or 0,
        "sla_met": int(o.sla_met),
        "refused_contacts": o.refused_contacts,
        "port_outs": int(port_out),
        "port_outs_recontacted": int(port_out and o.outbound_contacts > 1),
        "rechurned_90": int(o.rechurned_90),
        "discount_saves": int(saved and o.discount_ends is not None),
        "rechurned_after_discount": int(o.rechurned_after_discount),
    }
    lower = -1
    for name, upper in FIRST_CONTACT_BUCKETS:
        values[name] = int(seconds is not None and lower < seconds <= upper)
        lower = upper
    return values


AGGREGATE_PREFIX = "m_"


def measure_aggregates() -> dict[str, Any]:
    """The same measures as SQL aggregates over CaseOutcome rows, named ``m_<measure>``."""
    one = "pk"
    port_out = Q(channel=CancellationCase.Channel.PORT_OUT)
    aggregates: dict[str, Any] = {
        "closed": Count(one),
        "saved": Count(one, filter=Q(status=Status.SAVED)),
        "cancelled": Count(one, filter=Q(status=Status.CANCELLED)),
        "withdrawn": Count(one, filter=Q(status=Status.WITHDRAWN)),
        "auto_processed": Count(one, filter=Q(auto_processed=True)),
        "retained_revenue": Sum("retained_revenue", default=Decimal(0)),
        "concession_cost": Sum("concession_cost", default=Decimal(0)),
        "contacted": Count("first_contact_seconds"),
        "first_contact_seconds": Sum("first_contact_seconds", default=0),
        "sla_met": Count(one, filter=Q(sla_met=True)),
        "refused_contacts": Sum("refused_contacts", default=0),
        "port_outs": Count(one, filter=port_out),
        "port_outs_recontacted": Count(one, filter=port_out & Q(outbound_contacts__gt=1)),
        "rechurned_90": Count(one, filter=Q(rechurned_90=True)),
        "discount_saves": Count(one, filter=Q(status=Status.SAVED, discount_ends__isnull=False)),
        "rechurned_after_discount": Count(one, filter=Q(rechurned_after_discount=True)),
    }
    lower = -1
    for name, upper in FIRST_CONTACT_BUCKETS:
        aggregates[name] = Count(
            one, filter=Q(first_contact_seconds__gt=lower, first_contact_seconds__lte=upper)
        )
        lower = upper
    # Named apart from the columns: an annotation called "first_contact_seconds" would be what
    # the later filters on that column read.
    return {f"{AGGREGATE_PREFIX}{name}": aggregate for name, aggregate in aggregates.items()}


def rollup_sums() -> dict[str, Any]:
    """The measures as sums over DailyFigure rows."""
    return {name: Sum(name, default=Decimal(0) if name in MONEY else 0) for name in MEASURES}


# --- Refreshing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refreshed:
    day: date
    outcomes: int
    rows: int
    days_touched: tuple[date, ...]


def _lock() -> None:
    """One refresh at a time: two beats recomputing a day would both delete and insert it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('retention.figures'))")


def _rechurn(save_closed_at: datetime, discount_ends: date | None, cancelled_on: date | None):
    if cancelled_on is None:
        return None, False, False
    closed_on = timezone.localdate(save_closed_at, desk_zone())
    within_90 = cancelled_on <= closed_on + timedelta(days=RECHURN_DAYS)
    after_discount = discount_ends is not None and (
        discount_ends <= cancelled_on <= discount_ends + timedelta(days=AFTER_DISCOUNT_DAYS)
    )
    return cancelled_on, within_90, after_discount


def _per_case(rows: QuerySet[Any]) -> dict[int, int]:
    """How many of the rows each case has."""
    return dict(
        rows.values("case_id").annotate(n=Count("pk")).values_list("case_id", "n").order_by()
    )


def _retained(offer: Mapping[str, Any]) -> Decimal:
    """The monthly revenue the save kept: what the subscriber paid before the offer. The offer's
    cost is counted apart (concession cost), so a year of this less the cost is the first
    year's revenue actually kept, whether the concession was a discount, free months or a
    cheaper plan."""
    if offer["price_before"] is not None:
        return Decimal(offer["price_before"])
    return Decimal(offer["new_monthly_price"]) + Decimal(offer["monthly_concession"])


def _outcomes_of_day(day: date, now: datetime) -> tuple[list[CaseOutcome], dict[int, datetime]]:
    """The day's outcomes, and when each of its cases was opened (for re-churn)."""
    start, end = day_bounds(day)
    zone = desk_zone()
    closed = Q(closed_at__gte=start, closed_at__lt=end, status__in=CancellationCase.CLOSED_STATUSES)
    cases: list[Any] = list(
        CancellationCase.objects.filter(closed)
        .values(
            "pk",
            "subscriber_id",
            "closed_at",
            "status",
            "auto_processed",
            "channel",
            "reason_id",
            "owner_id",
            "owner__team_id",
            "subscriber__segment",
            "subscriber__region",
            "opened_at",
            "first_contacted_at",
            "first_contact_due",
        )
        .order_by()
    )
    if not cases:
        return [], {}
    of_day = Q(case__closed_at__gte=start, case__closed_at__lt=end)
    offers = {
        row["case_id"]: row
        for row in CounterOffer.objects.filter(of_day, status=CounterOffer.Status.ACCEPTED)
        .values(
            "case_id",
            "kind",
            "total_cost",
            "new_monthly_price",
            "monthly_concession",
            "price_before",
            "runs_until",
        )
        .order_by()
    }
    outbound = _per_case(
        ContactAttempt.objects.filter(of_day, direction=ContactAttempt.Direction.OUTBOUND)
    )
    refused = _per_case(
        CaseHistory.objects.filter(of_day, action=CaseHistory.Action.CONTACT_REFUSED)
    )
    # A save's subscriber who later asked to leave again and was cancelled.
    saved_subscribers = {c["subscriber_id"] for c in cases if c["status"] == Status.SAVED}
    later: dict[int, list[datetime]] = defaultdict(list)
    if saved_subscribers:
        for subscriber_id, opened_at in (
            CancellationCase.objects.filter(
                subscriber_id__in=saved_subscribers, status=Status.CANCELLED, opened_at__gte=start
            )
            .values_list("subscriber_id", "opened_at")
            .order_by()
        ):
            later[subscriber_id].append(opened_at)
    teams = dict(
        CaseOutcome.objects.filter(closed_on=day).values_list("case_id", "team_id").order_by()
    )
    outcomes = []
    for c in cases:
        offer = offers.get(c["pk"]) if c["status"] == Status.SAVED else None
        contacted = c["first_contacted_at"]
        seconds = max(int((contacted - c["opened_at"]).total_seconds()), 0) if contacted else None
        discount_ends = offer["runs_until"] if offer else None
        next_cancel = min(
            (t for t in later.get(c["subscriber_id"], ()) if t > c["closed_at"]), default=None
        )
        rechurned_on, within_90, after_discount = _rechurn(
            c["closed_at"],
            discount_ends,
            timezone.localdate(next_cancel, zone) if next_cancel else None,
        )
        outcomes.append(
            CaseOutcome(
                case_id=c["pk"],
                subscriber_id=c["subscriber_id"],
                closed_on=day,
                closed_at=c["closed_at"],
                status=c["status"],
                auto_processed=c["auto_processed"],
                channel=c["channel"],
                reason_id=c["reason_id"],
                agent_id=c["owner_id"],
                # The team the agent was in when the day was first computed, not now.
                team_id=teams.get(c["pk"], c["owner__team_id"]),
                segment=c["subscriber__segment"],
                region=c["subscriber__region"],
                offer_kind=offer["kind"] if offer else "",
                retained_revenue=_retained(offer) if offer else Decimal(0),
                concession_cost=offer["total_cost"] if offer else Decimal(0),
                first_contact_seconds=seconds,
                sla_met=bool(contacted and contacted <= c["first_contact_due"]),
                outbound_contacts=min(outbound.get(c["pk"], 0), 32767),
                refused_contacts=min(refused.get(c["pk"], 0), 32767),
                discount_ends=discount_ends,
                rechurned_on=rechurned_on,
                rechurned_90=within_90,
                rechurned_after_discount=after_discount,
                computed_at=now,
            )
        )
    return outcomes, {c["pk"]: c["opened_at"] for c in cases}


def _mark_earlier_saves(
    outcomes: list[CaseOutcome], cases_opened: dict[int, datetime]
) -> set[date]:
    """The day's cancellations re-churn the same subscribers' earlier saves; returns the days
    of the saves whose flags changed, whose sums must be computed again."""
    cancelled = [o for o in outcomes if o.status == Status.CANCELLED]
    if not cancelled:
        return set()
    zone = desk_zone()
    opened: dict[int, list[datetime]] = defaultdict(list)
    for o in cancelled:
        opened[o.subscriber_id].append(cases_opened[o.case_id])
    latest = max(t for times in opened.values() for t in times)
    earlier = list(
        CaseOutcome.objects.filter(
            subscriber_id__in=list(opened), status=Status.SAVED, closed_at__lt=latest
        ).order_by()
    )
    changed = []
    for save in earlier:
        asked = min((t for t in opened[save.subscriber_id] if t > save.closed_at), default=None)
        if asked is None:
            continue
        asked_on = timezone.localdate(asked, zone)
        if save.rechurned_on is not None and save.rechurned_on <= asked_on:
            continue
        save.rechurned_on, save.rechurned_90, save.rechurned_after_discount = _rechurn(
            save.closed_at, save.discount_ends, asked_on
        )
        changed.append(save)
    CaseOutcome.objects.bulk_update(
        changed, ["rechurned_on", "rechurned_90", "rechurned_after_discount"], batch_size=1000
    )
    return {save.closed_on for save in changed}


def rollup_rows(day: date, outcomes: Iterable[CaseOutcome], now: datetime) -> list[DailyFigure]:
    """The day's sums for the whole desk and for every one-filter scope, per breakdown."""
    sums: dict[tuple[str, str, str], dict[str, Any]] = {}

    def add(scope: str, dimension: str, key: str, values: dict[str, Any]) -> None:
        row = sums.get((scope, dimension, key))
        if row is None:
            sums[(scope, dimension, key)] = dict(values)
            return
        for name, value in values.items():
            row[name] += value

    for outcome in outcomes:
        values = outcome_measures(outcome)
        keys = {d: outcome_key(outcome, d) for d in DIMENSIONS}
        scopes = [("", "")] + [(d, scope_key(d, keys[d])) for d in SCOPE_DIMENSIONS]
        for scope_dimension, scope in scopes:
            add(scope, "", "", values)
            for dimension in DIMENSIONS:
                if dimension == "agent" and scope_dimension not in AGENT_SCOPES:
                    continue
                add(scope, dimension, keys[dimension], values)
    return [
        DailyFigure(day=day, scope=scope, dimension=dimension, key=key, computed_at=now, **values)
        for (scope, dimension, key), values in sums.items()
    ]


def _rollup(days: Iterable[date], now: datetime) -> int:
    written = 0
    for day in sorted(set(days)):
        DailyFigure.objects.filter(day=day).delete()
        rows = rollup_rows(day, CaseOutcome.objects.filter(closed_on=day).order_by(), now)
        DailyFigure.objects.bulk_create(rows, batch_size=2000)
        written += len(rows)
    return written


def figures_refresh(*, day: date, now: datetime | None = None) -> Refreshed:
    """Compute the outcomes of the cases closed on ``day`` and the day's sums again."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock()
        outcomes, opened = _outcomes_of_day(day, now)
        CaseOutcome.objects.filter(closed_on=day).delete()
        CaseOutcome.objects.bulk_create(outcomes, batch_size=2000)
        touched = _mark_earlier_saves(outcomes, opened) - {day}
        rows = _rollup([day, *touched], now)
    return Refreshed(
        day=day, outcomes=len(outcomes), rows=rows, days_touched=tuple(sorted(touched))
    )


def figures_refresh_range(*, first: date, last: date) -> list[Refreshed]:
    """Every day from ``first`` to ``last``, oldest first (so re-churn marks land on saves
    already written)."""
    done = []
    day = first
    while day <= last:
        done.append(figures_refresh(day=day))
        day += timedelta(days=1)
    return done


def figures_tick(*, now: datetime | None = None) -> list[Refreshed]:
    """Today, and yesterday until it has been computed once after it ended; today's loyalty
    snapshot when it is missing."""
    now = now or timezone.now()
    today = desk_today(now)
    yesterday = today - timedelta(days=1)
    done = []
    last = (
        DailyFigure.objects.filter(day=yesterday, scope="", dimension="")
        .values_list("computed_at", flat=True)
        .first()
    )
    has_cases = CancellationCase.objects.filter(
        closed_at__gte=day_bounds(yesterday)[0], closed_at__lt=day_bounds(yesterday)[1]
    ).exists()
    if (last is None and has_cases) or (last is not None and last < day_bounds(yesterday)[1]):
        done.append(figures_refresh(day=yesterday, now=now))
    done.append(figures_refresh(day=today, now=now))
    if not LoyaltySnapshot.objects.filter(day=today).exists():
        loyalty_snapshot_take(now=now)
    return done


# --- Loyalty -------------------------------------------------------------------------------


def loyalty_snapshot_take(*, now: datetime | None = None) -> int:
    """Count today's active subscribers paying above their plan's new-customer price, by
    segment and region (one aggregate query), replacing today's earlier count."""
    now = now or timezone.now()
    today = desk_today(now)
    above = Q(monthly_price__gt=F("plan__new_customer_price"))
    rows = (
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
        .values("segment", "region")
        .annotate(
            active=Count("pk"),
            overpaying=Count("pk", filter=above),
            overpayment=Sum(
                F("monthly_price") - F("plan__new_customer_price"),
                filter=above,
                default=Decimal(0),
            ),
        )
        .order_by()
    )
    snapshots = [
        LoyaltySnapshot(
            day=today,
            segment=row["segment"],
            region=row["region"],
            active=row["active"],
            overpaying=row["overpaying"],
            overpayment=row["overpayment"],
            computed_at=now,
        )
        for row in rows
    ]
    with transaction.atomic():
        _lock()  # the tick and the nightly task may both count today
        LoyaltySnapshot.objects.filter(day=today).delete()
        LoyaltySnapshot.objects.bulk_create(snapshots)
    return len(snapshots)


def first_case_day() -> date | None:
    first = CancellationCase.objects.filter(closed_at__isnull=False).aggregate(Min("closed_at"))
    value = first["closed_at__min"]
    return timezone.localdate(value, desk_zone()) if value else None
