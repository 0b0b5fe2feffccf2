"""What an offer costs and what the subscriber would pay: worked out here and nowhere else.

The cost of an offer is the concession: monthly value times months, plus one-time amounts. A
permanent plan change or speed upgrade is counted over ``PERMANENT_MONTHS``. A payment
deferral or split payment forgives nothing, only moves when the subscriber pays, so it costs
nothing and any agent may offer it. A pause concedes what the subscriber would have paid
less the fee while paused, for each month of the pause.
"""

import calendar
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from offers.exceptions import InvalidTerms
from offers.models import CounterOffer, OfferKind, OfferTerms
from subscribers import phrases
from subscribers.models import Plan, Subscriber, TariffFit

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
PERMANENT_MONTHS = 12
MAX_MONTHS = 24
MAX_DEFERRAL_DAYS = 90

# Kinds whose concession runs month by month (and so needs a number of months).
MONTHLY_KINDS = (
    OfferKind.PERCENT_DISCOUNT,
    OfferKind.FIXED_DISCOUNT,
    OfferKind.FREE_MONTHS,
    OfferKind.LOYALTY_PERK,
)


@dataclass(frozen=True)
class Terms:
    """The parameters of an offer, detached from any row (a template's, an offer's, a form's)."""

    kind: str
    percent: Decimal | None = None
    amount: Decimal | None = None
    months: int = 0
    days: int = 0
    new_plan: Plan | None = None
    # A plan change to the plan that fits how the subscriber uses the service: ``new_plan``
    # comes from their tariff fit (``terms_for``), never from the catalogue row.
    fitting: bool = False

    @classmethod
    def of(cls, row: OfferTerms) -> "Terms":
        return cls(
            kind=row.kind,
            percent=row.percent,
            amount=row.amount,
            months=row.months,
            days=row.days,
            new_plan=row.new_plan,
            fitting=row.to_fitting_plan,
        )

    def onto(self, row: OfferTerms) -> None:
        row.kind, row.percent, row.amount = self.kind, self.percent, self.amount
        row.months, row.days, row.new_plan = self.months, self.days, self.new_plan
        row.to_fitting_plan = self.fitting

    def as_data(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "percent": str(self.percent) if self.percent is not None else None,
            "amount": str(self.amount) if self.amount is not None else None,
            "months": self.months,
            "days": self.days,
            "new_plan": self.new_plan.code if self.new_plan else None,
            "to_fitting_plan": self.fitting,
        }


@dataclass(frozen=True)
class Cost:
    monthly: Decimal
    months: int
    one_time: Decimal
    new_monthly_price: Decimal
    new_plan: Plan | None
    permanent: bool = False

    @property
    def total(self) -> Decimal:
        return (self.monthly * self.months + self.one_time).quantize(CENT)


def _money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fit_moves_to(fit: TariffFit | None, subscriber: Subscriber) -> Plan | None:
    """The plan a move to the plan that fits would take the subscriber to (``fit`` is their
    tariff fit, with its plan loaded): none when they have no fit (too little usage) or their
    own plan fits them."""
    if fit is None or fit.subscriber_id != subscriber.pk:
        return None
    if fit.verdict == TariffFit.Verdict.FITS or fit.best_plan_id == subscriber.plan_id:
        return None
    plan = fit.best_plan
    # Computed last night: a plan withdrawn since is no longer one to move to.
    if not (plan.is_sold and plan.is_sold_to(subscriber.segment)):
        return None
    return plan


def terms_for(row: OfferTerms, subscriber: Subscriber, fit: TariffFit | None) -> Terms:
    """A catalogue row's terms for one subscriber: a move to the plan that fits gets the plan
    from their tariff fit (``fit``: theirs, or None)."""
    terms = Terms.of(row)
    if terms.fitting:
        return replace(terms, new_plan=fit_moves_to(fit, subscriber))
    return terms


def terms_chosen(
    row: OfferTerms,
    subscriber: Subscriber,
    fit: TariffFit | None,
    *,
    months: int | None = None,
    amount: Decimal | None = None,
) -> Terms:
    """A catalogue row's terms for one subscriber (``terms_for``) with a pause's months and fee
    as the agent chose them (the row's own where not given), checked as the service checks
    them: raises InvalidTerms with the reason."""
    terms = terms_for(row, subscriber, fit)
    if months is not None or amount is not None:
        if terms.kind != OfferKind.PAUSE:
            raise InvalidTerms(_("Only a pause's months and fee are chosen in the builder."))
        terms = replace(
            terms,
            months=terms.months if months is None else months,
            amount=terms.amount if amount is None else amount,
        )
    terms_validate(terms, subscriber, fit=fit)
    return terms


def terms_validate(
    terms: Terms, subscriber: Subscriber | None = None, *, fit: TariffFit | None = None
) -> None:
    """Raise InvalidTerms with a reason a person can act on; ``subscriber`` adds their checks,
    and ``fit`` (their tariff fit) those of a move to the plan that fits."""
    kind = terms.kind
    if kind not in OfferKind.values:
        raise InvalidTerms(_("Unknown offer kind."))
    if terms.fitting and kind != OfferKind.PLAN_CHANGE:
        raise InvalidTerms(_("Only a plan change moves to the plan that fits."))
    if terms.fitting and subscriber is None and terms.new_plan is not None:
        raise InvalidTerms(
            _("The plan that fits is found for each subscriber: leave the new plan empty.")
        )
    if kind in MONTHLY_KINDS and not 1 <= terms.months <= MAX_MONTHS:
        raise InvalidTerms(_("Give between 1 and %(n)s months.") % {"n": MAX_MONTHS})
    if terms.months > MAX_MONTHS:
        raise InvalidTerms(_("Give at most %(n)s months.") % {"n": MAX_MONTHS})
    if kind == OfferKind.PERCENT_DISCOUNT and not (
        terms.percent is not None and 0 < terms.percent <= 100
    ):
        raise InvalidTerms(_("A percentage discount needs a percentage above 0 and up to 100."))
    if kind in (OfferKind.FIXED_DISCOUNT, OfferKind.ONE_TIME_CREDIT, OfferKind.LOYALTY_PERK) and (
        terms.amount is None or terms.amount <= 0
    ):
        raise InvalidTerms(_("This offer needs an amount above zero."))
    if kind == OfferKind.SERVICE_FIX and (terms.amount is None or terms.amount < 0):
        raise InvalidTerms(_("Say what the service fix costs (0 or more)."))
    if kind == OfferKind.PAYMENT_DEFERRAL and not 1 <= terms.days <= MAX_DEFERRAL_DAYS:
        raise InvalidTerms(_("Defer by 1 to %(n)s days.") % {"n": MAX_DEFERRAL_DAYS})
    if kind == OfferKind.SPLIT_PAYMENT and not 2 <= terms.months <= 12:
        raise InvalidTerms(_("Split into 2 to %(n)s monthly instalments.") % {"n": 12})
    if kind == OfferKind.SPEED_UPGRADE and terms.new_plan is None:
        raise InvalidTerms(_("A speed upgrade needs the faster plan."))
    if kind == OfferKind.PAUSE:
        _pause_validate(terms)
    if subscriber is None:
        return
    if kind == OfferKind.PAUSE and (terms.amount or ZERO) >= subscriber.monthly_price:
        raise InvalidTerms(
            _("The fee while paused must be below what the subscriber pays now (%(price)s).")
            % {"price": phrases.money(subscriber.monthly_price)}
        )
    if (
        kind == OfferKind.SPEED_UPGRADE
        and terms.new_plan is not None
        and terms.new_plan.download_mbps <= subscriber.plan.download_mbps
    ):
        raise InvalidTerms(_("The new plan is not faster than the subscriber's plan."))
    if terms.fitting:
        # Their usage priced on every plan chose this one: what it costs them is the fit's
        # figure (fee and extras), not the fee alone, and a shared account's plan may cost
        # more. So the "costs less" rule below is not this offer's rule; the fit's plan is.
        moves_to = fit_moves_to(fit, subscriber)
        if moves_to is None:
            raise InvalidTerms(_("No plan fits how this subscriber uses the service better."))
        if terms.new_plan is None or terms.new_plan.pk != moves_to.pk:
            raise InvalidTerms(
                _("The plan that fits this subscriber is %(plan)s.") % {"plan": moves_to.name}
            )
    elif kind == OfferKind.PLAN_CHANGE:
        target = terms.new_plan or subscriber.plan
        if target.new_customer_price >= subscriber.monthly_price:
            if target == subscriber.plan:
                raise InvalidTerms(_("The subscriber already pays the new-customer price or less."))
            raise InvalidTerms(_("That plan would not cost the subscriber less."))
    upgrade = terms.new_plan if kind == OfferKind.SPEED_UPGRADE else None
    if upgrade is not None and upgrade.kind != subscriber.plan.kind:
        raise InvalidTerms(_("A speed upgrade keeps the kind of plan; offer a plan change."))
    if upgrade is not None and upgrade.new_customer_price < subscriber.monthly_price:
        raise InvalidTerms(_("New customers pay less for that plan: offer a plan change."))
    if kind in (OfferKind.PAYMENT_DEFERRAL, OfferKind.SPLIT_PAYMENT) and subscriber.balance <= 0:
        raise InvalidTerms(_("The subscriber owes nothing to defer or split."))


def _pause_validate(terms: Terms) -> None:
    low, high = settings.PAUSE_MIN_MONTHS, settings.PAUSE_MAX_MONTHS
    if not low <= terms.months <= high:
        raise InvalidTerms(_("Pause for %(low)s to %(high)s months.") % {"low": low, "high": high})
    if terms.amount is None or terms.amount < 0:
        raise InvalidTerms(_("Give the fee while paused (0 for free)."))


def offer_cost(*, terms: Terms, subscriber: Subscriber) -> Cost:
    """The concession of these terms for this subscriber, and the price they would pay."""
    price = subscriber.monthly_price
    kind = terms.kind
    if kind == OfferKind.PERCENT_DISCOUNT:
        monthly = _money(price * (terms.percent or ZERO) / 100)
        return Cost(monthly, terms.months, ZERO, price - monthly, None)
    if kind == OfferKind.FIXED_DISCOUNT:
        monthly = min(terms.amount or ZERO, price)
        return Cost(monthly, terms.months, ZERO, price - monthly, None)
    if kind == OfferKind.FREE_MONTHS:
        return Cost(price, terms.months, ZERO, ZERO, None)
    if kind == OfferKind.PLAN_CHANGE:
        target = terms.new_plan or subscriber.plan
        new_price = target.new_customer_price
        monthly = max(price - new_price, ZERO)
        months = terms.months or PERMANENT_MONTHS
        new_plan = target if target.pk != subscriber.plan_id else None
        return Cost(monthly, months, ZERO, new_price, new_plan, permanent=not terms.months)
    if kind == OfferKind.SPEED_UPGRADE:
        target = terms.new_plan or subscriber.plan
        # The subscriber keeps their price for a plan a new customer pays more for.
        monthly = max(target.new_customer_price - price, ZERO)
        months = terms.months or PERMANENT_MONTHS
        return Cost(monthly, months, ZERO, price, target, permanent=not terms.months)
    if kind == OfferKind.LOYALTY_PERK:
        return Cost(terms.amount or ZERO, terms.months, ZERO, price, None)
    if kind == OfferKind.PAUSE:
        fee = min(terms.amount or ZERO, price)
        return Cost(price - fee, terms.months, ZERO, fee, None)
    if kind in (OfferKind.ONE_TIME_CREDIT, OfferKind.SERVICE_FIX):
        return Cost(ZERO, 0, terms.amount or ZERO, price, None)
    # Payment deferral and split payment move payments; they concede nothing.
    return Cost(ZERO, 0, ZERO, price, None)


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day when it is shorter."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def split_instalments(owed: Decimal, months: int) -> list[Decimal]:
    """A split payment's instalments: ``owed`` in ``months`` equal parts rounded down to the
    cent, the last one taking what rounding left over. Billing is told the same (the
    ``monthly`` of offer.accepted's split), so the desk and billing agree to the cent."""
    monthly = (owed / months).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return [monthly] * (months - 1) + [owed - monthly * (months - 1)]


def terms_describe(terms: Terms, cost: Cost) -> str:
    """One line for people: what the subscriber gets (in the active language)."""
    return phrases.said(terms_phrase(terms, cost))


def terms_phrase(terms: Terms, cost: Cost) -> dict[str, Any]:
    """What the subscriber gets, as a phrase (subscribers.phrases) that a timeline event or a
    history row keeps and says in each reader's language."""
    kind = terms.kind
    values: dict[str, Any] = {
        "months": terms.months,
        "days": terms.days,
        "percent": terms.percent or ZERO,
        "amount": cost.monthly or cost.one_time,
        "price": cost.new_monthly_price,
        "plan": cost.new_plan.name if cost.new_plan else phrases.phrase("terms.same_plan"),
    }
    if kind == OfferKind.PLAN_CHANGE:
        code = "terms.plan_change" if cost.permanent else "terms.plan_change_months"
    elif kind in OfferKind.values:
        code = f"terms.{kind}"
    else:
        code = "terms.loyalty_perk"
    return phrases.phrase(code, **values)


def offer_phrase(offer: CounterOffer) -> dict[str, Any]:
    return terms_phrase(Terms.of(offer), cost_of(offer))


def cost_of(offer: CounterOffer) -> Cost:
    """The cost stored on an offer (computed by ``offer_cost`` when proposed or amended)."""
    return Cost(
        offer.monthly_concession,
        offer.counted_months,
        offer.one_time_concession,
        offer.new_monthly_price,
        offer.new_plan,
        permanent=offer.kind in (OfferKind.PLAN_CHANGE, OfferKind.SPEED_UPGRADE)
        and not offer.months,
    )


def offer_describe(offer: CounterOffer) -> str:
    return terms_describe(Terms.of(offer), cost_of(offer))
