"""What the campaign tests share: an offer, a draft, and subscribers who may be e-mailed now.

The clock stands at Tuesday 2026-12-01 10:00 UTC (12:00 in Riga) in the tests that use these."""

from datetime import UTC, datetime

from offers.models import OfferKind, OfferTemplate
from retention.models import OutreachCampaign, OutreachMessage, User
from retention.outreach import services
from subscribers.models import Subscriber
from tests.factories import PlanFactory, SubscriberFactory, offer_template
from tests.zones import zone_where_it_is

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
BODIES = {
    "body_lv": "Labdien, {name}! {offer}: {new_price}. {link}",
    "body_ru": "Здравствуйте, {name}! {offer}: {new_price}. {link}",
    "body_en": "Hello {name}! {offer}: {new_price} instead of {price}. {link}",
}


def loyalty_offer() -> OfferTemplate:
    return offer_template(
        "loyalty-tariff",
        OfferKind.PLAN_CHANGE,
        name_en="Loyalty tariff: the new-customer price",
        name_lv="Lojalitātes tarifs: jauna klienta cena",
        name_ru="Тариф лояльности: цена для новых клиентов",
    )


def draft(manager: User, *, channel: str = "email", **fields: object) -> OutreachCampaign:
    values = {
        "name": "Loyalty",
        "template": loyalty_offer(),
        "channel": channel,
        "not_contacted_days": 0,
        **BODIES,
        **fields,
    }
    return services.campaign_create(actor=manager, values=values)


def subscribers_at_noon(count: int) -> list[Subscriber]:
    """Subscribers it is fine to text right now, never contacted before."""
    plan = PlanFactory.create()
    zone = zone_where_it_is(12)
    return Subscriber.objects.bulk_create(
        [SubscriberFactory.build(plan=plan, time_zone=zone) for _ in range(count)],
        batch_size=1000,
    )


def unfinished(campaign: OutreachCampaign) -> int:
    """How many of the campaign's messages are still to be sent."""
    state = OutreachMessage.State
    return OutreachMessage.objects.filter(
        campaign=campaign, state__in=[state.PENDING, state.DEFERRED, state.SENDING]
    ).count()
