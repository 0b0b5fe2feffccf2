"""Every effect happens exactly once, shown with real processes.

Real Celery workers and beats run against the test database and a Redis of each test's own
(started on a free port, so no other test's worker can take these messages, and so a test may
stop it). The SMS file backend writes one file per message key and refuses a key it has
written: the files are the sends, counted at the backend.
"""

import json
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from offers.models import CounterOffer, OfferKind
from retention.cases.services import case_claim
from retention.core.broker import enqueue
from retention.core.roles import Role
from retention.models import (
    CancellationCase,
    Heartbeat,
    Notification,
    OutreachCampaign,
    OutreachMessage,
    Reminder,
    User,
)
from retention.notifications.reminders import reminder_for_callback, reminder_schedule
from retention.outreach import services as outreach
from retention.outreach.tasks import outreach_work
from retention.saves import services as saves
from retention.system.tasks import heartbeat
from subscribers.models import ContactChannel, TimelineEvent
from tests.factories import (
    CaseFactory,
    PlanFactory,
    authority_tier,
    offer_template,
    user_with_role,
)
from tests.retention.outreach.helpers import subscribers_at_noon, unfinished
from tests.retention.workers import (
    Fleet,
    Process,
    RedisServer,
    every_second,
    kill,
    publishing_to,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MState = OutreachMessage.State


# --- Processes ----------------------------------------------------------------------------------


@pytest.fixture
def broker(redis_url: str, tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, and this process publishing to it.

    ``redis_url`` declares the need for Redis and makes this process's broker settings the
    Redis ones (fail fast, no waiting); only the address changes here.
    """
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        with publishing_to(server.url):
            yield server
    finally:
        server.stop()


@pytest.fixture
def fleet(broker: RedisServer, tmp_path: Path) -> Iterator[Fleet]:
    started = Fleet(broker, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def sms_sent(folder: Path) -> list[str]:
    """The keys the SMS backend has sent (its temporary files are hidden and not sends)."""
    if not folder.exists():
        return []
    return [p.name.removesuffix(".json") for p in folder.glob("[!.]*.json")]


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


# --- Data ---------------------------------------------------------------------------------------


def sms_campaign(manager: User, name: str, **fields: Any) -> OutreachCampaign:
    template = offer_template(
        "outreach-5-12", OfferKind.FIXED_DISCOUNT, amount=Decimal("5"), months=12
    )
    body = "{name}, {offer}: {new_price} instead of {price}. {link}"
    return OutreachCampaign.objects.create(
        name=name,
        created_by=manager,
        template=template,
        channel=ContactChannel.SMS,
        not_contacted_days=0,
        body_lv=body,
        body_ru=body,
        body_en=body,
        **fields,
    )


# --- A worker killed in the middle of a campaign -------------------------------------------------

CAMPAIGN_SIZE = 2_000


def test_a_worker_killed_mid_campaign_loses_no_message_and_sends_none_twice(fleet, manager):
    # The new worker's sweep takes back what the dead one left claimed after 3 seconds instead
    # of 10 minutes (sends take milliseconds here; the timeout only has to outlast one).
    claim_timeout = {"OUTBOX_CLAIM_TIMEOUT_SECONDS": "3"}
    worker_a = fleet.worker("worker-a", **claim_timeout)
    subscribers = subscribers_at_noon(CAMPAIGN_SIZE)
    campaign = sms_campaign(manager, "Loyalty, kill -9")
    outreach.campaign_launch(campaign=campaign, actor=manager)  # outreach_work, on commit

    def sending() -> int:
        return OutreachMessage.objects.filter(campaign=campaign, state=MState.SENDING).count()

    # Mid-campaign: hundreds sent, and a chunk claimed and being sent right now.
    wait_until(
        lambda: len(sms_sent(fleet.sms)) >= 300 and sending() > 0,
        timeout=60,
        every=0.02,
        failure=lambda: f"worker A sent {len(sms_sent(fleet.sms))} messages\n" + fleet.tails(),
    )
    kill(worker_a)
    sent_before_the_kill = len(sms_sent(fleet.sms))
    left_claimed = sending()
    assert sent_before_the_kill < CAMPAIGN_SIZE, "the campaign finished before the kill"

    # A new worker, and a beat whose outreach tick sweeps and asks for the rest of the work
    # (the message worker A was running stays unacknowledged in Redis for an hour).
    every_second("retention.tasks.outreach_tick")
    fleet.worker("worker-b", pool="threads", concurrency=2, **claim_timeout)
    fleet.beat("beat", **claim_timeout)
    took = wait_until(
        lambda: unfinished(campaign) == 0,
        timeout=90,
        every=0.25,
        failure=lambda: (
            f"{unfinished(campaign)} messages not sent, "
            f"{len(sms_sent(fleet.sms))} files\n" + fleet.tails()
        ),
    )

    messages = OutreachMessage.objects.filter(campaign=campaign)
    assert dict(Counter(messages.values_list("state", flat=True))) == {MState.SENT: CAMPAIGN_SIZE}
    # Counted at the backend: one file per message, named by its key, none missing or extra.
    keys = sms_sent(fleet.sms)
    assert len(keys) == CAMPAIGN_SIZE
    assert set(keys) == {f"outreach-{pk}" for pk in messages.values_list("pk", flat=True)}
    phones = dict(messages.values_list("pk", "subscriber__phone"))
    for key in keys:
        sent = json.loads((fleet.sms / f"{key}.json").read_text())
        assert sent["key"] == key
        assert sent["to"] == phones[int(key.removeprefix("outreach-"))]
    # One outbound contact on each subscriber's timeline (the contact policy counts these).
    contacts = (
        TimelineEvent.objects.filter(
            kind=TimelineEvent.Kind.CONTACT,
            data__direction="outbound",
            data__campaign=campaign.pk,
        )
        .values("subscriber_id")
        .annotate(n=Count("pk"))
    )
    assert {row["subscriber_id"]: row["n"] for row in contacts} == {s.pk: 1 for s in subscribers}
    campaign.refresh_from_db()
    assert campaign.state == OutreachCampaign.State.FINISHED
    print(
        f"\nkill -9 after {sent_before_the_kill} sends with {left_claimed} messages claimed; "
        f"{messages.filter(attempts__gt=1).count()} claimed again after the sweep; "
        f"the rest sent in {took:.1f} s"
    )


# --- Redis down ---------------------------------------------------------------------------------


def test_with_redis_down_launch_and_approval_succeed_at_once_and_the_work_follows(
    broker, fleet, client, agent, manager, settings
):
    authority_tier(Role.AGENT, 10, "10", "60", "120")
    authority_tier(Role.MANAGER, 20, "25", "300", "500")
    # 9.00 a month for 12 months: over an agent's limits, so a manager must approve.
    over_agent = offer_template(
        "discount-30-12", OfferKind.PERCENT_DISCOUNT, percent=Decimal("30"), months=12
    )
    settings.APPROVAL_REMINDER_MINUTES = 0  # the approvers' reminder is due at once
    to_approve, left_waiting = (
        saves.case_offer_propose(
            case=case_claim(case=CaseFactory.create(), actor=agent),
            template=over_agent,
            actor=agent,
        )
        for _ in range(2)
    )
    assert to_approve.status == left_waiting.status == CounterOffer.Status.PENDING
    subscribers_at_noon(5)
    campaign = sms_campaign(manager, "Launched while Redis was down")

    broker.stop()
    client.force_login(manager)
    launched, launch_took = timed(
        lambda: client.post(reverse("campaign_launch", args=[campaign.pk]), {"shown": "5"})
    )
    approved, approve_took = timed(
        lambda: client.post(reverse("offer_approve", args=[to_approve.pk]), {"note": "fine"})
    )

    assert launched.status_code == 302, launched.content[:500]
    assert launch_took < 3, f"the launch waited {launch_took:.1f} s on the broker"
    assert approved.status_code == 302, approved.content[:500]
    assert approve_took < 3, f"the approval took {approve_took:.1f} s"
    campaign.refresh_from_db()
    assert campaign.state == OutreachCampaign.State.RUNNING
    to_approve.refresh_from_db()
    assert to_approve.status == CounterOffer.Status.APPROVED
    # The agent is told in the same transaction, broker or not.
    assert Notification.objects.filter(
        recipient=agent, code="notify.offer_approved", params__id=to_approve.pk
    ).exists()

    # Redis is back (empty: the launch's message never reached it); the beat's ticks find the
    # work in the database.
    broker.start()
    every_second("retention.tasks.outreach_tick")
    every_second("retention.tasks.reminders_tick")
    fleet.worker("worker")
    fleet.beat("beat")
    approval = Reminder.objects.filter(
        kind=Reminder.Kind.APPROVAL_WAITING, offer__in=[to_approve, left_waiting]
    )

    def done() -> bool:
        return (
            OutreachMessage.objects.filter(campaign=campaign, state=MState.SENT).count() == 5
            and not approval.filter(state=Reminder.State.PENDING).exists()
        )

    wait_until(
        done,
        timeout=60,
        every=0.25,
        failure=lambda: (
            f"messages {list(campaign.messages.values_list('state', flat=True))}, "
            f"reminders {list(approval.values_list('key', 'state'))}\n" + fleet.tails()
        ),
    )
    assert len(sms_sent(fleet.sms)) == 5
    print(f"\nwith Redis down: launch {launch_took:.2f} s, approval {approve_took:.2f} s")
    # Decided while Redis was down: its reminder no longer matters. Still waiting: the
    # manager who can approve it is reminded, once.
    assert approval.get(offer=to_approve).state == Reminder.State.CANCELLED
    waiting = approval.get(offer=left_waiting)
    assert waiting.state == Reminder.State.SENT
    assert list(waiting.notifications.values_list("recipient", flat=True)) == [manager.pk]


# --- Two beats at once --------------------------------------------------------------------------

REMINDERS = 200
TICK_DONE = re.compile(
    r"^\[([-\d]+ [:\d]+,\d+): INFO/MainProcess\] "
    r"Task retention\.tasks\.reminders_tick\[[^\]]+\] succeeded in ([.\d]+)s",
    re.MULTILINE,
)


def ticks_at_once(workers: list[Process]) -> int:
    """How many ticks ran while another was running (from the workers' logs)."""
    spans = []
    for worker in workers:
        for ended, took in TICK_DONE.findall(worker.output()):
            end = datetime.strptime(ended, "%Y-%m-%d %H:%M:%S,%f").timestamp()
            spans.append((end - float(took), end))
    return sum(
        any(start < other_end and other_start < end for other_start, other_end in spans[:i])
        for i, (start, end) in enumerate(spans)
    )


@transaction.atomic  # one commit: setting up is not what is tested
def due_reminders(
    agents: list[User], managers: list[User], *, start: datetime, step: timedelta
) -> dict[int, set[int]]:
    """Callbacks on the agents' cases, and every fourth case's first contact overdue (its
    owner and every manager hear of that). Returns who each reminder must reach."""
    plan = PlanFactory.create()
    expected: dict[int, set[int]] = {}
    for i in range(REMINDERS):
        due = start + step * i
        owner = agents[i % len(agents)]
        case = CaseFactory.create(
            subscriber__plan=plan,
            owner=owner,
            status=CancellationCase.Status.IN_PROGRESS,
            first_contact_due=due,
            callback_at=due,
        )
        if i % 4:
            reminder_for_callback(case=case)
            reminder = Reminder.objects.get(kind=Reminder.Kind.CALLBACK, case=case)
            expected[reminder.pk] = {owner.pk}
        else:
            reminder = reminder_schedule(
                kind=Reminder.Kind.SLA_BREACHED,
                key=f"sla-breached:{case.pk}",
                due_at=due,
                case=case,
            )
            expected[reminder.pk] = {owner.pk, *(m.pk for m in managers)}
    return expected


def ticked_thrice(beat: Process) -> Callable[[], bool]:
    return lambda: beat.output().count("Sending due task test: retention.tasks.reminders_tick") >= 3


def test_two_beats_ticking_at_once_deliver_every_reminder_exactly_once(fleet):
    every_second("retention.tasks.reminders_tick")
    workers = [fleet.worker(f"worker-{n}", pool="threads", concurrency=2) for n in (1, 2)]
    beats = [fleet.beat(f"beat-{n}") for n in (1, 2)]
    agents = [user_with_role(Role.AGENT, username=f"agent{i}") for i in range(3)]
    managers = [user_with_role(Role.MANAGER, username=f"manager{i}") for i in range(2)]
    # Two of them asked for e-mail as well: claimed and sent by the same ticks.
    User.objects.filter(pk__in=[agents[0].pk, managers[0].pk]).update(email_notifications=True)
    # Due over the next five seconds, so they fall due while the ticks run.
    step = timedelta(milliseconds=25)
    expected = due_reminders(agents, managers, start=timezone.now(), step=step)

    def ticks_done() -> int:
        return sum(len(TICK_DONE.findall(w.output())) for w in workers)

    emails_due = Notification.objects.filter(email_state__in=["pending", "sending"])
    wait_until(
        lambda: (
            not Reminder.objects.exclude(state=Reminder.State.SENT).exists()
            and Notification.objects.count() == sum(map(len, expected.values()))
            and not emails_due.exists()
        ),
        timeout=60,
        every=0.25,
        failure=lambda: (
            f"{Reminder.objects.exclude(state=Reminder.State.SENT).count()} "
            f"reminders not delivered, {Notification.objects.count()} notifications\n"
            + fleet.tails()
        ),
    )
    # Everything is delivered; the beats go on ticking, and later ticks must find nothing.
    after = ticks_done()
    wait_until(
        lambda: ticks_done() >= after + 4,
        timeout=20,
        failure=lambda: "the ticks stopped\n" + fleet.tails(),
    )

    delivered: dict[int, list[int]] = {}
    for reminder_id, recipient_id in Notification.objects.values_list("reminder", "recipient"):
        delivered.setdefault(reminder_id, []).append(recipient_id)
    assert {pk: sorted(people) for pk, people in delivered.items()} == {
        pk: sorted(people) for pk, people in expected.items()
    }
    # Staff e-mail: one per notification of the two who asked, by its Message-ID.
    emailed = Notification.objects.filter(recipient__email_notifications=True)
    assert set(emailed.values_list("email_state", flat=True)) == {"sent"}
    message_ids = re.findall(
        r"^Message-ID: <(notification-\d+)@",
        "\n".join(p.read_text() for p in fleet.mail.iterdir()) if fleet.mail.exists() else "",
        flags=re.MULTILINE,
    )
    assert Counter(message_ids) == Counter(
        f"notification-{pk}" for pk in emailed.values_list("pk", flat=True)
    )
    # Both beats really ticked, and no tick failed. A beat that started a second later may not
    # have sent its third tick by the time the work is done: wait for it rather than race it.
    for beat in beats:
        wait_until(ticked_thrice(beat), timeout=20, failure=beat.tail)
    for worker in workers:
        assert "Traceback" not in worker.output(), worker.tail(60)
    print(
        f"\nticks run: {ticks_done()}, by worker: "
        + ", ".join(str(len(TICK_DONE.findall(w.output()))) for w in workers)
        + f"; {ticks_at_once(workers)} overlapped another"
    )


# --- A transaction that rolls back ---------------------------------------------------------------


class Rollback(Exception):
    pass


def test_work_enqueued_in_a_transaction_that_rolls_back_is_never_sent(broker, fleet, manager):
    subscribers_at_noon(20)
    campaign = sms_campaign(manager, "Rolled back")
    # A campaign already running: a task about it that escaped the rollback would send.
    running = sms_campaign(
        manager, "Running", state=OutreachCampaign.State.RUNNING, launched_at=timezone.now()
    )

    with pytest.raises(Rollback), transaction.atomic():
        outreach.campaign_launch(campaign=campaign, actor=manager)
        raise Rollback
    with pytest.raises(Rollback), transaction.atomic():
        transaction.on_commit(lambda: enqueue(outreach_work.name, running.pk))
        raise Rollback
    assert broker.queued() == 0, "a task was published for a transaction that rolled back"

    # A worker runs for a while: it takes a heartbeat task published after the rollbacks, so
    # anything queued before it would have run first.
    fleet.worker("worker")
    assert enqueue(heartbeat.name)
    wait_until(
        lambda: Heartbeat.objects.filter(beats__gte=1).exists(),
        timeout=30,
        failure=lambda: "the worker did not run the heartbeat\n" + fleet.tails(),
    )
    campaign.refresh_from_db()
    assert campaign.state == OutreachCampaign.State.DRAFT
    assert not OutreachMessage.objects.exists()
    assert sms_sent(fleet.sms) == []

    # The same launch, committed, is sent by the same worker.
    outreach.campaign_launch(campaign=campaign, actor=manager)
    wait_until(
        lambda: len(sms_sent(fleet.sms)) == 20,
        timeout=30,
        failure=lambda: f"{len(sms_sent(fleet.sms))} of 20 sent\n" + fleet.tails(),
    )
    assert not OutreachMessage.objects.filter(campaign=running).exists()
