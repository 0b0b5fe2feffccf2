"""Every state change of a counter-offer.

Each service locks the offer row, checks its status and the actor's authority inside the
transaction, and writes an OfferHistory row and a timeline event. The desk (retention.saves)
wraps these with the case: it locks the case first, then calls here, so the lock order is
always case → offer → subscriber.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.authority import (
    Authority,
    authorities_for_approver,
    authority_for,
    beyond_every_authority,
    conceded_within_year,
    delegation_period_problem,
    tier_covering,
)
from offers.exceptions import (
    BeyondEveryAuthority,
    InvalidTerms,
    OutsideAuthority,
)
from offers.models import (
    ApprovalDelegation,
    AuthorityTier,
    CounterOffer,
    OfferHistory,
    OfferKind,
    OfferTemplate,
)
from offers.pricing import (
    Cost,
    Terms,
    add_months,
    cost_of,
    offer_cost,
    offer_phrase,
    terms_validate,
)
from offers.selectors import template_eligible
from retention.core.refusals import WrongState
from retention.core.roles import Role, has_role
from subscribers import phrases
from subscribers.models import Subscriber, TimelineEvent
from subscribers.services import timeline_event_record

Status = CounterOffer.Status
Action = OfferHistory.Action


def _name(user: Any) -> str:
    return user.get_full_name() or user.username


def _locked(offer: CounterOffer) -> CounterOffer:
    return (
        CounterOffer.objects.select_for_update(of=("self",))
        .select_related(
            "subscriber", "subscriber__plan", "new_plan", "decided_by", "template", "proposer"
        )
        .get(pk=offer.pk)
    )


Note = str | dict[str, Any]  # what somebody wrote, or a phrase the desk says (a system note)


def _history(
    offer: CounterOffer,
    actor: Any,
    action: str,
    from_status: str,
    note: Note = "",
    data: dict[str, Any] | None = None,
    to_status: str = "",
) -> OfferHistory:
    said = note if isinstance(note, dict) else None
    return OfferHistory.objects.create(
        offer=offer,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status or offer.status,
        note="" if said else str(note),
        code=said["code"] if said else "",
        params=said["params"] if said else {},
        data=data or {},
    )


def _written(note: Note) -> str:
    """What somebody wrote, for the offer's own note fields; a system note is not theirs."""
    return "" if isinstance(note, dict) else note.strip()


def _timeline(offer: CounterOffer, kind: str, code: str, actor: Any, **params: Any) -> None:
    """The offer's event on the subscriber's timeline: a phrase with the offer's terms in it,
    said in each reader's language."""
    timeline_event_record(
        subscriber=offer.subscriber,
        kind=kind,
        phrase=phrases.phrase(code, offer=offer_phrase(offer), **params),
        actor=actor,
        data={"offer": offer.pk, "case": offer.case_id, "cost": str(offer.total_cost)},
    )


def _set_cost(offer: CounterOffer, terms: Terms, cost: Cost) -> None:
    terms.onto(offer)
    offer.new_plan = terms.new_plan
    offer.monthly_concession = cost.monthly
    offer.counted_months = cost.months
    offer.one_time_concession = cost.one_time
    offer.total_cost = cost.total
    offer.new_monthly_price = cost.new_monthly_price


def _until(now: datetime, days: int, deadline: datetime | None) -> datetime:
    until = now + timedelta(days=days)
    return min(until, deadline) if deadline else until


def _require_worker(actor: Any) -> None:
    if not has_role(actor, Role.AGENT, Role.MANAGER):
        raise OutsideAuthority(_("Only agents and managers make offers."))


# --- Proposing ----------------------------------------------------------------------------------


def offer_propose(
    *,
    subscriber: Subscriber,
    template: OfferTemplate,
    proposer: Any,
    note: Note = "",
    case_id: int | None = None,
    reason_category: str = "",
    deadline: datetime | None = None,
    now: datetime | None = None,
) -> CounterOffer:
    """Make an offer from the catalogue. Within the proposer's authority it is approved at once
    (recorded as such); otherwise it waits for the lowest tier whose authority covers it."""
    _require_worker(proposer)
    now = now or timezone.now()
    if subscriber.status not in (Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED):
        raise WrongState(_("The subscriber is leaving; there is nothing to offer now."))
    if not template_eligible(
        template=template,
        subscriber=subscriber,
        reason_category=reason_category,
        today=timezone.localdate(now),
    ):
        raise InvalidTerms(_("This subscriber is not eligible for that offer."))
    terms = Terms.of(template)
    terms_validate(terms, subscriber)
    cost = offer_cost(terms=terms, subscriber=subscriber)
    cumulative = conceded_within_year(subscriber_id=subscriber.pk, now=now) + cost.total
    figures = {"monthly": cost.monthly, "total": cost.total, "cumulative": cumulative}
    authority = authority_for(proposer)
    offer = CounterOffer(
        subscriber=subscriber,
        case_id=case_id,
        template=template,
        proposer=proposer,
        proposed_at=now,
        proposal_note=_written(note),
        deadline=deadline,
    )
    _set_cost(offer, terms, cost)
    within = authority.covers(**figures)
    if within:
        offer.status = Status.APPROVED
        offer.auto_approved = True
        offer.decided_at = now
        # Nobody wrote a decision note: the history row says why, in each reader's language.
        within_note = phrases.phrase("offer.within_authority", tier=str(authority.tier))
        offer.valid_until = _until(now, settings.OFFER_PRESENT_DAYS, deadline)
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
        offer.valid_until = _until(now, settings.OFFER_APPROVAL_DAYS, deadline)
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
        _history(
            offer, proposer, Action.PROPOSED, "", note, terms.as_data(), to_status=Status.PENDING
        )
        _timeline(
            offer,
            TimelineEvent.Kind.OFFER_PROPOSED,
            "offer.proposed",
            proposer,
            cost=offer.total_cost,
        )
        if within:
            _history(offer, None, Action.AUTO_APPROVED, Status.PENDING, within_note)
            _timeline(offer, TimelineEvent.Kind.OFFER_APPROVED, "offer.auto_approved", proposer)
    return offer


# --- Deciding -----------------------------------------------------------------------------------


def _require_pending(offer: CounterOffer) -> None:
    if offer.status == Status.PENDING:
        return
    if offer.decided_by is not None and offer.decided_at is not None:
        raise WrongState(
            _("%(who)s already decided this offer at %(at)s: %(status)s.")
            % {
                "who": _name(offer.decided_by),
                "at": timezone.localtime(offer.decided_at).strftime("%H:%M"),
                "status": str(offer.get_status_display()).lower(),
            }
        )
    raise WrongState(
        _("This offer is no longer waiting for approval (%(status)s).")
        % {"status": str(offer.get_status_display()).lower()}
    )


def _approver_authority(offer: CounterOffer, actor: Any, cost: Cost, now: datetime) -> Authority:
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
    offer: CounterOffer, actor: Any, status: str, action: str, note: str, now: datetime
) -> CounterOffer:
    offer.status = status
    offer.decided_at = now
    offer.decision_note = note.strip()
    offer.save()
    _history(offer, actor, action, Status.PENDING, note)
    return offer


def offer_approve(
    *, offer: CounterOffer, actor: Any, note: str = "", now: datetime | None = None
) -> CounterOffer:
    now = now or timezone.now()
    with transaction.atomic():
        offer = _locked(offer)
        _require_pending(offer)
        authority = _approver_authority(offer, actor, cost_of(offer), now)
        offer.decided_by, offer.decided_for = actor, authority.on_behalf_of
        offer.valid_until = _until(now, settings.OFFER_PRESENT_DAYS, offer.deadline)
        _require_time_to_present(offer, now)
        _decide(offer, actor, Status.APPROVED, Action.APPROVED, note, now)
        _timeline(
            offer, TimelineEvent.Kind.OFFER_APPROVED, "offer.approved", actor, who=_name(actor)
        )
    return offer


def offer_reject(
    *, offer: CounterOffer, actor: Any, note: str, now: datetime | None = None
) -> CounterOffer:
    if not note.strip():
        raise InvalidTerms(_("Say why the offer is rejected; the agent reads it."))
    now = now or timezone.now()
    with transaction.atomic():
        offer = _locked(offer)
        _require_pending(offer)
        authority = _approver_authority(offer, actor, cost_of(offer), now)
        offer.decided_by, offer.decided_for = actor, authority.on_behalf_of
        _decide(offer, actor, Status.REJECTED, Action.REJECTED, note, now)
        _timeline(
            offer, TimelineEvent.Kind.OFFER_REJECTED, "offer.rejected", actor, who=_name(actor)
        )
    return offer


def offer_amend(
    *, offer: CounterOffer, actor: Any, terms: Terms, note: str, now: datetime | None = None
) -> CounterOffer:
    """Approve the offer on different terms; the new terms are checked against the approver's
    authority all over again."""
    if not note.strip():
        raise InvalidTerms(_("Say why the terms were changed; the agent reads it."))
    now = now or timezone.now()
    with transaction.atomic():
        offer = _locked(offer)
        _require_pending(offer)
        if terms.kind != offer.kind:
            raise InvalidTerms(_("An amendment keeps the kind of offer; reject it instead."))
        terms_validate(terms, offer.subscriber)
        before = Terms.of(offer).as_data() | {"total_cost": str(offer.total_cost)}
        cost = offer_cost(terms=terms, subscriber=offer.subscriber)
        authority = _approver_authority(offer, actor, cost, now)
        _set_cost(offer, terms, cost)
        offer.decided_by, offer.decided_for = actor, authority.on_behalf_of
        offer.valid_until = _until(now, settings.OFFER_PRESENT_DAYS, offer.deadline)
        _require_time_to_present(offer, now)
        offer.status, offer.decided_at, offer.decision_note = Status.APPROVED, now, note.strip()
        offer.save()
        after = terms.as_data() | {"total_cost": str(offer.total_cost)}
        _history(
            offer, actor, Action.AMENDED, Status.PENDING, note, {"before": before, "after": after}
        )
        _timeline(
            offer,
            TimelineEvent.Kind.OFFER_APPROVED,
            "offer.amended",
            actor,
            who=_name(actor),
            cost=offer.total_cost,
        )
    return offer


def offer_escalate(*, offer: CounterOffer, now: datetime | None = None) -> AuthorityTier | None:
    """Route an offer that waited too long to the next tier up; None when nothing to do."""
    now = now or timezone.now()
    wait = timedelta(hours=settings.OFFER_ESCALATE_AFTER_HOURS)
    with transaction.atomic():
        offer = _locked(offer)
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
        _history(
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


# --- Presenting, answering, ending --------------------------------------------------------------


def offer_present(
    *, offer: CounterOffer, actor: Any, note: Note = "", now: datetime | None = None
) -> CounterOffer:
    _require_worker(actor)
    now = now or timezone.now()
    with transaction.atomic():
        offer = _locked(offer)
        if offer.status != Status.APPROVED:
            raise WrongState(
                _("Only an approved offer can be presented (this one is %(status)s).")
                % {"status": str(offer.get_status_display()).lower()}
            )
        if offer.valid_until <= now:
            raise WrongState(_("This offer has expired."))
        offer.status, offer.presented_at = Status.PRESENTED, now
        offer.valid_until = _until(now, settings.OFFER_ANSWER_DAYS, offer.deadline)
        offer.save(update_fields=["status", "presented_at", "valid_until"])
        _history(offer, actor, Action.PRESENTED, Status.APPROVED, note)
        _timeline(offer, TimelineEvent.Kind.OFFER_PRESENTED, "offer.presented", actor)
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
    *, offer: CounterOffer, actor: Any, note: Note = "", now: datetime | None = None
) -> CounterOffer:
    """The subscriber said yes: apply the offer to what they pay, with its end date."""
    _require_worker(actor)
    now = now or timezone.now()
    with transaction.atomic():
        offer = _locked(offer)
        _require_presented(offer, now)
        offer.status, offer.answered_at, offer.answer_note = Status.ACCEPTED, now, _written(note)
        _apply(offer, actor, now)
        offer.save()
        _history(offer, actor, Action.ACCEPTED, Status.PRESENTED, note)
    return offer


def _apply(offer: CounterOffer, actor: Any, now: datetime) -> None:
    subscriber = (
        Subscriber.objects.select_for_update().select_related("plan").get(pk=offer.subscriber_id)
    )
    if subscriber.status not in (Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED):
        raise WrongState(_("The subscriber is leaving; the offer can no longer apply."))
    today = timezone.localdate(now)
    kind = offer.kind
    offer.price_before = subscriber.monthly_price
    old_plan = subscriber.plan
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
    subscriber.save(update_fields=changed)
    offer.subscriber = subscriber
    offer.applied_at = now
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
    _timeline(
        offer,
        TimelineEvent.Kind.OFFER_ACCEPTED,
        f"offer.accepted{until}",
        actor,
        until=offer.runs_until,
    )


def offer_decline(
    *, offer: CounterOffer, actor: Any, note: str = "", now: datetime | None = None
) -> CounterOffer:
    """The subscriber said no. Their right to leave is untouched."""
    _require_worker(actor)
    now = now or timezone.now()
    with transaction.atomic():
        offer = _locked(offer)
        _require_presented(offer, now)
        offer.status, offer.answered_at, offer.answer_note = Status.DECLINED, now, note.strip()
        offer.save(update_fields=["status", "answered_at", "answer_note"])
        _history(offer, actor, Action.DECLINED, Status.PRESENTED, note)
        _timeline(
            offer,
            TimelineEvent.Kind.OFFER_DECLINED,
            "offer.declined_note" if note.strip() else "offer.declined",
            actor,
            note=note.strip(),
        )
    return offer


def _end(offer: CounterOffer, actor: Any, status: str, action: str, kind: str, note: Note) -> None:
    previous = offer.status
    offer.status = status
    offer.save(update_fields=["status"])
    _history(offer, actor, action, previous, note)
    _timeline(offer, kind, f"offer.{status}", actor, note=note)


def offer_withdraw(*, offer: CounterOffer, actor: Any, note: str) -> CounterOffer:
    """Take back an offer under way, e.g. to propose a better fitting one."""
    _require_worker(actor)
    if not note.strip():
        raise InvalidTerms(_("Say why the offer is withdrawn."))
    with transaction.atomic():
        offer = _locked(offer)
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
        offer = _locked(offer)
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
    *, case_id: int, actor: Any, note: Note, leaving_subscriber_id: int | None = None
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
        offer = _locked(offer)
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


# --- Delegation ---------------------------------------------------------------------------------


def delegation_create(
    *, delegator: Any, delegate: Any, starts_at: datetime, ends_at: datetime, note: str = ""
) -> ApprovalDelegation:
    """A manager who will be away hands their approvals inbox to another manager."""
    if not has_role(delegator, Role.MANAGER) or not has_role(delegate, Role.MANAGER):
        raise OutsideAuthority(_("Only managers hand over, and only to a manager."))
    if delegate.pk == delegator.pk:
        raise InvalidTerms(_("Choose someone else."))
    problem = delegation_period_problem(starts_at=starts_at, ends_at=ends_at)
    if problem:
        raise InvalidTerms(problem)
    return ApprovalDelegation.objects.create(
        delegator=delegator, delegate=delegate, starts_at=starts_at, ends_at=ends_at, note=note
    )


def delegation_end(*, delegation: ApprovalDelegation, actor: Any) -> ApprovalDelegation:
    """End a delegation now (the manager is back early). Only the delegator or an admin."""
    if actor.pk != delegation.delegator_id and not has_role(actor, Role.ADMIN):
        raise OutsideAuthority(_("Only the manager who handed over can end it."))
    now = timezone.now()
    with transaction.atomic():
        delegation = ApprovalDelegation.objects.select_for_update().get(pk=delegation.pk)
        if delegation.ends_at <= now:
            raise WrongState(_("This delegation has ended already."))
        if delegation.starts_at >= now:
            delegation.delete()  # never took effect: nothing to keep
            return delegation
        delegation.ends_at = now
        delegation.save(update_fields=["ends_at"])
    return delegation
