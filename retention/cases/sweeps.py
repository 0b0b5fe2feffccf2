"""The periodic sweeps over open cases: none outlives its process-by date, and each one's
priority follows its deadline."""

from datetime import date

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from retention.cases.priority import case_priority
from retention.cases.services import OPEN, Action, close_cancelled
from retention.models import (
    CancellationCase,
)
from retention.notifications.services import notify
from subscribers import phrases


def cases_process_overdue(*, today: date | None = None) -> int:
    """Process every open case whose process-by date has come as a cancellation.

    Each case in its own transaction, locked with SKIP LOCKED: two sweeps running at once
    split the work instead of processing a case twice, and a case an agent is closing right
    now is left to them (the next sweep sees it closed, or still open, and acts accordingly).
    """
    today = today or timezone.localdate()
    processed = 0
    while True:
        with transaction.atomic():
            case = (
                CancellationCase.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("subscriber", "owner")
                .filter(status__in=OPEN, process_by__lte=today)
                .order_by("process_by", "pk")
                .first()
            )
            if case is None:
                return processed
            auto = phrases.phrase("history.auto_cancelled", date=case.process_by)
            close_cancelled(case, None, case.process_by, Action.AUTO_CANCELLED, "", auto)
            if case.owner is not None:
                notify(
                    recipient=case.owner,
                    phrase=phrases.phrase("notify.case_deadline", id=case.pk),
                    url=reverse("case", args=[case.pk]),
                )
            processed += 1


def cases_reprioritise(*, today: date | None = None, chunk: int = 1000) -> int:
    """Recompute the priority of open cases: days to the deadline change every day."""
    today = today or timezone.localdate()
    changed = 0
    last = 0
    while True:
        cases = list(
            CancellationCase.objects.select_related("subscriber")
            .filter(status__in=OPEN, pk__gt=last)
            .order_by("pk")[:chunk]
        )
        if not cases:
            return changed
        last = cases[-1].pk
        dirty = []
        for case in cases:
            priority = case_priority(
                subscriber=case.subscriber,
                process_by=case.process_by,
                port_out=case.is_port_out,
                today=today,
            )
            if priority.score != case.priority:
                case.priority, case.priority_explained = priority.score, priority.explained
                dirty.append(case)
        # A plain UPDATE of two columns: no state changes, no history needed.
        CancellationCase.objects.bulk_update(dirty, ["priority", "priority_explained"])
        changed += len(dirty)
