"""Reminders and staff notifications (retention.reminders): scheduled once by key, delivered by
the tick to the people who must act, dropped when they no longer matter, sent to the subscriber
only as the contact policy allows.

The clock starts on Tuesday 2026-12-01 08:00 UTC, 10:00 in Riga. A case opened then has its
first contact due at 14:00 Riga (four working hours), the warning an hour before, and its
process-by date on 15 December.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError

from offers import lifecycle as offer_lifecycle
from offers.models import CounterOffer, OfferKind
from retention.cases.contacts import contact_log
from retention.cases.opening import Intake, case_open
from retention.cases.services import case_cancel, case_claim, case_set_callback, case_withdraw
from retention.core.messaging import Outgoing, send_sms
from retention.core.roles import Role
from retention.models import CancellationCase, Notification, Reminder, Team
from retention.notifications.reminders import (
    reminder_schedule,
    reminders_for_discounts_ending,
    reminders_sweep,
    reminders_tick,
)
from retention.notifications.services import notifications_email
from retention.saves import services as saves
from retention.saves.services import Decision
from subscribers.models import Equipment, Subscriber, TimelineEvent
from subscribers.selectors import contact_decision
from subscribers.services import contact_policy_save, equipment_mark_returned
from tests.factories import (
    CaseFactory,
    EquipmentFactory,
    SubscriberFactory,
    offer_template,
    user_with_role,
)

pytestmark = pytest.mark.django_db

D = Decimal
Kind = Reminder.Kind
State = Reminder.State
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # Tuesday, 10:00 in Riga
WARNING_AT = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 13:00 Riga
BREACHED_AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 14:00 Riga
PROCESS_BY_AT = datetime(2026, 12, 13, 7, 0, tzinfo=UTC)  # 09:00 Riga, two days ahead
# A case cancelled on 1 December: equipment due back on 31 December, the reminder a week
# earlier, Thursday 24 December at 10:00 Riga. That is Christmas Eve, a public holiday in
# Latvia, closed for contact by default: the tests of hours and time zones open it (as the
# admin may, `open_on_holidays`); test_the_return_reminder_waits_out_christmas keeps it closed.
EQUIPMENT_AT = datetime(2026, 12, 24, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def sms_folder(settings, tmp_path) -> Path:
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


def tick(clock, at: datetime):
    clock.move_to(at)
    return reminders_tick(now=at)


def notified(user) -> list[str]:
    """The user's notifications as they read them (the tests' English)."""
    return [str(note) for note in Notification.objects.filter(recipient=user).order_by("pk")]


def opened_case(**subscriber_fields) -> CancellationCase:
    """A web request through the intake service: no owner, reminders scheduled."""
    return case_open(
        subscriber=SubscriberFactory.create(**subscriber_fields),
        intake=Intake(channel=CancellationCase.Channel.WEB),
        actor=None,
    )


def reminder(case: CancellationCase, kind: str) -> Reminder:
    return Reminder.objects.get(case=case, kind=kind)


@pytest.fixture
def catalogue(db):
    """Costs for a subscriber paying €29.99: €5 for a month is within an agent's authority,
    €9 a month for 12 months a manager's to approve, €29.99 a month only a lead's."""
    return {
        "small": offer_template("fixed-5-1", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=1),
        "big": offer_template("pct-30-12", OfferKind.PERCENT_DISCOUNT, percent=D("30"), months=12),
        "free": offer_template("free-month", OfferKind.FREE_MONTHS, months=1),
    }


# --- Scheduling ----------------------------------------------------------------------------


def test_scheduling_the_same_key_twice_keeps_one_reminder_at_the_latest_time(agent):
    first = reminder_schedule(kind=Kind.CALLBACK, key="k", due_at=NOW, recipient=agent)
    again = reminder_schedule(
        kind=Kind.CALLBACK, key="k", due_at=NOW + timedelta(hours=1), recipient=agent
    )
    assert again.pk == first.pk
    assert Reminder.objects.get().due_at == NOW + timedelta(hours=1)


def test_the_database_refuses_a_second_reminder_with_the_same_key():
    Reminder.objects.create(kind=Kind.CALLBACK, key="k", due_at=NOW)
    with pytest.raises(IntegrityError):
        Reminder.objects.create(kind=Kind.CALLBACK, key="k", due_at=NOW)


def test_opening_a_case_schedules_its_first_contact_and_process_by_reminders():
    case = opened_case()
    due = {r.kind: r.due_at for r in Reminder.objects.filter(case=case)}
    assert due == {
        Kind.SLA_WARNING: WARNING_AT,
        Kind.SLA_BREACHED: BREACHED_AT,
        Kind.PROCESS_BY: PROCESS_BY_AT,
    }
    assert all(r.state == State.PENDING for r in Reminder.objects.all())


def test_a_delivered_reminder_is_not_rescheduled_by_asking_again(clock):
    reminder_schedule(kind=Kind.CALLBACK, key="k", due_at=NOW)
    tick(clock, NOW)
    reminder_schedule(kind=Kind.CALLBACK, key="k", due_at=NOW + timedelta(hours=1))
    assert Reminder.objects.get().due_at == NOW


# --- Callbacks -----------------------------------------------------------------------------


@pytest.fixture
def claimed(agent) -> CancellationCase:
    return case_claim(case=CaseFactory.create(), actor=agent)


def test_a_callback_reminds_its_owner_at_the_time_set(clock, claimed, agent, manager):
    at = NOW + timedelta(hours=2)
    case_set_callback(case=claimed, actor=agent, at=at)
    assert tick(clock, at - timedelta(minutes=1)).notified == 0
    assert tick(clock, at).notified == 1
    assert notified(agent) == [f"Call back {claimed.subscriber.name} now (case #{claimed.pk})."]
    assert notified(manager) == []
    assert Reminder.objects.get(kind=Kind.CALLBACK).state == State.SENT


def test_moving_a_callback_moves_its_reminder(clock, claimed, agent):
    first, moved = NOW + timedelta(hours=2), NOW + timedelta(hours=5)
    case_set_callback(case=claimed, actor=agent, at=first)
    case_set_callback(case=claimed, actor=agent, at=moved)
    pending = Reminder.objects.filter(kind=Kind.CALLBACK, state=State.PENDING)
    assert [r.due_at for r in pending] == [moved]
    assert tick(clock, first).notified == 0
    assert notified(agent) == []
    assert tick(clock, moved).notified == 1
    assert len(notified(agent)) == 1


def test_a_callback_set_after_the_last_one_was_delivered_is_reminded_too(clock, claimed, agent):
    first = NOW + timedelta(hours=2)
    case_set_callback(case=claimed, actor=agent, at=first)
    tick(clock, first)
    tomorrow = first + timedelta(days=1)
    case_set_callback(case=claimed, actor=agent, at=tomorrow)
    assert tick(clock, tomorrow).notified == 1
    assert len(notified(agent)) == 2


def test_a_callback_on_a_case_closed_meanwhile_is_not_delivered(clock, claimed, agent):
    at = NOW + timedelta(hours=2)
    case_set_callback(case=claimed, actor=agent, at=at)
    case_withdraw(case=claimed, actor=agent, note="Staying after all")
    result = tick(clock, at)
    assert (result.notified, result.cancelled) == (0, 0)
    assert Reminder.objects.get(kind=Kind.CALLBACK).state == State.CANCELLED
    assert notified(agent) == []


# --- Ticking twice -------------------------------------------------------------------------


def test_a_reminder_ticked_twice_gives_one_notification(clock, claimed, agent):
    at = NOW + timedelta(hours=1)
    case_set_callback(case=claimed, actor=agent, at=at)
    tick(clock, at)
    assert tick(clock, at + timedelta(minutes=1)).notified == 0
    assert Notification.objects.count() == 1


def test_a_reminder_delivered_again_after_a_crash_does_not_notify_twice(clock, claimed, agent):
    at = NOW + timedelta(hours=1)
    case_set_callback(case=claimed, actor=agent, at=at)
    tick(clock, at)
    # As if the delivered state had been lost: the notification's unique key still holds.
    Reminder.objects.update(state=State.PENDING)
    tick(clock, at + timedelta(minutes=1))
    assert Notification.objects.filter(recipient=agent).count() == 1
    assert Reminder.objects.get(kind=Kind.CALLBACK).state == State.SENT


def test_the_database_refuses_a_second_notification_of_one_reminder_to_one_person(agent):
    sent = Reminder.objects.create(kind=Kind.CALLBACK, key="k", due_at=NOW)
    Notification.objects.create(recipient=agent, text="Call back", reminder=sent)
    with pytest.raises(IntegrityError):
        Notification.objects.create(recipient=agent, text="Call back", reminder=sent)


# --- First contact -------------------------------------------------------------------------


def test_the_sla_warning_goes_to_the_owner(clock, agent, manager):
    case = case_claim(case=opened_case(), actor=agent)
    tick(clock, WARNING_AT)
    assert notified(agent) == [
        f"First contact with {case.subscriber.name} is due at 14:00 (case #{case.pk})."
    ]
    assert notified(manager) == []


def test_the_sla_warning_of_an_unclaimed_case_goes_to_the_managers(clock, agent, manager):
    opened_case()
    tick(clock, WARNING_AT)
    assert len(notified(manager)) == 1
    assert notified(agent) == []


def test_a_breached_sla_goes_to_the_owner_and_the_managers_of_their_team(clock, manager):
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    owner = user_with_role(Role.AGENT, username="owner", team=north)
    manager.team = north
    manager.save()
    other_manager = user_with_role(Role.MANAGER, username="south-manager", team=south)
    case = case_claim(case=opened_case(), actor=owner)
    tick(clock, BREACHED_AT)
    overdue = f"First contact with {case.subscriber.name} is overdue since 14:00 (case #{case.pk})."
    assert notified(owner) == [overdue]
    assert notified(manager) == [overdue]
    assert notified(other_manager) == []


def test_an_owner_who_manages_their_team_hears_of_the_breach_once(clock, manager):
    north = Team.objects.create(name="North")
    manager.team = north
    manager.save()
    case = case_claim(case=opened_case(), actor=manager)
    assert tick(clock, BREACHED_AT).notified == 1
    assert len(notified(manager)) == 1
    assert case.owner == manager


def test_a_tick_running_late_sends_the_breach_without_the_stale_warning(clock, agent):
    case = case_claim(case=opened_case(), actor=agent)
    tick(clock, BREACHED_AT + timedelta(minutes=5))
    assert notified(agent) == [
        f"First contact with {case.subscriber.name} is overdue since 14:00 (case #{case.pk})."
    ]
    assert reminder(case, Kind.SLA_WARNING).state == State.CANCELLED


def test_sla_reminders_stop_once_the_subscriber_is_contacted(clock, agent, manager):
    case = case_claim(case=opened_case(), actor=agent)
    clock.move_to(NOW + timedelta(minutes=30))
    contact_log(case=case, actor=agent, channel="phone", direction="outbound", outcome="reached")
    tick(clock, BREACHED_AT)
    assert notified(agent) == notified(manager) == []
    assert {r.state for r in Reminder.objects.filter(kind__startswith="sla")} == {State.CANCELLED}


# --- Process-by ----------------------------------------------------------------------------


def test_the_process_by_date_reminds_the_owner_two_days_ahead(clock, agent, manager):
    case = case_claim(case=opened_case(), actor=agent)
    contact_log(case=case, actor=agent, channel="phone", direction="outbound", outcome="reached")
    tick(clock, PROCESS_BY_AT - timedelta(minutes=1))
    assert notified(agent) == []
    tick(clock, PROCESS_BY_AT)
    assert notified(agent) == [
        f"Case #{case.pk} ({case.subscriber.name}) must be settled by 15.12.2026."
    ]
    assert notified(manager) == []


def test_a_process_by_reminder_of_a_closed_case_is_dropped(clock, agent):
    case = case_claim(case=opened_case(), actor=agent)
    case_withdraw(case=case, actor=agent, note="Changed their mind")
    tick(clock, PROCESS_BY_AT)
    assert Notification.objects.count() == 0
    assert set(Reminder.objects.values_list("state", flat=True)) == {State.CANCELLED}


# --- Approvals -----------------------------------------------------------------------------


def test_an_offer_waiting_for_approval_reminds_the_routed_tier_not_the_proposer(
    clock, tiers, catalogue, agent, manager
):
    manager2 = user_with_role(Role.MANAGER, username="manager2")
    offer = saves.offer_propose_proactive(
        subscriber=SubscriberFactory.create(), template=catalogue["big"], actor=agent
    )
    assert (offer.status, offer.routed_tier) == (CounterOffer.Status.PENDING, tiers["manager"])
    due = NOW + timedelta(minutes=60)
    assert Reminder.objects.get(kind=Kind.APPROVAL_WAITING).due_at == due
    tick(clock, due)
    waiting = f"Offer #{offer.pk} for {offer.subscriber.name} is waiting for your approval."
    assert notified(manager) == notified(manager2) == [waiting]
    assert notified(agent) == []


def test_the_proposer_is_not_reminded_of_their_own_offer_in_their_tier(clock, tiers, catalogue):
    # An administrator who also sits in the lead group proposes beyond a manager's limit: the
    # offer waits for the lead tier, which the administrator belongs to, yet never approves.
    lead = user_with_role(Role.MANAGER, "Retention lead", username="lead")
    boss = user_with_role("Retention lead", username="boss", is_superuser=True)
    offer = saves.offer_propose_proactive(
        subscriber=SubscriberFactory.create(), template=catalogue["free"], actor=boss
    )
    assert offer.routed_tier == tiers["lead"]
    tick(clock, NOW + timedelta(hours=1))
    assert len(notified(lead)) == 1
    assert notified(boss) == []


def test_an_offer_decided_before_the_reminder_is_not_reminded(
    clock, tiers, catalogue, agent, manager
):
    offer = saves.offer_propose_proactive(
        subscriber=SubscriberFactory.create(), template=catalogue["big"], actor=agent
    )
    saves.offer_decide(offer=offer, actor=manager, decision=Decision.APPROVE)
    Notification.objects.all().delete()  # the decision's own notice to the agent
    tick(clock, NOW + timedelta(hours=1))
    assert Notification.objects.count() == 0
    assert Reminder.objects.get(kind=Kind.APPROVAL_WAITING).state == State.CANCELLED


# --- Discounts ending ----------------------------------------------------------------------


def accepted_discount(agent, template, subscriber=None) -> CounterOffer:
    offer = saves.offer_propose_proactive(
        subscriber=subscriber or SubscriberFactory.create(), template=template, actor=agent
    )
    offer = offer_lifecycle.offer_present(offer=offer, actor=agent)
    return offer_lifecycle.offer_accept(offer=offer, actor=agent)


def test_a_discount_ending_within_30_days_asks_its_proposer_to_review(
    clock, tiers, catalogue, agent, manager
):
    offer = accepted_discount(agent, catalogue["small"])
    assert offer.runs_until == date(2027, 1, 1)
    assert reminders_for_discounts_ending() == 0  # 31 days away
    clock.move_to(datetime(2026, 12, 3, 6, 0, tzinfo=UTC))
    assert reminders_for_discounts_ending() == 1
    assert reminders_for_discounts_ending() == 1  # nightly, any number of times: one reminder
    assert Reminder.objects.filter(kind=Kind.DISCOUNT_ENDING).count() == 1
    nine = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)  # 09:00 Riga
    tick(clock, nine)
    assert notified(agent) == [
        f"{offer.subscriber.name}'s retention discount ends on 01.01.2027: review their terms."
    ]
    assert notified(manager) == []


def test_no_discount_review_for_a_subscriber_who_has_left(clock, tiers, catalogue, agent):
    offer = accepted_discount(agent, catalogue["small"])
    clock.move_to(datetime(2026, 12, 3, 6, 0, tzinfo=UTC))
    reminders_for_discounts_ending()
    Subscriber.objects.filter(pk=offer.subscriber_id).update(status=Subscriber.Status.CANCELLED)
    tick(clock, datetime(2026, 12, 3, 7, 0, tzinfo=UTC))
    assert notified(agent) == []
    assert Reminder.objects.get(kind=Kind.DISCOUNT_ENDING).state == State.CANCELLED


# --- Equipment return, to the subscriber ---------------------------------------------------


@pytest.fixture
def open_on_holidays(admin_user):
    contact_policy_save(values={"closed_on_public_holidays": False}, actor=admin_user)


def cancelled_with_router(agent, **subscriber_fields) -> tuple[Subscriber, Equipment]:
    subscriber = SubscriberFactory.create(**subscriber_fields)
    router = EquipmentFactory.create(subscriber=subscriber)
    case = case_claim(case=CaseFactory.create(subscriber=subscriber), actor=agent)
    case_cancel(case=case, actor=agent, effective_date=NOW.date())
    router.refresh_from_db()
    return subscriber, router


def equipment_reminder(subscriber) -> Reminder:
    return Reminder.objects.get(kind=Kind.EQUIPMENT_RETURN, subscriber=subscriber)


def test_a_cancellation_schedules_the_return_reminder_a_week_before_the_window_closes(agent):
    subscriber, router = cancelled_with_router(agent)
    assert (router.status, router.return_due_on) == (
        Equipment.Status.RETURN_REQUESTED,
        date(2026, 12, 31),
    )
    found = equipment_reminder(subscriber)
    assert (found.due_at, found.note, found.recipient) == (EQUIPMENT_AT, router.serial, None)


@pytest.mark.usefixtures("open_on_holidays")
def test_the_return_reminder_is_e_mailed_within_hours_and_recorded_as_a_contact(clock, agent):
    subscriber, router = cancelled_with_router(agent, language="en")
    result = tick(clock, EQUIPMENT_AT)
    assert (result.sent, result.deferred) == (1, 0)
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [subscriber.email]
    assert sent.subject == "Returning your equipment"
    assert router.serial in sent.body and "31.12.2026" in sent.body
    found = equipment_reminder(subscriber)
    assert (found.state, found.delivered_at) == (State.SENT, EQUIPMENT_AT)
    contact = TimelineEvent.objects.get(subscriber=subscriber, kind=TimelineEvent.Kind.CONTACT)
    assert contact.data == {"direction": "outbound", "channel": "email", "reminder": found.pk}
    assert contact.occurred_at == EQUIPMENT_AT
    # It counts towards the frequency cap: with one more, the subscriber has had enough.
    TimelineEvent.objects.create(
        subscriber=subscriber,
        kind=TimelineEvent.Kind.CONTACT,
        occurred_at=EQUIPMENT_AT - timedelta(days=1),
        summary="Called",
        data={"direction": "outbound", "channel": "phone"},
    )
    later = EQUIPMENT_AT + timedelta(hours=1)
    assert contact_decision(subscriber=subscriber, channel="phone", now=later).reason == "over_cap"


def test_the_return_reminder_waits_out_christmas(clock, agent):
    # Christmas Eve, Christmas and the second day of Christmas are public holidays in Latvia;
    # the desk keeps them free of contact by default: Sunday 27 December 10:00 Riga.
    subscriber, _ = cancelled_with_router(agent, time_zone="Europe/Riga")
    result = tick(clock, EQUIPMENT_AT)
    assert (result.sent, result.deferred, len(mail.outbox)) == (0, 1, 0)
    sunday_ten = datetime(2026, 12, 27, 8, 0, tzinfo=UTC)
    assert equipment_reminder(subscriber).due_at == sunday_ten
    assert tick(clock, sunday_ten - timedelta(minutes=1)).sent == 0
    assert tick(clock, sunday_ten).sent == 1
    assert [m.to for m in mail.outbox] == [[subscriber.email]]


@pytest.mark.usefixtures("open_on_holidays")
def test_the_return_reminder_waits_for_the_subscribers_own_morning(clock, agent):
    # Thursday 24 December 12:00 UTC: 14:00 in Riga, 21:00 in Tokyo, 07:00 in New York.
    riga, _ = cancelled_with_router(agent, time_zone="Europe/Riga")
    tokyo, _ = cancelled_with_router(agent, time_zone="Asia/Tokyo")
    new_york, _ = cancelled_with_router(agent, time_zone="America/New_York")
    noon = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)
    result = tick(clock, noon)
    assert (result.sent, result.deferred) == (1, 2)
    assert [m.to for m in mail.outbox] == [[riga.email]]
    # Friday 09:00 in Tokyo, Thursday 09:00 in New York.
    assert equipment_reminder(tokyo).due_at == datetime(2026, 12, 25, 0, 0, tzinfo=UTC)
    assert equipment_reminder(new_york).due_at == datetime(2026, 12, 24, 14, 0, tzinfo=UTC)
    assert {equipment_reminder(s).state for s in (tokyo, new_york)} == {State.PENDING}
    # Nothing leaves before the deferred moment; then each goes once.
    assert tick(clock, datetime(2026, 12, 24, 13, 59, tzinfo=UTC)).sent == 0
    assert tick(clock, datetime(2026, 12, 24, 14, 0, tzinfo=UTC)).sent == 1
    assert tick(clock, datetime(2026, 12, 25, 0, 0, tzinfo=UTC)).sent == 1
    assert [m.to for m in mail.outbox[1:]] == [[new_york.email], [tokyo.email]]


@pytest.mark.usefixtures("open_on_holidays")
def test_a_subscriber_who_refuses_e_mail_gets_the_reminder_by_sms(clock, agent, sms_folder):
    subscriber, _ = cancelled_with_router(agent, do_not_email=True)
    assert tick(clock, EQUIPMENT_AT).sent == 1
    assert mail.outbox == []
    found = equipment_reminder(subscriber)
    assert [p.name for p in sms_folder.iterdir()] == [f"reminder-{found.pk}.json"]
    contact = TimelineEvent.objects.get(subscriber=subscriber, kind=TimelineEvent.Kind.CONTACT)
    assert contact.data["channel"] == "sms"


@pytest.mark.parametrize(
    "refusal",
    [
        {"do_not_email": True, "phone": ""},
        {"do_not_email": True, "do_not_sms": True},
        {"email": "", "do_not_sms": True},
    ],
    ids=["no-e-mail-and-no-phone", "do-not-contact", "no-address-and-no-sms"],
)
def test_the_return_reminder_is_dropped_when_the_subscriber_cannot_be_contacted(
    clock, agent, sms_folder, refusal
):
    subscriber, router = cancelled_with_router(agent, **refusal)
    result = tick(clock, EQUIPMENT_AT)
    assert (result.sent, result.cancelled) == (0, 1)
    found = equipment_reminder(subscriber)
    assert found.state == State.CANCELLED
    assert found.note.startswith(router.serial + " — ")
    assert mail.outbox == []
    assert not sms_folder.exists() or not any(sms_folder.iterdir())
    assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CONTACT).exists()


def test_equipment_already_returned_is_not_reminded(clock, agent):
    subscriber, router = cancelled_with_router(agent)
    equipment_mark_returned(equipment=router, actor=agent)
    assert tick(clock, EQUIPMENT_AT).cancelled == 1
    assert equipment_reminder(subscriber).state == State.CANCELLED
    assert mail.outbox == []


@pytest.mark.usefixtures("open_on_holidays")
def test_a_claim_left_by_a_dead_worker_is_sent_once_after_the_sweep(clock, agent, sms_folder):
    subscriber, _ = cancelled_with_router(agent, email="")
    found = equipment_reminder(subscriber)
    # A worker claimed it and handed it to the SMS backend, then died before marking it.
    Reminder.objects.filter(pk=found.pk).update(state=State.SENDING, claimed_at=EQUIPMENT_AT)
    send_sms(Outgoing(f"reminder-{found.pk}", subscriber.phone, "sent before the crash"))
    clock.move_to(EQUIPMENT_AT + timedelta(minutes=5))
    assert reminders_sweep(now=EQUIPMENT_AT + timedelta(minutes=5)) == 0  # still its worker's
    later = EQUIPMENT_AT + timedelta(minutes=11)
    assert reminders_sweep(now=later) == 1
    assert tick(clock, later).sent == 1
    assert [p.name for p in sms_folder.iterdir()] == [f"reminder-{found.pk}.json"]
    assert equipment_reminder(subscriber).state == State.SENT
    assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.CONTACT).count() == 1


# --- Staff e-mail --------------------------------------------------------------------------


def test_staff_who_opted_in_get_their_notifications_by_e_mail_once(clock, settings):
    opted_in = user_with_role(Role.AGENT, username="opted-in", email_notifications=True)
    at = NOW + timedelta(hours=1)
    for owner in (opted_in, user_with_role(Role.AGENT, username="quiet")):
        case = case_claim(case=CaseFactory.create(), actor=owner)
        case_set_callback(case=case, actor=owner, at=at)
    tick(clock, at)
    assert Notification.objects.count() == 2
    assert notifications_email(now=at) == 1
    assert notifications_email(now=at + timedelta(minutes=1)) == 0
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == [opted_in.email]
    assert sent.subject.startswith("Call back ")
    assert f"{settings.SITE_URL}/cases/" in sent.body
    assert Notification.objects.get(recipient=opted_in).email_state == "sent"


def test_every_staff_notification_reaches_the_opted_in_by_email_too(agent, manager):
    from retention.cases.services import cases_reassign
    from retention.models import Notification

    type(agent).objects.filter(pk=agent.pk).update(email_notifications=True)
    agent.refresh_from_db()
    case = CaseFactory.create()
    cases_reassign(case_ids=[case.pk], to_user=agent, actor=manager, reason="holiday cover")
    note = Notification.objects.get(recipient=agent)
    assert note.email_state == "pending"  # the e-mail step sends it after commit


def test_a_port_out_that_brings_the_date_forward_moves_the_process_by_reminder(agent):
    from datetime import date as day

    from retention.cases.opening import Intake, case_open

    subscriber = SubscriberFactory.create()
    case = case_open(
        subscriber=subscriber,
        intake=Intake(channel="web", requested_end_date=day.today() + timedelta(days=12)),
        actor=None,
    )
    first = Reminder.objects.get(case=case, kind=Reminder.Kind.PROCESS_BY)
    case_open(
        subscriber=subscriber,
        intake=Intake(
            channel="port_out",
            requested_end_date=day.today() + timedelta(days=5),
            external_id="po-1",
        ),
        actor=None,
    )
    first.refresh_from_db()
    assert first.state == Reminder.State.CANCELLED
    pending = Reminder.objects.get(
        case=case, kind=Reminder.Kind.PROCESS_BY, state=Reminder.State.PENDING
    )
    case.refresh_from_db()
    assert pending.key.endswith(f"{case.process_by:%Y%m%d}")
