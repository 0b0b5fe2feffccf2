"""The save workflow: counter-offers on a case (or proactive ones), from proposal to answer.

The offer's own rules (authority, cost, its state) are offers.services; this module keeps the
case in step with its offer and tells people what happened. Every function locks the case
first and the offer second, the one lock order that cannot deadlock against the case services.

    offer        pending / approved   presented        accepted   rejected, declined, expired
    case         offer pending        offer presented  saved      in progress (try again or
                                                                  process the cancellation)
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from offers import billing as offer_billing
from offers import lifecycle as offer_lifecycle
from offers import services as offer_services
from offers.models import AuthorityTier, CounterOffer, OfferKind, OfferTemplate
from offers.pricing import Terms, offer_phrase
from retention.cases.priority import case_priority
from retention.cases.services import (
    case_deadline,
    case_locked,
    case_require_act,
    case_require_open,
    case_set_status,
)
from retention.core.refusals import NotAllowed, WrongState
from retention.experiments.services import assignment_record_proposal
from retention.hardship.services import arrangement_cancel, arrangement_start
from retention.models import CancellationCase, CaseHistory, HardshipArrangement, User
from retention.notifications.reminders import (
    offer_url,
    reminder_for_pause_ending,
    reminder_for_pending_offer,
    tier_members,
)
from retention.notifications.services import notify
from retention.saves.selectors import offer_can_act
from subscribers import phrases
from subscribers.models import Subscriber

Status = CancellationCase.Status
OfferStatus = CounterOffer.Status

CASE_STATUS_FOR_OFFER = {
    OfferStatus.PENDING: Status.OFFER_PENDING,
    OfferStatus.APPROVED: Status.OFFER_PENDING,
    OfferStatus.PRESENTED: Status.OFFER_PRESENTED,
    OfferStatus.ACCEPTED: Status.SAVED,
}


def _case_of(offer: CounterOffer) -> CancellationCase | None:
    if offer.case_id is None:
        return None
    return case_locked(CancellationCase(pk=offer.case_id))


def _sync(case: CancellationCase | None, offer: CounterOffer, actor: User | None) -> None:
    """Move the case to the status its offer implies, with a history row."""
    if case is None or not case.is_open:
        return
    status = CASE_STATUS_FOR_OFFER.get(OfferStatus(offer.status), Status.IN_PROGRESS)
    said = phrases.phrase(
        "history.offer", id=offer.pk, status=offer.status, offer=offer_phrase(offer)
    )
    fields = ["status"]
    if status == Status.SAVED:
        # The outcome as the desk's records keep it (never shown; the history row is).
        with translation.override(settings.LANGUAGE_CODE):
            case.outcome_note = phrases.said(said)
        case.closed_at = timezone.now()
        fields += ["closed_at", "outcome_note"]
    action = CaseHistory.Action.SAVED if status == Status.SAVED else CaseHistory.Action.OFFER
    case_set_status(case, actor, action, status, phrase=said)
    case.save(update_fields=fields)


def _notify(recipient: User, phrase: dict[str, Any], offer: CounterOffer) -> None:
    notify(recipient=recipient, phrase=phrase, url=offer_url(offer))


# --- Proposing ----------------------------------------------------------------------------------


def case_offer_propose(
    *,
    case: CancellationCase,
    template: OfferTemplate,
    actor: User,
    note: str = "",
    months: int | None = None,
    amount: Decimal | None = None,
) -> CounterOffer:
    with transaction.atomic():
        case = case_locked(case)
        case_require_open(case)
        case_require_act(case, actor)
        if case.status == Status.NEW:
            raise WrongState(_("Claim the case before making an offer."))
        if case.status != Status.IN_PROGRESS:
            raise WrongState(
                _("An offer is already under way on this case (%(status)s).")
                % {"status": str(case.get_status_display()).lower()}
            )
        offer = offer_services.offer_propose(
            subscriber=case.subscriber,
            template=template,
            proposer=actor,
            note=note,
            case_id=case.pk,
            reason_category=case.reason.category if case.reason else "",
            deadline=case_deadline(case),  # the sweep processes the case then: no offer outlives it
            months=months,  # a pause's, as the agent chose them
            amount=amount,
        )
        assignment_record_proposal(case=case, template=template)
        _sync(case, offer, actor)
        if offer.status == OfferStatus.PENDING:
            reminder_for_pending_offer(offer=offer)
    return offer


def offer_propose_proactive(
    *,
    subscriber: Subscriber,
    template: OfferTemplate,
    actor: User,
    note: str = "",
    months: int | None = None,
    amount: Decimal | None = None,
) -> CounterOffer:
    """Better terms before the subscriber asks to leave: loyal customers should not have to
    threaten to go to hear of them."""
    open_case = CancellationCase.objects.filter(
        subscriber=subscriber, status__in=CancellationCase.OPEN_STATUSES
    ).first()
    if open_case is not None:
        raise WrongState(
            _("The subscriber has an open case (#%(id)s): make the offer there.")
            % {"id": open_case.pk}
        )
    offer = offer_services.offer_propose(
        subscriber=subscriber,
        template=template,
        proposer=actor,
        note=note,
        months=months,
        amount=amount,
    )
    if offer.status == OfferStatus.PENDING:
        reminder_for_pending_offer(offer=offer)
    return offer


# --- Deciding -----------------------------------------------------------------------------------


class Decision(StrEnum):
    """What an approver decides; the value is the last part of the decision's URL."""

    APPROVE = "approve"
    REJECT = "reject"
    AMEND = "amend"  # approve on new terms


def offer_decide(
    *,
    offer: CounterOffer,
    actor: User,
    decision: Decision,
    note: str = "",
    terms: Terms | None = None,
) -> CounterOffer:
    """Approve, reject or amend (approve on new terms). Two approvers at once: the offer row
    lock makes the second wait, and then it finds the offer decided and is told by whom."""
    with transaction.atomic():
        case = _case_of(offer)
        match decision:
            case Decision.APPROVE:
                offer = offer_services.offer_approve(offer=offer, actor=actor, note=note)
            case Decision.REJECT:
                offer = offer_services.offer_reject(offer=offer, actor=actor, note=note)
            case Decision.AMEND:
                if terms is None:
                    raise TypeError("amending an offer needs its new terms")
                offer = offer_services.offer_amend(offer=offer, actor=actor, terms=terms, note=note)
        _sync(case, offer, actor)
        who = actor.get_full_name() or actor.username
        code = {
            OfferStatus.APPROVED: "notify.offer_approved",
            OfferStatus.REJECTED: "notify.offer_rejected",
        }[OfferStatus(offer.status)]
        _notify(
            offer.proposer,
            phrases.phrase(code, who=who, id=offer.pk, name=offer.subscriber.name, note=note),
            offer,
        )
    return offer


# --- Presenting and answering -------------------------------------------------------------------


def _require_act(offer: CounterOffer, actor: User) -> None:
    """Refuse an actor the rule does not let act on a proactive offer (``offer_can_act``: the
    selector that shows the offer's buttons asks the same)."""
    if not offer_can_act(user=actor, offer=offer):
        proposer = offer.proposer
        raise NotAllowed(
            _("This offer belongs to %(owner)s.")
            % {"owner": proposer.get_full_name() or proposer.username}
        )


def _on_case(
    offer: CounterOffer, actor: User, step: Callable[[CounterOffer], CounterOffer]
) -> CounterOffer:
    with transaction.atomic():
        case = _case_of(offer)
        if case is not None:
            case_require_open(case)
            case_require_act(case, actor)
        else:
            # Checked before the step, so a refused actor changes nothing: not the offer, not
            # the subscriber's balance, not the history.
            _require_act(offer, actor)
        offer = step(offer)
        _sync(case, offer, actor)
    return offer


def offer_present(*, offer: CounterOffer, actor: User, note: str = "") -> CounterOffer:
    return _on_case(
        offer, actor, lambda o: offer_lifecycle.offer_present(offer=o, actor=actor, note=note)
    )


def offer_answer(
    *, offer: CounterOffer, actor: User, accepted: bool, note: str = ""
) -> CounterOffer:
    """Accepted: the offer is applied and the case closes as saved (a deferral or split payment
    starts its payment arrangement, a pause its reminder, in the same transaction). Declined:
    the agent may propose another or process the cancellation; the right to leave is
    untouched."""
    if not accepted:
        return _on_case(
            offer, actor, lambda o: offer_lifecycle.offer_decline(offer=o, actor=actor, note=note)
        )

    def accept(o: CounterOffer) -> CounterOffer:
        o = offer_lifecycle.offer_accept(offer=o, actor=actor, note=note)
        arrangement_start(offer=o, actor=actor)
        if o.kind == OfferKind.PAUSE:
            reminder_for_pause_ending(offer=o)
        return o

    return _on_case(offer, actor, accept)


def offer_withdraw(*, offer: CounterOffer, actor: User, note: str) -> CounterOffer:
    return _on_case(
        offer, actor, lambda o: offer_lifecycle.offer_withdraw(offer=o, actor=actor, note=note)
    )


# --- Billing's answer ----------------------------------------------------------------------------


def offer_billing_answered(
    *, offer_id: int, applied: bool, reason: str, at: datetime
) -> CounterOffer:
    """Billing applied an accepted offer, or refused it. A refusal reopens the work: the saved
    case goes back to its owner *in progress*, with a history row, so the agent agrees new terms
    with the subscriber (or processes the cancellation they first asked for). The subscriber
    stayed on the strength of the offer, so the case gets BILLING_REFUSED_DAYS from today before
    the deadline sweep may process it, never less than it had.

    Locks the case before the offer, the order every save service keeps (WrongState when the
    offer cannot take an answer)."""
    with transaction.atomic():
        case_id = CounterOffer.objects.values_list("case_id", flat=True).get(pk=offer_id)
        case = case_locked(CancellationCase(pk=case_id)) if case_id else None
        offer = offer_billing.offer_billing_confirm(
            offer_id=offer_id, applied=applied, reason=reason, at=at
        )
        if not applied:
            # Billing never booked a refused deferral or split: its arrangement ends with it.
            for arrangement in HardshipArrangement.objects.filter(
                offer_id=offer_id, status__in=HardshipArrangement.OPEN_STATUSES
            ):
                arrangement_cancel(arrangement=arrangement, reason=reason, now=at)
        if applied or case is None or case.status != Status.SAVED:
            return offer
        today = timezone.localdate(at)
        grace = today + timedelta(days=settings.BILLING_REFUSED_DAYS)
        case.process_by = max(case.process_by, grace)
        priority = case_priority(
            subscriber=case.subscriber,
            process_by=case.process_by,
            port_out=case.is_port_out,
            today=today,
        )
        case.priority, case.priority_explained = priority.score, priority.explained
        case.closed_at = None
        case.outcome_note = ""
        case_set_status(
            case,
            None,
            CaseHistory.Action.REOPENED,
            Status.IN_PROGRESS,
            phrase=phrases.phrase(
                "history.billing_reopened", id=offer.pk, reason=reason, date=case.process_by
            ),
        )
        case.save(
            update_fields=[
                "status",
                "process_by",
                "priority",
                "priority_explained",
                "closed_at",
                "outcome_note",
            ]
        )
    return offer


# --- The periodic tick --------------------------------------------------------------------------


@dataclass(frozen=True)
class Tick:
    escalated: int
    expired: int


def offers_tick(*, now: datetime | None = None) -> Tick:
    """Escalate offers that waited too long, expire those whose time ran out. Each offer in
    its own transaction, so two ticks at once or a crash half-way do no harm: every step
    re-checks the offer under its lock and does nothing when another tick got there first."""
    now = now or timezone.now()
    wait = timedelta(hours=settings.OFFER_ESCALATE_AFTER_HOURS)
    top = AuthorityTier.objects.aggregate(top=Max("rank"))["top"] or 0
    waiting = (
        CounterOffer.objects.filter(status=OfferStatus.PENDING)
        .filter(
            Q(escalated_at__lt=now - wait)
            | Q(escalated_at__isnull=True, proposed_at__lt=now - wait)
        )
        # Offers the top tier holds already have nowhere to go: left out, so a backlog of them
        # cannot crowd out the ones that can still escalate.
        .exclude(routed_tier__rank__gte=top)
    )
    escalated = 0
    for offer in list(waiting.select_related("subscriber").order_by("proposed_at")[:500]):
        with transaction.atomic():
            _case_of(offer)
            tier = offer_services.offer_escalate(offer=offer, now=now)
            if tier is None:
                continue
            escalated += 1
            for member in tier_members(tier):
                if member.pk != offer.proposer_id:
                    _notify(
                        member,
                        phrases.phrase(
                            "notify.offer_escalated", id=offer.pk, name=offer.subscriber.name
                        ),
                        offer,
                    )
    expired = 0
    due = CounterOffer.objects.filter(
        status__in=CounterOffer.LIVE_STATUSES, valid_until__lte=now
    ).select_related("subscriber", "proposer")
    for offer in list(due.order_by("valid_until")[:500]):
        with transaction.atomic():
            case = _case_of(offer)
            if not offer_lifecycle.offer_expire(offer=offer, now=now):
                continue
            offer.refresh_from_db()
            _sync(case, offer, None)
            expired += 1
            _notify(
                offer.proposer,
                phrases.phrase("notify.offer_expired", id=offer.pk, name=offer.subscriber.name),
                offer,
            )
    return Tick(escalated=escalated, expired=expired)
