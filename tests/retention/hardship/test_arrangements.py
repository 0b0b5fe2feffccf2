"""Hardship arrangements: accepting a deferral or split payment schedules what the subscriber
owed; billing's payments keep the instalments; a missed one breaks the arrangement after the
grace days (the agent is told and gets a callback); paying it after all keeps it again; paying
everything completes it. Billing holds fees and suspension exactly while it is kept.

Tuesday 1 December 2026, 10:00 in Riga; the grace is 5 days.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.test import override_settings

from offers.models import OfferKind
from retention.cases.services import case_claim
from retention.core.refusals import WrongState
from retention.core.roles import Role
from retention.hardship import services as hardship
from retention.models import (
    ArrangementHistory,
    HardshipArrangement,
    HardshipPayment,
    Instalment,
    Notification,
    OutreachCampaign,
    Reminder,
)
from retention.notifications.reminders import reminders_tick
from retention.outreach.replies import offer_taken_online
from retention.saves import services as saves
from retention.saves.services import Decision
from subscribers.ingestion import events_ingest
from subscribers.models import OutboundEvent, TimelineEvent
from tests.factories import CaseFactory, SubscriberFactory, offer_template, user_with_role
from tests.retention.hardship.helpers import accepted, pay

pytestmark = pytest.mark.django_db

D = Decimal
Status = HardshipArrangement.Status
Type = OutboundEvent.Type
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with (
        override_settings(HARDSHIP_GRACE_DAYS=5),
        time_machine.travel(NOW, tick=False) as traveller,
    ):
        yield traveller


@pytest.fixture
def lead(tiers):
    return user_with_role(Role.MANAGER, tiers["lead"].group, username="lead")


@pytest.fixture
def split(agent, lead):
    """A split of €100.00 in three: 33.33 on 1 January, 33.33 on 1 February, 33.34 on 1 March."""
    template = offer_template("split-3", OfferKind.SPLIT_PAYMENT, months=3)
    _, offer = accepted(agent, lead, template, balance=D("100.00"))
    return HardshipArrangement.objects.get(offer=offer)


def at(traveller, day: date, hour: int = 8):
    traveller.move_to(datetime(day.year, day.month, day.day, hour, tzinfo=UTC))
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def events(subscriber, type_):
    return [
        e.payload["data"]
        for e in OutboundEvent.objects.filter(subscriber=subscriber, type=type_).order_by("id")
    ]


def schedule(arrangement):
    return [
        (i.number, i.due_on, i.amount, i.paid, i.state)
        for i in arrangement.instalments.order_by("number")
    ]


def actions(arrangement):
    return list(arrangement.history.order_by("at", "pk").values_list("action", flat=True))


# --- Starting -----------------------------------------------------------------------------------


def test_a_split_payment_schedules_what_billing_was_told_to_the_cent(split):
    told = events(split.subscriber, Type.OFFER_ACCEPTED)[0]["split"]
    assert told == {"amount": "100.00", "instalments": 3, "monthly": "33.33"}
    assert schedule(split) == [
        (1, date(2027, 1, 1), D("33.33"), D("0.00"), "due"),
        (2, date(2027, 2, 1), D("33.33"), D("0.00"), "due"),
        (3, date(2027, 3, 1), D("33.34"), D("0.00"), "due"),
    ]
    monthly = D(told["monthly"])
    amounts = [i.amount for i in split.instalments.all()]
    assert amounts[:-1] == [monthly] * 2
    assert sum(amounts) == D(told["amount"])
    assert (split.status, split.owed, split.kind, split.grace_days) == (
        Status.KEPT,
        D("100.00"),
        "split",
        5,
    )
    assert split.case is not None and split.case.status == "saved"


def test_starting_tells_billing_to_hold_until_the_last_due_date_plus_grace(split):
    (hold,) = events(split.subscriber, Type.HARDSHIP_HOLD)
    assert hold == {
        "subscriber": {
            "id": split.subscriber_id,
            "account_number": split.subscriber.account_number,
        },
        "arrangement": split.pk,
        "offer": split.offer_id,
        "kind": "split",
        "owed": "100.00",
        "until": "2027-03-06",
        "instalments": [
            {"number": 1, "due_on": "2027-01-01", "amount": "33.33", "paid": "0.00"},
            {"number": 2, "due_on": "2027-02-01", "amount": "33.33", "paid": "0.00"},
            {"number": 3, "due_on": "2027-03-01", "amount": "33.34", "paid": "0.00"},
        ],
    }
    assert actions(split) == ["started"]
    started = TimelineEvent.objects.get(subscriber=split.subscriber, code="hardship.split")
    assert str(started) == (
        "Billing · Payment arrangement: €100.00 in 3 monthly instalments of €33.33, "
        "the last on 01.03.2027"
    )


def test_an_awkward_split_still_adds_up_to_the_cent(agent, lead):
    template = offer_template("split-7", OfferKind.SPLIT_PAYMENT, months=7)
    _, offer = accepted(agent, lead, template, balance=D("100.01"))
    arrangement = HardshipArrangement.objects.get(offer=offer)
    told = events(arrangement.subscriber, Type.OFFER_ACCEPTED)[0]["split"]
    amounts = [i.amount for i in arrangement.instalments.order_by("number")]
    assert amounts == [D("14.28")] * 6 + [D("14.33")]
    assert amounts[0] == D(told["monthly"]) and sum(amounts) == D("100.01")


def test_a_deferral_is_one_instalment_of_the_whole_balance_on_the_deferred_day(agent, lead):
    template = offer_template("defer-30", OfferKind.PAYMENT_DEFERRAL, days=30)
    _, offer = accepted(agent, lead, template, balance=D("59.98"))
    arrangement = HardshipArrangement.objects.get(offer=offer)
    assert arrangement.kind == "deferral"
    assert schedule(arrangement) == [(1, date(2026, 12, 31), D("59.98"), D("0.00"), "due")]
    assert offer.runs_until == date(2026, 12, 31)
    assert events(arrangement.subscriber, Type.HARDSHIP_HOLD)[0]["until"] == "2027-01-05"


def test_nothing_owed_means_no_arrangement_and_the_timeline_says_why(agent, lead):
    """A split of nothing cannot be proposed; but the subscriber may pay before they accept."""
    template = offer_template("split-3", OfferKind.SPLIT_PAYMENT, months=3)
    subscriber = SubscriberFactory.create(balance=D("50.00"))
    case = case_claim(case=CaseFactory.create(subscriber=subscriber), actor=agent)
    offer = saves.case_offer_propose(case=case, template=template, actor=agent)
    if offer.status == offer.Status.PENDING:
        saves.offer_decide(offer=offer, actor=lead, decision=Decision.APPROVE)
    saves.offer_present(offer=offer, actor=agent)
    pay(subscriber, "50.00", NOW)
    offer = saves.offer_answer(offer=offer, actor=agent, accepted=True)
    assert offer.status == "accepted"
    assert not HardshipArrangement.objects.exists()
    assert not OutboundEvent.objects.filter(type=Type.HARDSHIP_HOLD).exists()
    said = TimelineEvent.objects.get(subscriber=case.subscriber, code="hardship.nothing_owed")
    assert f"nothing was owed when offer #{offer.pk} was accepted" in str(said)


def test_other_offers_start_no_arrangement(agent, lead):
    credit = offer_template("credit-20", OfferKind.ONE_TIME_CREDIT, amount=D("20"))
    accepted(agent, lead, credit, balance=D("50.00"))
    assert not HardshipArrangement.objects.exists()


def test_a_split_taken_through_an_outreach_link_starts_its_arrangement(agent, lead):
    template = offer_template("split-2", OfferKind.SPLIT_PAYMENT, months=2)
    campaign = OutreachCampaign.objects.create(
        name="Hardship", created_by=lead, template=template, channel="sms", body_en="{name}"
    )
    subscriber = SubscriberFactory.create(balance=D("40.00"))
    offer = offer_taken_online(campaign, subscriber)
    arrangement = HardshipArrangement.objects.get(offer=offer)
    assert [i.amount for i in arrangement.instalments.all()] == [D("20.00"), D("20.00")]


# --- Kept and completed -------------------------------------------------------------------------


def test_payments_on_time_keep_it_and_the_last_one_completes_it(split, clock):
    subscriber = split.subscriber
    for day, amount in ((date(2026, 12, 30), "33.33"), (date(2027, 1, 30), "33.33")):
        now = at(clock, day)
        pay(subscriber, amount, now)
        hardship.hardship_tick(now=now)
    split.refresh_from_db()
    assert split.status == Status.KEPT
    assert [s[4] for s in schedule(split)] == ["paid", "paid", "due"]
    now = at(clock, date(2027, 2, 27))
    pay(subscriber, "33.34", now)
    tick = hardship.hardship_tick(now=now)
    assert (tick.payments, tick.completed, tick.broken) == (1, 1, 0)
    split.refresh_from_db()
    assert (split.status, split.ended_at) == (Status.COMPLETED, now)
    assert [(s[3], s[4]) for s in schedule(split)] == [
        (D("33.33"), "paid"),
        (D("33.33"), "paid"),
        (D("33.34"), "paid"),
    ]
    assert actions(split) == ["started", "paid", "paid", "paid", "completed"]
    (released,) = events(subscriber, Type.HARDSHIP_RELEASED)
    assert (released["reason"], released["outstanding"]) == ("completed", "0.00")
    assert len(events(subscriber, Type.HARDSHIP_HOLD)) == 1
    codes = list(
        TimelineEvent.objects.filter(subscriber=subscriber, code__startswith="hardship.")
        .order_by("id")
        .values_list("code", flat=True)
    )
    assert codes == [
        "hardship.split",
        "hardship.paid",
        "hardship.paid",
        "hardship.paid",
        "hardship.completed",
    ]


def test_partial_payments_add_up_in_due_order(split, clock):
    subscriber = split.subscriber
    now = at(clock, date(2026, 12, 20))
    pay(subscriber, "20.00", now)
    pay(subscriber, "20.00", now + timedelta(hours=1))
    hardship.hardship_tick(now=now + timedelta(hours=2))
    split.refresh_from_db()
    assert [(s[3], s[4]) for s in schedule(split)] == [
        (D("33.33"), "paid"),
        (D("6.67"), "due"),
        (D("0.00"), "due"),
    ]
    first, second = HardshipPayment.objects.order_by("event__occurred_at")
    assert (first.counted, first.instalments) == (D("20.00"), {"1": "20.00"})
    assert second.instalments == {"1": "13.33", "2": "6.67"}


def test_more_than_owed_is_not_counted_twice_or_beyond_the_debt(split, clock):
    now = at(clock, date(2026, 12, 20))
    pay(split.subscriber, "150.00", now)
    hardship.hardship_tick(now=now)
    (payment,) = HardshipPayment.objects.all()
    assert (payment.amount, payment.counted) == (D("150.00"), D("100.00"))
    split.refresh_from_db()
    assert split.status == Status.COMPLETED


def test_a_payment_recorded_before_the_acceptance_is_not_counted(agent, lead, clock):
    subscriber = SubscriberFactory.create(balance=D("100.00"))
    pay(subscriber, "30.00", NOW - timedelta(days=1))  # the balance is 70.00 now
    template = offer_template("split-2", OfferKind.SPLIT_PAYMENT, months=2)
    case = case_claim(case=CaseFactory.create(subscriber=subscriber), actor=agent)
    offer = saves.case_offer_propose(case=case, template=template, actor=agent)
    if offer.status == offer.Status.PENDING:
        saves.offer_decide(offer=offer, actor=lead, decision=Decision.APPROVE)
    saves.offer_present(offer=offer, actor=agent)
    saves.offer_answer(offer=offer, actor=agent, accepted=True)
    arrangement = HardshipArrangement.objects.get(offer=offer)
    assert arrangement.owed == D("70.00")
    assert hardship.hardship_tick().payments == 0


# --- Broken and recovered -----------------------------------------------------------------------


def test_a_missed_instalment_breaks_it_after_the_grace_days_once(split, clock, agent):
    subscriber = split.subscriber
    # 1 January due, 6 January the last day of grace: still kept.
    assert hardship.hardship_tick(now=at(clock, date(2027, 1, 6))).broken == 0
    split.refresh_from_db()
    assert split.status == Status.KEPT
    now = at(clock, date(2027, 1, 7))
    assert hardship.hardship_tick(now=now).broken == 1
    assert hardship.hardship_tick(now=now).broken == 0  # the tick run again changes nothing
    split.refresh_from_db()
    assert split.status == Status.BROKEN
    assert schedule(split)[0][4] == "missed"
    assert actions(split) == ["started", "broken"]
    (released,) = events(subscriber, Type.HARDSHIP_RELEASED)
    assert (released["reason"], released["outstanding"]) == ("broken", "100.00")
    (notice,) = Notification.objects.filter(recipient=agent, code="notify.hardship_broken")
    assert "missed instalment 1 of their payment arrangement" in str(notice)
    (callback,) = Reminder.objects.filter(kind=Reminder.Kind.CALLBACK, recipient=agent)
    assert callback.due_at == datetime(2027, 1, 8, 8, 0, tzinfo=UTC)  # 10:00 in Riga
    assert TimelineEvent.objects.filter(subscriber=subscriber, code="hardship.broken").count() == 1


def test_the_callback_reminds_the_agent_while_the_arrangement_is_broken(split, clock, agent):
    hardship.hardship_tick(now=at(clock, date(2027, 1, 7)))
    reminders_tick(now=at(clock, date(2027, 1, 8), 9))
    (notice,) = Notification.objects.filter(recipient=agent, code="notify.hardship_callback")
    assert f"payment arrangement #{split.pk}" in str(notice)


def test_the_callback_is_dropped_when_the_arrangement_recovered_first(split, clock, agent):
    hardship.hardship_tick(now=at(clock, date(2027, 1, 7)))
    now = at(clock, date(2027, 1, 7), 12)
    pay(split.subscriber, "33.33", now)
    hardship.hardship_tick(now=now)
    reminders_tick(now=at(clock, date(2027, 1, 8), 9))
    assert not Notification.objects.filter(code="notify.hardship_callback").exists()
    assert Reminder.objects.get(kind=Reminder.Kind.CALLBACK).state == "cancelled"


def test_paying_the_missed_instalment_late_keeps_it_again_and_billing_holds_again(split, clock):
    subscriber = split.subscriber
    hardship.hardship_tick(now=at(clock, date(2027, 1, 7)))
    now = at(clock, date(2027, 1, 10))
    pay(subscriber, "10.00", now)  # partial: still missed
    assert hardship.hardship_tick(now=now).recovered == 0
    pay(subscriber, "23.33", now + timedelta(hours=1))
    tick = hardship.hardship_tick(now=now + timedelta(hours=1))
    assert tick.recovered == 1
    assert hardship.hardship_tick(now=now + timedelta(hours=2)).recovered == 0
    split.refresh_from_db()
    assert split.status == Status.KEPT
    assert schedule(split)[0][3:] == (D("33.33"), "paid")
    assert actions(split) == ["started", "broken", "paid", "recovered"]
    recovered = split.history.get(action="recovered")
    assert (recovered.from_status, recovered.to_status) == ("broken", "kept")
    holds = events(subscriber, Type.HARDSHIP_HOLD)
    assert len(holds) == 2
    assert holds[1]["instalments"][0]["paid"] == "33.33"


def test_a_recovered_arrangement_can_break_again_on_a_later_instalment(split, clock):
    hardship.hardship_tick(now=at(clock, date(2027, 1, 7)))
    now = at(clock, date(2027, 1, 8))
    pay(split.subscriber, "33.33", now)
    hardship.hardship_tick(now=now)
    hardship.hardship_tick(now=at(clock, date(2027, 2, 7)))
    split.refresh_from_db()
    assert split.status == Status.BROKEN
    assert actions(split) == ["started", "broken", "paid", "recovered", "broken"]
    assert Reminder.objects.filter(kind=Reminder.Kind.CALLBACK).count() == 2
    assert [e["reason"] for e in events(split.subscriber, Type.HARDSHIP_RELEASED)] == [
        "broken",
        "broken",
    ]


# --- Exactly once -------------------------------------------------------------------------------


def test_the_tick_run_twice_counts_a_payment_once(split, clock):
    now = at(clock, date(2026, 12, 20))
    pay(split.subscriber, "33.33", now)
    assert hardship.hardship_tick(now=now).payments == 1
    assert hardship.hardship_tick(now=now).payments == 0
    assert Instalment.objects.get(arrangement=split, number=1).paid == D("33.33")
    assert HardshipPayment.objects.count() == 1
    assert ArrangementHistory.objects.filter(action="paid").count() == 1


def test_a_resent_payment_is_a_duplicate_and_counts_nothing(split, clock):
    now = at(clock, date(2026, 12, 20))
    item = {
        "external_id": "pay-same",
        "account_number": split.subscriber.account_number,
        "kind": "payment",
        "occurred_at": now.isoformat(),
        "summary": "Payment",
        "data": {"amount": "33.33"},
    }
    events_ingest(source="billing", items=[item], skip_invalid=False)
    hardship.hardship_tick(now=now)
    events_ingest(source="billing", items=[item], skip_invalid=False)
    hardship.hardship_tick(now=now)
    assert Instalment.objects.get(arrangement=split, number=1).paid == D("33.33")
    assert Instalment.objects.get(arrangement=split, number=2).paid == D("0.00")


# --- Illegal transitions ------------------------------------------------------------------------


def test_a_completed_arrangement_cannot_break_recover_or_complete_again(split, clock):
    now = at(clock, date(2026, 12, 20))
    pay(split.subscriber, "100.00", now)
    hardship.hardship_tick(now=now)
    split.refresh_from_db()
    first = split.instalments.get(number=1)
    with pytest.raises(WrongState):
        hardship.arrangement_break(arrangement=split, missed=first)
    with pytest.raises(WrongState):
        hardship.arrangement_recover(arrangement=split)
    with pytest.raises(WrongState):
        hardship.arrangement_complete(arrangement=split)
    split.refresh_from_db()
    assert split.status == Status.COMPLETED
    assert actions(split)[-1] == "completed"


def test_a_kept_arrangement_cannot_recover_nor_complete_while_unpaid(split):
    with pytest.raises(WrongState):
        hardship.arrangement_recover(arrangement=split)
    with pytest.raises(WrongState):
        hardship.arrangement_complete(arrangement=split)
    assert actions(split) == ["started"]


def test_a_broken_arrangement_cannot_break_again_nor_recover_with_a_missed_instalment(split, clock):
    hardship.hardship_tick(now=at(clock, date(2027, 1, 7)))
    split.refresh_from_db()
    with pytest.raises(WrongState):
        hardship.arrangement_break(arrangement=split, missed=split.instalments.get(number=1))
    with pytest.raises(WrongState):
        hardship.arrangement_recover(arrangement=split)
    assert actions(split) == ["started", "broken"]


def test_the_tick_leaves_alone_the_arrangements_nothing_can_happen_to(
    split, clock, django_assert_num_queries
):
    """Nothing paid and nothing due yet: one query finds nothing to settle."""
    now = at(clock, date(2026, 12, 20))
    with django_assert_num_queries(1):
        assert hardship.hardship_tick(now=now) == hardship.Tick(0, 0, 0, 0)


# --- Billing refused the offer ------------------------------------------------------------------


def test_billing_refusing_the_split_cancels_the_arrangement_and_its_hold(split, clock):
    saves.offer_billing_answered(
        offer_id=split.offer_id, applied=False, reason="No split for this account", at=NOW
    )
    split.refresh_from_db()
    assert (split.status, split.ended_at) == (Status.CANCELLED, NOW)
    assert actions(split) == ["started", "cancelled"]
    (released,) = events(split.subscriber, Type.HARDSHIP_RELEASED)
    assert (released["reason"], released["outstanding"]) == ("refused", "100.00")
    said = TimelineEvent.objects.get(subscriber=split.subscriber, code="hardship.cancelled")
    assert "billing refused the offer (No split for this account)" in str(said)
    split.case.refresh_from_db()
    assert split.case.status == "in_progress"  # the agent agrees new terms
    # Nothing more happens to it: no break, no callback.
    assert hardship.hardship_tick(now=at(clock, date(2027, 1, 7))) == hardship.Tick(0, 0, 0, 0)
    with pytest.raises(WrongState):
        hardship.arrangement_cancel(arrangement=split, reason="again")


def test_billing_applying_the_split_changes_nothing_of_the_arrangement(split):
    saves.offer_billing_answered(offer_id=split.offer_id, applied=True, reason="", at=NOW)
    split.refresh_from_db()
    assert split.status == Status.KEPT
    assert not events(split.subscriber, Type.HARDSHIP_RELEASED)
