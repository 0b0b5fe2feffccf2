"""The phrases the desk says, each a message with how to show each of its parameters.

A stored phrase names one of these by its code (see subscribers.phrases); a new thing the desk
says is a new entry here, with its translations.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy, pgettext_lazy

from subscribers.phrases.formatting import (
    Label,
    clock,
    day,
    duration,
    moment,
    money,
    month,
    names,
    number,
    wall,
)

Params = dict[str, Any]  # a phrase's parameters, as JSON holds them


@dataclass(frozen=True)
class Phrase:
    message: Promise  # gettext_lazy, or ngettext_lazy whose number is a parameter's name
    shown: dict[str, Callable[[Any], str]] = field(default_factory=dict)


def _p(message: Promise, **shown: Callable[[Any], str]) -> Phrase:
    return Phrase(message, shown)


CASE_CHANNEL = Label("retention.CancellationCase.channel", lower=True)
DIRECTION = Label("retention.ContactAttempt.direction", lower=True)
OUTCOME = Label("retention.ContactAttempt.outcome", lower=True)
CHANNEL = Label("subscribers.ContactHours.channel", lower=True)
OFFER_STATUS = Label("offers.CounterOffer.status", lower=True)
EVENT_TYPE = Label("subscribers.OutboundEvent.type")
PAYMENT_METHOD = Label("subscribers.Subscriber.payment_method", lower=True)

OUTAGE_CAUSES = {
    "fibre_cut": _("fibre cut"),
    "power": _("power failure at the node"),
    "equipment": _("node equipment fault"),
    "storm": _("storm damage"),
    "maintenance": _("planned maintenance overran"),
    "line": _("line fault"),
}


# The authority tiers the desk comes with (offers/migrations/0002_catalogue.py), by their
# stored name; a tier an admin names is said as named.
TIER_NAMES = {
    "Agent": pgettext_lazy("authority tier", "Agent"),
    "Manager": pgettext_lazy("authority tier", "Manager"),
    "Retention lead": pgettext_lazy("authority tier", "Retention lead"),
}


def tier_name(value: Any) -> str:
    return str(TIER_NAMES.get(value, value))


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
    "equipment.returned": _p(
        _("%(kind)s %(serial)s returned"), kind=Label("subscribers.Equipment.kind")
    ),
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
    "contact.stopped_by_subscriber": _p(
        _("Asked not to be contacted any more by: %(channel)s (through the link in a message)"),
        channel=Label("subscribers.ContactHours.channel"),
    ),
    "contact.stopped_by_staff": _p(
        _("Do not contact any more by: %(channel)s"),
        channel=Label("subscribers.ContactHours.channel"),
    ),
    "outreach.scheduled": _p(_("Scheduled to start on %(when)s"), when=moment),
    "outreach.test_sent": _p(
        _("Test sent to %(to)s in %(language)s"),
        language=Label("subscribers.Subscriber.language"),
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
    "pause.resumed": _p(
        _("Service resumed after the pause: price back to %(price)s a month (offer #%(offer)s)"),
        price=money,
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
    "terms.pause": _p(
        ngettext_lazy(
            "Service paused for %(months)s month at %(price)s a month",
            "Service paused for %(months)s months at %(price)s a month",
            "months",
        ),
        price=money,
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
    "history.billing_reopened": _p(
        _(
            "Billing refused offer #%(id)s: %(reason)s. Agree new terms with the subscriber, "
            "or process the cancellation, by %(date)s."
        ),
        date=day,
    ),
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
    "refusal.public_holiday": _p(
        _("Public holiday (%(holiday)s); allowed from %(when)s, their local time."),
        when=wall,
        holiday=names,
    ),
    "refusal.public_holiday_unnamed": _p(
        _("Public holiday; allowed from %(when)s, their local time."), when=wall
    ),
    # --- Offer history ------------------------------------------------------------------------
    "offer.within_authority": _p(_("Within the proposer's authority (%(tier)s)."), tier=tier_name),
    "offer.escalated": _p(_("Waiting since %(since)s: %(from)s → %(to)s"), since=moment),
    "offer.from_outreach": _p(_("Accepted from the outreach campaign “%(campaign)s”")),
    "offer.outreach_link": _p(_("Presented through the outreach link")),
    "offer.accepted_online": _p(_("Accepted online")),
    # --- Hardship arrangements (retention.hardship) ----------------------------------------
    "hardship.deferral": _p(
        _("Payment arrangement: %(owed)s deferred to %(due)s"), owed=money, due=day
    ),
    "hardship.split": _p(
        ngettext_lazy(
            "Payment arrangement: %(owed)s in %(count)s instalment of %(monthly)s, "
            "the last on %(last)s",
            "Payment arrangement: %(owed)s in %(count)s monthly instalments of %(monthly)s, "
            "the last on %(last)s",
            "count",
        ),
        owed=money,
        monthly=money,
        last=day,
    ),
    "hardship.nothing_owed": _p(
        _("No payment arrangement: nothing was owed when offer #%(offer)s was accepted")
    ),
    "hardship.paid": _p(
        _("Arrangement instalment %(number)s of %(count)s paid: %(amount)s"), amount=money
    ),
    "hardship.broken": _p(
        _(
            "Payment arrangement broken: instalment %(number)s (%(amount)s due on %(due)s) "
            "was not paid within %(grace)s days"
        ),
        amount=money,
        due=day,
    ),
    "hardship.recovered": _p(_("Payment arrangement kept again: the missed instalments are paid")),
    "hardship.completed": _p(_("Payment arrangement completed: %(owed)s paid"), owed=money),
    "hardship.cancelled": _p(
        _("Payment arrangement cancelled: billing refused the offer (%(reason)s)")
    ),
    "notify.hardship_broken": _p(
        _(
            "%(name)s missed instalment %(number)s of their payment arrangement: billing's "
            "hold is released. A callback is set."
        )
    ),
    "notify.hardship_callback": _p(
        _("Call back %(name)s about their missed instalment (payment arrangement #%(id)s).")
    ),
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
    "notify.pause_ending": _p(
        _("%(name)s's paused service resumes on %(date)s: a good moment to call them."),
        date=day,
    ),
    "notify.outreach_call": _p(_("%(name)s asked for a call about “%(campaign)s”.")),
    "notify.outreach_failed": _p(
        _("%(name)s accepted “%(campaign)s” but it could not be applied: %(why)s")
    ),
    "billing.offer_applied": _p(_("Billing confirmed the offer is on the bill.")),
    "billing.offer_refused": _p(_("Billing refused the offer: %(reason)s")),
    "timeline.billing.offer_applied": _p(_("Billing applied the offer: %(offer)s")),
    "timeline.billing.offer_refused": _p(_("Billing refused the offer: %(offer)s — %(reason)s")),
    "billing.price_restored": _p(
        _("Price %(from)s → %(to)s a month: billing kept its price"),
        **{"from": money, "to": money},
    ),
    "billing.plan_restored": _p(_("Plan %(from)s → %(to)s: billing kept its plan")),
    "billing.cancellation_applied": _p(
        _("Billing confirmed the cancellation: nothing is billed after %(date)s"), date=day
    ),
    "billing.cancellation_refused": _p(_("Billing refused the cancellation: %(reason)s")),
    "billing.event_applied": _p(_("Billing confirmed: %(type)s"), type=EVENT_TYPE),
    "billing.event_refused": _p(_("Billing refused “%(type)s”: %(reason)s"), type=EVENT_TYPE),
    "notify.billing_refused": _p(
        _("Billing refused offer #%(id)s for %(name)s: %(reason)s. Agree new terms with them.")
    ),
    "notify.billing_unconfirmed": _p(
        _("Billing has not confirmed offer #%(id)s for %(name)s, accepted %(since)s."),
        since=moment,
    ),
    "notify.billing_cancellation_refused": _p(
        _("Billing refused the cancellation of %(name)s (case #%(id)s): %(reason)s")
    ),
    "notify.billing_event_refused": _p(
        _("Billing refused “%(type)s” for %(name)s: %(reason)s"), type=EVENT_TYPE
    ),
    "billing.delivery_failed": _p(
        ngettext_lazy(
            "Billing event “%(type)s” %(event)s could not be delivered to %(endpoint)s after "
            "%(attempts)s attempt (last: %(reason)s). Later events of the same subscriber wait "
            "for it: redeliver it from the admin.",
            "Billing event “%(type)s” %(event)s could not be delivered to %(endpoint)s after "
            "%(attempts)s attempts (last: %(reason)s). Later events of the same subscriber wait "
            "for it: redeliver it from the admin.",
            "attempts",
        ),
        type=EVENT_TYPE,
    ),
    "billing.endpoint_disabled": _p(
        _(
            "Webhook endpoint %(endpoint)s was disabled: no delivery to it has succeeded since "
            "%(since)s. Its events wait until it is enabled again."
        ),
        since=moment,
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
    # The nightly churn score's reasons (retention.risk.reasons): the signals that pushed it up.
    "risk.port_out": _p(_("A competitor sent a port-out notice in the last 90 days")),
    "risk.outages_30d": _p(
        ngettext_lazy(
            "%(count)s outage in the last 30 days (%(hours)s h)",
            "%(count)s outages in the last 30 days (%(hours)s h)",
            "count",
        ),
        hours=number,
    ),
    "risk.outages_90d": _p(
        ngettext_lazy(
            "%(count)s outage in the last 90 days (%(hours)s h)",
            "%(count)s outages in the last 90 days (%(hours)s h)",
            "count",
        ),
        hours=number,
    ),
    "risk.missed_payments": _p(
        ngettext_lazy(
            "%(count)s missed payment in the last 90 days",
            "%(count)s missed payments in the last 90 days",
            "count",
        )
    ),
    "risk.arrears_now": _p(_("%(amount)s in arrears"), amount=money),
    "risk.price_rises": _p(
        ngettext_lazy(
            "%(count)s price rise in 12 months, %(amount)s a month in all",
            "%(count)s price rises in 12 months, %(amount)s a month in all",
            "count",
        ),
        amount=money,
    ),
    "risk.promo_ended": _p(_("Promo price ended in the last 60 days")),
    "risk.misfit": _p(
        _("Pays %(amount)s a month more than the plan that fits their use"), amount=money
    ),
    "risk.new_customer": _p(
        ngettext_lazy(
            "Customer for only %(months)s month",
            "Customer for only %(months)s months",
            "months",
        )
    ),
    "risk.earlier_requests": _p(
        ngettext_lazy(
            "Asked to cancel %(count)s time before (saved %(saved)s)",
            "Asked to cancel %(count)s times before (saved %(saved)s)",
            "count",
        )
    ),
    "risk.usage_decline": _p(_("Uses %(percent)s%% less than before (last 3 months)")),
    "risk.contacts_refused": _p(
        ngettext_lazy(
            "Refused %(count)s contact in the last 90 days",
            "Refused %(count)s contacts in the last 90 days",
            "count",
        )
    ),
    "risk.model.too_little_history": _p(
        _(
            "Too little history to learn from: %(positives)s cancellation requests in "
            "%(months)s months of snapshots (at least %(needed)s needed)."
        )
    ),
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
