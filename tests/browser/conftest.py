"""Fixtures the browser tests share."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import time_machine

from retention.cases.services import case_claim
from retention.models import CancellationCase
from retention.system.services import demo_users_ensure
from tests.browser.clock import next_tuesday_at
from tests.factories import CaseFactory, SubscriberFactory


@pytest.fixture
def morning() -> Iterator[datetime]:
    """11:00 on a working Tuesday ahead, Riga time, the clock running from there."""
    start = next_tuesday_at(11)
    with time_machine.travel(start, tick=True):
        yield start


@pytest.fixture
def case(morning: datetime) -> CancellationCase:
    """Jānis's case in Riga, claimed by the demo agent: a call at 11:00 is allowed."""
    agent = demo_users_ensure()[0]
    subscriber = SubscriberFactory.create(name="Jānis Bērziņš", time_zone="Europe/Riga")
    case = CaseFactory.create(
        subscriber=subscriber,
        process_by=morning.date() + timedelta(days=14),
        requested_end_date=morning.date() + timedelta(days=10),
    )
    return case_claim(case=case, actor=agent)
