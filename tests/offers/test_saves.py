"""Counter-offers on a case (retention.saves): the case kept in step, people told, the tick.

Tiers, per month / one offer / 12 months: agent 10/60/120, manager 25/300/500, lead
60/1000/1500. The subscribers pay €29.99 for a plan a new customer gets for €19.99.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from offers.authority import authorities_for_approver
from offers.exceptions import BeyondEveryAuthority, OutsideAuthority
from offers.models import CounterOffer, OfferHistory, OfferKind, OfferTemplate
from offers.pricing import Terms
from offers.selectors import offers_pending_for
from retention.cases.services import case_cancel, case_claim, case_withdraw
from retention.cases.sweeps import cases_process_overdue
from retention.core.refusals import NotAllowed, WrongState
from retention.core.roles import Role
from retention.models import CancellationCase, CaseHistory, Notification
from retention.saves import services as saves
from retention.saves.services import Decision
from subscribers.models import Subscriber, TimelineEvent
from tests.factories import CaseFactory, SubscriberFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db

D = Decimal
CaseStatus = CancellationCase.Status
Status = CounterOffer.Status
Action = OfferHistory.Action
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Riga
TODAY = date(2026, 12, 1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def case(agent):
    """A cancellation request the agent has claimed: in progress, process by in 14 days."""
    return case_claim(case=CaseFactory.create(), actor=agent)


def claimed_case(agent, **fields):
    return case_claim(case=CaseFactory.create(**fields), actor=agent)


def status_of(case):
    case.refresh_from_db()
    return case.status


def notes_for(user):
    """The user's notifications as they read them (in English, the tests' language)."""
    return [str(note) for note in Notification.objects.filter(recipient=user).order_by("pk")]


def approved_offer(case, agent, catalogue):
    return saves.case_offer_propose(case=case, template=catalogue["fixed"], actor=agent)


# --- Proposing on a case -------------------------------------------------------------------------


def test_an_offer_within_authority_is_approved_and_the_case_waits_for_it_to_be_presented(
    case, agent, catalogue
):
    offer = saves.case_offer_propose(case=case, template=catalogue["fixed"], actor=agent)
    assert (offer.status, offer.case) == (Status.APPROVED, case)
    assert status_of(case) == CaseStatus.OFFER_PENDING
    entry = case.history.get(action=CaseHistory.Action.OFFER)
    assert (entry.actor, entry.from_status, entry.to_status) == (
        agent,
        CaseStatus.IN_PROGRESS,
        CaseStatus.OFFER_PENDING,
    )
    assert entry.text.startswith(f"Offer #{offer.pk} approved: €5")


def test_an_offer_over_authority_waits_for_approval_with_the_case(case, agent, catalogue):
    offer = saves.case_offer_propose(case=case, template=catalogue["big"], actor=agent)
    assert offer.status == Status.PENDING
    assert status_of(case) == CaseStatus.OFFER_PENDING
    # The end of the day before the process-by day, Riga time: no offer outlives the case.
    assert offer.deadline == datetime(2026, 12, 14, 22, 0, tzinfo=UTC)


def test_an_offer_nobody_may_approve_is_refused_and_the_case_stays_in_progress(
    case, agent, catalogue
):
    too_much = OfferTemplate.objects.create(
        code="perk-61", name_en="perk", kind=OfferKind.LOYALTY_PERK, amount=D("61"), months=1
    )
    with pytest.raises(BeyondEveryAuthority, match="Nobody's authority covers this offer"):
        saves.case_offer_propose(case=case, template=too_much, actor=agent)
    assert status_of(case) == CaseStatus.IN_PROGRESS
    assert not case.offers.exists()
    assert not case.history.filter(action=CaseHistory.Action.OFFER).exists()


def test_a_case_has_one_offer_under_way_at_a_time(case, agent, catalogue):
    approved_offer(case, agent, catalogue)
    with pytest.raises(WrongState, match="already under way"):
        saves.case_offer_propose(case=case, template=catalogue["loyalty"], actor=agent)
    assert case.offers.count() == 1


def test_an_agent_claims_a_case_before_making_an_offer(agent, catalogue):
    unclaimed = CaseFactory.create()
    with pytest.raises(NotAllowed, match="Claim this case"):
        saves.case_offer_propose(case=unclaimed, template=catalogue["fixed"], actor=agent)


def test_an_offer_needs_the_case_in_progress(manager, catalogue):
    # A manager may act on an unowned case, but nobody has taken it up yet.
    new = CaseFactory.create()
    with pytest.raises(WrongState, match="Claim the case"):
        saves.case_offer_propose(case=new, template=catalogue["fixed"], actor=manager)
    closed = CaseFactory.create(status=CaseStatus.WITHDRAWN, closed_at=NOW)
    with pytest.raises(WrongState, match="already closed"):
        saves.case_offer_propose(case=closed, template=catalogue["fixed"], actor=manager)
    assert not CounterOffer.objects.exists()


def test_an_agent_cannot_make_an_offer_on_another_agents_case(case, catalogue):
    colleague = user_with_role(Role.AGENT, username="colleague")
    with pytest.raises(NotAllowed, match="belongs to"):
        saves.case_offer_propose(case=case, template=catalogue["fixed"], actor=colleague)
    assert status_of(case) == CaseStatus.IN_PROGRESS


def test_no_offer_on_the_case_process_by_day(agent, catalogue):
    last_day = claimed_case(agent, process_by=TODAY)
    with pytest.raises(WrongState, match="no time left"):
        saves.case_offer_propose(case=last_day, template=catalogue["fixed"], actor=agent)
    assert status_of(last_day) == CaseStatus.IN_PROGRESS


# --- Deciding -------------------------------------------------------------------------------------


def test_an_approval_tells_the_agent_to_present_the_offer(case, agent, manager, catalogue):
    offer = saves.case_offer_propose(case=case, template=catalogue["big"], actor=agent)
    offer = saves.offer_decide(offer=offer, actor=manager, decision=Decision.APPROVE, note="Fine")
    assert offer.status == Status.APPROVED
    assert status_of(case) == CaseStatus.OFFER_PENDING
    notification = Notification.objects.get(recipient=agent)
    assert notification.code == "notify.offer_approved"
    assert f"approved offer #{offer.pk}" in str(notification)
    assert str(notification).endswith("present it.")
    assert notification.url == f"/cases/{case.pk}/"


def test_a_rejection_returns_the_case_to_the_agent_with_the_reason(case, agent, manager, catalogue):
    offer = saves.case_offer_propose(case=case, template=catalogue["big"], actor=agent)
    saves.offer_decide(
        offer=offer, actor=manager, decision=Decision.REJECT, note="Loyalty tariff first"
    )
    assert status_of(case) == CaseStatus.IN_PROGRESS
    assert notes_for(agent)[0].endswith("Loyalty tariff first")
    # The agent tries something else.
    other = saves.case_offer_propose(case=case, template=catalogue["loyalty"], actor=agent)
    assert other.status == Status.PENDING


def test_an_amendment_approves_the_offer_on_the_case(case, agent, manager, catalogue):
    offer = saves.case_offer_propose(case=case, template=catalogue["big"], actor=agent)
    offer = saves.offer_decide(
        offer=offer,
        actor=manager,
        decision=Decision.AMEND,
        note="20% is enough",
        terms=Terms(OfferKind.PERCENT_DISCOUNT, percent=D("20"), months=12),
    )
    assert (offer.status, offer.total_cost) == (Status.APPROVED, D("72.00"))
    assert status_of(case) == CaseStatus.OFFER_PENDING
    assert f"approved offer #{offer.pk}" in notes_for(agent)[0]


def test_an_approver_may_not_decide_their_own_offer_on_a_case(manager, lead, catalogue):
    case = claimed_case(manager)
    offer = saves.case_offer_propose(case=case, template=catalogue["free"], actor=manager)
    with pytest.raises(OutsideAuthority, match="Nobody approves their own offer"):
        saves.offer_decide(offer=offer, actor=manager, decision=Decision.APPROVE)
    assert status_of(case) == CaseStatus.OFFER_PENDING
    saves.offer_decide(offer=offer, actor=lead, decision=Decision.APPROVE)
    assert notes_for(manager)


# --- Presenting and the answer --------------------------------------------------------------------


def test_an_accepted_offer_is_applied_and_the_case_closes_as_saved(case, agent, manager, catalogue):
    offer = saves.case_offer_propose(case=case, template=catalogue["big"], actor=agent)
    saves.offer_decide(offer=offer, actor=manager, decision=Decision.APPROVE, note="Worth it")
    assert status_of(case) == CaseStatus.OFFER_PENDING
    saves.offer_present(offer=offer, actor=agent)
    assert status_of(case) == CaseStatus.OFFER_PRESENTED
    saves.offer_answer(offer=offer, actor=agent, accepted=True, note="Stays")
    case.refresh_from_db()
    assert (case.status, case.closed_at) == (CaseStatus.SAVED, NOW)
    assert case.outcome_note.startswith(f"Offer #{offer.pk} accepted: 30% off for 12 months")
    assert list(case.history.order_by("pk").values_list("action", "from_status", "to_status")) == [
        (CaseHistory.Action.CLAIMED, CaseStatus.NEW, CaseStatus.IN_PROGRESS),
        (CaseHistory.Action.OFFER, CaseStatus.IN_PROGRESS, CaseStatus.OFFER_PENDING),
        (CaseHistory.Action.OFFER, CaseStatus.OFFER_PENDING, CaseStatus.OFFER_PENDING),
        (CaseHistory.Action.OFFER, CaseStatus.OFFER_PENDING, CaseStatus.OFFER_PRESENTED),
        (CaseHistory.Action.SAVED, CaseStatus.OFFER_PRESENTED, CaseStatus.SAVED),
    ]
    case.subscriber.refresh_from_db()
    assert case.subscriber.monthly_price == D("20.99")
    assert case.subscriber.promo_ends_on == date(2027, 12, 1)


def test_a_declined_offer_leaves_the_subscriber_free_to_leave(case, agent, catalogue):
    subscriber_before = Subscriber.objects.values().get(pk=case.subscriber_id)
    offer = approved_offer(case, agent, catalogue)
    saves.offer_present(offer=offer, actor=agent)
    saves.offer_answer(offer=offer, actor=agent, accepted=False, note="Going anyway")
    assert status_of(case) == CaseStatus.IN_PROGRESS
    assert Subscriber.objects.values().get(pk=case.subscriber_id) == subscriber_before
    case_cancel(case=case, actor=agent, effective_date=TODAY + timedelta(days=7))
    assert status_of(case) == CaseStatus.CANCELLED


def test_only_someone_who_may_act_on_the_case_presents_its_offer(case, agent, catalogue):
    offer = approved_offer(case, agent, catalogue)
    colleague = user_with_role(Role.AGENT, username="colleague")
    with pytest.raises(NotAllowed):
        saves.offer_present(offer=offer, actor=colleague)
    offer.refresh_from_db()
    assert offer.status == Status.APPROVED


def test_withdrawing_the_offer_puts_the_case_back_in_progress(case, agent, catalogue):
    offer = approved_offer(case, agent, catalogue)
    saves.offer_withdraw(offer=offer, actor=agent, note="The loyalty tariff suits better")
    assert status_of(case) == CaseStatus.IN_PROGRESS
    assert saves.case_offer_propose(case=case, template=catalogue["loyalty"], actor=agent)


# --- Closing the case ends its offer -------------------------------------------------------------


def test_processing_the_cancellation_withdraws_the_offer_waiting_for_approval(
    case, agent, catalogue
):
    offer = saves.case_offer_propose(case=case, template=catalogue["big"], actor=agent)
    case_cancel(case=case, actor=agent, effective_date=TODAY)
    offer.refresh_from_db()
    assert offer.status == Status.WITHDRAWN
    withdrawn = offer.history.get(action=Action.WITHDRAWN)
    assert (withdrawn.actor, withdrawn.from_status, withdrawn.text) == (
        agent,
        Status.PENDING,
        "the cancellation was processed",
    )
    assert offer.subscriber.events.filter(kind=TimelineEvent.Kind.OFFER_WITHDRAWN).exists()


def test_withdrawing_the_cancellation_withdraws_the_approved_offer(case, agent, catalogue):
    offer = approved_offer(case, agent, catalogue)
    case_withdraw(case=case, actor=agent, note="Stays after all")
    offer.refresh_from_db()
    assert offer.status == Status.WITHDRAWN
    assert offer.history.get(action=Action.WITHDRAWN).from_status == Status.APPROVED


def test_the_deadline_sweep_withdraws_the_offer_with_the_case(agent, catalogue, clock):
    case = claimed_case(agent, process_by=TODAY + timedelta(days=1))
    offer = saves.case_offer_propose(case=case, template=catalogue["big"], actor=agent)
    clock.move_to(datetime(2026, 12, 2, 6, 0, tzinfo=UTC))
    assert cases_process_overdue() == 1
    offer.refresh_from_db()
    assert offer.status == Status.WITHDRAWN
    assert offer.history.get(action=Action.WITHDRAWN).actor is None


# --- Proactive offers -----------------------------------------------------------------------------


def test_a_proactive_offer_needs_no_case(agent, catalogue):
    subscriber = SubscriberFactory.create()
    offer = saves.offer_propose_proactive(
        subscriber=subscriber, template=catalogue["loyalty"], actor=agent
    )
    assert (offer.case, offer.status, offer.deadline) == (None, Status.PENDING, None)
    assert saves.offer_url(offer) == f"/subscribers/{subscriber.pk}/offers/"


def test_a_proactive_offer_is_refused_while_the_subscriber_has_an_open_case(case, agent, catalogue):
    with pytest.raises(WrongState, match=f"open case \\(#{case.pk}\\)"):
        saves.offer_propose_proactive(
            subscriber=case.subscriber, template=catalogue["fixed"], actor=agent
        )
    case_withdraw(case=case, actor=agent, note="Stays after all")
    offer = saves.offer_propose_proactive(
        subscriber=case.subscriber, template=catalogue["fixed"], actor=agent
    )
    assert offer.status == Status.APPROVED


# --- The tick: escalation ------------------------------------------------------------------------


@pytest.fixture
def waiting(case, agent, catalogue):
    """An offer the managers' tier covers, waiting for approval since NOW."""
    return saves.case_offer_propose(case=case, template=catalogue["big"], actor=agent)


def test_nothing_escalates_before_the_wait(waiting, manager, lead, clock, settings):
    assert settings.OFFER_ESCALATE_AFTER_HOURS == 4
    clock.shift(timedelta(hours=3, minutes=59))
    assert saves.offers_tick() == saves.Tick(escalated=0, expired=0)
    waiting.refresh_from_db()
    assert (waiting.routed_tier.name, waiting.escalated_at) == ("Manager", None)
    assert not Notification.objects.exists()
    assert not waiting.history.filter(action=Action.ESCALATED).exists()


def test_an_offer_that_waited_too_long_escalates_to_the_next_tier(
    waiting, agent, manager, lead, tiers, clock
):
    clock.shift(timedelta(hours=4, minutes=1))
    assert saves.offers_tick() == saves.Tick(escalated=1, expired=0)
    waiting.refresh_from_db()
    assert waiting.status == Status.PENDING
    assert (waiting.routed_tier, waiting.escalated_at) == (
        tiers["lead"],
        NOW + timedelta(hours=4, minutes=1),
    )
    escalated = waiting.history.get(action=Action.ESCALATED)
    assert (escalated.actor, escalated.from_status, escalated.to_status) == (
        None,
        Status.PENDING,
        Status.PENDING,
    )
    assert escalated.text.endswith("Manager → Retention lead")
    assert escalated.data == {"from_tier": tiers["manager"].pk, "to_tier": tiers["lead"].pk}
    assert notes_for(lead) == [
        f"Offer #{waiting.pk} for {waiting.subscriber.name} has waited too long: "
        "it is yours to decide."
    ]
    assert notes_for(manager) == [] and notes_for(agent) == []
    assert status_of(waiting.case) == CaseStatus.OFFER_PENDING


def test_an_escalated_offer_tops_the_approvers_inbox(agent, lead, catalogue, clock):
    def inbox():
        return list(offers_pending_for(user=lead, authorities=authorities_for_approver(lead)))

    for_the_lead = saves.case_offer_propose(
        case=claimed_case(agent), template=catalogue["free"], actor=agent
    )
    clock.shift(timedelta(hours=1))
    for_a_manager = saves.case_offer_propose(
        case=claimed_case(agent), template=catalogue["big"], actor=agent
    )
    assert inbox() == [for_the_lead, for_a_manager]  # oldest first
    clock.shift(timedelta(hours=4, minutes=1))
    assert saves.offers_tick().escalated == 1  # the lead's own tier has nowhere higher to go
    assert inbox() == [for_a_manager, for_the_lead]


def test_the_top_tier_does_not_escalate_further(waiting, lead, clock):
    clock.shift(timedelta(hours=4, minutes=1))
    saves.offers_tick()
    clock.shift(timedelta(hours=4, minutes=1))
    assert saves.offers_tick() == saves.Tick(escalated=0, expired=0)
    assert waiting.history.filter(action=Action.ESCALATED).count() == 1
    assert len(notes_for(lead)) == 1


# --- The tick: expiry -----------------------------------------------------------------------------


def test_an_approved_offer_not_presented_in_time_expires(case, agent, catalogue, clock):
    offer = approved_offer(case, agent, catalogue)
    clock.shift(timedelta(days=3) - timedelta(seconds=1))
    assert saves.offers_tick().expired == 0
    clock.shift(timedelta(seconds=1))
    assert saves.offers_tick().expired == 1
    offer.refresh_from_db()
    assert offer.status == Status.EXPIRED
    assert offer.history.get(action=Action.EXPIRED).text == "not presented in time"
    assert status_of(case) == CaseStatus.IN_PROGRESS
    assert notes_for(agent) == [f"Offer #{offer.pk} for {offer.subscriber.name} expired."]
    assert saves.offers_tick().expired == 0  # once


def test_a_presented_offer_not_answered_in_time_expires(case, agent, catalogue, clock):
    offer = approved_offer(case, agent, catalogue)
    clock.shift(timedelta(days=2))
    saves.offer_present(offer=offer, actor=agent)
    clock.shift(timedelta(days=7) - timedelta(seconds=1))
    assert saves.offers_tick().expired == 0
    clock.shift(timedelta(seconds=1))
    assert saves.offers_tick().expired == 1
    offer.refresh_from_db()
    assert offer.status == Status.EXPIRED
    assert offer.history.get(action=Action.EXPIRED).text == "not answered in time"
    assert status_of(case) == CaseStatus.IN_PROGRESS


def test_an_offer_nobody_decided_in_time_expires(waiting, clock):
    clock.shift(timedelta(days=3))
    assert saves.offers_tick().expired == 1
    waiting.refresh_from_db()
    assert waiting.status == Status.EXPIRED
    assert waiting.history.get(action=Action.EXPIRED).text == "nobody decided it in time"
    assert status_of(waiting.case) == CaseStatus.IN_PROGRESS


def test_no_offer_outlives_the_case_process_by_day(agent, catalogue, clock):
    case = claimed_case(agent, process_by=TODAY + timedelta(days=2))
    last_moment = datetime(2026, 12, 2, 22, 0, tzinfo=UTC)  # 3 December 00:00 in Riga
    offer = approved_offer(case, agent, catalogue)
    assert offer.valid_until == last_moment  # not the usual three days
    clock.shift(timedelta(hours=1))
    offer = saves.offer_present(offer=offer, actor=agent)
    assert offer.valid_until == last_moment  # not the usual week
    clock.move_to(last_moment - timedelta(seconds=1))
    assert saves.offers_tick().expired == 0
    clock.move_to(last_moment)
    assert saves.offers_tick().expired == 1
    assert status_of(case) == CaseStatus.IN_PROGRESS


def test_an_offer_cannot_be_approved_once_the_process_by_day_has_come(
    agent, manager, catalogue, clock
):
    case = claimed_case(agent, process_by=TODAY + timedelta(days=1))
    offer = saves.case_offer_propose(case=case, template=catalogue["big"], actor=agent)
    clock.move_to(datetime(2026, 12, 1, 22, 1, tzinfo=UTC))  # 2 December 00:01 in Riga
    with pytest.raises(WrongState, match="no time left"):
        saves.offer_decide(offer=offer, actor=manager, decision=Decision.APPROVE)
    with pytest.raises(WrongState, match="no time left"):
        saves.offer_decide(
            offer=offer,
            actor=manager,
            decision=Decision.AMEND,
            note="Less",
            terms=Terms(OfferKind.PERCENT_DISCOUNT, percent=D("20"), months=12),
        )
    offer.refresh_from_db()
    assert offer.status == Status.PENDING
    assert not notes_for(agent)


def test_an_answer_is_not_recorded_for_someone_else(case, agent, catalogue):
    offer = approved_offer(case, agent, catalogue)
    saves.offer_present(offer=offer, actor=agent)
    stranger = UserFactory.create(username="stranger")
    with pytest.raises(NotAllowed):
        saves.offer_answer(offer=offer, actor=stranger, accepted=True)
    offer.refresh_from_db()
    assert offer.status == Status.PRESENTED


def test_a_cancellation_ends_the_subscribers_proactive_offer_too(agent, catalogue):
    subscriber = SubscriberFactory.create()
    proactive = saves.offer_propose_proactive(
        subscriber=subscriber, template=catalogue["fixed"], actor=agent
    )
    case = claimed_case(agent, subscriber=subscriber)
    # A proactive offer made before the subscriber asked to leave would otherwise still change
    # the price of someone who is leaving.
    case_cancel(case=case, actor=agent, effective_date=TODAY + timedelta(days=3))
    proactive.refresh_from_db()
    assert proactive.status == Status.WITHDRAWN


def test_an_offer_is_not_applied_to_a_subscriber_who_is_leaving(agent, catalogue):
    subscriber = SubscriberFactory.create()
    offer = saves.offer_propose_proactive(
        subscriber=subscriber, template=catalogue["fixed"], actor=agent
    )
    saves.offer_present(offer=offer, actor=agent)
    Subscriber.objects.filter(pk=subscriber.pk).update(status=Subscriber.Status.CANCELLING)
    with pytest.raises(WrongState, match="leaving"):
        saves.offer_answer(offer=offer, actor=agent, accepted=True)
    offer.refresh_from_db()
    assert offer.status == Status.PRESENTED
    subscriber.refresh_from_db()
    assert subscriber.monthly_price == D("29.99")


def test_the_offer_deadline_is_the_process_by_day_in_the_desks_time_zone(agent, catalogue):
    from django.utils import timezone

    case = claimed_case(agent)
    with timezone.override("Asia/Tokyo"):  # an agent working in another time zone
        offer = saves.case_offer_propose(case=case, template=catalogue["big"], actor=agent)
    assert timezone.localtime(offer.deadline, timezone.get_default_timezone()).date() == (
        case.process_by
    )
    assert timezone.localtime(offer.deadline, timezone.get_default_timezone()).hour == 0
