import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from retention.core.caching import cached
from retention.core.roles import STAFF_ROLES, WORKER_ROLES, Role, has_role, user_roles
from retention.experiments.assignment import experiments_running_flag
from retention.models import (
    CancellationCase,
    CaseHistory,
    ContactAttempt,
    User,
)
from subscribers.keyset import aware_datetime, cursor_decode, cursor_encode

QUEUE_ORDER = ("-priority", "first_contact_due", "id")


# --- Who may see a case, and who may work it ----------------------------------------------------


def case_can_act(*, user: User, case: CancellationCase) -> bool:
    """Agents act on cases they own; managers on their team's and unowned ones; admins on all.

    The one rule: the services refuse by it (``case_require_act``) and the pages show their
    buttons by it (``case_may_act``). ``case.owner`` must be loaded.
    """
    roles = user_roles(user)
    if Role.ADMIN in roles:
        return True
    if case.owner_id is not None and case.owner_id == user.pk:
        return Role.AGENT in roles or Role.MANAGER in roles
    if Role.MANAGER in roles:
        if case.owner is None:
            return True
        return user.team_id is not None and case.owner.team_id == user.team_id
    return False


def case_may_act(*, user: User, case: CancellationCase) -> bool:
    """May this user work the case from the desk's pages: the services' rule, for those who
    work cases at all (every view that changes a case asks for an agent or a manager; admins
    run the system, not the queue)."""
    return has_role(user, *WORKER_ROLES) and case_can_act(user=user, case=case)


def case_get_for_user(*, user: User, pk: int) -> CancellationCase:
    """The case, fetched and authorised in one call; raises Http404 for anyone who may not see it.

    Every staff member sees every case (agents need the context); nobody else sees any. The
    case comes flagged with what this user may do on it: ``may_act`` (work it: contact, note,
    offer, close, release) and ``may_claim`` (it is unowned and they work cases).
    """
    if not has_role(user, *STAFF_ROLES):
        raise Http404
    case = get_object_or_404(
        CancellationCase.objects.select_related(
            "subscriber", "subscriber__plan", "owner", "reason", "opened_by"
        )
        # Whether an experiment runs, in the same query: the offer builder reads no more if not.
        .annotate(experiments_running=experiments_running_flag()),
        pk=pk,
    )
    may_claim = case.owner_id is None and has_role(user, *WORKER_ROLES)
    case.may_act = case_may_act(user=user, case=case)  # type: ignore[attr-defined]
    case.may_claim = may_claim  # type: ignore[attr-defined]
    return case


# --- Lists --------------------------------------------------------------------------------------


def overdue_q() -> Q:
    """The cases whose clock is red (retention.templatetags.clocks): first contact late, or the
    process-by day starts within PROCESS_BY_RED_HOURS (desk time: the deadline sweep processes
    a case on that day), so the queue's "overdue" count and filter agree with the badges."""
    now = timezone.now()
    red_until = now + timedelta(hours=settings.PROCESS_BY_RED_HOURS) - timedelta(microseconds=1)
    last_red_day = timezone.localtime(red_until, timezone.get_default_timezone()).date()
    return Q(first_contacted_at__isnull=True, first_contact_due__lt=now) | Q(
        process_by__lte=last_red_day
    )


def cases_open() -> QuerySet[CancellationCase]:
    return CancellationCase.objects.filter(status__in=CancellationCase.OPEN_STATUSES)


def cases_owned(*, user: User, limit: int = 200) -> list[CancellationCase]:
    """The user's open cases, the nearest process-by date first (My cases)."""
    return list(
        CancellationCase.objects.filter(owner=user, status__in=CancellationCase.OPEN_STATUSES)
        .select_related("subscriber", "subscriber__plan", "reason", "owner")
        .order_by("process_by", "-priority", "id")[:limit]
    )


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
