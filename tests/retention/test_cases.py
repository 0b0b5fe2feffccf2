"""Cancellation cases: intake, claiming, assignment, closing, and the deadline sweep."""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from retention.cases import services as cases
from retention.cases.opening import CaseAlreadyOpen, Intake, case_open
from retention.cases.sweeps import cases_process_overdue, cases_reprioritise
from retention.core.refusals import NotAllowed, WrongState
from retention.core.roles import Role
from retention.models import CancellationCase, CancellationReason, CaseHistory, Notification, Team
from subscribers.models import Equipment, Subscriber, TimelineEvent
from tests.factories import (
    CaseFactory,
    EquipmentFactory,
    SubscriberFactory,
    UserFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db
Status = CancellationCase.Status
# Tuesday 24 November 2026, 10:00 in Riga.
TUESDAY_10 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def history_actions(case):
    return list(case.history.order_by("at", "id").values_list("action", flat=True))


# --- Intake -------------------------------------------------------------------------------------


@time_machine.travel(TUESDAY_10, tick=False)
def test_a_web_request_gets_its_deadlines_priority_history_and_timeline_event():
    subscriber = SubscriberFactory.create(monthly_price="39.00", churn_risk=60)
    case = case_open(
        subscriber=subscriber,
        intake=Intake(channel="web", requested_end_date=date(2026, 12, 1)),
        actor=None,
    )
    assert case.status == Status.NEW and case.owner is None
    assert case.process_by == date(2026, 12, 1)
    # 4 working hours from 10:00 on a Tuesday.
    assert case.first_contact_due == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert case.priority == sum(points for _, points in case.priority_explained)
    assert ["monthly value", 39] in case.priority_explained
    assert history_actions(case) == ["opened"]
    event = TimelineEvent.objects.get(subscriber=subscriber, kind="cancellation_request")
    assert event.data["case"] == case.pk


@time_machine.travel(TUESDAY_10, tick=False)
def test_nobody_waits_more_than_14_days_but_a_port_out_switch_date_binds():
    late = case_open(
        subscriber=SubscriberFactory.create(),
        intake=Intake(channel="email", requested_end_date=date(2027, 3, 1)),
        actor=None,
    )
    assert late.process_by == date(2026, 12, 8)
    unspecified = case_open(
        subscriber=SubscriberFactory.create(), intake=Intake(channel="web"), actor=None
    )
    assert unspecified.process_by == date(2026, 12, 8)
    port_out = case_open(
        subscriber=SubscriberFactory.create(),
        intake=Intake(
            channel="port_out", requested_end_date=date(2026, 11, 27), competitor="Tele2"
        ),
        actor=None,
    )
    assert port_out.process_by == date(2026, 11, 27)
    assert ["port-out to a competitor", 40] in port_out.priority_explained
    assert ["deadline within 3 days", 50] in port_out.priority_explained


@time_machine.travel(datetime(2026, 11, 27, 15, 0, tzinfo=UTC), tick=False)
def test_the_first_contact_sla_counts_working_hours_only():
    # Friday 17:00 Riga: one working hour left today, three more on Monday from 08:00.
    case = case_open(
        subscriber=SubscriberFactory.create(), intake=Intake(channel="web"), actor=None
    )
    assert case.first_contact_due == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # Monday 11:00


@time_machine.travel(TUESDAY_10, tick=False)
def test_an_agent_taking_an_inbound_call_owns_the_case_and_the_call_is_the_first_contact(agent):
    case = case_open(
        subscriber=SubscriberFactory.create(), intake=Intake(channel="phone"), actor=agent
    )
    assert (case.owner, case.status) == (agent, Status.IN_PROGRESS)
    assert case.first_contacted_at == TUESDAY_10
    assert case.contacts.get().direction == "inbound"


def test_at_most_one_open_case_per_subscriber():
    subscriber = SubscriberFactory.create()
    first = case_open(subscriber=subscriber, intake=Intake(channel="web"), actor=None)
    with pytest.raises(CaseAlreadyOpen) as raised:
        case_open(subscriber=subscriber, intake=Intake(channel="email"), actor=None)
    assert raised.value.case == first
    assert CancellationCase.objects.filter(subscriber=subscriber).count() == 1


def test_the_database_refuses_a_second_open_case_even_past_the_service():
    from django.db import IntegrityError, transaction

    subscriber = SubscriberFactory.create()
    CaseFactory.create(subscriber=subscriber)
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseFactory.create(subscriber=subscriber)


@time_machine.travel(TUESDAY_10, tick=False)
def test_a_port_out_notice_binds_its_switch_date_to_the_open_case():
    subscriber = SubscriberFactory.create()
    case = case_open(subscriber=subscriber, intake=Intake(channel="web"), actor=None)
    merged = case_open(
        subscriber=subscriber,
        intake=Intake(channel="port_out", requested_end_date=date(2026, 11, 30)),
        actor=None,
    )
    assert merged.pk == case.pk
    case.refresh_from_db()
    assert (case.channel, case.process_by) == ("port_out", date(2026, 11, 30))


def test_the_same_external_request_twice_opens_one_case():
    subscriber = SubscriberFactory.create()
    intake = Intake(channel="web", source="billing", external_id="req-1")
    first = case_open(subscriber=subscriber, intake=intake, actor=None)
    again = case_open(subscriber=subscriber, intake=intake, actor=None)
    assert first.pk == again.pk
    assert CaseHistory.objects.filter(case=first).count() == 1


def test_a_cancelled_subscriber_cannot_be_asked_to_stay():
    subscriber = SubscriberFactory.create(status=Subscriber.Status.CANCELLED)
    with pytest.raises(WrongState):
        case_open(subscriber=subscriber, intake=Intake(channel="web"), actor=None)


# --- Claiming -----------------------------------------------------------------------------------


def test_claim_next_hands_out_the_highest_priority_then_the_earliest_due(agent):
    now = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    CaseFactory.create(priority=10, first_contact_due=now)
    later = CaseFactory.create(priority=90, first_contact_due=now + timedelta(hours=2))
    sooner = CaseFactory.create(priority=90, first_contact_due=now + timedelta(hours=1))
    assert cases.case_claim_next(actor=agent) == sooner
    assert cases.case_claim_next(actor=agent) == later
    sooner.refresh_from_db()
    assert (sooner.owner, sooner.status) == (agent, Status.IN_PROGRESS)
    assert history_actions(sooner) == ["claimed"]


def test_claim_next_on_an_empty_queue_gives_nothing(agent):
    assert cases.case_claim_next(actor=agent) is None


def test_a_case_claimed_by_someone_else_cannot_be_claimed(agent):
    other = user_with_role(Role.AGENT, username="other")
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=other)
    with pytest.raises(NotAllowed, match="claimed this case first"):
        cases.case_claim(case=case, actor=agent)


def test_users_without_a_desk_role_cannot_claim():
    nobody = UserFactory.create(username="nobody")
    with pytest.raises(NotAllowed):
        cases.case_claim_next(actor=nobody)


def test_release_puts_the_case_back_and_only_the_owner_or_a_manager_may(agent, manager):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    with pytest.raises(NotAllowed):
        cases.case_release(case=case, actor=user_with_role(Role.AGENT, username="other"))
    cases.case_release(case=case, actor=agent)
    case.refresh_from_db()
    assert (case.owner, case.status) == (None, Status.NEW)
    assert history_actions(case) == ["claimed", "released"]


# --- Managers -----------------------------------------------------------------------------------


def test_a_manager_reassigns_many_cases_with_a_reason_and_the_agent_is_told():
    team = Team.objects.create(name="North")
    manager = user_with_role(Role.MANAGER, username="lead", team=team)
    ilze = user_with_role(Role.AGENT, username="ilze", team=team)
    janis = user_with_role(Role.AGENT, username="janis", team=team)
    batch = CaseFactory.create_batch(3)
    cases.case_claim(case=batch[0], actor=ilze)
    moved = cases.cases_reassign(
        case_ids=[c.pk for c in batch], to_user=janis, actor=manager, reason="Ilze is on leave"
    )
    assert {c.owner for c in moved} == {janis}
    entry = CaseHistory.objects.filter(case=batch[0], action="reassigned").get()
    assert "Ilze is on leave" in entry.text and entry.actor == manager
    assert Notification.objects.filter(recipient=janis).count() == 3


def test_agents_cannot_reassign_and_a_reason_is_required(agent, manager):
    case = CaseFactory.create()
    with pytest.raises(NotAllowed):
        cases.cases_reassign(case_ids=[case.pk], to_user=agent, actor=agent, reason="mine")
    with pytest.raises(WrongState):
        cases.cases_reassign(case_ids=[case.pk], to_user=agent, actor=manager, reason="  ")


def test_a_manager_cannot_touch_another_teams_case():
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    manager = user_with_role(Role.MANAGER, username="lead", team=north)
    southern_agent = user_with_role(Role.AGENT, username="s-agent", team=south)
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=southern_agent)
    with pytest.raises(NotAllowed):
        cases.case_withdraw(case=case, actor=manager, note="stays")
    with pytest.raises(NotAllowed):
        cases.cases_reassign(case_ids=[case.pk], to_user=manager, actor=manager, reason="x")


# --- Working and closing ------------------------------------------------------------------------


def test_agents_act_only_on_their_own_cases(agent):
    other = user_with_role(Role.AGENT, username="other")
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=other)
    reason = CancellationReason.objects.get(code="quality")
    for attempt in (
        lambda: cases.case_set_reason(
            case=case, actor=agent, reason=reason, reason_detail="", competitor=""
        ),
        lambda: cases.case_add_note(case=case, actor=agent, text="hello"),
        lambda: cases.case_set_callback(
            case=case, actor=agent, at=datetime(2030, 1, 1, tzinfo=UTC)
        ),
        lambda: cases.case_withdraw(case=case, actor=agent, note="stays"),
        lambda: cases.case_cancel(case=case, actor=agent, effective_date=timezone.localdate()),
    ):
        with pytest.raises(NotAllowed):
            attempt()
    assert history_actions(case) == ["claimed"]


@time_machine.travel(TUESDAY_10, tick=False)
def test_reason_note_and_callback_are_recorded(agent):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    quality = CancellationReason.objects.get(code="quality")
    cases.case_set_reason(
        case=case, actor=agent, reason=quality, reason_detail="Drops every evening", competitor=""
    )
    cases.case_add_note(case=case, actor=agent, text="Offered a technician visit")
    # Thursday 11:00 in Riga: before the process-by date, within calling hours.
    thursday_11 = datetime(2026, 11, 26, 9, tzinfo=UTC)
    cases.case_set_callback(case=case, actor=agent, at=thursday_11)
    case.refresh_from_db()
    assert case.reason == quality
    assert case.callback_at == thursday_11
    assert history_actions(case) == ["claimed", "reason", "note", "callback"]
    assert TimelineEvent.objects.filter(subscriber=case.subscriber, kind="note").exists()
    with pytest.raises(WrongState):
        cases.case_set_callback(case=case, actor=agent, at=datetime(2020, 1, 1, tzinfo=UTC))


def test_withdrawal_records_what_the_subscriber_said(agent):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    with pytest.raises(WrongState):
        cases.case_withdraw(case=case, actor=agent, note=" ")
    cases.case_withdraw(case=case, actor=agent, note="Moving was called off")
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN and case.closed_at
    assert TimelineEvent.objects.filter(subscriber=case.subscriber, kind="withdrawn").exists()


@time_machine.travel(TUESDAY_10, tick=False)
def test_processing_a_cancellation_stops_billing_and_asks_for_the_equipment_back(agent):
    subscriber = SubscriberFactory.create()
    router = EquipmentFactory.create(subscriber=subscriber)
    returned = EquipmentFactory.create(subscriber=subscriber, status=Equipment.Status.RETURNED)
    case = CaseFactory.create(subscriber=subscriber, process_by=date(2026, 12, 5))
    cases.case_claim(case=case, actor=agent)
    cases.case_cancel(
        case=case, actor=agent, effective_date=date(2026, 12, 1), note="Moving abroad"
    )
    case.refresh_from_db()
    subscriber.refresh_from_db()
    router.refresh_from_db()
    returned.refresh_from_db()
    assert (case.status, case.effective_date) == (Status.CANCELLED, date(2026, 12, 1))
    assert (subscriber.status, subscriber.billing_ends_on) == ("cancelling", date(2026, 12, 1))
    assert router.status == "return_requested" and router.return_due_on == date(2026, 12, 31)
    assert returned.status == "returned"
    kinds = set(TimelineEvent.objects.filter(subscriber=subscriber).values_list("kind", flat=True))
    assert {"cancelled", "equipment_return_requested"} <= kinds
    assert history_actions(case)[-1] == "cancelled"


@time_machine.travel(TUESDAY_10, tick=False)
def test_the_effective_date_is_never_in_the_past_nor_after_the_process_by_date(agent):
    case = CaseFactory.create(process_by=date(2026, 11, 30))
    cases.case_claim(case=case, actor=agent)
    with pytest.raises(WrongState):
        cases.case_cancel(case=case, actor=agent, effective_date=date(2026, 11, 23))
    with pytest.raises(WrongState, match="able to leave by"):
        cases.case_cancel(case=case, actor=agent, effective_date=date(2026, 12, 1))


def test_a_closed_case_cannot_change_again(agent):
    case = CaseFactory.create()
    cases.case_claim(case=case, actor=agent)
    cases.case_withdraw(case=case, actor=agent, note="stays")
    with pytest.raises(WrongState, match="already closed"):
        cases.case_cancel(case=case, actor=agent, effective_date=timezone.localdate())
    with pytest.raises(WrongState):
        cases.case_claim(case=case, actor=agent)
    with pytest.raises(WrongState):
        cases.case_release(case=case, actor=agent)


def test_a_returned_item_cannot_be_returned_twice(agent):
    from subscribers.services import equipment_mark_returned

    item = EquipmentFactory.create()
    equipment_mark_returned(equipment=item, actor=agent, method="courier")
    item.refresh_from_db()
    assert item.status == "returned" and item.return_method == "courier"
    with pytest.raises(WrongState):
        equipment_mark_returned(equipment=item, actor=agent)


# --- The deadline sweep -------------------------------------------------------------------------


def test_the_sweep_processes_every_case_at_its_deadline_exactly_once(agent):
    # The whole story on one frozen clock: claimed the week before, swept on the deadline.
    with time_machine.travel(TUESDAY_10 - timedelta(days=7), tick=False):
        due = CaseFactory.create(process_by=date(2026, 11, 24))
        cases.case_claim(case=due, actor=agent)
        overdue = CaseFactory.create(process_by=date(2026, 11, 20))
        later = CaseFactory.create(process_by=date(2026, 11, 25))
    with time_machine.travel(TUESDAY_10, tick=False):
        assert cases_process_overdue() == 2
        assert cases_process_overdue() == 0
    for case in (due, overdue):
        case.refresh_from_db()
        assert case.status == Status.CANCELLED and case.auto_processed
        assert case.effective_date == case.process_by
        assert history_actions(case)[-1] == "auto_cancelled"
    later.refresh_from_db()
    assert later.status == Status.NEW
    assert Notification.objects.get(recipient=agent).url == f"/cases/{due.pk}/"
    assert due.subscriber.cases.get().status == Status.CANCELLED


def test_cancelling_subscribers_become_cancelled_when_billing_ends():
    from subscribers.services import subscribers_complete_cancellations

    ending = SubscriberFactory.create(status="cancelling", billing_ends_on=date(2026, 11, 24))
    later = SubscriberFactory.create(status="cancelling", billing_ends_on=date(2026, 11, 25))
    assert subscribers_complete_cancellations(today=date(2026, 11, 24)) == 1
    ending.refresh_from_db()
    later.refresh_from_db()
    assert (ending.status, later.status) == ("cancelled", "cancelling")


def test_priorities_are_recomputed_as_the_deadline_nears():
    case = CaseFactory.create(process_by=date(2026, 11, 30), priority=0)
    assert cases_reprioritise(today=date(2026, 11, 29)) == 1
    case.refresh_from_db()
    assert ["deadline within a day", 80] in case.priority_explained
    assert cases_reprioritise(today=date(2026, 11, 29)) == 0


def test_the_periodic_task_sweeps_and_is_scheduled(settings):
    from retention.cases.tasks import process_overdue_cases

    CaseFactory.create(process_by=date(2020, 1, 1))
    assert process_overdue_cases() == 1
    assert process_overdue_cases() == 0
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "retention.tasks.process_overdue_cases" in schedule


def test_demo_cases_are_deterministic_and_fill_the_queue(agent):
    from retention.demo.cases import cases_seed

    SubscriberFactory.create_batch(30)
    # Nobody to make first contacts (agents=[]): every case waits for its first.
    assert cases_seed(count=20, seed=3, owner=agent, owned=2, agents=[]) == 20
    assert CancellationCase.objects.filter(owner=agent).count() == 2
    assert CancellationCase.objects.filter(status="new").count() == 18
    assert all(c.history.count() == 1 for c in CancellationCase.objects.all())
    # Every subscriber has at most one open case, however often it runs.
    cases_seed(count=20, seed=3, agents=[])
    assert CancellationCase.objects.count() == 30


def test_a_subscriber_whose_cancellation_is_processed_gets_no_new_case():
    subscriber = SubscriberFactory.create(status=Subscriber.Status.CANCELLING)
    with pytest.raises(WrongState):
        case_open(subscriber=subscriber, intake=Intake(channel="web"), actor=None)


def test_a_merged_port_out_notice_shows_on_the_timeline():
    subscriber = SubscriberFactory.create()
    case_open(subscriber=subscriber, intake=Intake(channel="web"), actor=None)
    case_open(
        subscriber=subscriber,
        intake=Intake(
            channel="port_out", requested_end_date=timezone.localdate() + timedelta(days=3)
        ),
        actor=None,
    )
    assert TimelineEvent.objects.filter(subscriber=subscriber, kind="port_out").count() == 1


def test_the_database_rules_name_exactly_the_open_statuses():
    from retention.models.cases import _OPEN

    assert [str(status) for status in CancellationCase.OPEN_STATUSES] == _OPEN
