"""Fixtures the browser tests share."""

from collections.abc import Iterator
from datetime import datetime

import pytest
import time_machine

from tests.browser.clock import next_tuesday_at


@pytest.fixture
def morning() -> Iterator[datetime]:
    """11:00 on a working Tuesday ahead, Riga time, the clock running from there."""
    start = next_tuesday_at(11)
    with time_machine.travel(start, tick=True):
        yield start
