"""Who asks to leave in the demo follows their story (retention.demo.propensity), so that a
churn model learned from the desk's own cases has structure to find. The label is the model's:
the subscriber opened a case within 60 days after a snapshot day; the signals are read from the
facts on file, as a model would read them, never from the demo's own churn_risk."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import F

from offers.models import CounterOffer
from retention.core.roles import Role
from retention.demo.cases import cases_seed
from retention.demo.history import HISTORY_SOURCE, history_seed
from retention.models import CancellationCase, User
from subscribers.models import Subscriber, TimelineEvent
from subscribers.usage import TariffFit
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # a Monday, noon in Riga
TODAY = date(2026, 11, 23)
DAYS, PER_DAY = 180, 3
# Snapshot days every ten days, each with 60 days of history after it.
SNAPSHOTS = [TODAY - timedelta(days=d) for d in range(60, 171, 10)]
LABEL_DAYS = 60


@dataclass
class Facts:
    signup: date
    penalty: float  # per cent over the new-customer price of their plan
    saving: float  # a month, on the plan that fits them
    outages: list[date]

    def outage(self, day: date) -> bool:
        """An outage in the 90 days before ``day``."""
        return any(0 < (day - d).days <= 90 for d in self.outages)

    def signals(self, day: date) -> int:
        tenure = (day - self.signup).days
        return (
            self.outage(day)
            + (tenure < 365)
            + (tenure >= 365 and self.penalty >= 30)
            + (self.saving >= 10)
        )


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def seed(subscribers: int) -> None:
    call_command(
        "seed_demo",
        subscribers=subscribers,
        events_per_subscriber=0,
        heavy=0,
        today=TODAY,
        no_progress=True,
        stdout=StringIO(),
    )


def staff(tiers) -> list[User]:
    """Agents, and a manager to approve what they may not. Made after the subscribers: on
    PostgreSQL seed_demo detaches tables, which users' pending triggers would forbid."""
    user_with_role(tiers["manager"].group, username="signal-manager")
    return [user_with_role(Role.AGENT, username=f"signal-agent-{n}") for n in range(3)]


def facts() -> dict[int, Facts]:
    saving = dict(TariffFit.objects.values_list("subscriber_id", "saving"))
    rows = Subscriber.objects.filter(
        status__in=[Subscriber.Status.ACTIVE, Subscriber.Status.SUSPENDED]
    ).values_list("pk", "signup_date", "monthly_price", "plan__new_customer_price")
    known = {
        pk: Facts(signup, float((monthly - new) * 100 / new), float(saving.get(pk, 0)), [])
        for pk, signup, monthly, new in rows
    }
    outages = TimelineEvent.objects.filter(kind=TimelineEvent.Kind.OUTAGE)
    for pk, at in outages.values_list("subscriber_id", "occurred_at"):
        if pk in known:
            known[pk].outages.append(at.date())
    return known


def asked(source: str) -> dict[int, list[date]]:
    """The days each subscriber opened a case of ``source`` (only those who did)."""
    days: dict[int, list[date]] = {}
    for pk, opened in CancellationCase.objects.filter(source=source).values_list(
        "subscriber_id", "opened_at"
    ):
        days.setdefault(pk, []).append(opened.date())
    return days


class Rates:
    """Who asked to leave, by group: ``add(group, asked)``, then ``share(group)``."""

    def __init__(self) -> None:
        self.counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, group: str, asked: bool) -> None:
        self.counts[group][0] += 1
        self.counts[group][1] += asked

    def share(self, group: str) -> float:
        seen, asked = self.counts[group]
        assert seen >= 100, f"too few in {group} to tell"
        return asked / seen


def test_outages_price_and_tenure_bring_subscribers_to_ask_to_leave(frozen, tiers):
    seed(3000)
    history_seed(days=DAYS, per_day=PER_DAY, seed=5, agents=staff(tiers))
    cases_seed(count=400, seed=5)
    known, past = facts(), asked(HISTORY_SOURCE)
    rates = Rates()
    for day in SNAPSHOTS:
        for pk, f in known.items():
            tenure = (day - f.signup).days
            if tenure < 30:
                continue
            label = any(day <= d < day + timedelta(days=LABEL_DAYS) for d in past.get(pk, ()))
            rates.add("outage" if f.outage(day) else "no outage", label)
            if tenure >= 2 * 365 and f.penalty >= 30:
                rates.add("penalised", label)
            elif tenure >= 2 * 365 and f.penalty < 10:
                rates.add("fair price", label)
            if tenure < 365:
                rates.add("first year", label)
            elif tenure >= 4 * 365:
                rates.add("four years or more", label)
            signals = f.signals(day)
            if signals != 1:
                rates.add("several signals" if signals else "no signal", label)

    assert rates.share("outage") > 1.15 * rates.share("no outage")
    assert rates.share("penalised") > 1.25 * rates.share("fair price")
    assert rates.share("first year") > 1.2 * rates.share("four years or more")
    # Tilted, not decided: those without a signal ask too, and several signals weigh a few
    # times none, not a hundred.
    assert rates.share("no signal") > 0.03
    assert 1.5 < rates.share("several signals") / rates.share("no signal") < 8
    # Today's open cases follow the same story.
    today, opened = Rates(), asked("seed")
    for pk, f in known.items():
        if (TODAY - f.signup).days >= 30 and pk not in past:
            signals = f.signals(TODAY)
            if signals != 1:
                today.add("several signals" if signals else "no signal", pk in opened)
    assert today.share("several signals") > 1.5 * today.share("no signal")


def picks() -> list[tuple[int, datetime]]:
    return list(
        CancellationCase.objects.order_by("opened_at", "subscriber_id").values_list(
            "subscriber_id", "opened_at"
        )
    )


def test_the_demo_churn_risk_does_not_decide_who_asks_to_leave(frozen, tiers):
    seed(600)
    agents = staff(tiers)
    history_seed(days=60, per_day=PER_DAY, seed=5, agents=agents)
    cases_seed(count=40, seed=5)
    first = picks()
    CounterOffer.objects.all().delete()
    CancellationCase.objects.all().delete()
    TimelineEvent.objects.filter(source__in=[HISTORY_SOURCE, "seed"]).delete()

    Subscriber.objects.update(churn_risk=100 - F("churn_risk"))
    history_seed(days=60, per_day=PER_DAY, seed=5, agents=agents)
    cases_seed(count=40, seed=5)

    assert picks() == first
