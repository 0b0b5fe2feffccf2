"""Two subscribers in hardship for the demo, made by the desk's own services as if the demo
agent had agreed them weeks ago: a split payment whose first instalment billing reported paid
(kept), and a deferral nobody paid (broken past its grace days: the agent's bell and a
callback). ``make run`` shows them on the subscribers' pages.

Idempotent: nothing is added when any arrangement exists.
"""

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from offers import lifecycle as offer_lifecycle
from offers import services as offer_services
from offers.models import CounterOffer, OfferTemplate
from retention.hardship.services import arrangement_start, hardship_tick
from retention.models import CancellationCase, HardshipArrangement, User
from subscribers.ingestion import events_ingest
from subscribers.models import Subscriber


@dataclass(frozen=True)
class Story:
    template: str  # the catalogue's code
    owed: Decimal
    days_ago: int  # when the offer was accepted
    pays_first: bool  # billing reports the first instalment paid, two days early


STORIES = (
    Story("split-payment-3", Decimal("89.97"), days_ago=40, pays_first=True),
    Story("payment-deferral-30", Decimal("59.98"), days_ago=45, pays_first=False),
)


def demo_arrangements(*, agent: User) -> list[HardshipArrangement]:
    if HardshipArrangement.objects.exists():
        return []
    busy = CancellationCase.objects.filter(status__in=CancellationCase.OPEN_STATUSES).values(
        "subscriber_id"
    )
    people = list(
        Subscriber.objects.filter(status=Subscriber.Status.ACTIVE)
        .exclude(pk__in=busy)
        .order_by("account_number")[: len(STORIES)]
    )
    made = []
    now = timezone.now()
    for story, subscriber in zip(STORIES, people, strict=False):
        template = OfferTemplate.objects.filter(code=story.template).first()
        if template is None:
            continue
        Subscriber.objects.filter(pk=subscriber.pk).update(balance=story.owed)
        subscriber.balance = story.owed
        then = now - timedelta(days=story.days_ago)
        with transaction.atomic():
            offer = offer_services.offer_propose(
                subscriber=subscriber, template=template, proposer=agent, now=then
            )
            if offer.status != CounterOffer.Status.APPROVED:
                transaction.set_rollback(True)
                continue
            offer = offer_lifecycle.offer_present(offer=offer, actor=agent, now=then)
            offer = offer_lifecycle.offer_accept(offer=offer, actor=agent, now=then)
            arrangement = arrangement_start(offer=offer, actor=agent)
        if arrangement is None:
            continue
        made.append(arrangement)
        first = arrangement.instalments.order_by("number").first()
        if story.pays_first and first is not None:
            paid_at = timezone.make_aware(
                datetime.combine(first.due_on - timedelta(days=2), time(10))
            )
            events_ingest(
                source="billing",
                items=[
                    {
                        "external_id": f"demo-hardship-{arrangement.pk}-1",
                        "account_number": subscriber.account_number,
                        "kind": "payment",
                        "occurred_at": paid_at.isoformat(),
                        "summary": f"Payment {first.amount} (instalment 1)",
                        "data": {"amount": str(first.amount)},
                    }
                ],
                skip_invalid=False,
            )
    # What beat's tick would have done meanwhile: the payment counted, the deferral broken.
    hardship_tick(now=now)
    return made
