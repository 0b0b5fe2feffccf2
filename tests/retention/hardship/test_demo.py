"""``make run`` shows two arrangements: one kept, one broken; run again, it adds none."""

import pytest
from django.core.management import call_command

from retention.models import HardshipArrangement, Notification, Reminder
from tests.factories import SubscriberFactory

pytestmark = pytest.mark.django_db


def test_the_demo_agrees_one_kept_and_one_broken_arrangement_once(agent, tiers):
    SubscriberFactory.create_batch(3)
    call_command("seed_hardship")
    assert set(HardshipArrangement.objects.values_list("kind", "status")) == {
        ("split", "kept"),
        ("deferral", "broken"),
    }
    split = HardshipArrangement.objects.get(kind="split")
    assert [i.state for i in split.instalments.order_by("number")] == ["paid", "due", "due"]
    assert Notification.objects.filter(recipient=agent, code="notify.hardship_broken").exists()
    assert Reminder.objects.filter(kind="callback", recipient=agent).exists()
    call_command("seed_hardship")
    assert HardshipArrangement.objects.count() == 2
