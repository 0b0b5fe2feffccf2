"""Billing's answer to an accepted offer: applied, or refused with a reason.

The acceptance told billing (an outbound event, subscribers.outbound); the desk's
confirmations API (retention/billing/confirmations.py) calls this with billing's answer. The
offer stays *accepted* (what the subscriber agreed to does not change); ``billing`` says where
billing stands, with a history row and the subscriber's timeline saying it too.
"""

from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext as _

from offers.models import BillingState, CounterOffer, OfferHistory
from offers.pauses import pause_billing_refused
from offers.steps import history_add, timeline_add
from retention.core.refusals import WrongState
from subscribers import phrases
from subscribers.models import TimelineEvent

Status = CounterOffer.Status


def offer_billing_confirm(
    *, offer_id: int, applied: bool, reason: str, at: datetime
) -> CounterOffer:
    """Record billing's answer once. Only an accepted offer that billing was told of and has
    not answered for can take one (WrongState otherwise)."""
    with transaction.atomic():
        offer = (
            CounterOffer.objects.select_for_update().select_related("subscriber").get(pk=offer_id)
        )
        if offer.status != Status.ACCEPTED or not offer.billing:
            raise WrongState(_("Billing was not asked to apply this offer."))
        if offer.billing != BillingState.TOLD:
            raise WrongState(_("Billing has already answered for this offer."))
        offer.billing = BillingState.APPLIED if applied else BillingState.REFUSED
        offer.billing_at = at
        offer.billing_note = reason
        offer.save(update_fields=["billing", "billing_at", "billing_note"])
        if applied:
            action, code = OfferHistory.Action.BILLING_APPLIED, "billing.offer_applied"
        else:
            action, code = OfferHistory.Action.BILLING_REFUSED, "billing.offer_refused"
            pause_billing_refused(offer)
        history_add(offer, None, action, Status.ACCEPTED, phrases.phrase(code, reason=reason))
        timeline_add(offer, TimelineEvent.Kind.BILLING, f"timeline.{code}", None, reason=reason)
    return offer
