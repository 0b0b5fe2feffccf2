"""The subscriber's side of outreach in Chromium: the link in their message opens, without a
login and in their language, the offer with its prices; they accept it, or ask for a call, once.
A link that was tampered with says plainly that it does not work."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from offers.models import CounterOffer, OfferKind
from retention.models import Notification, OutreachCampaign, OutreachMessage, User
from retention.outreach import services as outreach
from retention.outreach.audience import campaign_fan_out
from retention.outreach.links import message_token
from retention.outreach.selectors import campaign_progress
from retention.outreach.sending import outreach_send
from retention.system.services import demo_users_ensure
from subscribers.models import Subscriber
from tests.browser.watch import expect_status
from tests.factories import SubscriberFactory, authority_tier, offer_template
from tests.zones import zone_where_it_is

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Response = OutreachMessage.Response


@pytest.fixture
def sent(monkeypatch) -> dict[str, OutreachMessage]:
    """A loyalty-tariff campaign by the demo manager, sent to Anna (Latvian) and John
    (English): €29.99 a month now, the new-customer price €19.99 with the offer."""
    demo_users_ensure()
    authority_tier("Manager", 20, "25", "300", "500")
    template = offer_template(
        "loyalty-tariff",
        OfferKind.PLAN_CHANGE,
        name_en="Loyalty tariff: the new-customer price",
        name_lv="Lojalitātes tarifs: jauna klienta cena",
    )
    zone = zone_where_it_is(12)
    for name, language in [("Anna Ozola", "lv"), ("John Smith", "en")]:
        SubscriberFactory.create(
            name=name, language=language, time_zone=zone, monthly_price=Decimal("29.99")
        )
    manager = User.objects.get(username="manager")
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: None)
    campaign = outreach.campaign_create(
        actor=manager,
        values={
            "name": "Loyalty tariff",
            "template": template,
            "channel": "email",
            "body_lv": "Labdien, {name}! {link}",
            "body_ru": "Здравствуйте, {name}! {link}",
            "body_en": "Hello {name}! {link}",
        },
    )
    outreach.campaign_launch(campaign=campaign, actor=manager)
    assert campaign_fan_out(campaign=campaign) == 2
    assert outreach_send(campaign_id=campaign.pk).sent == 2
    return {m.subscriber.language: m for m in OutreachMessage.objects.select_related("subscriber")}


def test_a_subscriber_accepts_the_offer_in_latvian_and_pays_the_new_price(live_server, page, sent):
    anna = sent["lv"]
    # The page fixture's browser reads English: the page speaks Anna's language all the same.
    link = reverse("outreach_link", args=[message_token(anna)])
    page.goto(f"{live_server.url}{link}")

    expect(page.locator("html")).to_have_attribute("lang", "lv")
    expect(page.locator("#offer-h")).to_have_text("Lojalitātes tarifs: jauna klienta cena")
    expect(page.locator("#offer-price")).to_contain_text("€19,99")
    expect(page.locator("nav")).to_have_count(0)  # not the desk: no login, no menu
    page.get_by_role("button", name="Pieņemt piedāvājumu").click()

    expect(page.locator("ul.messages")).to_have_text(
        "Paldies! Jūsu jaunie nosacījumi būs spēkā, sākot ar nākamo rēķinu."
    )
    expect(page.locator("#answered")).to_be_visible()
    expect(page.locator("#link-actions")).to_have_count(0)
    anna.refresh_from_db()
    assert (anna.state, anna.response) == (OutreachMessage.State.RESPONDED, Response.ACCEPTED)
    offer = CounterOffer.objects.get(subscriber=anna.subscriber)
    assert offer.status == CounterOffer.Status.ACCEPTED
    assert offer.proposer.username == "manager"
    subscriber = Subscriber.objects.get(pk=anna.subscriber_id)
    assert subscriber.monthly_price == Decimal("19.99")

    # Coming back later: the answer stands, and there is nothing to press twice.
    page.reload()
    expect(page.locator("#answered")).to_be_visible()
    expect(page.locator("#link-actions")).to_have_count(0)
    assert CounterOffer.objects.filter(subscriber=anna.subscriber).count() == 1


def test_a_subscriber_asks_for_a_call_and_the_manager_is_told(live_server, page, sent):
    john = sent["en"]
    link = reverse("outreach_link", args=[message_token(john)])
    page.goto(f"{live_server.url}{link}")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#offer-price")).to_contain_text("€19.99")
    page.get_by_role("button", name="Call me to talk about it").click()

    expect(page.locator("ul.messages")).to_have_text("Thank you. We will call you soon.")
    expect(page.locator("#answered")).to_be_visible()
    john.refresh_from_db()
    assert john.response == Response.CALL
    assert not CounterOffer.objects.exists()  # a call is not an acceptance
    manager = User.objects.get(username="manager")
    told = Notification.objects.get(recipient=manager)
    assert told.url == reverse("subscriber_offers", args=[john.subscriber_id])
    campaign = OutreachCampaign.objects.get()
    assert campaign_progress(campaign).count(OutreachMessage.State.RESPONDED) == 1


def test_a_tampered_link_says_it_does_not_work_and_changes_nothing(live_server, page, sent):
    token = message_token(sent["en"])
    expect_status(page, 404)
    page.goto(f"{live_server.url}{reverse('outreach_link', args=[token[:-2] + 'xx'])}")
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not work")
    expect(page.get_by_role("button")).to_have_count(0)
    assert not OutreachMessage.objects.exclude(response="").exists()
