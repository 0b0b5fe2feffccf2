import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from retention.core.caching import cached
from retention.core.roles import WORKER_ROLES
from retention.models import (
    CancellationCase,
    CaseHistory,
    ContactAttempt,
    User,
)
from subscribers.keyset import aware_datetime, cursor_decode, cursor_encode

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


def case_workers() -> QuerySet[User]:
    """Active agents and managers: who can own a case (owner filter, reassign form)."""
    return (
        User.objects.filter(is_active=True, groups__name__in=WORKER_ROLES)
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
