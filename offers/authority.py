"""Who may concede how much: authority tiers, delegations and the three limits.

An offer is within someone's authority when its monthly concession, its total cost and the
subscriber's concessions over the last 12 months including it are all within their tier's
limits. Offers awaiting approval are routed to the lowest tier that covers them.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from offers.models import ApprovalDelegation, AuthorityTier, BillingState, CounterOffer
from retention.core.roles import user_roles
from subscribers.phrases import money

# Offers that count against the cumulative limit: decided in favour, whatever came after,
# except those the subscriber turned down, that ran out unanswered, or that billing refused
# (the subscriber never got them).
CONCEDED = Q(
    status__in=(
        CounterOffer.Status.APPROVED,
        CounterOffer.Status.PRESENTED,
        CounterOffer.Status.ACCEPTED,
    )
) & ~Q(billing=BillingState.REFUSED)
CUMULATIVE_WINDOW = timedelta(days=365)


@dataclass(frozen=True)
class Authority:
    tier: AuthorityTier | None
    # The delegator, when the authority is delegated: the desk's User (the callers' type).
    on_behalf_of: Any = None

    def exceeded(self, *, monthly: Decimal, total: Decimal, cumulative: Decimal) -> list[str]:
        """The limits these figures break, as sentences; empty when all are within."""
        tier = self.tier
        if tier is None:
            return [_("no authority tier")]
        broken = []
        if monthly > tier.max_monthly:
            broken.append(
                _("%(value)s a month is over the %(limit)s limit")
                % {"value": money(monthly), "limit": money(tier.max_monthly)}
            )
        if total > tier.max_total:
            broken.append(
                _("%(value)s in total is over the %(limit)s limit")
                % {"value": money(total), "limit": money(tier.max_total)}
            )
        if cumulative > tier.max_cumulative:
            broken.append(
                _("%(value)s in 12 months is over the %(limit)s limit")
                % {"value": money(cumulative), "limit": money(tier.max_cumulative)}
            )
        return broken

    def covers(self, *, monthly: Decimal, total: Decimal, cumulative: Decimal) -> bool:
        return not self.exceeded(monthly=monthly, total=total, cumulative=cumulative)

    def covers_q(self) -> Q:
        """The per-offer limits as a filter on pending offers (cumulative is checked apart)."""
        if self.tier is None:
            return Q(pk__in=[])
        return Q(monthly_concession__lte=self.tier.max_monthly, total_cost__lte=self.tier.max_total)


def authority_for(user: AbstractUser) -> Authority:
    """The user's own tier, else the highest-ranked tier of their roles; one query."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return Authority(None)
    tiers = list(
        AuthorityTier.objects.filter(
            Q(user=user) | Q(group__name__in=sorted(user_roles(user)))
        ).order_by("-rank", "pk")
    )
    own = [tier for tier in tiers if tier.user_id == getattr(user, "pk", None)]
    return Authority(own[0] if own else (tiers[0] if tiers else None))


def authorities_for_approver(user: AbstractUser, now: datetime | None = None) -> list[Authority]:
    """The approver's own authority, then that of everyone who delegated their inbox to them."""
    now = now or timezone.now()
    authorities = [authority_for(user)]
    delegations = ApprovalDelegation.objects.filter(
        delegate_id=user.pk, starts_at__lte=now, ends_at__gt=now, delegator__is_active=True
    ).select_related("delegator")
    for delegation in delegations:
        delegated = authority_for(delegation.delegator)
        authorities.append(Authority(delegated.tier, on_behalf_of=delegation.delegator))
    return [authority for authority in authorities if authority.tier is not None]


def conceded_within_year(
    *, subscriber_id: int, now: datetime | None = None, exclude_offer: int | None = None
) -> Decimal:
    """What the subscriber has been conceded in the last 12 months (the cumulative limit)."""
    now = now or timezone.now()
    offers = CounterOffer.objects.filter(
        CONCEDED,
        subscriber_id=subscriber_id,
        decided_at__gte=now - CUMULATIVE_WINDOW,
    )
    if exclude_offer:
        offers = offers.exclude(pk=exclude_offer)
    return offers.aggregate(total=Sum("total_cost"))["total"] or Decimal("0.00")


def tier_covering(
    *, monthly: Decimal, total: Decimal, cumulative: Decimal, above_rank: int = -1
) -> AuthorityTier | None:
    """The lowest-ranked tier above ``above_rank`` whose limits cover these figures (one query:
    the tiers are a handful of rows, and ``Authority.covers`` stays the one rule)."""
    above = [tier for tier in tiers_all() if tier.rank > above_rank]
    return tier_covering_among(above, monthly=monthly, total=total, cumulative=cumulative)


def tiers_all() -> list[AuthorityTier]:
    """Every tier, lowest rank first: a handful of rows, read once for a whole offer builder."""
    return list(AuthorityTier.objects.order_by("rank", "pk"))


def tier_covering_among(
    tiers: Sequence[AuthorityTier], *, monthly: Decimal, total: Decimal, cumulative: Decimal
) -> AuthorityTier | None:
    """``tier_covering`` over tiers already read (``tiers_all``), without a query."""
    return next(
        (
            tier
            for tier in sorted(tiers, key=lambda tier: (tier.rank, tier.pk))
            if Authority(tier).covers(monthly=monthly, total=total, cumulative=cumulative)
        ),
        None,
    )


def beyond_every_authority(
    *,
    monthly: Decimal,
    total: Decimal,
    cumulative: Decimal,
    tiers: Sequence[AuthorityTier] | None = None,
) -> str:
    """Why nobody may approve an offer that no tier covers, measured against the highest tier
    (not the proposer's: their limits do not matter when nobody's would do). The offer builder
    and the refusal to propose it say the same sentence."""
    tiers = tiers_all() if tiers is None else tiers
    if not tiers:
        return _("Nobody's authority covers this offer: no authority tiers are set up.")
    top = max(tiers, key=lambda tier: (tier.rank, tier.pk))
    why = Authority(top).exceeded(monthly=monthly, total=total, cumulative=cumulative)
    return _(
        "Nobody's authority covers this offer, not even the highest tier's (%(tier)s): %(why)s."
    ) % {"tier": top.name, "why": "; ".join(why)}


# --- Delegation ---------------------------------------------------------------------------------

# A hand-over covers an absence (a holiday, a leave, a course). Longer than that, the stand-in
# should have a tier of their own instead of a hand-over nobody remembers to end; and a date
# years ahead (9999-12-31) is a typo that would hand over an inbox for good.
DELEGATION_MAX_DAYS = 90
# How far ahead an absence may be planned.
DELEGATION_MAX_START_DAYS = 365


def delegation_period_problem(
    *, starts_at: datetime, ends_at: datetime, now: datetime | None = None
) -> str | None:
    """What is wrong with a hand-over from ``starts_at`` to ``ends_at``, or None. One rule for
    the desk's form, the service and the admin."""
    now = now or timezone.now()
    if ends_at <= starts_at:
        return _("The end must come after the start.")
    if ends_at - starts_at > timedelta(days=DELEGATION_MAX_DAYS):
        return _(
            "A hand-over lasts at most %(days)s days; for a longer absence, ask an administrator "
            "for an authority tier instead."
        ) % {"days": DELEGATION_MAX_DAYS}
    if starts_at > now + timedelta(days=DELEGATION_MAX_START_DAYS):
        return _("A hand-over can start at most a year ahead.")
    return None
