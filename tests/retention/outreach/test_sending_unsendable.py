"""A message that cannot be sent as it is fails alone, with what was wrong, and the rest of its
chunk goes out: a bad row must not crash the chunk, which would be claimed and crashed on again
after every sweep.

The clock stands at Tuesday 2026-12-01 10:00 UTC (12:00 in Riga)."""

import pytest
from django.core import mail

from retention.models import OutreachMessage
from retention.outreach import services
from retention.outreach.audience import campaign_fan_out
from retention.outreach.sending import outreach_send
from tests.factories import SubscriberFactory
from tests.retention.outreach.helpers import draft

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "no_broker")]

MState = OutreachMessage.State


def test_an_address_with_a_line_break_fails_alone_and_the_chunk_goes_on(manager, settings):
    settings.SEND_CONCURRENCY = 2
    SubscriberFactory.create_batch(3)
    # Came in from billing like that: a header injection if it were sent.
    broken = SubscriberFactory.create(email="anna@example.lv\nBcc: everyone@example.lv")
    campaign = draft(manager)
    services.campaign_launch(campaign=campaign, actor=manager)
    campaign_fan_out(campaign=campaign)

    result = outreach_send(campaign_id=campaign.pk)

    assert (result.sent, result.failed) == (3, 1)
    assert len(mail.outbox) == 3
    assert all("everyone@example.lv" not in m.message().as_string() for m in mail.outbox)
    failed = OutreachMessage.objects.get(campaign=campaign, subscriber=broken)
    assert failed.state == MState.FAILED
    assert failed.error.startswith("unsendable ")
    # Nothing is left claimed for a sweep to hand out again.
    assert not OutreachMessage.objects.filter(state=MState.SENDING).exists()
    assert outreach_send(campaign_id=campaign.pk).claimed == 0
