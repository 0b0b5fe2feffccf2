"""A test of a campaign to oneself, by the campaign's channel: an e-mail campaign's to the
manager's own e-mail address only, an SMS campaign's to their own mobile number only; in the
language they choose, as a subscriber would read it; counted nowhere and in nobody's contact
cap; recorded in the campaign's history, with where it went.

The clock stands at Tuesday 2026-12-01 10:00 UTC (12:00 in Riga).
"""

import json
from pathlib import Path

import pytest
from django.core import mail
from django.urls import reverse

from retention.core.refusals import InvalidInput, NotAllowed
from retention.models import CampaignHistory, OutreachMessage
from retention.outreach import services
from retention.outreach.links import preview_link, stop_preview_link
from subscribers.models import TimelineEvent
from tests.factories import SubscriberFactory
from tests.retention.outreach.helpers import draft

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]


@pytest.fixture
def sms_folder(settings, tmp_path) -> Path:
    settings.SMS_BACKEND, settings.SMS_FILE_PATH = "file", str(tmp_path / "sms")
    return tmp_path / "sms"


def sms_sent(folder: Path) -> list[dict[str, str]]:
    return [json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))]


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


# --- An SMS campaign --------------------------------------------------------------------------


def test_an_sms_campaign_s_test_is_one_sms_to_the_manager_s_mobile(
    manager_client, manager, sms_folder
):
    manager.first_name, manager.last_name, manager.phone = "Mara", "Liepa", "+37120000000"
    manager.save()
    SubscriberFactory.create(name="Anna Ozola", language="en", monthly_price="29.99")
    campaign = draft(manager, channel="sms")
    response = manager_client.post(reverse("campaign_test", args=[campaign.pk]), {"language": "en"})
    assert response.status_code == 302
    # As a subscriber's SMS arrives: their figures under the manager's name, the SMS's short
    # stop line, no subject and no real link; and no e-mail, though the manager has an address.
    (sms,) = sms_sent(sms_folder)
    assert sms["to"] == "+37120000000"
    assert sms["body"] == (
        "Hello Mara Liepa! Loyalty tariff: the new-customer price: €19.99 instead of €29.99. "
        f"{preview_link()} Stop: {stop_preview_link()}"
    )
    assert mail.outbox == []
    # Counted nowhere, and nobody's contact.
    assert not OutreachMessage.objects.exists()
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CONTACT).exists()
    row = campaign.history.get(action=CampaignHistory.Action.TEST_SENT)
    assert row.actor == manager and row.params == {"to": "+37120000000", "language": "en"}
    page = manager_client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert "Test sent to +37120000000 in English" in page
    assert "A test SMS is on its way to +37120000000" in page


def test_the_test_form_says_by_which_channel_and_to_where(manager_client, manager):
    manager.phone = "+37120000000"
    manager.save()
    SubscriberFactory.create()
    by_sms, by_email = draft(manager, channel="sms"), draft(manager)
    page = manager_client.get(reverse("campaign", args=[by_sms.pk])).content.decode()
    assert "Send a test SMS to +37120000000" in page and "Send a test e-mail" not in page
    page = manager_client.get(reverse("campaign", args=[by_email.pk])).content.decode()
    assert f"Send a test e-mail to {manager.email}" in page and "Send a test SMS" not in page


def test_without_a_mobile_number_an_sms_test_is_refused_clearly(
    manager_client, manager, sms_folder
):
    SubscriberFactory.create()
    campaign = draft(manager, channel="sms")
    page = manager_client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert "Send a test SMS to me" in page and "Your account has no mobile number" in page
    response = manager_client.post(reverse("campaign_test", args=[campaign.pk]), {"language": "lv"})
    assert response.status_code == 409
    assert (
        "Your account has no mobile number: ask an administrator to add one."
        in response.content.decode()
    )
    # Not sent by e-mail instead: nothing is sent, nothing recorded.
    assert sms_sent(sms_folder) == [] and mail.outbox == []
    assert not campaign.history.filter(action="test_sent").exists()


def test_agents_may_not_send_a_test_sms(agent_client, agent, manager, sms_folder):
    agent.phone = "+37120000001"
    agent.save()
    SubscriberFactory.create()
    campaign = draft(manager, channel="sms")
    response = agent_client.post(reverse("campaign_test", args=[campaign.pk]), {"language": "en"})
    assert response.status_code == 403
    with pytest.raises(NotAllowed):
        services.campaign_test_send(campaign=campaign, actor=agent, language="en")
    assert sms_sent(sms_folder) == [] and mail.outbox == []
    assert not campaign.history.filter(action="test_sent").exists()
