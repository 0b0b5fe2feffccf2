"""What the desk says, stored as a code with parameters and said in the reader's language.

A stored sentence is frozen in one language (DESIGN: "store a code and its parameters"). So a
timeline event, a history row, a notification or a churn-risk reason the desk writes keeps a
``code`` naming one of the phrases below and its ``params`` as JSON; ``render`` says it in the
active language (a page: the reader's), or in the one asked for (an e-mail: the recipient's).

Parameters are stored raw (amounts as "29.99", dates and times as ISO text, choices as their
value) and each phrase says how to show each one: money, dates and numbers the same way on
every page of a language (``money``, ``day``, ``moment``; lv and ru write a decimal comma), a
choice as its label. A parameter may itself be a phrase (``{"code": …, "params": …}``, e.g. an
offer's terms inside "Offer presented: …") or a name given in each language (``{"en": …,
"lv": …, "ru": …}``, e.g. a cancellation reason). Anything else (a name, a note somebody
wrote) is shown as it is.

This module sits in the lowest app so that every app may use it; the few labels that belong
to upper apps are named by a lazy "app.Model.field" path, as models refer upward.
"""

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.apps import apps
from django.conf import settings
from django.utils import formats, timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from subscribers.models import ContactChannel, Equipment, Subscriber

Params = dict[str, Any]

# --- How money, dates and numbers are written: one way per language ---------------------------


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def money(value: Any) -> str:
    """An amount in euros in the active language: €1,234.50 in English, €1 234,50 in Latvian
    and Russian. Text that is not a number is shown as it is."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    text = formats.number_format(abs(amount), 2, use_l10n=True, force_grouping=True)
    return f"-€{text}" if amount < 0 else f"€{text}"


def number(value: Any, decimals: int | None = None) -> str:
    """A number in the active language (12.5 or 12,5), without trailing zeros unless
    ``decimals`` is given."""
    amount = _decimal(value)
    if amount is None:
        return "" if value is None else str(value)
    if decimals is None:
        amount = amount.normalize() if amount != amount.to_integral() else amount.quantize(1)
    return formats.number_format(amount, decimals, use_l10n=True)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def day(value: Any) -> str:
    """A date as the active language writes it short (d.m.Y)."""
    found = _as_date(value)
    return formats.date_format(found, "SHORT_DATE_FORMAT") if found else str(value or "")


def _in_reader_zone(value: Any) -> datetime | None:
    found = _as_datetime(value)
    if found is not None and timezone.is_aware(found):
        found = timezone.localtime(found)
    return found


def moment(value: Any) -> str:
    """A date and time in the reader's time zone, as the active language writes it short."""
    found = _in_reader_zone(value)
    return formats.date_format(found, "SHORT_DATETIME_FORMAT") if found else str(value or "")


def clock(value: Any) -> str:
    """The time of day of a moment, in the reader's time zone."""
    found = _in_reader_zone(value)
    return formats.time_format(found, "TIME_FORMAT") if found else str(value or "")


def wall(value: Any) -> str:
    """A moment as the clock on the wall where it was taken shows it (a subscriber's local
    time), without moving it into the reader's zone: "Mon 2 Mar 09:00"."""
    found = _as_datetime(value)
    return formats.date_format(found, "D j M H:i") if found else str(value or "")


def month(value: Any) -> str:
    """A billing period "2026-03" as the active language names the month: "March 2026"."""
    try:
        year, number_ = (int(part) for part in str(value).split("-")[:2])
        return formats.date_format(date(year, number_, 1), "YEAR_MONTH_FORMAT")
    except ValueError:
        return str(value)


def duration(value: Any) -> str:
    """Minutes as hours and minutes."""
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        return str(value)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return str(_("%(minutes)s min") % {"minutes": rest})
    if not rest:
        return str(_("%(hours)s h") % {"hours": hours})
    return str(_("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest})


def names(value: Mapping[str, Any]) -> str:
    """A name given in each language, in the active one (English when it has none)."""
    language = (translation.get_language() or settings.LANGUAGE_CODE)[:2]
    return str(value.get(language) or value.get("en") or next(iter(value.values()), ""))


@dataclass(frozen=True)
class Label:
    """A choice shown as its label. ``choices`` is a TextChoices class, or an
    "app.Model.field" path for the choices of an app this one may not import."""

    choices: Any
    lower: bool = False

    def __call__(self, value: Any) -> str:
        label = _labels(self.choices).get(value)
        if label is None:
            return str(value)
        text = str(label)
        return text.lower() if self.lower else text


@cache
def _labels(choices: Any) -> dict[Any, Any]:
    if isinstance(choices, str):
        app, model, name = choices.split(".")
        return dict(apps.get_model(app, model)._meta.get_field(name).flatchoices)
    return dict(choices.choices)


# --- The phrases --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Phrase:
    message: Promise  # gettext_lazy, or ngettext_lazy whose number is a parameter's name
    shown: dict[str, Callable[[Any], str]] = field(default_factory=dict)


def _p(message: Promise, **shown: Callable[[Any], str]) -> Phrase:
    return Phrase(message, shown)


CASE_CHANNEL = Label("retention.CancellationCase.channel", lower=True)
DIRECTION = Label("retention.ContactAttempt.direction", lower=True)
OUTCOME = Label("retention.ContactAttempt.outcome", lower=True)
CHANNEL = Label(ContactChannel, lower=True)
OFFER_STATUS = Label("offers.CounterOffer.status", lower=True)
PAYMENT_METHOD = Label(Subscriber.PaymentMethod, lower=True)

OUTAGE_CAUSES = {
    "fibre_cut": _("fibre cut"),
    "power": _("power failure at the node"),
    "equipment": _("node equipment fault"),
    "storm": _("storm damage"),
    "maintenance": _("planned maintenance overran"),
    "line": _("line fault"),
}


def outage_cause(value: Any) -> str:
    """A cause the network names by its code; only causes it knows are said from the data."""
    return str(OUTAGE_CAUSES.get(value, value))


PHRASES: dict[str, Phrase] = {
    # --- Timeline: the desk's own events --------------------------------------------------------
    "case.requested": _p(_("Asked to cancel by %(channel)s"), channel=CASE_CHANNEL),
    "case.requested_reason": _p(
        _("Asked to cancel by %(channel)s (%(reason)s)"), channel=CASE_CHANNEL
    ),
    "case.port_out": _p(_("Port-out notice: switching on %(date)s"), date=day),
    "case.port_out_to": _p(_("Port-out notice: switching on %(date)s to %(competitor)s"), date=day),
    "case.withdrawn": _p(_("Withdrew the cancellation: %(note)s")),
    "subscriber.cancelled": _p(
        _("Cancellation processed: service and billing end on %(date)s"), date=day
    ),
    "equipment.return_requested": _p(
        _(
            "Return requested by %(date)s (courier pickup, partner drop-off or prepaid mail "
            "label): %(serials)s"
        ),
        date=day,
    ),
    "equipment.returned": _p(_("%(kind)s %(serial)s returned"), kind=Label(Equipment.Kind)),
    "contact.desk": _p(
        _("Retention desk contact, %(direction)s, %(channel)s: %(outcome)s"),
        direction=DIRECTION,
        channel=CHANNEL,
        outcome=OUTCOME,
    ),
    "contact.inbound_cancel": _p(_("Inbound call: the subscriber asked to cancel.")),
    "contact.equipment_reminder": _p(
        _("Equipment return reminder by %(channel)s"), channel=CHANNEL
    ),
    "outreach.sent": _p(_("Outreach by %(channel)s: %(campaign)s"), channel=CHANNEL),
    "outreach.accepted": _p(_("Responded to outreach (%(campaign)s): accepted the offer")),
    "outreach.call": _p(_("Responded to outreach (%(campaign)s): asked for a call")),
    "offer.proposed": _p(_("Offer proposed: %(offer)s (cost %(cost)s)"), cost=money),
    "offer.auto_approved": _p(_("Offer approved within the proposer's authority: %(offer)s")),
    "offer.approved": _p(_("Offer approved by %(who)s: %(offer)s")),
    "offer.rejected": _p(_("Offer rejected by %(who)s: %(offer)s")),
    "offer.amended": _p(
        _("Offer approved by %(who)s with amended terms: %(offer)s (cost %(cost)s)"), cost=money
    ),
    "offer.presented": _p(_("Offer presented: %(offer)s")),
    "offer.accepted": _p(_("Offer accepted and applied: %(offer)s")),
    "offer.accepted_until": _p(
        _("Offer accepted and applied: %(offer)s until %(until)s"), until=day
    ),
    "offer.declined": _p(_("Offer declined: %(offer)s")),
    "offer.declined_note": _p(_("Offer declined: %(offer)s — %(note)s")),
    "offer.withdrawn": _p(_("Offer withdrawn: %(offer)s — %(note)s")),
    "offer.expired": _p(_("Offer expired: %(offer)s — %(note)s")),
    "offer.price_changed": _p(
        _("Price %(from)s → %(to)s a month (offer #%(offer)s)"), **{"from": money, "to": money}
    ),
    "offer.price_changed_until": _p(
        _("Price %(from)s → %(to)s a month until %(until)s (offer #%(offer)s)"),
        until=day,
        **{"from": money, "to": money},
    ),
    "offer.plan_changed": _p(_("Plan %(from)s → %(to)s (offer #%(offer)s)")),
    "offer.plan_changed_until": _p(
        _("Plan %(from)s → %(to)s until %(until)s (offer #%(offer)s)"), until=day
    ),
    # Why an offer ended without an answer (the note of "withdrawn" or "expired").
    "offer.end.case_withdrawn": _p(_("the cancellation was withdrawn")),
    "offer.end.case_cancelled": _p(_("the cancellation was processed")),
    "offer.end.not_decided": _p(_("nobody decided it in time")),
    "offer.end.not_presented": _p(_("not presented in time")),
    "offer.end.not_answered": _p(_("not answered in time")),
    # --- What an offer gives (offers.pricing.terms_phrase) ------------------------------------
    "terms.percent_discount": _p(
        ngettext_lazy(
            "%(percent)s%% off for %(months)s month",
            "%(percent)s%% off for %(months)s months",
            "months",
        ),
        percent=number,
    ),
    "terms.fixed_discount": _p(
        ngettext_lazy(
            "%(amount)s off a month for %(months)s month",
            "%(amount)s off a month for %(months)s months",
            "months",
        ),
        amount=money,
    ),
    "terms.free_months": _p(
        ngettext_lazy("%(months)s month free", "%(months)s months free", "months")
    ),
    "terms.plan_change": _p(_("%(plan)s at %(price)s a month"), price=money),
    "terms.plan_change_months": _p(
        ngettext_lazy(
            "%(plan)s at %(price)s a month for %(months)s month",
            "%(plan)s at %(price)s a month for %(months)s months",
            "months",
        ),
        price=money,
    ),
    "terms.same_plan": _p(_("the same plan")),
    "terms.speed_upgrade": _p(_("%(plan)s at the current price")),
    "terms.payment_deferral": _p(
        ngettext_lazy(
            "Pay %(days)s day later, no late fee", "Pay %(days)s days later, no late fee", "days"
        )
    ),
    "terms.split_payment": _p(
        ngettext_lazy(
            "Balance split into %(months)s monthly instalment",
            "Balance split into %(months)s monthly instalments",
            "months",
        )
    ),
    "terms.one_time_credit": _p(_("%(amount)s credit"), amount=money),
    "terms.service_fix": _p(_("Service fix at our cost (%(amount)s)"), amount=money),
    "terms.loyalty_perk": _p(
        ngettext_lazy(
            "Perk worth %(amount)s a month for %(months)s month",
            "Perk worth %(amount)s a month for %(months)s months",
            "months",
        ),
        amount=money,
    ),
    # --- Case history -------------------------------------------------------------------------
    "history.port_out_binds": _p(
        _("Port-out notice: the switch date %(date)s binds this case."), date=day
    ),
    "history.reassigned": _p(_("%(from)s → %(to)s: %(reason)s")),
    "history.reason_changed": _p(_("%(from)s → %(to)s")),
    "history.no_reason": _p(_("no reason")),
    "history.contact": _p(
        _("%(direction)s, %(channel)s: %(outcome)s"),
        direction=DIRECTION,
        channel=CHANNEL,
        outcome=OUTCOME,
    ),
    "history.contact_note": _p(
        _("%(direction)s, %(channel)s: %(outcome)s — %(note)s"),
        direction=DIRECTION,
        channel=CHANNEL,
        outcome=OUTCOME,
    ),
    "history.contact_refused": _p(_("%(channel)s: %(why)s"), channel=CHANNEL),
    "history.callback": _p(_("for %(at)s"), at=moment),
    "history.auto_cancelled": _p(
        _(
            "Nobody resolved the case by its process-by date %(date)s, so the cancellation was "
            "processed as the subscriber asked."
        ),
        date=day,
    ),
    "history.offer": _p(_("Offer #%(id)s %(status)s: %(offer)s"), status=OFFER_STATUS),
    "history.offer_accepted": _p(_("Offer accepted: %(offer)s")),
    # Why a contact was refused (subscribers.selectors.contact_refusal_message says it live).
    "refusal.allowed": _p(_("Allowed now.")),
    "refusal.port_out_once": _p(
        _("This subscriber is porting out: the one save contact has been made.")
    ),
    "refusal.do_not_contact": _p(_("The subscriber asked not to be contacted this way.")),
    "refusal.no_address": _p(_("There is no address on file for this channel.")),
    "refusal.over_cap": _p(
        _(
            "The subscriber was already contacted as often as the policy allows; "
            "allowed again from %(when)s, their local time."
        ),
        when=wall,
    ),
    "refusal.quiet_hours": _p(
        _("Quiet hours; allowed from %(when)s, their local time."), when=wall
    ),
    # --- Offer history ------------------------------------------------------------------------
    "offer.within_authority": _p(_("Within the proposer's authority (%(tier)s).")),
    "offer.escalated": _p(_("Waiting since %(since)s: %(from)s → %(to)s"), since=moment),
    "offer.from_outreach": _p(_("Accepted from the outreach campaign “%(campaign)s”")),
    "offer.outreach_link": _p(_("Presented through the outreach link")),
    "offer.accepted_online": _p(_("Accepted online")),
    # --- Notifications to staff ---------------------------------------------------------------
    "notify.case_assigned": _p(_("Case #%(id)s was assigned to you: %(reason)s")),
    "notify.case_deadline": _p(
        _("Case #%(id)s reached its deadline and was processed as a cancellation.")
    ),
    "notify.offer_approved": _p(_("%(who)s approved offer #%(id)s for %(name)s: present it.")),
    "notify.offer_rejected": _p(_("%(who)s rejected offer #%(id)s for %(name)s: %(note)s")),
    "notify.offer_escalated": _p(
        _("Offer #%(id)s for %(name)s has waited too long: it is yours to decide.")
    ),
    "notify.offer_expired": _p(_("Offer #%(id)s for %(name)s expired.")),
    "notify.callback": _p(_("Call back %(name)s now (case #%(id)s).")),
    "notify.sla_warning": _p(
        _("First contact with %(name)s is due at %(due)s (case #%(id)s)."), due=clock
    ),
    "notify.sla_breached": _p(
        _("First contact with %(name)s is overdue since %(due)s (case #%(id)s)."), due=clock
    ),
    "notify.process_by": _p(_("Case #%(id)s (%(name)s) must be settled by %(date)s."), date=day),
    "notify.approval_waiting": _p(_("Offer #%(id)s for %(name)s is waiting for your approval.")),
    "notify.discount_ending": _p(
        _("%(name)s's retention discount ends on %(date)s: review their terms."), date=day
    ),
    "notify.outreach_call": _p(_("%(name)s asked for a call about “%(campaign)s”.")),
    "notify.outreach_failed": _p(
        _("%(name)s accepted “%(campaign)s” but it could not be applied: %(why)s")
    ),
    # --- Churn-risk reasons -------------------------------------------------------------------
    "risk.loyalty_penalty": _p(
        _("Pays %(amount)s a month (+%(percent)s%%) more than new customers"),
        amount=money,
        percent=number,
    ),
    "risk.long_tenure": _p(
        ngettext_lazy(
            "Customer for %(years)s year without a loyalty offer",
            "Customer for %(years)s years without a loyalty offer",
            "years",
        )
    ),
    "risk.outages": _p(
        ngettext_lazy(
            "%(count)s outage in the last 12 months",
            "%(count)s outages in the last 12 months",
            "count",
        )
    ),
    "risk.arrears": _p(
        ngettext_lazy(
            "%(amount)s in arrears (%(count)s missed payment)",
            "%(amount)s in arrears (%(count)s missed payments)",
            "count",
        ),
        amount=money,
    ),
    "risk.tickets": _p(
        ngettext_lazy(
            "%(count)s support ticket in the last 90 days",
            "%(count)s support tickets in the last 90 days",
            "count",
        )
    ),
    "risk.discount_ends": _p(
        ngettext_lazy("Discount ends in %(days)s day", "Discount ends in %(days)s days", "days")
    ),
    "risk.old_plan": _p(_("On a plan no longer sold (%(plan)s)")),
    "risk.renewal_due": _p(_("Largest account: contract renewal due this year")),
    "risk.site_outages": _p(_("Site outages")),
    # --- Events from billing and the network, said from their data (see event_phrase) --------
    "event.payment": _p(_("Payment received %(amount)s"), amount=money),
    "event.payment_method": _p(
        _("Payment received %(amount)s (%(method)s)"), amount=money, method=PAYMENT_METHOD
    ),
    "event.payment_site": _p(
        _("Payment received %(amount)s for site %(site)s (%(method)s)"),
        amount=money,
        method=PAYMENT_METHOD,
    ),
    "event.debit_failed": _p(
        _("Direct debit failed: %(amount)s for %(period)s"), amount=money, period=month
    ),
    "event.invoice_unpaid": _p(
        _("Invoice not paid: %(amount)s for %(period)s"), amount=money, period=month
    ),
    "event.price_change": _p(_("Price %(from)s → %(to)s a month"), **{"from": money, "to": money}),
    "event.price_after_promo": _p(
        _("Price rose from %(from)s to %(to)s after the promo"), **{"from": money, "to": money}
    ),
    "event.price_indexation": _p(
        _("Annual price indexation +%(percent)s%%: %(from)s → %(to)s"),
        percent=number,
        **{"from": money, "to": money},
    ),
    "event.price_retention": _p(
        _("Retention price agreed: %(from)s → %(to)s"), **{"from": money, "to": money}
    ),
    "event.price_retention_until": _p(
        _("Retention price until %(until)s: %(from)s → %(to)s"),
        until=day,
        **{"from": money, "to": money},
    ),
    "event.promo_ended": _p(_("Promotional price %(price)s ended"), price=money),
    "event.signup": _p(_("Signed up for %(plan_name)s at %(price)s a month"), price=money),
    "event.signup_promo": _p(
        _("Signed up for %(plan_name)s at %(price)s a month (first-year promo)"), price=money
    ),
    "event.signup_contract": _p(
        _("Signed up for %(plan_name)s at %(price)s a month (negotiated contract price)"),
        price=money,
    ),
    "event.contract_signed": _p(
        ngettext_lazy(
            "Contract signed: %(plan_name)s for %(sites)s site",
            "Contract signed: %(plan_name)s for %(sites)s sites",
            "sites",
        )
    ),
    "event.plan_change": _p(
        _("Moved from %(from_name)s to %(to_name)s at %(price)s a month"), price=money
    ),
    "event.shipped": _p(_("Shipped %(items)s")),
    "event.shipped_replacement": _p(_("Shipped a replacement: %(items)s")),
    "event.shipped_spare": _p(_("Shipped a spare %(items)s to site %(site)s")),
    "event.returned": _p(_("Returned %(item)s")),
    "event.asked_to_end": _p(_("Asked to end the contract on %(effective)s"), effective=day),
    "event.account_manager_call": _p(_("Account manager call about site %(site)s")),
    "event.outage": _p(
        _("Outage of %(duration)s: %(cause)s"), duration=duration, cause=outage_cause
    ),
    "event.outage_incident": _p(
        _("Outage of %(duration)s: %(cause)s (%(incident)s)"),
        duration=duration,
        cause=outage_cause,
    ),
    "event.outage_site": _p(
        _("Outage of %(duration)s at site %(site)s: %(cause)s"),
        duration=duration,
        cause=outage_cause,
    ),
}


def phrase(code: str, **params: Any) -> dict[str, Any]:
    """A phrase as JSON: to nest in another's parameters, or for a list of them (risk
    reasons). Amounts, dates and times become text; the phrase's parameters say how to show
    them."""
    if code not in PHRASES:
        raise KeyError(f"unknown phrase {code!r}")
    return {"code": code, "params": as_params(params)}


def as_params(params: Mapping[str, Any]) -> Params:
    """Values JSON can hold: Decimal as "29.99", dates and times as ISO text."""
    return {name: _json(value) for name, value in params.items()}


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Promise):
        return str(value)
    return value


class _Values(dict[str, Any]):
    """A missing parameter is shown empty rather than breaking the whole line."""

    def __missing__(self, key: str) -> str:
        return ""


def render(
    code: str, params: Mapping[str, Any] | None = None, *, language: str | None = None
) -> str:
    """The phrase in the active language, or in ``language`` (e-mail to a recipient); empty
    for a code this version does not know."""
    with ExitStack() as stack:
        if language:
            stack.enter_context(translation.override(language))
        return _render(code, params or {})


def _render(code: str, params: Mapping[str, Any]) -> str:
    found = PHRASES.get(code)
    if found is None:
        return ""
    values = _Values()
    for name, value in params.items():
        values[name] = _shown(value, found.shown.get(name))
    try:
        return str(found.message % values)
    except (KeyError, TypeError, ValueError):
        return ""  # parameters this version cannot read: nothing rather than a broken line


def _shown(value: Any, how: Callable[[Any], str] | None) -> Any:
    if value is None:
        return ""
    if how is not None:
        return how(value)
    if isinstance(value, dict):
        if "code" in value:
            return _render(str(value["code"]), value.get("params") or {})
        return names(value)
    # Numbers stay numbers: a plural phrase picks its form by one of them.
    return value


def said(value: Any) -> str:
    """What to show for a stored thing: a phrase ({code, params}), an object with ``code`` and
    ``params`` (timeline event, history row, notification), or plain text. An object without a
    code says its own text: a note somebody wrote, or what a billing system sent."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return _render(str(value.get("code", "")), value.get("params") or {})
    if isinstance(value, str):
        return value
    code = getattr(value, "code", "")
    if code:
        text = _render(code, getattr(value, "params", None) or {})
        if text:
            return text
    kind = getattr(value, "kind", None)
    if kind is not None and hasattr(value, "summary"):
        found = event_phrase(kind, getattr(value, "data", None) or {})
        if found is not None:
            return _render(*found)
        return str(value.summary)
    for name in ("note", "text"):
        if hasattr(value, name):
            return str(getattr(value, name))
    return str(value)


# --- Events other systems send: a better line from their kind and data -------------------------


def event_phrase(kind: str, data: Mapping[str, Any]) -> tuple[str, Params] | None:
    """The phrase for an event billing or the network sent, when its data says enough to tell
    it in the reader's language; None keeps the sender's own summary."""
    if not isinstance(data, Mapping):
        return None
    if kind == "payment" and _decimal(data.get("amount")) is not None:
        if data.get("method") in _labels(Subscriber.PaymentMethod):
            code = "event.payment_site" if "site" in data else "event.payment_method"
            return code, dict(data)
        return "event.payment", dict(data)
    if kind == "missed_payment" and _decimal(data.get("amount")) and data.get("period"):
        debit = data.get("method") == Subscriber.PaymentMethod.DIRECT_DEBIT
        return ("event.debit_failed" if debit else "event.invoice_unpaid"), dict(data)
    if kind == "price_change" and _decimal(data.get("from")) and _decimal(data.get("to")):
        if "offer" in data:
            return None  # the desk's own, stored with its phrase
        reason = data.get("reason")
        if reason == "indexation" and data.get("percent") is not None:
            return "event.price_indexation", dict(data)
        if reason == "promo_ended":
            return "event.price_after_promo", dict(data)
        if reason == "retention":
            until = "_until" if data.get("until") else ""
            return f"event.price_retention{until}", dict(data)
        return "event.price_change", dict(data)
    if kind == "promo_ended" and _decimal(data.get("promo_price")):
        return "event.promo_ended", {"price": data["promo_price"]}
    if kind == "signup" and data.get("plan_name"):
        if "sites" in data:
            return "event.contract_signed", dict(data)
        if _decimal(data.get("price")) is not None:
            promo = data.get("promo")
            if promo is True:
                return "event.signup_promo", dict(data)
            if promo is False:
                return "event.signup_contract", dict(data)
            return "event.signup", dict(data)
    names = data.get("from_name") and data.get("to_name")
    if kind == "plan_change" and names and _decimal(data.get("price")) is not None:
        return "event.plan_change", dict(data)
    if kind == "equipment_shipped" and data.get("items"):
        if "site" in data:
            return "event.shipped_spare", dict(data)
        return ("event.shipped_replacement" if "replaces" in data else "event.shipped"), dict(data)
    if kind == "equipment_returned" and data.get("item"):
        return "event.returned", dict(data)
    if kind == "cancellation_request" and data.get("effective"):
        return "event.asked_to_end", dict(data)
    if kind == "contact" and "site" in data and data.get("direction") == "outbound":
        return "event.account_manager_call", dict(data)
    if kind == "outage" and data.get("cause") in OUTAGE_CAUSES and "minutes" in data:
        params = {**data, "duration": data["minutes"]}
        if "site" in data:
            return "event.outage_site", params
        if data.get("incident"):
            return "event.outage_incident", params
        return "event.outage", params
    return None
