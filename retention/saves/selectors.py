"""What the approvals inbox and the offer panel read, and the one read of an offer by id."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from offers.authority import (
    Authority,
    authorities_for_approver,
    authority_for,
    conceded_within_year,
)
from offers.models import CounterOffer, OfferTemplate
from offers.pricing import offer_describe
from offers.selectors import (
    OfferCard,
    OfferChoice,
    offer_cards,
    offer_choices,
    offers_of_case,
    offers_of_subscriber,
    offers_pending_for,
    pause_choice,
)
from retention.cases.selectors import case_may_act
from retention.core.roles import STAFF_ROLES, WORKER_ROLES, Role, has_role, user_roles
from retention.experiments.assignment import experiment_assign_case
from retention.models import (
    CancellationCase,
    ExperimentAssignment,
    User,
)
from subscribers.models import Subscriber, TariffFit

# --- Who may see an offer, and who may act on it ------------------------------------------------


def offer_can_act(*, user: User, offer: CounterOffer) -> bool:
    """Who may present, answer or withdraw a proactive offer (one without a case).

    Its proposer stands where a case's owner stands (``case_can_act``): they act on it, and so
    do the managers of their team, and admins. An offer on a case follows the case's rule.
    The services refuse by this rule and the pages show the offer's buttons by it.
    """
    roles = user_roles(user)
    if Role.ADMIN in roles:
        return True
    if offer.proposer_id == user.pk:
        return Role.AGENT in roles or Role.MANAGER in roles
    return (
        Role.MANAGER in roles
        and user.team_id is not None
        and offer.proposer.team_id == user.team_id
    )


def offer_may_act(*, user: User, offer: CounterOffer) -> bool:
    """May this user present, answer or withdraw the offer from the desk's pages: the rule of
    its case (``offer.case`` and its owner loaded) or, for a proactive offer, of its proposer
    (``offer.proposer`` loaded); only for those who work cases, as the views ask."""
    if offer.case is not None:
        return case_may_act(user=user, case=offer.case)
    return has_role(user, *WORKER_ROLES) and offer_can_act(user=user, offer=offer)


def offer_get_for_user(*, user: User, pk: int) -> CounterOffer:
    """The offer, fetched and authorised in one call; raises Http404 for anyone who may not see it.

    Every staff member sees every offer, as they see every case and subscriber; nobody else sees
    any. The offer comes flagged with ``may_act``: whether this user may present, answer or
    withdraw it (deciding is the approver's authority, which the offer services weigh).
    """
    if not has_role(user, *STAFF_ROLES):
        raise Http404
    offer = get_object_or_404(
        CounterOffer.objects.select_related(
            "subscriber",
            "subscriber__plan",
            "proposer",
            "decided_by",
            "new_plan",
            "template",
            "case",
            "case__owner",
        ),
        pk=pk,
    )
    offer.may_act = offer_may_act(user=user, offer=offer)  # type: ignore[attr-defined]
    return offer


# --- The approvals inbox ------------------------------------------------------------------------


@dataclass(frozen=True)
class InboxItem:
    offer: CounterOffer
    description: str
    on_behalf_of: User | None


# A manager works the oldest (and escalated) offers first; a page of them is plenty, and each
# card costs rendering time on every 15-second refresh.
INBOX_SIZE = 25


@dataclass(frozen=True)
class Inbox:
    items: list[InboxItem]
    more: bool
    team_waiting: list[InboxItem]


def approvals_inbox(*, user: User, now: datetime | None = None) -> Inbox:
    """Pending offers this user may decide, by their own authority or a delegated one, with
    what an approver weighs: the subscriber, the cost, earlier concessions and cases. Also
    their team's pending offers that others decide (beyond their authority, or their own)."""
    now = now or timezone.now()
    authorities = authorities_for_approver(user, now)
    decidable = offers_pending_for(user=user, authorities=authorities, now=now)
    earlier_cases = Subquery(
        CancellationCase.objects.filter(subscriber_id=OuterRef("subscriber_id"))
        .exclude(pk=OuterRef("case_id"))
        .values("subscriber_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    offers = (
        list(
            decidable.select_related(
                "subscriber",
                "subscriber__plan",
                "proposer",
                "template",
                "new_plan",
                "routed_tier",
                "case",
                "case__reason",
            ).annotate(earlier_cases=Coalesce(earlier_cases, 0))[: INBOX_SIZE + 1]
        )
        if authorities
        else []
    )
    items = []
    for offer in offers[:INBOX_SIZE]:
        cumulative = offer.cumulative  # type: ignore[attr-defined]
        covering = next(
            (
                a
                for a in authorities
                if a.covers(
                    monthly=offer.monthly_concession, total=offer.total_cost, cumulative=cumulative
                )
                and offer.proposer_id != getattr(a.on_behalf_of, "pk", None)
            ),
            None,
        )
        on_behalf_of = covering.on_behalf_of if covering else None
        items.append(InboxItem(offer, offer_describe(offer), on_behalf_of))
    return Inbox(items, len(offers) > INBOX_SIZE, _team_waiting(user, decidable))


def _team_waiting(user: User, decidable: QuerySet[CounterOffer]) -> list[InboxItem]:
    if user.team_id is None:
        return []
    offers = (
        CounterOffer.objects.filter(
            status=CounterOffer.Status.PENDING, proposer__team_id=user.team_id
        )
        .exclude(pk__in=decidable.values("pk"))
        .select_related("subscriber", "proposer", "routed_tier", "new_plan")
        .order_by("proposed_at", "pk")[:INBOX_SIZE]
    )
    return [InboxItem(offer, offer_describe(offer), None) for offer in offers]


@dataclass(frozen=True)
class OfferPanel:
    """The offers part of the case workspace and of the subscriber's offers page."""

    cards: list[OfferCard]
    live: OfferCard | None
    choices: list[OfferChoice]
    authority: Authority | None
    conceded: Decimal
    # The shortest and longest pause, in months, for the builder's pause inputs.
    pause_bounds: tuple[int, int] = field(
        default_factory=lambda: (settings.PAUSE_MIN_MONTHS, settings.PAUSE_MAX_MONTHS)
    )
    # The case's arm in a running experiment, whose offer the builder lists first.
    assignment: ExperimentAssignment | None = None


def offer_panel(
    *,
    user: User,
    subscriber: Subscriber,
    case: CancellationCase | None,
    can_propose: bool,
    fit: TariffFit | None = None,
) -> OfferPanel:
    """Offers so far (with their history) and, when a new one may be made, the builder, which
    offers the move to the plan that fits from ``fit`` (the subscriber's, as the summary loads
    it: ``subscribers.fit_selectors.tariff_fit_get``).

    Each offer comes flagged with ``may_act`` (``offer_may_act``), worked out without a query:
    the case's owner is loaded with the case, each proactive offer's proposer with the offer.
    """
    if case is not None:
        offers = offers_of_case(case_id=case.pk)
        on_case = case_may_act(user=user, case=case)
        for offer in offers:
            offer.may_act = on_case  # type: ignore[attr-defined]
    else:
        offers = offers_of_subscriber(subscriber_id=subscriber.pk, proactive=True)
        for offer in offers:
            offer.may_act = offer_may_act(user=user, offer=offer)  # type: ignore[attr-defined]
    cards = offer_cards(offers=offers)
    live = next((card for card in cards if card.offer.is_live), None)
    conceded = conceded_within_year(subscriber_id=subscriber.pk)
    if not can_propose or live is not None:
        return OfferPanel(cards, live, [], None, conceded)
    authority = authority_for(user)
    reason = case.reason.category if case is not None and case.reason else ""
    choices = offer_choices(
        subscriber=subscriber,
        reason_category=reason,
        authority=authority,
        conceded=conceded,
        fit=fit,
    )
    assignment = None
    if case is not None:
        # A case opened before the experiment started (or whose reason came later) is assigned
        # the first time its builder is shown: the draw is the same whenever it is made.
        assignment = experiment_assign_case(case=case)
    if assignment is not None and assignment.arm.template_id is not None:
        arm = assignment.arm.template_id
        choices.sort(key=lambda choice: choice.template.pk != arm)  # stable: the rest keep order
    return OfferPanel(cards, live, choices, authority, conceded, assignment=assignment)


def pause_priced(
    *, user: User, subscriber: Subscriber, template: OfferTemplate, months: int, amount: Decimal
) -> OfferChoice:
    """The builder's pause line for ``user`` on the months and fee being given: its cost, the
    new monthly price, and whether it is within their authority. Raises InvalidTerms (or
    PauseTooSoon) for terms the service would refuse. Four queries: their authority, the
    subscriber's concessions in 12 months, their last pause, the tiers."""
    return pause_choice(
        subscriber=subscriber,
        template=template,
        months=months,
        amount=amount,
        authority=authority_for(user),
        conceded=conceded_within_year(subscriber_id=subscriber.pk),
    )
