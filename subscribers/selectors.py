"""Every read that a subscriber page, the API or a task needs."""

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from retention.core.caching import cached
from subscribers import phrases
from subscribers.desk_calendar import Calendar, desk_calendar
from subscribers.fit_reasons import fit_brief
from subscribers.fit_selectors import tariff_fit_get
from subscribers.keyset import aware_datetime, cursor_decode, cursor_encode
from subscribers.models import (
    ContactChannel,
    ContactHours,
    Equipment,
    Subscriber,
    TimelineEvent,
)

# Below this length a "contains" search cannot use trigram indexes: it would read every row.
SEARCH_MIN_CONTAINS = 3


@dataclass(frozen=True)
class SearchResult:
    query: str
    subscribers: list[Subscriber]
    has_more: bool
    too_short: bool


def subscriber_search(*, query: str, limit: int | None = None) -> SearchResult:
    """Account number, name, phone or e-mail, partial matches.

    The matches are not sorted in SQL: sorting would make PostgreSQL read every row that
    matches a common fragment. It stops at ``limit + 1`` rows instead and we sort those; the
    page then says "more than N: type more".
    """
    limit = limit or settings.SEARCH_RESULT_LIMIT
    query = " ".join(query.split())[:100]
    if not query:
        return SearchResult(query, [], has_more=False, too_short=False)
    base = Subscriber.objects.select_related("plan").only(
        "id",
        "account_number",
        "name",
        "phone",
        "email",
        "region",
        "status",
        "segment",
        "plan__name",
    )
    if len(query) < SEARCH_MIN_CONTAINS:
        return SearchResult(query, [], has_more=False, too_short=True)
    exact = list(base.filter(account_number=query)[:1])
    phone_digits = "".join(ch for ch in query if ch.isdigit() or ch == "+")
    condition = (
        Q(name__icontains=query) | Q(email__icontains=query) | Q(account_number__icontains=query)
    )
    if len(phone_digits) >= SEARCH_MIN_CONTAINS:
        condition |= Q(phone__icontains=phone_digits)
    rows = list(base.filter(condition).exclude(pk__in=[s.pk for s in exact])[: limit + 1])
    has_more = len(rows) > limit
    rows = exact + sorted(rows[: limit - len(exact)], key=lambda s: (s.name.lower(), s.pk))
    return SearchResult(query, rows, has_more=has_more, too_short=False)


def subscriber_get(*, pk: int) -> Subscriber:
    """The subscriber for the 360 view; raises Http404."""
    return get_object_or_404(Subscriber.objects.select_related("plan"), pk=pk)


def subscriber_equipment(*, subscriber: Subscriber) -> list[Equipment]:
    return list(subscriber.equipment.all())


# The easy ways to give equipment back, offered for every item whose return is requested.
RETURN_METHODS = [c for c in Equipment.ReturnMethod.choices if c[0]]


def subscriber_summary(*, subscriber: Subscriber, now: datetime) -> dict[str, Any]:
    """What the summary cards need (the subscriber page's ``summary`` partial, also on cases).

    ``fit`` is the stored tariff fit (or None), which the offer builder reads too; ``fit_brief``
    says it in one sentence."""
    fit = tariff_fit_get(subscriber=subscriber, today=timezone.localdate(now))
    return {
        "subscriber": subscriber,
        "equipment": subscriber_equipment(subscriber=subscriber),
        "windows": contact_decisions(subscriber=subscriber, now=now),
        "local_now": now.astimezone(subscriber.zone),
        "tenure_months": subscriber.tenure_months(),
        "return_methods": RETURN_METHODS,
        "fit": fit,
        "fit_brief": fit_brief(fit, fit.people) if fit else "",  # type: ignore[attr-defined]
    }


# --- Timeline: keyset pagination ------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    occurred_at: datetime
    id: int

    def encode(self) -> str:
        return cursor_encode(self.occurred_at, self.id)

    @classmethod
    def decode(cls, token: str) -> "Cursor":
        occurred_at, ident = cursor_decode(token, aware_datetime, int)
        return cls(occurred_at=occurred_at, id=ident)


@dataclass(frozen=True)
class TimelinePage:
    events: list[TimelineEvent]
    next_cursor: str | None


def timeline_page(
    *,
    subscriber: Subscriber,
    kinds: list[str] | None = None,
    after: str | None = None,
    size: int | None = None,
) -> TimelinePage:
    """Newest first, ``size`` events after the cursor: one index range scan, however deep.

    The redundant ``occurred_at <= t`` lets PostgreSQL start the index scan at the cursor;
    the OR alone would be a filter applied to every newer row.
    """
    size = size or settings.TIMELINE_PAGE_SIZE
    events: QuerySet[TimelineEvent] = TimelineEvent.objects.filter(subscriber=subscriber)
    if kinds:
        events = events.filter(kind__in=kinds)
    if after:
        cursor = Cursor.decode(after)
        events = events.filter(occurred_at__lte=cursor.occurred_at).filter(
            Q(occurred_at__lt=cursor.occurred_at) | Q(id__lt=cursor.id)
        )
    rows = list(
        events.select_related("actor")
        .only(
            "id",
            "kind",
            "occurred_at",
            "summary",
            "code",
            "params",
            "data",
            "source",
            "actor__username",
            "actor__first_name",
            "actor__last_name",
        )
        .order_by("-occurred_at", "-id")[: size + 1]
    )
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = Cursor(occurred_at=last.occurred_at, id=last.id).encode()
    # get_kind_display() rebuilds a dict of lazy translations on every call: half the page's
    # render time at 50 events. Translate each label once per page instead.
    labels = {value: str(label) for value, label in TimelineEvent.Kind.choices}
    for event in rows:
        event.kind_label = labels.get(event.kind, event.kind)  # type: ignore[attr-defined]
    return TimelinePage(events=rows, next_cursor=next_cursor)


# --- Contact policy -------------------------------------------------------------------------


@dataclass(frozen=True)
class Hours:
    weekday: tuple[time, time]
    weekend: tuple[time, time]
    # Days closed all day (the public holidays, when the policy keeps them free of contact).
    closed: frozenset[date] = frozenset()

    def on(self, day: datetime) -> tuple[time, time]:
        return self.weekend if day.weekday() >= 5 else self.weekday


@dataclass(frozen=True)
class Policy:
    max_outbound: int
    period: timedelta
    hours: dict[str, Hours]
    # The desk's calendar when public holidays are closed for contact; None when they are not.
    calendar: Calendar | None = None


DEFAULT_HOURS = Hours(weekday=(time(9), time(20)), weekend=(time(10), time(18)))

# How far around today the policy lists the closed days: enough for the next opening after
# the longest wait (the cap's period, then a run of holidays).
CLOSED_DAYS_BEFORE, CLOSED_DAYS_AFTER = 2, 62


def contact_policy_get(*, today: date | None = None) -> Policy:
    """The policy from the admin, in one query (and the desk's calendar, cached); the defaults
    if the admin deleted it."""
    rows = list(ContactHours.objects.select_related("policy"))
    calendar: Calendar | None = desk_calendar()
    closed: frozenset[date] = frozenset()
    if calendar is not None and (not rows or rows[0].policy.closed_on_public_holidays):
        today = today or timezone.localdate()
        closed = calendar.holidays_between(
            today - timedelta(days=CLOSED_DAYS_BEFORE), today + timedelta(days=CLOSED_DAYS_AFTER)
        )
    else:
        calendar = None
    default = replace(DEFAULT_HOURS, closed=closed)
    if not rows:
        return Policy(2, timedelta(days=7), {c: default for c in ContactChannel.values}, calendar)
    policy = rows[0].policy
    hours = {c: default for c in ContactChannel.values}
    for row in rows:
        hours[row.channel] = Hours(
            weekday=(row.weekday_start, row.weekday_end),
            weekend=(row.weekend_start, row.weekend_end),
            closed=closed,
        )
    return Policy(policy.max_outbound, timedelta(days=policy.period_days), hours, calendar)


def _outbound_contacts(since: datetime) -> QuerySet[TimelineEvent]:
    # Every outbound contact (an agent's call, an outreach e-mail or SMS) is a timeline event
    # of kind ``contact`` with ``data.direction == "outbound"``: the frequency cap counts those.
    return TimelineEvent.objects.filter(
        kind=TimelineEvent.Kind.CONTACT, occurred_at__gt=since, data__direction="outbound"
    ).order_by("occurred_at")


def outbound_contacts_since(*, subscriber: Subscriber, since: datetime) -> list[datetime]:
    """When the subscriber was contacted by us, from every source, oldest first."""
    return list(
        _outbound_contacts(since)
        .filter(subscriber=subscriber)
        .values_list("occurred_at", flat=True)
    )


def outbound_contacts_of(
    *, subscriber_ids: list[int], since: datetime
) -> dict[int, list[datetime]]:
    """The same for many subscribers in one query (a sender's chunk), by subscriber id."""
    found: dict[int, list[datetime]] = {pk: [] for pk in subscriber_ids}
    rows = _outbound_contacts(since).filter(subscriber_id__in=subscriber_ids)
    for subscriber_id, at in rows.values_list("subscriber_id", "occurred_at"):
        found[subscriber_id].append(at)
    return found


# Refusals that end by waiting: outreach defers to ``next_allowed_at``.
WAIT_REASONS = ("quiet_hours", "over_cap", "public_holiday")


@dataclass(frozen=True)
class ContactDecision:
    channel: str
    allowed: bool
    # "", "do_not_contact", "no_address", "over_cap", "quiet_hours", "public_holiday"
    reason: str
    next_allowed_at: datetime | None  # aware, in the subscriber's zone; None: not by waiting
    holiday: dict[str, str] | None = None  # a public holiday's name in each language

    @property
    def message(self) -> str:
        return contact_refusal_message(self)


def next_opening(*, hours: Hours, local: datetime) -> datetime:
    """The first moment at or after ``local`` inside the allowed hours (local wall time),
    skipping the days closed all day."""
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in range(40):
        day = midnight + timedelta(days=offset)
        if day.date() in hours.closed:
            continue
        start, end = hours.on(day)
        opening = day.replace(hour=start.hour, minute=start.minute)
        closing = day.replace(hour=end.hour, minute=end.minute)
        if offset == 0 and opening <= local < closing:
            return local
        if offset > 0 or local < opening:
            return opening
    raise AssertionError("the contact hours allow no moment in 40 days")


def contact_decisions(
    *,
    subscriber: Subscriber,
    now: datetime,
    policy: Policy | None = None,
    recent: list[datetime] | None = None,
) -> list[ContactDecision]:
    """May each outbound channel be used now? Do-not-contact, address, the cap, quiet hours.

    ``recent`` are the outbound contacts inside the policy's period (queried if not given).
    """
    policy = policy or contact_policy_get(today=timezone.localdate(now))
    if recent is None:
        recent = outbound_contacts_since(subscriber=subscriber, since=now - policy.period)
    zone = subscriber.zone
    local_now = now.astimezone(zone)
    # Over the cap, the earliest counted contact has to leave the window first.
    cap_free_at = None
    if 0 < policy.max_outbound <= len(recent):
        cap_free_at = (recent[len(recent) - policy.max_outbound] + policy.period).astimezone(zone)
    blocked: dict[str, bool] = {
        ContactChannel.PHONE: subscriber.do_not_call,
        ContactChannel.EMAIL: subscriber.do_not_email,
        ContactChannel.SMS: subscriber.do_not_sms,
    }
    address: dict[str, str] = {
        ContactChannel.PHONE: subscriber.phone,
        ContactChannel.EMAIL: subscriber.email,
        ContactChannel.SMS: subscriber.phone,
    }
    # A public holiday where the subscriber is: closed for every channel, by the policy.
    holiday = policy.calendar.holiday(local_now.date()) if policy.calendar else None
    decisions = []
    for channel in ContactChannel.values:
        hours = policy.hours[channel]
        if blocked[channel]:
            decisions.append(ContactDecision(channel, False, "do_not_contact", None))
        elif not address[channel]:
            decisions.append(ContactDecision(channel, False, "no_address", None))
        elif policy.max_outbound == 0:
            decisions.append(ContactDecision(channel, False, "over_cap", None))
        elif cap_free_at is not None and cap_free_at > local_now:
            opening = next_opening(hours=hours, local=cap_free_at)
            decisions.append(ContactDecision(channel, False, "over_cap", opening))
        elif holiday is not None:
            opening = next_opening(hours=hours, local=local_now)
            decisions.append(ContactDecision(channel, False, "public_holiday", opening, holiday))
        else:
            opening = next_opening(hours=hours, local=local_now)
            if opening > local_now:
                decisions.append(ContactDecision(channel, False, "quiet_hours", opening))
            else:
                decisions.append(ContactDecision(channel, True, "", None))
    return decisions


def contact_decision(
    *,
    subscriber: Subscriber,
    channel: str,
    now: datetime,
    policy: Policy | None = None,
    recent: list[datetime] | None = None,
) -> ContactDecision:
    return next(
        d
        for d in contact_decisions(subscriber=subscriber, now=now, policy=policy, recent=recent)
        if d.channel == channel
    )


def contact_refusal_message(decision: ContactDecision) -> str:
    """Why a contact is refused and when it becomes allowed, for agents and error messages."""
    if decision.allowed:
        return phrases.render("refusal.allowed")
    return phrases.said(
        contact_refusal_phrase(
            reason=decision.reason,
            next_allowed_at=decision.next_allowed_at,
            holiday=decision.holiday,
        )
    )


def contact_refusal_phrase(
    *, reason: str, next_allowed_at: datetime | None, holiday: dict[str, str] | None = None
) -> dict[str, Any]:
    """The refusal as a phrase, for the history that keeps it (said in each reader's
    language). The moment it becomes allowed is the subscriber's wall-clock time; a public
    holiday is named in each language."""
    code = f"refusal.{reason}"
    if code not in phrases.PHRASES:
        code = "refusal.quiet_hours"
    if code == "refusal.public_holiday":
        if holiday:
            return phrases.phrase(code, when=next_allowed_at or "", holiday=holiday)
        code = "refusal.public_holiday_unnamed"
    return phrases.phrase(code, when=next_allowed_at or "")


def regions() -> list[str]:
    """The regions subscribers live in, for filters. Cached: DISTINCT over a million rows."""
    return cached(
        "subscribers:regions",
        lambda: list(
            Subscriber.objects.order_by("region").values_list("region", flat=True).distinct()
        ),
        timeout=3600,
    )


# --- Incidents ------------------------------------------------------------------------------

INCIDENT_KINDS = (TimelineEvent.Kind.OUTAGE, TimelineEvent.Kind.TICKET)


@dataclass(frozen=True)
class Incidents:
    outages: int
    tickets: int
    latest: list[TimelineEvent]


def subscriber_incidents(
    *, subscriber: Subscriber, now: datetime, days: int = 90, limit: int = 6
) -> Incidents:
    """Outages and support tickets of the last ``days``: how many of each, and the latest few.
    Two queries, whatever the number."""
    recent = TimelineEvent.objects.filter(
        subscriber=subscriber, kind__in=INCIDENT_KINDS, occurred_at__gte=now - timedelta(days=days)
    )
    counts = dict(
        recent.order_by().values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )
    latest = list(recent.select_related("actor").order_by("-occurred_at", "-id")[:limit])
    return Incidents(
        outages=counts.get(TimelineEvent.Kind.OUTAGE, 0),
        tickets=counts.get(TimelineEvent.Kind.TICKET, 0),
        latest=latest,
    )
