"""`seed_outreach` (part of `make run`) works at any hour: the demo agent's callbacks land in
the subscriber's calling hours, however late the desk is started."""

import io
from datetime import UTC, datetime

import pytest
import time_machine
from django.core.management import call_command

from retention.models import CancellationCase, User
from retention.system.services import demo_users_ensure
from tests.factories import CaseFactory, SubscriberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("started", "expected"),
    [
        # Friday 4 December 2026, 22:09 in Riga: the calls wait for Saturday's opening, 10:00.
        (datetime(2026, 12, 4, 20, 9, tzinfo=UTC), datetime(2026, 12, 5, 8, 0, tzinfo=UTC)),
        # Tuesday 10:00 in Riga: a minute or two ahead, as before.
        (datetime(2026, 12, 1, 8, 0, tzinfo=UTC), datetime(2026, 12, 1, 8, 1, tzinfo=UTC)),
    ],
)
def test_the_demo_callbacks_land_in_calling_hours_whenever_make_run_starts(started, expected):
    with time_machine.travel(started, tick=False):
        demo_users_ensure()
        agent = User.objects.get(username="agent")
        for _ in range(2):
            CaseFactory.create(
                owner=agent,
                status=CancellationCase.Status.IN_PROGRESS,
                subscriber=SubscriberFactory.create(time_zone="Europe/Riga"),
            )
        call_command("seed_outreach", stdout=io.StringIO())
    first = CancellationCase.objects.order_by("pk").first()
    assert first is not None and first.callback_at == expected
