"""A test of a campaign to oneself: the manager's own e-mail address only, in the language they
choose, as a subscriber would read it; counted nowhere and in nobody's contact cap; recorded in
the campaign's history.

The clock stands at Tuesday 2026-12-01 10:00 UTC (12:00 in Riga).
"""

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from retention.core.refusals import InvalidInput
from retention.models import CampaignHistory, OutreachMessage
from retention.outreach import services
from subscribers.models import TimelineEvent
from tests.factories import SubscriberFactory
from tests.retention.outreach.helpers import NOW, draft

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def test_the_test_goes_to_the_manager_only_in_the_chosen_language(manager_client, manager):
    manager.first_name, manager.last_name = "Mara", "Liepa"
    manager.save()
    SubscriberFactory.create(name="Anna Ozola", language="en")
    campaign = draft(manager, subject="")
    response = manager_client.post(reverse("campaign_test", args=[campaign.pk]), {"language": "ru"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [manager.email]
    assert sent.subject == "[Test] Тариф лояльности: цена для новых клиентов"
    # As a subscriber reads it: their figures in Russian, under the manager's name, with the
    # stop line, and no real link.
    assert sent.body.startswith("Здравствуйте, Mara Liepa! Тариф лояльности")
    assert "€19,99" in sent.body and "Anna Ozola" not in sent.body
    assert "/stop/…/" in sent.body and "/o/…/" in sent.body
    # Counted nowhere, and nobody's contact.
    assert not OutreachMessage.objects.exists()
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CONTACT).exists()
    row = campaign.history.get(action=CampaignHistory.Action.TEST_SENT)
    assert row.actor == manager and row.params == {"to": manager.email, "language": "ru"}
    page = manager_client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert f"Test sent to {manager.email} in Russian" in page
    assert "A test is on its way to" in page


def test_without_an_e_mail_address_the_test_is_refused_clearly(manager_client, manager):
    manager.email = ""
    manager.save()
    SubscriberFactory.create()
    campaign = draft(manager)
    response = manager_client.post(reverse("campaign_test", args=[campaign.pk]), {"language": "lv"})
    assert response.status_code == 409
    assert "Your account has no e-mail address" in response.content.decode()
    assert mail.outbox == [] and not campaign.history.filter(action="test_sent").exists()


def test_an_unknown_language_is_refused(manager_client, manager):
    SubscriberFactory.create()
    campaign = draft(manager)
    response = manager_client.post(reverse("campaign_test", args=[campaign.pk]), {"language": "de"})
    assert response.status_code == 409
    assert mail.outbox == []
    with pytest.raises(InvalidInput):
        services.campaign_test_send(campaign=campaign, actor=manager, language="de")


def test_agents_may_not_send_a_test(agent_client, manager):
    campaign = draft(manager)
    response = agent_client.post(reverse("campaign_test", args=[campaign.pk]), {"language": "en"})
    assert response.status_code == 403 and mail.outbox == []


def test_with_nobody_to_take_figures_from_the_test_is_refused(manager):
    campaign = draft(manager)
    with pytest.raises(InvalidInput):
        services.campaign_test_send(campaign=campaign, actor=manager, language="en")
    assert mail.outbox == []
