"""What the outreach tests share: the clock at NOW (Tuesday 2026-12-01 10:00 UTC, 12:00 in
Riga) and no broker. A module asks for them with ``pytest.mark.usefixtures``; a test that
moves the clock takes ``clock``."""

from collections.abc import Iterator

import pytest
import time_machine

from tests.retention.outreach.helpers import NOW


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def no_broker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Launching, resuming and sending ask for the worker after commit; nothing runs here."""
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: True)
