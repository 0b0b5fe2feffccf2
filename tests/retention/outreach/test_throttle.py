"""A campaign's rate: at most so many messages a minute from the moment it starts, however many
workers send it; the campaign page shows the rate and when sending should end.

The clock stands at Tuesday 2026-12-01 10:00 UTC (12:00 in Riga) unless a test moves it.
"""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from retention.models import OutreachCampaign, OutreachMessage
from retention.outreach import services, tasks
from retention.outreach.audience import campaign_fan_out
from retention.outreach.sending import outreach_send
from subscribers.models import Subscriber
from tests.factories import PlanFactory, SubscriberFactory, user_with_role
from tests.retention.outreach.helpers import NOW, draft
from tests.threads import run_at_once

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "no_broker")]

MState = OutreachMessage.State


def many(count: int) -> None:
    plan = PlanFactory.create()
    Subscriber.objects.bulk_create(SubscriberFactory.build(plan=plan) for _ in range(count))


def sent(campaign) -> int:
    return OutreachMessage.objects.filter(campaign=campaign, state=MState.SENT).count()


def launched(manager, **fields) -> OutreachCampaign:
    campaign = draft(manager, **fields)
    services.campaign_launch(campaign=campaign, actor=manager)
    campaign_fan_out(campaign=campaign)
    return campaign


def test_sixty_a_minute_sends_about_a_hundred_and_twenty_in_two_minutes_never_more(manager, clock):
    many(300)
    campaign = launched(manager, rate_per_minute=60)
    assert outreach_send(campaign_id=campaign.pk).claimed == 0  # nothing in the first instant
    clock.move_to(NOW + timedelta(seconds=30))
    tasks.outreach_work(campaign.pk)  # the worker sends until the rate stops it
    assert sent(campaign) == 30
    clock.move_to(NOW + timedelta(minutes=2))
    tasks.outreach_work(campaign.pk)
    tasks.outreach_work(campaign.pk)  # a repeated message finds nothing more allowed
    assert sent(campaign) == 120
    assert len(mail.outbox) == 120
    clock.move_to(NOW + timedelta(minutes=5))
    tasks.outreach_work(campaign.pk)
    assert sent(campaign) == 300
    assert OutreachCampaign.objects.get(pk=campaign.pk).state == OutreachCampaign.State.FINISHED


def test_without_a_rate_everything_goes_at_once(manager):
    many(30)
    campaign = launched(manager)
    tasks.outreach_work(campaign.pk)
    assert sent(campaign) == 30


def test_skipped_messages_do_not_use_up_the_rate(manager, clock):
    SubscriberFactory.create_batch(20, do_not_email=True)  # claimed first
    many(10)
    campaign = launched(manager, rate_per_minute=10)
    clock.move_to(NOW + timedelta(minutes=1))
    tasks.outreach_work(campaign.pk)
    assert sent(campaign) == 10
    assert OutreachMessage.objects.filter(campaign=campaign, state=MState.SKIPPED).count() == 20


@pytest.mark.django_db(transaction=True)
def test_workers_sending_at_once_keep_to_the_rate_together(monkeypatch):
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: True)
    manager = user_with_role("Manager", username="rated")
    many(300)
    campaign = launched(manager, rate_per_minute=60)
    later = NOW + timedelta(minutes=2)

    def worker() -> None:
        while outreach_send(campaign_id=campaign.pk, now=later, limit=25).claimed:
            pass

    assert run_at_once(worker, worker, worker, worker) == []
    assert sent(campaign) == 120


def test_the_campaign_page_shows_the_rate_and_the_expected_end(
    manager_client, manager, clock, django_assert_num_queries
):
    many(300)
    campaign = launched(manager, rate_per_minute=60)
    clock.move_to(NOW + timedelta(minutes=2))
    tasks.outreach_work(campaign.pk)
    url = reverse("campaign", args=[campaign.pk])
    # session, user, roles, campaign, counts by state and reason, the history: as without a rate
    with django_assert_num_queries(6):
        html = manager_client.get(url).content.decode()
    assert "At most 60 messages a minute." in html
    # 300 at 60 a minute from 12:00 in Riga: done about 12:05.
    assert "Expected to end about 01.12.2026 12:05" in html
    assert 'id="progress-sent">120</dd>' in html
