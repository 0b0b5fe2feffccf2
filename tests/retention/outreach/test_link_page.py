"""The subscriber's link page after they answered: the price they will pay is said once.

Before the answer the page sets the offer's price beside what they pay now. Once they have
accepted, an offer within the campaign author's authority is applied at once: what they pay now
is the new price, and the page does not also say it again "with the offer" (worked out again
from the changed price it would be wrong for a discount, which would count twice). While an
approver has still to confirm the offer, both prices stand.
"""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from offers.models import CounterOffer, OfferKind
from retention.models import OutreachCampaign, OutreachMessage
from retention.outreach import services
from retention.outreach.links import message_token
from tests.factories import SubscriberFactory, offer_template, user_with_role

pytestmark = pytest.mark.django_db


def sent(manager, template) -> OutreachMessage:
    """A message sent to John (English), who pays €29.99 for a plan new customers get for
    €19.99."""
    campaign = services.campaign_create(
        actor=manager,
        values={
            "name": "Loyalty",
            "template": template,
            "channel": "email",
            "body_lv": "{link}",
            "body_ru": "{link}",
            "body_en": "{link}",
        },
    )
    OutreachCampaign.objects.filter(pk=campaign.pk).update(state=OutreachCampaign.State.RUNNING)
    now = timezone.now()
    return OutreachMessage.objects.create(
        campaign=campaign,
        subscriber=SubscriberFactory.create(name="John Smith", language="en"),
        state=OutreachMessage.State.SENT,
        due_at=now,
        sent_at=now,
    )


def facts(html: str) -> str:
    return re.search(r'<dl class="facts">(.*?)</dl>', html, re.S).group(1)  # type: ignore[union-attr]


def link(message) -> str:
    return reverse("outreach_link", args=[message_token(message)])


@pytest.mark.parametrize(
    ("kind", "terms", "new_price"),
    [
        (OfferKind.PLAN_CHANGE, {}, "€19.99"),
        (OfferKind.FIXED_DISCOUNT, {"amount": Decimal("5"), "months": 12}, "€24.99"),
    ],
)
def test_after_accepting_the_page_says_the_new_price_once(
    client, manager, tiers, kind, terms, new_price
):
    message = sent(manager, offer_template("loyalty", kind, **terms))
    before = facts(client.get(link(message)).content.decode())
    assert "€29.99" in before and new_price in before

    client.post(link(message), {"response": "accepted"})
    offer = CounterOffer.objects.get(subscriber=message.subscriber)
    assert offer.status == CounterOffer.Status.ACCEPTED
    after = facts(client.get(link(message)).content.decode())
    assert after.count(new_price) == 1
    assert "€29.99" not in after  # not what they pay any more
    assert re.search(rf'id="price-now">{re.escape(new_price)}', after)
    assert 'id="offer-price"' not in after


def test_while_an_approver_has_to_confirm_both_prices_stand(client, manager, tiers):
    user_with_role("Retention lead", username="lead")
    message = sent(manager, offer_template("free-month", OfferKind.FREE_MONTHS, months=1))
    client.post(link(message), {"response": "accepted"})
    offer = CounterOffer.objects.get(subscriber=message.subscriber)
    assert offer.status == CounterOffer.Status.PENDING  # beyond a manager's authority
    after = facts(client.get(link(message)).content.decode())
    assert re.search(r'id="price-now">€29.99', after)
    assert re.search(r'id="offer-price"><strong>€0.00</strong>', after)


def test_after_asking_for_a_call_the_offer_still_stands_beside_the_price(client, manager, tiers):
    message = sent(manager, offer_template("loyalty", OfferKind.PLAN_CHANGE))
    client.post(link(message), {"response": "call"})
    after = facts(client.get(link(message)).content.decode())
    assert 'id="offer-terms"' in after
    assert re.search(r'id="price-now">€29.99', after)
    assert re.search(r'id="offer-price"><strong>€19.99</strong>', after)
