import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404
from django.utils import timezone

from offers.authority import (
    Authority,
    authorities_for_approver,
    authority_for,
    conceded_within_year,
)
from offers.models import CounterOffer
from offers.pricing import offer_describe
from offers.selectors import (
    OfferCard,
    OfferChoice,
    offer_cards,
    offer_choices,
    offers_of_case,
    offers_of_subscriber,
    offers_pending_for,
)
from retention.caching import cached
from retention.models import (
    CancellationCase,
    CaseHistory,
    ContactAttempt,
    Heartbeat,
    Notification,
    User,
)
from retention.roles import WORKER_ROLES
from subscribers.keyset import aware_datetime, cursor_decode, cursor_encode
from subscribers.models import Subscriber


@dataclass(frozen=True)
class Health:
    database_ok: bool
    database_vendor: str
    last_beat_at: datetime | None
    beats: int
    broker: str

    @property
    def beat_age(self) -> timedelta | None:
        return timezone.now() - self.last_beat_at if self.last_beat_at else None

    @property
    def worker_ok(self) -> bool:
        # Three missed beats in a row mean the worker or beat is not running.
        age = self.beat_age
        return age is not None and age <= timedelta(seconds=3 * settings.HEARTBEAT_SECONDS)

    @property
    def ok(self) -> bool:
        return self.database_ok


def health_get() -> Health:
    beat = None
    try:
        beat = Heartbeat.objects.filter(pk=1).first()
        database_ok = True
    except DatabaseError:
        database_ok = False
    broker = settings.CELERY_BROKER_URL.split("://", 1)[0]
    return Health(
        database_ok=database_ok,
        database_vendor=connection.vendor,
        last_beat_at=beat.beat_at if beat else None,
        beats=beat.beats if beat else 0,
        broker=broker,
    )


# --- Cases ------------------------------------------------------------------------------------

QUEUE_ORDER = ("-priority", "first_contact_due", "id")


def case_get(*, pk: int) -> CancellationCase:
    """Any staff member may read any case (they need the context); acting is checked apart."""
    return get_object_or_404(
        CancellationCase.objects.select_related(
            "subscriber", "subscriber__plan", "owner", "reason", "opened_by"
        ),
        pk=pk,
    )


def overdue_q() -> Q:
    """First contact late, or the process-by date is today or tomorrow."""
    now = timezone.now()
    return Q(first_contacted_at__isnull=True, first_contact_due__lt=now) | Q(
        process_by__lte=timezone.localdate(now) + timedelta(days=1)
    )


def cases_open() -> QuerySet[CancellationCase]:
    return CancellationCase.objects.filter(status__in=CancellationCase.OPEN_STATUSES)


def case_history(*, case: CancellationCase, limit: int = 100) -> list[CaseHistory]:
    return list(case.history.select_related("actor").order_by("-at", "-id")[:limit])


def case_contacts(*, case: CancellationCase, limit: int = 100) -> list[ContactAttempt]:
    return list(case.contacts.select_related("actor").order_by("-at", "-id")[:limit])


@dataclass(frozen=True)
class QueueCursor:
    priority: int
    due: datetime
    id: int

    def encode(self) -> str:
        return cursor_encode(self.priority, self.due, self.id)

    @classmethod
    def decode(cls, token: str) -> "QueueCursor":
        priority, due, ident = cursor_decode(token, int, aware_datetime, int)
        return cls(priority=priority, due=due, id=ident)


@dataclass(frozen=True)
class QueuePage:
    cases: list[CancellationCase]
    next_cursor: str | None


def queue_page(
    *, cases: QuerySet[CancellationCase], after: str | None, size: int | None = None
) -> QueuePage:
    """A page of open cases in queue order after the cursor: deep pages cost what the first does.

    The order mixes directions (priority down, due time up), so the cursor condition is spelt
    out; the redundant ``priority <= p`` lets PostgreSQL start the index scan at the cursor.
    """
    size = size or settings.QUEUE_PAGE_SIZE
    page = cases
    if after:
        c = QueueCursor.decode(after)
        page = page.filter(priority__lte=c.priority).filter(
            Q(priority__lt=c.priority)
            | Q(first_contact_due__gt=c.due)
            | Q(first_contact_due=c.due, id__gt=c.id)
        )
    rows = list(
        page.select_related("subscriber", "subscriber__plan", "reason", "owner").order_by(
            *QUEUE_ORDER
        )[: size + 1]
    )
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = QueueCursor(last.priority, last.first_contact_due, last.pk).encode()
    return QueuePage(cases=rows, next_cursor=next_cursor)


@dataclass(frozen=True)
class QueueCounts:
    total: int
    overdue: int


# 200 agents refresh the queue all day; counting 100,000 open cases for every one of them is
# the page's only cost that grows with the queue. Counts a few seconds old are good enough.
QUEUE_COUNTS_SECONDS = 15


def queue_counts(*, cases: QuerySet[CancellationCase], key: str) -> QueueCounts:
    """How many cases match, and how many of those are overdue; one pass, briefly cached."""

    def count() -> QueueCounts:
        found = cases.aggregate(total=Count("pk"), overdue=Count("pk", filter=overdue_q()))
        return QueueCounts(total=found["total"], overdue=found["overdue"])

    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return cached(f"queue:counts:{digest}", count, timeout=QUEUE_COUNTS_SECONDS)


def notifications_unread(*, user: User, limit: int = 10) -> list[Notification]:
    return list(
        Notification.objects.filter(recipient=user, read_at__isnull=True).order_by("-created_at")[
            :limit
        ]
    )


def case_workers() -> QuerySet[User]:
    """Active agents and managers: who can own a case (owner filter, reassign form)."""
    return (
        User.objects.filter(is_active=True, groups__name__in=WORKER_ROLES)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


# --- Offers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxItem:
    offer: CounterOffer
    description: str
    on_behalf_of: User | None


# A manager works the oldest (and escalated) offers first; a page of them is plenty, and each
# card costs rendering time on every 15-second refresh.
INBOX_SIZE = 25


@dataclass(frozen=True)
class Inbox:
    items: list[InboxItem]
    more: bool
    team_waiting: list[InboxItem]


def approvals_inbox(*, user: User, now: datetime | None = None) -> Inbox:
    """Pending offers this user may decide, by their own authority or a delegated one, with
    what an approver weighs: the subscriber, the cost, earlier concessions and cases. Also
    their team's pending offers that others decide (beyond their authority, or their own)."""
    now = now or timezone.now()
    authorities = authorities_for_approver(user, now)
    decidable = offers_pending_for(user=user, authorities=authorities, now=now)
    earlier_cases = Subquery(
        CancellationCase.objects.filter(subscriber_id=OuterRef("subscriber_id"))
        .exclude(pk=OuterRef("case_id"))
        .values("subscriber_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    offers = (
        list(
            decidable.select_related(
                "subscriber",
                "subscriber__plan",
                "proposer",
                "template",
                "new_plan",
                "routed_tier",
                "case",
                "case__reason",
            ).annotate(earlier_cases=Coalesce(earlier_cases, 0))[: INBOX_SIZE + 1]
        )
        if authorities
        else []
    )
    items = []
    for offer in offers[:INBOX_SIZE]:
        cumulative = offer.cumulative  # type: ignore[attr-defined]
        covering = next(
            (
                a
                for a in authorities
                if a.covers(
                    monthly=offer.monthly_concession, total=offer.total_cost, cumulative=cumulative
                )
                and offer.proposer_id != getattr(a.on_behalf_of, "pk", None)
            ),
            None,
        )
        on_behalf_of = covering.on_behalf_of if covering else None
        items.append(InboxItem(offer, offer_describe(offer), on_behalf_of))
    return Inbox(items, len(offers) > INBOX_SIZE, _team_waiting(user, decidable))


def _team_waiting(user: User, decidable: QuerySet[CounterOffer]) -> list[InboxItem]:
    if user.team_id is None:
        return []
    offers = (
        CounterOffer.objects.filter(
            status=CounterOffer.Status.PENDING, proposer__team_id=user.team_id
        )
        .exclude(pk__in=decidable.values("pk"))
        .select_related("subscriber", "proposer", "routed_tier", "new_plan")
        .order_by("proposed_at", "pk")[:INBOX_SIZE]
    )
    return [InboxItem(offer, offer_describe(offer), None) for offer in offers]


@dataclass(frozen=True)
class OfferPanel:
    """The offers part of the case workspace and of the subscriber's offers page."""

    cards: list[OfferCard]
    live: OfferCard | None
    choices: list[OfferChoice]
    authority: Authority | None
    conceded: Decimal


def offer_panel(
    *, user: User, subscriber: Subscriber, case: CancellationCase | None, can_propose: bool
) -> OfferPanel:
    """Offers so far (with their history) and, when a new one may be made, the builder."""
    if case is not None:
        offers = offers_of_case(case_id=case.pk)
    else:
        offers = offers_of_subscriber(subscriber_id=subscriber.pk, proactive=True)
    cards = offer_cards(offers=offers)
    live = next((card for card in cards if card.offer.is_live), None)
    conceded = conceded_within_year(subscriber_id=subscriber.pk)
    if not can_propose or live is not None:
        return OfferPanel(cards, live, [], None, conceded)
    authority = authority_for(user)
    reason = case.reason.category if case is not None and case.reason else ""
    choices = offer_choices(
        subscriber=subscriber, reason_category=reason, authority=authority, conceded=conceded
    )
    return OfferPanel(cards, live, choices, authority, conceded)
