"""The offer races with real threads on PostgreSQL: two managers deciding, two tabs proposing, an
approval racing the cancellation.

Each race runs a few rounds on fresh cases, so that both orders of arrival get their turn.
"""

from functools import partial

import pytest
from django.utils import timezone

from offers.models import CounterOffer, OfferHistory
from retention.cases.services import case_cancel, case_claim
from retention.core.refusals import WrongState
from retention.models import CancellationCase, CaseHistory, Notification
from retention.saves import services as saves
from retention.saves.services import Decision
from subscribers.models import Subscriber
from tests.factories import CaseFactory, SubscriberFactory
from tests.threads import run_at_once

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 5
Status = CounterOffer.Status
Action = OfferHistory.Action


@pytest.fixture
def named(manager, manager2):
    for user, (first, last) in ((manager, ("Ilze", "Bērziņa")), (manager2, ("Jānis", "Ozols"))):
        user.first_name, user.last_name = first, last
        user.save()
    return {manager.pk: "Ilze Bērziņa", manager2.pk: "Jānis Ozols"}


def pending_offer(agent, catalogue):
    """An offer on a fresh case that any manager's authority covers, waiting for approval."""
    case = case_claim(case=CaseFactory.create(), actor=agent)
    offer = saves.case_offer_propose(case=case, template=catalogue["big"], actor=agent)
    assert offer.status == Status.PENDING
    return offer


def test_two_managers_deciding_one_offer_at_once_make_exactly_one_decision(
    agent, manager, manager2, named, tiers, catalogue
):
    for _ in range(ROUNDS):
        offer = pending_offer(agent, catalogue)
        errors = run_at_once(
            partial(
                saves.offer_decide,
                offer=offer,
                actor=manager,
                decision=Decision.APPROVE,
                note="Worth it",
            ),
            partial(
                saves.offer_decide,
                offer=offer,
                actor=manager2,
                decision=Decision.REJECT,
                note="Too much",
            ),
        )
        offer.refresh_from_db()
        winner = named[offer.decided_by_id]
        assert len(errors) == 1, errors
        assert type(errors[0]) is WrongState, errors
        assert f"{winner} already decided this offer" in str(errors[0])
        decisions = offer.history.filter(action__in=[Action.APPROVED, Action.REJECTED])
        assert decisions.count() == 1
        assert decisions.get().actor_id == offer.decided_by_id
        expected = {manager.pk: Status.APPROVED, manager2.pk: Status.REJECTED}
        assert offer.status == expected[offer.decided_by_id]
        case = CancellationCase.objects.get(pk=offer.case_id)
        assert case.status == (
            CancellationCase.Status.OFFER_PENDING
            if offer.status == Status.APPROVED
            else CancellationCase.Status.IN_PROGRESS
        )
        assert Notification.objects.filter(recipient=agent, params__id=offer.pk).count() == 1


def test_two_tabs_proposing_on_one_case_at_once_make_one_offer(agent, tiers, catalogue):
    for _ in range(ROUNDS):
        case = case_claim(case=CaseFactory.create(), actor=agent)
        errors = run_at_once(
            partial(saves.case_offer_propose, case=case, template=catalogue["fixed"], actor=agent),
            partial(saves.case_offer_propose, case=case, template=catalogue["big"], actor=agent),
        )
        assert len(errors) == 1, errors
        assert type(errors[0]) is WrongState, errors
        assert "already under way" in str(errors[0])
        assert CounterOffer.objects.filter(case=case).count() == 1
        case.refresh_from_db()
        assert case.status == CancellationCase.Status.OFFER_PENDING
        assert case.history.filter(action=CaseHistory.Action.OFFER).count() == 1


def test_two_tabs_proposing_a_proactive_offer_at_once_make_one_offer(agent, tiers, catalogue):
    # No case to lock here: the database's one-live-offer constraint decides.
    for _ in range(ROUNDS):
        subscriber = SubscriberFactory.create()
        errors = run_at_once(
            partial(
                saves.offer_propose_proactive,
                subscriber=subscriber,
                template=catalogue["fixed"],
                actor=agent,
            ),
            partial(
                saves.offer_propose_proactive,
                subscriber=subscriber,
                template=catalogue["loyalty"],
                actor=agent,
            ),
        )
        assert len(errors) == 1, errors
        assert type(errors[0]) is WrongState, errors
        offers = CounterOffer.objects.filter(subscriber=subscriber)
        assert offers.count() == 1
        assert (
            OfferHistory.objects.filter(offer__subscriber=subscriber)
            .exclude(offer=offers.get())
            .count()
            == 0
        )


def test_an_approval_racing_the_cancellation_ends_consistently(agent, manager, tiers, catalogue):
    for _ in range(ROUNDS):
        offer = pending_offer(agent, catalogue)
        case = CancellationCase.objects.get(pk=offer.case_id)
        errors = run_at_once(
            partial(saves.offer_decide, offer=offer, actor=manager, decision=Decision.APPROVE),
            partial(case_cancel, case=case, actor=agent, effective_date=timezone.localdate()),
        )
        case.refresh_from_db()
        offer.refresh_from_db()
        # The subscriber's right to leave always wins, and the offer ends with the case.
        assert case.status == CancellationCase.Status.CANCELLED
        assert offer.status == Status.WITHDRAWN
        assert Subscriber.objects.get(pk=offer.subscriber_id).status == Subscriber.Status.CANCELLED
        actions = list(offer.history.order_by("at", "pk").values_list("action", flat=True))
        if errors:
            # The cancellation came first: the approval is refused, never half done.
            assert len(errors) == 1 and type(errors[0]) is WrongState, errors
            assert "no longer waiting for approval" in str(errors[0])
            assert actions == [Action.PROPOSED, Action.WITHDRAWN]
        else:
            # The approval came first, and the cancellation then withdrew the approved offer.
            assert actions == [Action.PROPOSED, Action.APPROVED, Action.WITHDRAWN]
            assert offer.history.get(action=Action.WITHDRAWN).from_status == Status.APPROVED
