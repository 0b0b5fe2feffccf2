"""The pauses of the demo's past as the desk would have left them today.

The history writes accepted offers in bulk (retention.demo.saves) without applying them. A
pause still running has its subscriber paused, as accepting it would have left them: the fee
until the resume date, "Paused until" on their page, and the agent's reminder a week before
the resume. One whose resume date has passed has resumed (its billing event belongs to the
past the demo does not replay), so the pauses tick leaves it alone.
"""

from datetime import date, datetime, time

from django.db import transaction
from django.utils import timezone

from offers.models import CounterOffer, OfferKind
from retention.notifications.reminders import reminder_for_pause_ending
from subscribers.models import Subscriber


def pauses_settle(*, today: date) -> int:
    """Pause the subscribers whose demo pause still runs; returns how many."""
    pauses = CounterOffer.objects.filter(
        kind=OfferKind.PAUSE, status=CounterOffer.Status.ACCEPTED, resumed_at__isnull=True
    )
    with transaction.atomic():
        for offer in pauses.filter(runs_until__lte=today):
            resumed = datetime.combine(offer.runs_until or today, time(3))
            offer.resumed_at = timezone.make_aware(resumed)
            offer.save(update_fields=["resumed_at"])
        running = (
            pauses.filter(runs_until__gt=today, subscriber__status=Subscriber.Status.ACTIVE)
            .select_related("subscriber", "proposer")
            .order_by("subscriber_id", "-answered_at")
        )
        paused = 0
        seen: set[int] = set()
        for offer in running:
            # Each subscriber's newest pause only (the demo runs on SQLite too: no DISTINCT ON).
            if offer.subscriber_id in seen:
                continue
            seen.add(offer.subscriber_id)
            Subscriber.objects.filter(pk=offer.subscriber_id).update(
                monthly_price=offer.new_monthly_price,
                promo_ends_on=offer.runs_until,
                paused_until=offer.runs_until,
            )
            reminder_for_pause_ending(offer=offer)
            paused += 1
    return paused
