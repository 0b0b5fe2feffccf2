"""Every read of offers that a page or a task needs."""

from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractUser
from django.db.models import DecimalField, F, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.authority import (
    CONCEDED,
    CUMULATIVE_WINDOW,
    Authority,
    beyond_every_authority,
    tier_covering_among,
    tiers_all,
)
from offers.exceptions import InvalidTerms
from offers.models import (
    ApprovalDelegation,
    AuthorityTier,
    CounterOffer,
    OfferHistory,
    OfferKind,
    OfferTemplate,
    ReasonCategory,
)
from offers.pauses import pause_next_allowed, pause_require_allowed
from offers.pricing import (
    Cost,
    Terms,
    offer_cost,
    offer_describe,
    terms_chosen,
    terms_describe,
    terms_for,
    terms_validate,
)
from subscribers.fit import MIN_SAVING
from subscribers.fit_reasons import fit_offer_note
from subscribers.models import Subscriber, TariffFit

# What the builder puts first for a reason.
FIRST_FOR_REASON = {
    # Moving: a pause keeps the line for the return (or until the move is settled).
    ReasonCategory.MOVING: (OfferKind.PAUSE,),
    ReasonCategory.QUALITY: (OfferKind.SERVICE_FIX, OfferKind.SPEED_UPGRADE),
    ReasonCategory.HARDSHIP: (
        OfferKind.PAYMENT_DEFERRAL,
        OfferKind.SPLIT_PAYMENT,
        OfferKind.ONE_TIME_CREDIT,
    ),
}


def template_eligible(
    *, template: OfferTemplate, subscriber: Subscriber, reason_category: str, today: date
) -> bool:
    if not template.is_active:
        return False
    if subscriber.tenure_months(today) < template.min_tenure_months:
        return False
    if template.segments and subscriber.segment not in template.segments:
        return False
    return not template.reason_categories or reason_category in template.reason_categories


def tariff_fit_for_offer(*, subscriber_id: int) -> TariffFit | None:
    """The subscriber's tariff fit, its plan loaded, as a move to the plan that fits reads it
    (the last one computed: nightly, and whenever their usage arrives)."""
    return TariffFit.objects.select_related("best_plan").filter(subscriber_id=subscriber_id).first()


def is_loyalty_tariff(terms: Terms) -> bool:
    return terms.kind == OfferKind.PLAN_CHANGE and terms.new_plan is None


@dataclass(frozen=True)
class OfferChoice:
    """One line of the offer builder."""

    template: OfferTemplate
    cost: Cost
    description: str
    within_authority: bool
    over: list[str]  # the proposer's limits it breaks
    why_first: str
    # Empty when some tier covers it; else why nobody may approve it (the builder does not
    # offer to propose it: the service would refuse with this very sentence).
    beyond_everyone: str = ""
    # A move to the plan that fits: what it would cost them with their usage (fee and
    # extras), and for a shared account that it holds the people on the line.
    fit_note: str = ""

    @property
    def proposable(self) -> bool:
        return not self.beyond_everyone


def offer_choices(
    *,
    subscriber: Subscriber,
    reason_category: str,
    authority: Authority,
    conceded: Decimal,
    now: datetime | None = None,
    fit: TariffFit | None = None,
) -> list[OfferChoice]:
    """The catalogue offers this subscriber is eligible for, ranked for the case.

    The move to the plan that fits (``fit``: their tariff fit, its plan loaded) first when it
    saves them at least MIN_SAVING a month, and no such move without a fit; then service fixes
    first when the reason is quality (fix before discount: for that reason the fixes go ahead
    of the move too), deferral and split payment first for hardship, the loyalty tariff first
    (after those) when the subscriber pays more than a new customer; the catalogue's own order
    after that; offers nobody may approve last. A shared account's move, which may cost them
    more, keeps its catalogue place. Two queries: the catalogue and the authority tiers; a
    third, the subscriber's last pause, when a pause is among the catalogue's offers for them
    (one pause per 12 months: the builder leaves it out until a new one is possible).
    """
    today = timezone.localdate(now)
    if subscriber.paused_until is not None and subscriber.paused_until > today:
        return []  # nothing while the service is paused (offers.pauses.paused_require_not)
    first = FIRST_FOR_REASON.get(ReasonCategory(reason_category), ()) if reason_category else ()
    penalty = subscriber.loyalty_penalty > 0
    tiers = tiers_all()
    ranked = []
    pause_blocked: bool | None = None  # asked once, and only when a pause is in the catalogue
    for template in OfferTemplate.objects.filter(is_active=True).select_related("new_plan"):
        if not template_eligible(
            template=template, subscriber=subscriber, reason_category=reason_category, today=today
        ):
            continue
        if template.kind == OfferKind.PAUSE:
            if pause_blocked is None:
                allowed = pause_next_allowed(subscriber_id=subscriber.pk, today=today)
                pause_blocked = allowed is not None
            if pause_blocked:
                continue  # one pause per 12 months: the service would refuse it
        terms = terms_for(template, subscriber, fit)
        try:
            terms_validate(terms, subscriber, fit=fit)
        except InvalidTerms:
            continue  # e.g. a deferral for someone who owes nothing: not an offer for them
        priced = _priced(
            template, terms, subscriber, authority=authority, conceded=conceded, tiers=tiers
        )
        fit_note = ""
        if terms.fitting and fit is not None:
            fit_note = fit_offer_note(fit)
        if (
            terms.fitting
            and fit is not None
            and fit.saving >= MIN_SAVING
            and fit.verdict != TariffFit.Verdict.SHARED
        ):
            rank = len(first) if reason_category == ReasonCategory.QUALITY else -1
            why = _("Fits how they use it")
        elif template.kind in first:
            rank, why = first.index(template.kind), _("Suits the reason")
        elif penalty and is_loyalty_tariff(terms):
            rank, why = len(first), _("Pays more than a new customer")
        else:
            rank, why = 100, ""
        if priced.beyond_everyone:
            rank += 1000
        choice = replace(priced, why_first=why, fit_note=fit_note)
        ranked.append((rank, template.position, template.pk, choice))
    ranked.sort(key=lambda item: item[:3])
    return [item[3] for item in ranked]


def _priced(
    template: OfferTemplate,
    terms: Terms,
    subscriber: Subscriber,
    *,
    authority: Authority,
    conceded: Decimal,
    tiers: list[AuthorityTier],
) -> OfferChoice:
    """A builder line for ``terms``: its cost, described, and whose authority covers it."""
    cost = offer_cost(terms=terms, subscriber=subscriber)
    figures = {"monthly": cost.monthly, "total": cost.total, "cumulative": conceded + cost.total}
    over = authority.exceeded(**figures)
    beyond = ""
    if over and tier_covering_among(tiers, **figures) is None:
        beyond = beyond_every_authority(tiers=tiers, **figures)
    return OfferChoice(
        template,
        cost,
        terms_describe(terms, cost),
        not over,
        over,
        why_first="",
        beyond_everyone=beyond,
    )


def pause_choice(
    *,
    subscriber: Subscriber,
    template: OfferTemplate,
    months: int,
    amount: Decimal,
    authority: Authority,
    conceded: Decimal,
) -> OfferChoice:
    """The builder's pause line on the months and fee the agent is giving (the catalogue row's
    are where it starts): what it costs, and whose authority covers it, as the service would
    price it when proposed. Raises InvalidTerms (or PauseTooSoon) for terms the service would
    refuse. Two queries: the subscriber's last pause, the authority tiers."""
    pause_require_allowed(subscriber_id=subscriber.pk, today=timezone.localdate())
    terms = terms_chosen(template, subscriber, None, months=months, amount=amount)
    return _priced(
        template, terms, subscriber, authority=authority, conceded=conceded, tiers=tiers_all()
    )


def offers_of_case(*, case_id: int) -> list[CounterOffer]:
    return list(
        CounterOffer.objects.filter(case_id=case_id)
        .select_related(
            "proposer", "decided_by", "decided_for", "new_plan", "template", "routed_tier"
        )
        .order_by("-proposed_at", "-pk")[:20]
    )


def offers_of_subscriber(
    *, subscriber_id: int, proactive: bool = False, limit: int = 20
) -> list[CounterOffer]:
    offers = CounterOffer.objects.filter(subscriber_id=subscriber_id)
    if proactive:
        offers = offers.filter(case__isnull=True)
    return list(
        offers.select_related(
            "proposer", "decided_by", "decided_for", "new_plan", "template"
        ).order_by("-proposed_at", "-pk")[:limit]
    )


def offer_history(*, offers: list[CounterOffer]) -> dict[int, list[OfferHistory]]:
    """The history of several offers in one query, by offer id."""
    by_offer: dict[int, list[OfferHistory]] = {offer.pk: [] for offer in offers}
    for entry in (
        OfferHistory.objects.filter(offer__in=[offer.pk for offer in offers])
        .select_related("actor")
        .order_by("at", "pk")
    ):
        by_offer[entry.offer_id].append(entry)
    return by_offer


def _conceded_subquery(now: datetime) -> Subquery:
    return Subquery(
        CounterOffer.objects.filter(
            CONCEDED,
            subscriber_id=OuterRef("subscriber_id"),
            decided_at__gte=now - CUMULATIVE_WINDOW,
        )
        .values("subscriber_id")
        .annotate(total=Sum("total_cost"))
        .values("total"),
        output_field=DecimalField(max_digits=11, decimal_places=2),
    )


def offers_pending_for(
    *, user: AbstractUser, authorities: list[Authority], now: datetime | None = None
) -> QuerySet[CounterOffer]:
    """Pending offers that one of these authorities covers, never the user's own, oldest
    first with the escalated ones on top. ``conceded`` is each subscriber's 12 months so far."""
    now = now or timezone.now()
    covered = Q(pk__in=[])
    for authority in authorities:
        tier = authority.tier
        if tier is None:
            continue
        condition = Q(
            monthly_concession__lte=tier.max_monthly,
            total_cost__lte=tier.max_total,
            cumulative__lte=tier.max_cumulative,
        )
        delegator = authority.on_behalf_of
        if delegator is not None:
            condition &= ~Q(proposer=delegator)
        covered |= condition
    zero = Value(Decimal("0.00"), output_field=DecimalField(max_digits=11, decimal_places=2))
    return (
        CounterOffer.objects.filter(status=CounterOffer.Status.PENDING)
        .exclude(proposer_id=user.pk)
        .annotate(conceded=Coalesce(_conceded_subquery(now), zero))
        .annotate(cumulative=F("conceded") + F("total_cost"))
        .filter(covered)
        .order_by(F("escalated_at").desc(nulls_last=True), "proposed_at", "pk")
    )


@dataclass(frozen=True)
class OfferCard:
    """An offer as a page shows it: what it is, in words, and what happened to it."""

    offer: CounterOffer
    description: str
    history: list[OfferHistory]


def offer_cards(*, offers: list[CounterOffer]) -> list[OfferCard]:
    histories = offer_history(offers=offers) if offers else {}
    return [OfferCard(o, offer_describe(o), histories.get(o.pk, [])) for o in offers]


def delegations_active(
    *, delegate: AbstractUser | None = None, delegator: AbstractUser | None = None
) -> QuerySet[ApprovalDelegation]:
    """Hand-overs not yet ended, to or from a manager, with the other side loaded."""
    found = ApprovalDelegation.objects.filter(ends_at__gt=timezone.now())
    if delegate is not None:
        found = found.filter(delegate_id=delegate.pk).select_related("delegator")
    if delegator is not None:
        found = found.filter(delegator_id=delegator.pk).select_related("delegate")
    return found.order_by("starts_at", "pk")
