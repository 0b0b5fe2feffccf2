"""A pause of the service: at most one per 12 months, and its resume on the resume date.

Accepting a pause (offers.lifecycle) sets the paused fee until the resume date and tells
billing with the pause in the accepted event. On the resume date the pauses tick resumes it:
the price goes back to what the subscriber paid before, and billing gets a ``pause.resumed``
event of its own. The resume is claimed with a conditional update of the offer's
``resumed_at``, so it is written once however many ticks run, at once or again.
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.exceptions import PauseTooSoon
from offers.models import BillingState, CounterOffer, OfferHistory, OfferKind
from offers.pricing import add_months
from offers.steps import history_add
from retention.core.refusals import WrongState
from subscribers import outbound, phrases
from subscribers.models import OutboundEvent, Subscriber, TimelineEvent
from subscribers.outbound import outbound_event_record
from subscribers.services import timeline_event_record

PAUSE_EVERY_MONTHS = 12

Status = CounterOffer.Status


def pause_next_allowed(*, subscriber_id: int, today: date) -> date | None:
    """The first day a new pause is possible, or None when one is possible today: a pause
    accepted less than 12 months ago (and not refused by billing) stands in the way."""
    last = (
        CounterOffer.objects.filter(
            subscriber_id=subscriber_id, kind=OfferKind.PAUSE, status=Status.ACCEPTED
        )
        .exclude(billing=BillingState.REFUSED)
        .order_by("-answered_at")
        .values_list("answered_at", flat=True)
        .first()
    )
    if last is None:
        return None
    allowed = add_months(timezone.localdate(last), PAUSE_EVERY_MONTHS)
    return allowed if today < allowed else None


def pause_require_allowed(*, subscriber_id: int, today: date) -> None:
    allowed = pause_next_allowed(subscriber_id=subscriber_id, today=today)
    if allowed is not None:
        raise PauseTooSoon(
            _(
                "The subscriber paused the service less than 12 months ago; a new pause is "
                "possible from %(date)s."
            )
            % {"date": phrases.day(allowed)},
            allowed=allowed,
        )


def paused_require_not(*, subscriber: Subscriber, today: date) -> None:
    """While the service is paused no other offer is made: it would be priced on the paused
    fee, and the resume would undo it."""
    if subscriber.paused_until is not None and subscriber.paused_until > today:
        raise WrongState(
            _("The service is paused until %(date)s; make an offer once it resumes.")
            % {"date": phrases.day(subscriber.paused_until)}
        )


def pause_start(offer: CounterOffer, subscriber: Subscriber) -> list[str]:
    """What an accepted pause changes on the subscriber besides the price (which the
    acceptance sets like any new price): the day the service resumes."""
    subscriber.paused_until = offer.runs_until
    return ["paused_until"]


def pause_accepted(offer: CounterOffer, today: date) -> outbound.Pause | None:
    """The pause as billing is told of it in the accepted event."""
    if offer.kind != OfferKind.PAUSE or offer.runs_until is None:
        return None
    return outbound.Pause(
        starts_on=today,
        resume_on=offer.runs_until,
        fee=offer.new_monthly_price,
        price_after=offer.price_before or offer.new_monthly_price,
    )


def pause_billing_refused(offer: CounterOffer) -> None:
    """Billing refused the pause: the service never paused, so nothing resumes."""
    if offer.kind != OfferKind.PAUSE:
        return
    Subscriber.objects.filter(pk=offer.subscriber_id, paused_until=offer.runs_until).update(
        paused_until=None
    )


def pauses_due(*, today: date, limit: int = 500) -> list[int]:
    """Accepted pauses whose resume date has come and that have not resumed yet."""
    return list(
        CounterOffer.objects.filter(
            kind=OfferKind.PAUSE,
            status=Status.ACCEPTED,
            resumed_at__isnull=True,
            runs_until__lte=today,
        )
        .exclude(billing=BillingState.REFUSED)
        .order_by("runs_until", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def pause_resume(*, offer_id: int, now: datetime | None = None) -> bool:
    """Resume one paused service on its resume date: the price before the pause again, a
    ``pause.resumed`` event for billing and the subscriber's timeline. False when there was
    nothing to do (not due, resumed already by another tick, refused by billing)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    with transaction.atomic():
        # The claim: of two ticks at once, one updates the row and the other finds it taken.
        claimed = (
            CounterOffer.objects.filter(
                pk=offer_id,
                kind=OfferKind.PAUSE,
                status=Status.ACCEPTED,
                resumed_at__isnull=True,
                runs_until__lte=today,
            )
            .exclude(billing=BillingState.REFUSED)
            .update(resumed_at=now)
        )
        if not claimed:
            return False
        offer = CounterOffer.objects.select_related("subscriber").get(pk=offer_id)
        subscriber = Subscriber.objects.select_for_update().get(pk=offer.subscriber_id)
        history_add(
            offer,
            None,
            OfferHistory.Action.RESUMED,
            Status.ACCEPTED,
            phrases.phrase("pause.resumed", price=offer.price_before, offer=offer.pk),
        )
        still_paused = subscriber.paused_until == offer.runs_until and subscriber.status in (
            Subscriber.Status.ACTIVE,
            Subscriber.Status.SUSPENDED,
        )
        if not still_paused or offer.price_before is None:
            return True  # left, or another decision since: nothing of the pause to undo
        _resume(offer, subscriber, now)
    return True


def _resume(offer: CounterOffer, subscriber: Subscriber, now: datetime) -> None:
    fee = subscriber.monthly_price
    before = {"monthly_price": fee, "promo_ends_on": subscriber.promo_ends_on}
    subscriber.monthly_price = offer.price_before  # type: ignore[assignment]
    subscriber.paused_until = None
    changed = ["monthly_price", "paused_until", "updated_at"]
    if subscriber.promo_ends_on == offer.runs_until:
        subscriber.promo_ends_on = None  # the pause's end, not a promotion's
        changed.append("promo_ends_on")
    subscriber.save(update_fields=changed)
    timeline_event_record(
        subscriber=subscriber,
        kind=TimelineEvent.Kind.PRICE_CHANGE,
        phrase=phrases.phrase("pause.resumed", price=offer.price_before, offer=offer.pk),
        actor=None,
        data={"offer": offer.pk, "from": str(fee), "to": str(offer.price_before)},
        occurred_at=now,
    )
    outbound_event_record(
        type=OutboundEvent.Type.PAUSE_RESUMED,
        data=outbound.PauseResumed(
            subscriber=outbound.subscriber_ref(subscriber),
            offer=offer.pk,
            case=offer.case_id,
            resumed_on=offer.runs_until or timezone.localdate(now),
            monthly_price=outbound.PriceChange.model_validate(
                {"from": fee, "to": offer.price_before}
            ),
        ),
        holds={name: getattr(subscriber, name) for name in before if name in changed},
        before=before,
    )


@dataclass(frozen=True)
class Tick:
    resumed: int


def pauses_tick(*, now: datetime | None = None) -> Tick:
    """Resume every pause whose resume date has come, each in its own transaction."""
    now = now or timezone.now()
    resumed = sum(
        pause_resume(offer_id=pk, now=now) for pk in pauses_due(today=timezone.localdate(now))
    )
    return Tick(resumed=resumed)
