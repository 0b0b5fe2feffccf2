"""A sender's chunk costs the same queries however many messages it holds: the claim, what the
contact policy needs, and one transaction of marks and timeline contacts for the whole chunk.

The clock stands at Tuesday 2026-12-01 10:00 UTC (12:00 in Riga)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from retention.models import OutreachMessage
from retention.outreach import services
from retention.outreach.audience import campaign_fan_out
from retention.outreach.sending import outreach_send
from subscribers.models import ContactChannel, Subscriber, TimelineEvent
from tests.factories import PlanFactory, SubscriberFactory
from tests.retention.outreach.helpers import draft

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "no_broker")]

MState = OutreachMessage.State


@pytest.fixture(autouse=True)
def sms_files(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path)


def queries_to_send(manager, *, channel: str, count: int) -> int:
    """Queries of one chunk of ``count`` messages, each to a new subscriber."""
    TimelineEvent.objects.all().delete()
    Subscriber.objects.all().delete()
    plan = PlanFactory.create()
    Subscriber.objects.bulk_create(SubscriberFactory.build(plan=plan) for _ in range(count))
    campaign = draft(manager, channel=channel)
    services.campaign_launch(campaign=campaign, actor=manager)
    campaign_fan_out(campaign=campaign)
    with CaptureQueriesContext(connection) as queries:
        result = outreach_send(campaign_id=campaign.pk, limit=count)
    assert result.sent == count
    assert OutreachMessage.objects.filter(campaign=campaign, state=MState.SENT).count() == count
    contacts = TimelineEvent.objects.filter(source="outreach", data__campaign=campaign.pk)
    assert contacts.count() == count
    return len(queries)


@pytest.mark.parametrize("channel", [ContactChannel.EMAIL, ContactChannel.SMS])
def test_a_chunk_costs_the_same_queries_for_three_messages_as_for_sixty(manager, channel):
    queries_to_send(manager, channel=channel, count=1)  # the process caches the desk calendar
    few = queries_to_send(manager, channel=channel, count=3)
    many = queries_to_send(manager, channel=channel, count=60)
    # The claim (campaign, select, update), the campaign, the contact policy, the messages, the
    # cap's contacts; then the marks: the sent rows locked, marked and their contacts inserted;
    # the savepoints around the two transactions.
    assert few == many == 14
