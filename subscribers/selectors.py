"""Every read that a subscriber page, the API or a task needs."""

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from subscribers.models import Equipment, Subscriber, TimelineEvent

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


# --- Timeline: keyset pagination ------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    occurred_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.occurred_at.astimezone(UTC).isoformat()}|{self.id}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> "Cursor":
        """Raises Http404 for anything that is not a cursor we made."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            stamp, ident = raw.split("|")
            occurred_at = datetime.fromisoformat(stamp)
            if occurred_at.tzinfo is None:
                raise ValueError("naive cursor")
            return cls(occurred_at=occurred_at, id=int(ident))
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise Http404("bad cursor") from exc


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


# --- Contact rules right now -----------------------------------------------------------------


class Channel:
    PHONE = "phone"
    EMAIL = "email"
    SMS = "sms"
    ALL = (PHONE, EMAIL, SMS)


@dataclass(frozen=True)
class ContactWindow:
    channel: str
    allowed: bool
    reason: str  # "", "do_not_contact", "quiet_hours", "no_address"
    next_allowed_at: datetime | None  # aware, in the subscriber's zone; None when never


def _hours_for(day: datetime) -> tuple[int, int]:
    key = "weekend" if day.weekday() >= 5 else "weekday"
    start, end = settings.CONTACT_HOURS[key]
    return start, end


def _next_opening(local_now: datetime) -> datetime:
    """The first moment at or after ``local_now`` inside the allowed hours (local wall time)."""
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    for offset in range(8):
        day = midnight + timedelta(days=offset)
        start, end = _hours_for(day)
        opening = day.replace(hour=start)
        closing = day.replace(hour=end)
        if offset == 0 and opening <= local_now < closing:
            return local_now
        if offset > 0 or local_now < opening:
            return opening
    raise AssertionError("CONTACT_HOURS allow no hour in a week")


def contact_windows(*, subscriber: Subscriber, now: datetime) -> list[ContactWindow]:
    """Whether each outbound channel may be used now: do-not-contact, then quiet hours."""
    local_now = now.astimezone(subscriber.zone)
    opening = _next_opening(local_now)
    blocked = {
        Channel.PHONE: subscriber.do_not_call,
        Channel.EMAIL: subscriber.do_not_email,
        Channel.SMS: subscriber.do_not_sms,
    }
    address = {
        Channel.PHONE: subscriber.phone,
        Channel.EMAIL: subscriber.email,
        Channel.SMS: subscriber.phone,
    }
    windows = []
    for channel in Channel.ALL:
        if blocked[channel]:
            windows.append(ContactWindow(channel, False, "do_not_contact", None))
        elif not address[channel]:
            windows.append(ContactWindow(channel, False, "no_address", None))
        elif opening > local_now:
            windows.append(ContactWindow(channel, False, "quiet_hours", opening))
        else:
            windows.append(ContactWindow(channel, True, "", None))
    return windows
