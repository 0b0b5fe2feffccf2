"""What the pages read of hardship arrangements. Every member of staff may read a subscriber's
page, so the subscriber's arrangements are everyone's to read; the views check the role."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import F, OuterRef, Prefetch, Subquery

from retention.models import HardshipArrangement, Instalment


def arrangements_for_subscriber(*, subscriber_id: int, limit: int = 3) -> list[HardshipArrangement]:
    """The subscriber's newest arrangements with their instalments (two queries, whatever
    their number)."""
    return list(
        HardshipArrangement.objects.filter(subscriber_id=subscriber_id)
        .select_related("offer")
        .prefetch_related(Prefetch("instalments", queryset=Instalment.objects.order_by("number")))
        .order_by("-created_at", "-pk")[:limit]
    )


@dataclass(frozen=True)
class Standing:
    """One line for the case's context pane: the open arrangement and what is due next."""

    arrangement: HardshipArrangement
    next_due_on: date | None
    next_left: Decimal | None


def arrangement_standing(*, subscriber_id: int) -> Standing | None:
    """The subscriber's open arrangement (kept or broken), with its next unpaid instalment,
    in one query; None when there is none."""
    unpaid = Instalment.objects.filter(arrangement=OuterRef("pk"), paid__lt=F("amount")).order_by(
        "number"
    )
    found = (
        HardshipArrangement.objects.filter(
            subscriber_id=subscriber_id, status__in=HardshipArrangement.OPEN_STATUSES
        )
        .annotate(
            next_due_on=Subquery(unpaid.values("due_on")[:1]),
            next_left=Subquery(
                unpaid.annotate(remaining=F("amount") - F("paid")).values("remaining")[:1]
            ),
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if found is None:
        return None
    return Standing(found, found.next_due_on, found.next_left)
