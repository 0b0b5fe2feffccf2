"""Deadlines and priority of a cancellation case: the formulas, in one place.

The case page shows ``priority_explained`` so an agent can see why a case is where it is.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from subscribers.models import Subscriber


def process_by_date(*, opened: date, requested_end: date | None, port_out: bool) -> date:
    """The date by which the cancellation must be processed: a subscriber who wants to leave
    can leave.

    A port-out carries the switch date, which binds us. Otherwise the requested end date,
    but never later than MAX_PROCESS_DAYS after opening, and never before the opening day.
    """
    latest = opened + timedelta(days=settings.MAX_PROCESS_DAYS)
    if requested_end is None:
        return latest
    if port_out:
        return max(requested_end, opened)
    return min(max(requested_end, opened), latest)


@dataclass(frozen=True)
class Priority:
    score: int
    explained: list[list[str | int]]  # [label, points]: what the JSON column holds


def case_priority(
    *, subscriber: Subscriber, process_by: date, port_out: bool, today: date | None = None
) -> Priority:
    """Monthly value, tenure, churn risk and days to the deadline, each capped, added up."""
    today = today or timezone.localdate()
    parts: list[tuple[str, int]] = [
        # Stored untranslated (they are data); the case page translates them when it shows them.
        (gettext_noop("monthly value"), min(int(subscriber.monthly_price), 100)),
        (gettext_noop("tenure"), min(subscriber.tenure_months(today) // 12 * 5, 50)),
        (gettext_noop("churn risk"), subscriber.churn_risk // 2),
    ]
    days_left = (process_by - today).days
    if days_left <= 1:
        parts.append((gettext_noop("deadline within a day"), 80))
    elif days_left <= 3:
        parts.append((gettext_noop("deadline within 3 days"), 50))
    elif days_left <= 7:
        parts.append((gettext_noop("deadline within a week"), 25))
    if port_out:
        parts.append((gettext_noop("port-out to a competitor"), 40))
    kept: list[list[str | int]] = [[label, points] for label, points in parts if points]
    return Priority(score=sum(points for _, points in parts), explained=kept)
