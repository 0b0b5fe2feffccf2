"""The tariff fit said in the reader's language, from its verdict code and figures.

The desk stores the verdict and the figures (``TariffFit``), never a sentence: these say them
when a page is rendered, in the active language. ``fit_reason`` is the subscriber page's full
sentence (from ``fit_explain`` and their usage), ``fit_brief`` the case page's short one (from
the stored fit), ``fit_offer_note`` what the offer builder says beside the move to the plan that
fits.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from subscribers.fit import MIN_SAVING, FitResult
from subscribers.models import Plan, TariffFit
from subscribers.phrases import money, number

Verdict = TariffFit.Verdict


@dataclass(frozen=True)
class UsageFigures:
    """A month of usage on average over the fit's months, and the most at once."""

    hours: Decimal
    gb: Decimal
    devices: int
    people: int


def _whole(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), ROUND_HALF_UP))


def _hours(value: Decimal) -> str:
    n = _whole(value)
    return ngettext("%(n)s hour", "%(n)s hours", n) % {"n": number(n)}


def _people(n: int) -> str:
    return ngettext("%(n)s person", "%(n)s people", n) % {"n": number(n)}


def _gb(value: Decimal) -> str:
    return _("%(n)s GB") % {"n": number(_whole(value))}


def fit_reason(result: FitResult, usage: UsageFigures, own: Plan) -> str:
    """One sentence: the verdict's reason with the figures behind it."""
    best = result.best.plan
    values = {
        "plan": best.name,
        "best": money(result.best.cost),
        "current": money(result.current_cost),
        "saving": money(result.saving),
        "more": money(-result.saving),
        "hours": _hours(usage.hours),
        "gb": _gb(usage.gb),
        "min": money(MIN_SAVING),
    }
    verdict = result.verdict
    if verdict == Verdict.LIGHT:
        if best.kind == Plan.Kind.METERED_VOLUME:
            text = _(
                "Uses about %(gb)s a month: %(plan)s would have cost %(best)s a month instead "
                "of %(current)s; saves %(saving)s a month."
            )
        else:
            text = _(
                "Online about %(hours)s a month: %(plan)s would have cost %(best)s a month "
                "instead of %(current)s; saves %(saving)s a month."
            )
        return text % values
    if verdict == Verdict.HEAVY:
        if own.kind == Plan.Kind.METERED_VOLUME:
            values["included"] = _gb(Decimal(own.included_gb or 0))
            text = _(
                "Uses about %(gb)s a month, past the %(included)s their plan includes: paying "
                "per GB cost them %(current)s a month; %(plan)s would have cost %(best)s; saves "
                "%(saving)s a month."
            )
        else:
            values["included"] = _hours(Decimal(own.included_hours or 0))
            text = _(
                "Online about %(hours)s a month, past the %(included)s their plan includes: "
                "paying per hour cost them %(current)s a month; %(plan)s would have cost "
                "%(best)s; saves %(saving)s a month."
            )
        return text % values
    if verdict == Verdict.SHARED:
        values["people"] = _people(result.people)
        if result.saving < 0:
            text = _(
                "%(people)s share the line, more than a plan made for one household holds: "
                "%(plan)s holds them all, at %(best)s a month instead of %(current)s; it costs "
                "%(more)s a month more."
            )
        else:
            text = _(
                "%(people)s share the line, more than a plan made for one household holds: "
                "%(plan)s holds them all, at %(best)s a month instead of %(current)s; saves "
                "%(saving)s a month."
            )
        return text % values
    if verdict == Verdict.SPEED:
        values |= {
            "devices": ngettext("%(n)s device", "%(n)s devices", usage.devices)
            % {"n": number(usage.devices)},
            "needed": number(result.needed_mbps),
            "speed": number(own.download_mbps),
            "plan_speed": number(best.download_mbps),
        }
        return (
            _(
                "At most %(devices)s online at once need about %(needed)s Mbit/s, and they pay "
                "for %(speed)s Mbit/s: %(plan)s (%(plan_speed)s Mbit/s) would have cost %(best)s "
                "a month instead of %(current)s; saves %(saving)s a month."
            )
            % values
        )
    if verdict == Verdict.CHEAPER:
        return (
            _(
                "The same use costs less on %(plan)s: %(best)s a month instead of %(current)s; "
                "saves %(saving)s a month."
            )
            % values
        )
    return (
        _(
            "Their plan fits how they use it (about %(hours)s online and %(gb)s a month): no "
            "plan on sale to them would save them %(min)s a month or more."
        )
        % values
    )


def fit_brief(fit: TariffFit, people: int | None = None) -> str:
    """The stored fit in one short sentence: the verdict, the plan and the money."""
    label = fit.get_verdict_display()
    if fit.verdict == Verdict.FITS:
        return _("%(verdict)s: no other plan would save them %(min)s a month.") % {
            "verdict": label,
            "min": money(MIN_SAVING),
        }
    values = {
        "verdict": label,
        "plan": fit.best_plan.name,
        "best": money(fit.best_cost),
        "current": money(fit.current_cost),
        "saving": money(fit.saving),
    }
    if fit.verdict == Verdict.SHARED:
        if not people:
            text = _(
                "%(verdict)s: %(plan)s holds everyone on the line, at %(best)s a month instead "
                "of %(current)s."
            )
            return text % values
        values["people"] = _people(people)
        text = _(
            "%(verdict)s: %(plan)s holds the %(people)s on the line, at %(best)s a month "
            "instead of %(current)s."
        )
        return text % values
    return (
        _(
            "%(verdict)s: %(plan)s would cost %(best)s a month instead of %(current)s, saving "
            "%(saving)s."
        )
        % values
    )


def fit_offer_note(fit: TariffFit) -> str:
    """Beside the move in the offer builder: what the plan would cost them with their usage
    (the fee and the extras, which the builder's price column leaves out), and for a shared
    account that it holds the people on the line and may cost them more. ``fit.people``, when
    the fit was loaded with it, is the most people on the line in a month."""
    values = {"best": money(fit.best_cost), "current": money(fit.current_cost)}
    if fit.verdict == Verdict.SHARED:
        people = getattr(fit, "people", None)
        if people:
            values["people"] = _people(people)
            text = _(
                "Holds the %(people)s on the line; it may cost them more: about %(best)s a month "
                "with their usage instead of %(current)s."
            )
        else:
            text = _(
                "Holds everyone on the line; it may cost them more: about %(best)s a month with "
                "their usage instead of %(current)s."
            )
        return text % values
    return _("With their usage: about %(best)s a month instead of %(current)s.") % values
