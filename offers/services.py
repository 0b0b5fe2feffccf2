"""Proposing a counter-offer and deciding it: approve, reject, amend, escalate.

Each service locks the offer row, checks its status and the actor's authority inside the
transaction, and writes an OfferHistory row and a timeline event (offers.steps). The desk
(retention.saves) wraps these with the case: it locks the case first, then calls here, so the
lock order is always case → offer → subscriber. What follows an approval (presenting, the
answer, the end) is offers.lifecycle.
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.authority import (
    Authority,
    authorities_for_approver,
    authority_for,
    beyond_every_authority,
    conceded_within_year,
    tier_covering,
)
from offers.exceptions import BeyondEveryAuthority, InvalidTerms, OutsideAuthority
from offers.models import AuthorityTier, CounterOffer, OfferHistory, OfferKind, OfferTemplate
from offers.pauses import pause_require_allowed, paused_require_not
from offers.pricing import Cost, Terms, cost_of, offer_cost, terms_chosen, terms_validate
from offers.selectors import tariff_fit_for_offer, template_eligible
from offers.steps import (
    Note,
    cost_set,
    desk_user,
    display_name,
    history_add,
    locked,
    require_worker,
    timeline_add,
    valid_until_from,
    written,
)
from retention.core.refusals import WrongState
from retention.core.roles import Role, has_role
from subscribers import phrases
from subscribers.models import Subscriber, TimelineEvent

Status = CounterOffer.Status
Action = OfferHistory.Action

# --- Proposing ----------------------------------------------------------------------------------


def offer_propose(
    *,
    subscriber: Subscriber,
    template: OfferTemplate,
    proposer: AbstractUser,
    note: Note = "",
    case_id: int | None = None,
    reason_category: str = "",
    deadline: datetime | None = None,
    now: datetime | None = None,
    months: int | None = None,
    amount: Decimal | None = None,
) -> CounterOffer:
    """Make an offer from the catalogue. Within the proposer's authority it is approved at once
    (recorded as such); otherwise it waits for the lowest tier whose authority covers it.

    ``months`` and ``amount``: a pause's months and fee as the agent chose them (a pause only;
    the catalogue row's when not given)."""
    require_worker(proposer)
    now = now or timezone.now()
    if subscriber.status not in (Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED):
        raise WrongState(_("The subscriber is leaving; there is nothing to offer now."))
    paused_require_not(subscriber=subscriber, today=timezone.localdate(now))
    if not template_eligible(
        template=template,
        subscriber=subscriber,
        reason_category=reason_category,
        today=timezone.localdate(now),
    ):
        raise InvalidTerms(_("This subscriber is not eligible for that offer."))
    fit = tariff_fit_for_offer(subscriber_id=subscriber.pk) if template.to_fitting_plan else None
    if template.kind == OfferKind.PAUSE:
        pause_require_allowed(subscriber_id=subscriber.pk, today=timezone.localdate(now))
    terms = terms_chosen(template, subscriber, fit, months=months, amount=amount)
    cost = offer_cost(terms=terms, subscriber=subscriber)
    cumulative = conceded_within_year(subscriber_id=subscriber.pk, now=now) + cost.total
    figures = {"monthly": cost.monthly, "total": cost.total, "cumulative": cumulative}
    authority = authority_for(proposer)
    offer = CounterOffer(
        subscriber=subscriber,
        case_id=case_id,
        template=template,
        proposer=desk_user(proposer),
        proposed_at=now,
        proposal_note=written(note),
        deadline=deadline,
    )
    cost_set(offer, terms, cost)
    within = authority.covers(**figures)
    if within:
        offer.status = Status.APPROVED
        offer.auto_approved = True
        offer.decided_at = now
        # Nobody wrote a decision note: the history row says why, in each reader's language.
        tier = authority.tier.name if authority.tier else ""  # said in each reader's language
        within_note = phrases.phrase("offer.within_authority", tier=tier)
        offer.valid_until = valid_until_from(now, settings.OFFER_PRESENT_DAYS, deadline)
    else:
        offer.routed_tier = tier_covering(
            monthly=cost.monthly, total=cost.total, cumulative=cumulative
        )
        if offer.routed_tier is None:
            raise BeyondEveryAuthority(
                beyond_every_authority(
                    monthly=cost.monthly, total=cost.total, cumulative=cumulative
                )
            )
        offer.status = Status.PENDING
        offer.valid_until = valid_until_from(now, settings.OFFER_APPROVAL_DAYS, deadline)
    if offer.valid_until <= now:
        raise WrongState(_("There is no time left to present an offer."))
    with transaction.atomic():
        try:
            with transaction.atomic():
                offer.save()
        except IntegrityError:
            raise WrongState(
                _("An offer is already under way; withdraw it before proposing another.")
            ) from None
        # Every offer is proposed as pending; one within authority then moves on to approved
        # in its own row, so the history reads as one chain of from → to.
        history_add(
            offer, proposer, Action.PROPOSED, "", note, terms.as_data(), to_status=Status.PENDING
        )
        timeline_add(
            offer,
            TimelineEvent.Kind.OFFER_PROPOSED,
            "offer.proposed",
            proposer,
            cost=offer.total_cost,
        )
        if within:
            history_add(offer, None, Action.AUTO_APPROVED, Status.PENDING, within_note)
            timeline_add(offer, TimelineEvent.Kind.OFFER_APPROVED, "offer.auto_approved", proposer)
    return offer


# --- Deciding -----------------------------------------------------------------------------------


def _require_pending(offer: CounterOffer) -> None:
    if offer.status == Status.PENDING:
        return
    if offer.decided_by is not None and offer.decided_at is not None:
        raise WrongState(
            _("%(who)s already decided this offer at %(at)s: %(status)s.")
            % {
                "who": display_name(offer.decided_by),
                "at": timezone.localtime(offer.decided_at).strftime("%H:%M"),
                "status": str(offer.get_status_display()).lower(),
            }
        )
    raise WrongState(
        _("This offer is no longer waiting for approval (%(status)s).")
        % {"status": str(offer.get_status_display()).lower()}
    )


def _approver_authority(
    offer: CounterOffer, actor: AbstractUser, cost: Cost, now: datetime
) -> Authority:
    """The authority under which ``actor`` may decide an offer of this cost, or a refusal."""
    if not has_role(actor, Role.MANAGER):
        raise OutsideAuthority(_("Only managers decide offers."))
    if offer.proposer_id == actor.pk:
        raise OutsideAuthority(_("Nobody approves their own offer."))
    cumulative = (
        conceded_within_year(subscriber_id=offer.subscriber_id, now=now, exclude_offer=offer.pk)
        + cost.total
    )
    figures = {"monthly": cost.monthly, "total": cost.total, "cumulative": cumulative}
    authorities = authorities_for_approver(actor, now)
    for authority in authorities:
        if authority.on_behalf_of is not None and authority.on_behalf_of == offer.proposer:
            continue  # a delegate does not approve the delegator's own offer either
        if authority.covers(**figures):
            return authority
    own = authorities[0] if authorities else Authority(None)
    raise OutsideAuthority(
        _("This is beyond your authority: %(why)s.") % {"why": "; ".join(own.exceeded(**figures))}
    )


def _require_time_to_present(offer: CounterOffer, now: datetime) -> None:
    # Once the case's process-by day has come, an approval could not be presented any more:
    # refuse it rather than tell the agent to present an offer that has already run out.
    if offer.valid_until <= now:
        raise WrongState(_("There is no time left to present an offer."))


def _decide(
    offer: CounterOffer, actor: AbstractUser, status: str, action: str, note: str, now: datetime
) -> CounterOffer:
    offer.status = status
    offer.decided_at = now
    offer.decision_note = note.strip()
    offer.save()
    history_add(offer, actor, action, Status.PENDING, note)
    return offer


def offer_approve(
    *, offer: CounterOffer, actor: AbstractUser, note: str = "", now: datetime | None = None
) -> CounterOffer:
    now = now or timezone.now()
    with transaction.atomic():
        offer = locked(offer)
        _require_pending(offer)
        authority = _approver_authority(offer, actor, cost_of(offer), now)
        offer.decided_by, offer.decided_for = desk_user(actor), authority.on_behalf_of
        offer.valid_until = valid_until_from(now, settings.OFFER_PRESENT_DAYS, offer.deadline)
        _require_time_to_present(offer, now)
        _decide(offer, actor, Status.APPROVED, Action.APPROVED, note, now)
        timeline_add(
            offer,
            TimelineEvent.Kind.OFFER_APPROVED,
            "offer.approved",
            actor,
            who=display_name(actor),
        )
    return offer


def offer_reject(
    *, offer: CounterOffer, actor: AbstractUser, note: str, now: datetime | None = None
) -> CounterOffer:
    if not note.strip():
        raise InvalidTerms(_("Say why the offer is rejected; the agent reads it."))
    now = now or timezone.now()
    with transaction.atomic():
        offer = locked(offer)
        _require_pending(offer)
        authority = _approver_authority(offer, actor, cost_of(offer), now)
        offer.decided_by, offer.decided_for = desk_user(actor), authority.on_behalf_of
        _decide(offer, actor, Status.REJECTED, Action.REJECTED, note, now)
        timeline_add(
            offer,
            TimelineEvent.Kind.OFFER_REJECTED,
            "offer.rejected",
            actor,
            who=display_name(actor),
        )
    return offer


def offer_amend(
    *,
    offer: CounterOffer,
    actor: AbstractUser,
    terms: Terms,
    note: str,
    now: datetime | None = None,
) -> CounterOffer:
    """Approve the offer on different terms; the new terms are checked against the approver's
    authority all over again."""
    if not note.strip():
        raise InvalidTerms(_("Say why the terms were changed; the agent reads it."))
    now = now or timezone.now()
    with transaction.atomic():
        offer = locked(offer)
        _require_pending(offer)
        if terms.kind != offer.kind:
            raise InvalidTerms(_("An amendment keeps the kind of offer; reject it instead."))
        fit = tariff_fit_for_offer(subscriber_id=offer.subscriber_id) if terms.fitting else None
        terms_validate(terms, offer.subscriber, fit=fit)
        before = Terms.of(offer).as_data() | {"total_cost": str(offer.total_cost)}
        cost = offer_cost(terms=terms, subscriber=offer.subscriber)
        authority = _approver_authority(offer, actor, cost, now)
        cost_set(offer, terms, cost)
        offer.decided_by, offer.decided_for = desk_user(actor), authority.on_behalf_of
        offer.valid_until = valid_until_from(now, settings.OFFER_PRESENT_DAYS, offer.deadline)
        _require_time_to_present(offer, now)
        offer.status, offer.decided_at, offer.decision_note = Status.APPROVED, now, note.strip()
        offer.save()
        after = terms.as_data() | {"total_cost": str(offer.total_cost)}
        history_add(
            offer, actor, Action.AMENDED, Status.PENDING, note, {"before": before, "after": after}
        )
        timeline_add(
            offer,
            TimelineEvent.Kind.OFFER_APPROVED,
            "offer.amended",
            actor,
            who=display_name(actor),
            cost=offer.total_cost,
        )
    return offer


def offer_escalate(*, offer: CounterOffer, now: datetime | None = None) -> AuthorityTier | None:
    """Route an offer that waited too long to the next tier up; None when nothing to do."""
    now = now or timezone.now()
    wait = timedelta(hours=settings.OFFER_ESCALATE_AFTER_HOURS)
    with transaction.atomic():
        offer = locked(offer)
        waiting_since = offer.escalated_at or offer.proposed_at
        if offer.status != Status.PENDING or waiting_since > now - wait:
            return None
        current = offer.routed_tier
        cumulative = (
            conceded_within_year(subscriber_id=offer.subscriber_id, now=now, exclude_offer=offer.pk)
            + offer.total_cost
        )
        nxt = tier_covering(
            monthly=offer.monthly_concession,
            total=offer.total_cost,
            cumulative=cumulative,
            above_rank=current.rank if current else -1,
        )
        if nxt is None:
            return None  # the top tier has it already
        offer.routed_tier, offer.escalated_at = nxt, now
        offer.save(update_fields=["escalated_at", "routed_tier"])
        history_add(
            offer,
            None,
            Action.ESCALATED,
            offer.status,
            phrases.phrase(
                "offer.escalated",
                since=waiting_since,
                **{"from": str(current or "—"), "to": str(nxt)},
            ),
            {"from_tier": current.pk if current else None, "to_tier": nxt.pk},
        )
    return nxt
