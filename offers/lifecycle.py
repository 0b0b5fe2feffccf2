"""A counter-offer after its approval: presented, answered (accepted and applied, or declined),
withdrawn, expired, or ended with its case. Each locks the offer and writes its history row and
timeline event, as offers.services does; an accepted offer also tells billing what to apply
(an outbound event, in the same transaction).
"""

from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.exceptions import InvalidTerms
from offers.models import BillingState, CounterOffer, OfferHistory, OfferKind
from offers.pauses import pause_accepted, pause_start
from offers.pricing import add_months, split_instalments
from offers.steps import (
    Note,
    history_add,
    locked,
    require_worker,
    timeline_add,
    valid_until_from,
    written,
)
from retention.core.refusals import WrongState
from subscribers import outbound, phrases
from subscribers.models import OutboundEvent, Subscriber, TimelineEvent
from subscribers.outbound import outbound_event_record
from subscribers.services import timeline_event_record

Status = CounterOffer.Status
Action = OfferHistory.Action


def offer_present(
    *, offer: CounterOffer, actor: AbstractUser, note: Note = "", now: datetime | None = None
) -> CounterOffer:
    require_worker(actor)
    now = now or timezone.now()
    with transaction.atomic():
        offer = locked(offer)
        if offer.status != Status.APPROVED:
            raise WrongState(
                _("Only an approved offer can be presented (this one is %(status)s).")
                % {"status": str(offer.get_status_display()).lower()}
            )
        if offer.valid_until <= now:
            raise WrongState(_("This offer has expired."))
        offer.status, offer.presented_at = Status.PRESENTED, now
        offer.valid_until = valid_until_from(now, settings.OFFER_ANSWER_DAYS, offer.deadline)
        offer.save(update_fields=["status", "presented_at", "valid_until"])
        history_add(offer, actor, Action.PRESENTED, Status.APPROVED, note)
        timeline_add(offer, TimelineEvent.Kind.OFFER_PRESENTED, "offer.presented", actor)
    return offer


def _require_presented(offer: CounterOffer, now: datetime) -> None:
    if offer.status != Status.PRESENTED:
        raise WrongState(
            _("Present the offer before recording the answer (it is %(status)s).")
            % {"status": str(offer.get_status_display()).lower()}
        )
    if offer.valid_until <= now:
        raise WrongState(_("This offer has expired."))


def offer_accept(
    *, offer: CounterOffer, actor: AbstractUser, note: Note = "", now: datetime | None = None
) -> CounterOffer:
    """The subscriber said yes: apply the offer to what they pay, with its end date."""
    require_worker(actor)
    now = now or timezone.now()
    with transaction.atomic():
        offer = locked(offer)
        _require_presented(offer, now)
        offer.status, offer.answered_at, offer.answer_note = Status.ACCEPTED, now, written(note)
        _apply(offer, actor, now)
        offer.save()
        history_add(offer, actor, Action.ACCEPTED, Status.PRESENTED, note)
    return offer


# The subscriber's fields an acceptance may change: held until billing confirms them.
HELD = ("monthly_price", "promo_ends_on", "plan", "balance")


def _apply(offer: CounterOffer, actor: AbstractUser, now: datetime) -> None:
    subscriber = (
        Subscriber.objects.select_for_update().select_related("plan").get(pk=offer.subscriber_id)
    )
    if subscriber.status not in (Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED):
        raise WrongState(_("The subscriber is leaving; the offer can no longer apply."))
    today = timezone.localdate(now)
    kind = offer.kind
    offer.price_before = subscriber.monthly_price
    old_plan = subscriber.plan
    before = {name: getattr(subscriber, name) for name in HELD}
    if kind == OfferKind.PAYMENT_DEFERRAL:
        offer.runs_until = today + timedelta(days=offer.days)
    elif offer.months:
        offer.runs_until = add_months(today, offer.months)
    changed = ["updated_at"]
    if offer.new_monthly_price != subscriber.monthly_price:
        subscriber.monthly_price = offer.new_monthly_price
        # A permanent new price (runs_until None) ends any promotion: a stale end date would
        # announce a price rise that is not coming.
        subscriber.promo_ends_on = offer.runs_until
        changed += ["monthly_price", "promo_ends_on"]
    if offer.new_plan_id and offer.new_plan_id != subscriber.plan_id:
        subscriber.plan = offer.new_plan  # type: ignore[assignment]
        changed.append("plan")
    if kind == OfferKind.ONE_TIME_CREDIT:
        subscriber.balance -= offer.one_time_concession
        changed.append("balance")
    if kind == OfferKind.PAUSE:
        changed += pause_start(offer, subscriber)
    subscriber.save(update_fields=changed)
    offer.subscriber = subscriber
    offer.applied_at = now
    offer.billing = BillingState.TOLD  # the event below tells billing; it confirms later
    until = "_until" if offer.runs_until else ""
    if "monthly_price" in changed:
        timeline_event_record(
            subscriber=subscriber,
            kind=TimelineEvent.Kind.PRICE_CHANGE,
            phrase=phrases.phrase(
                f"offer.price_changed{until}",
                offer=offer.pk,
                until=offer.runs_until,
                **{"from": offer.price_before, "to": subscriber.monthly_price},
            ),
            actor=actor,
            data={
                "offer": offer.pk,
                "from": str(offer.price_before),
                "to": str(subscriber.monthly_price),
                "until": offer.runs_until.isoformat() if offer.runs_until else None,
            },
            occurred_at=now,
        )
    if "plan" in changed:
        timeline_event_record(
            subscriber=subscriber,
            kind=TimelineEvent.Kind.PLAN_CHANGE,
            phrase=phrases.phrase(
                f"offer.plan_changed{until}",
                offer=offer.pk,
                until=offer.runs_until,
                **{"from": old_plan.name, "to": subscriber.plan.name},
            ),
            actor=actor,
            data={"offer": offer.pk, "from": old_plan.code, "to": subscriber.plan.code},
            occurred_at=now,
        )
    timeline_add(
        offer,
        TimelineEvent.Kind.OFFER_ACCEPTED,
        f"offer.accepted{until}",
        actor,
        until=offer.runs_until,
    )
    outbound_event_record(
        type=OutboundEvent.Type.OFFER_ACCEPTED,
        data=_accepted(offer, subscriber, old_plan.code, changed, today),
        holds={name: getattr(subscriber, name) for name in changed if name in HELD},
        before=before,
    )


def _accepted(
    offer: CounterOffer, subscriber: Subscriber, old_plan: str, changed: list[str], today: date
) -> outbound.OfferAccepted:
    """What billing must apply: the new price or plan and until when, a credit, a deferral or
    the instalments of a split payment (of the balance when the offer was accepted)."""
    owed = subscriber.balance
    deferral = split = None
    if offer.kind == OfferKind.PAYMENT_DEFERRAL and offer.runs_until:
        deferral = outbound.Deferral(amount=owed, days=offer.days, until=offer.runs_until)
    if offer.kind == OfferKind.SPLIT_PAYMENT and offer.months:
        monthly = split_instalments(owed, offer.months)[0]
        split = outbound.Split(amount=owed, instalments=offer.months, monthly=monthly)
    price = plan = None
    if "monthly_price" in changed:
        price = {"from": offer.price_before, "to": subscriber.monthly_price}
    if "plan" in changed:
        plan = {"from": old_plan, "to": subscriber.plan.code}
    return outbound.OfferAccepted(
        subscriber=outbound.subscriber_ref(subscriber),
        offer=offer.pk,
        case=offer.case_id,
        kind=offer.kind,
        starts_on=today,
        until=offer.runs_until,
        monthly_price=outbound.PriceChange.model_validate(price) if price else None,
        plan=outbound.PlanChange.model_validate(plan) if plan else None,
        one_time_credit=offer.one_time_concession
        if offer.kind == OfferKind.ONE_TIME_CREDIT
        else None,
        deferral=deferral,
        split=split,
        pause=pause_accepted(offer, today),
    )


def offer_decline(
    *, offer: CounterOffer, actor: AbstractUser, note: str = "", now: datetime | None = None
) -> CounterOffer:
    """The subscriber said no. Their right to leave is untouched."""
    require_worker(actor)
    now = now or timezone.now()
    with transaction.atomic():
        offer = locked(offer)
        _require_presented(offer, now)
        offer.status, offer.answered_at, offer.answer_note = Status.DECLINED, now, note.strip()
        offer.save(update_fields=["status", "answered_at", "answer_note"])
        history_add(offer, actor, Action.DECLINED, Status.PRESENTED, note)
        timeline_add(
            offer,
            TimelineEvent.Kind.OFFER_DECLINED,
            "offer.declined_note" if note.strip() else "offer.declined",
            actor,
            note=note.strip(),
        )
    return offer


def _end(
    offer: CounterOffer,
    actor: AbstractUser | None,
    status: str,
    action: str,
    kind: str,
    note: Note,
) -> None:
    previous = offer.status
    offer.status = status
    offer.save(update_fields=["status"])
    history_add(offer, actor, action, previous, note)
    timeline_add(offer, kind, f"offer.{status}", actor, note=note)


def offer_withdraw(*, offer: CounterOffer, actor: AbstractUser, note: str) -> CounterOffer:
    """Take back an offer under way, e.g. to propose a better fitting one."""
    require_worker(actor)
    if not note.strip():
        raise InvalidTerms(_("Say why the offer is withdrawn."))
    with transaction.atomic():
        offer = locked(offer)
        if not offer.is_live:
            raise WrongState(
                _("The offer is already %(status)s.")
                % {"status": str(offer.get_status_display()).lower()}
            )
        _end(
            offer,
            actor,
            Status.WITHDRAWN,
            Action.WITHDRAWN,
            TimelineEvent.Kind.OFFER_WITHDRAWN,
            note.strip(),
        )
    return offer


def offer_expire(*, offer: CounterOffer, now: datetime | None = None) -> bool:
    """Expire an offer whose time ran out; False when it was settled or is still valid."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = locked(offer)
        if not offer.is_live or offer.valid_until > now:
            return False
        why = {
            Status.PENDING: "offer.end.not_decided",
            Status.APPROVED: "offer.end.not_presented",
            Status.PRESENTED: "offer.end.not_answered",
        }[CounterOffer.Status(offer.status)]
        _end(
            offer,
            None,
            Status.EXPIRED,
            Action.EXPIRED,
            TimelineEvent.Kind.OFFER_EXPIRED,
            phrases.phrase(why),
        )
    return True


def offers_end_for_case(
    *,
    case_id: int,
    actor: AbstractUser | None,
    note: Note,
    leaving_subscriber_id: int | None = None,
) -> int:
    """The case closed another way: whatever offer was under way ends with it. When the
    subscriber leaves, their proactive offers end too: nothing may change a departing
    subscriber's price."""
    ended = 0
    scope = Q(case_id=case_id)
    if leaving_subscriber_id is not None:
        scope |= Q(case__isnull=True, subscriber_id=leaving_subscriber_id)
    for offer in CounterOffer.objects.select_for_update().filter(
        scope, status__in=CounterOffer.LIVE_STATUSES
    ):
        offer = locked(offer)
        _end(
            offer,
            actor,
            Status.WITHDRAWN,
            Action.WITHDRAWN,
            TimelineEvent.Kind.OFFER_WITHDRAWN,
            note,
        )
        ended += 1
    return ended
