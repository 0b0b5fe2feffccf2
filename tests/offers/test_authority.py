"""Who may concede how much: the three limits, tiers, delegation, and the approvals inbox.

Tiers (tests/offers/conftest.py), per month / one offer / per subscriber in 12 months:
agent 10 / 60 / 120, manager 25 / 300 / 500, lead 60 / 1000 / 1500. The subscribers pay €29.99.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone, translation

from offers import delegation as delegations
from offers import services
from offers.authority import (
    authorities_for_approver,
    authority_for,
    conceded_within_year,
    tier_covering,
)
from offers.exceptions import OutsideAuthority
from offers.models import AuthorityTier, CounterOffer, OfferKind, OfferTemplate
from offers.selectors import offers_pending_for
from retention.core.roles import Role
from retention.models import Team
from tests.factories import SubscriberFactory, UserFactory, user_with_role

pytestmark = pytest.mark.django_db

D = Decimal
Status = CounterOffer.Status
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Riga


def earlier_offer(subscriber, *, status, total, days_ago, proposer, decided_by, template):
    """An offer the subscriber had before, left as the services leave an offer in ``status``."""
    at = timezone.now() - timedelta(days=days_ago)
    decided = status != Status.PENDING
    return CounterOffer.objects.create(
        subscriber=subscriber,
        template=template,
        kind=template.kind,
        amount=total,
        months=1,
        status=status,
        monthly_concession=total,
        counted_months=1,
        one_time_concession=D("0.00"),
        total_cost=total,
        new_monthly_price=subscriber.monthly_price,
        proposer=proposer,
        proposed_at=at,
        decided_by=decided_by if decided else None,
        decided_at=at if decided else None,
        valid_until=at + timedelta(days=3),
    )


def perk(code, monthly, months=1):
    """A catalogue offer worth ``monthly`` a month that leaves the price alone."""
    return OfferTemplate.objects.create(
        code=code, name_en=code, kind=OfferKind.LOYALTY_PERK, amount=D(monthly), months=months
    )


def inbox(user):
    return list(offers_pending_for(user=user, authorities=authorities_for_approver(user)))


def propose(subscriber, template, proposer):
    return services.offer_propose(subscriber=subscriber, template=template, proposer=proposer)


# --- The three limits ----------------------------------------------------------------------------


def test_figures_exactly_at_every_limit_are_within_authority(agent, tiers):
    agent_authority = authority_for(agent)
    assert agent_authority.covers(monthly=D("10.00"), total=D("60.00"), cumulative=D("120.00"))
    assert agent_authority.exceeded(monthly=D("10"), total=D("60"), cumulative=D("120")) == []


@pytest.mark.parametrize(
    ("figures", "why"),
    [
        ({"monthly": D("10.01")}, "€10.01 a month is over the €10.00 limit"),
        ({"total": D("60.01")}, "€60.01 in total is over the €60.00 limit"),
        ({"cumulative": D("120.01")}, "€120.01 in 12 months is over the €120.00 limit"),
    ],
    ids=["monthly", "total", "cumulative"],
)
def test_a_cent_over_any_limit_is_outside_authority_and_says_which(figures, why, agent, tiers):
    at_limits = {"monthly": D("10"), "total": D("60"), "cumulative": D("120")}
    authority = authority_for(agent)
    assert not authority.covers(**(at_limits | figures))
    assert authority.exceeded(**(at_limits | figures)) == [why]


def test_someone_without_a_tier_has_no_authority(tiers):
    nobody = UserFactory.create(username="no-role")
    authority = authority_for(nobody)
    assert authority.tier is None
    assert authority.exceeded(monthly=D("0"), total=D("0"), cumulative=D("0")) == [
        "no authority tier"
    ]


def test_a_deactivated_user_has_no_authority(manager, tiers):
    manager.is_active = False
    manager.save()
    assert authority_for(manager).tier is None


def test_an_agent_offer_exactly_at_their_total_limit_is_approved_at_once(agent, catalogue):
    offer = propose(SubscriberFactory.create(), catalogue["fixed"], agent)  # €5 x 12 = €60
    assert (offer.status, offer.total_cost) == (Status.APPROVED, D("60.00"))


def test_an_agent_offer_over_their_monthly_limit_waits_for_a_manager(agent, tiers, catalogue):
    offer = propose(SubscriberFactory.create(), perk("perk-11", "11"), agent)  # €11 in total
    assert offer.status == Status.PENDING
    assert offer.routed_tier == tiers["manager"]


def test_an_agent_offer_over_their_total_limit_waits_for_a_manager(agent, tiers, catalogue):
    offer = propose(SubscriberFactory.create(), catalogue["big"], agent)  # €9 x 12 = €108
    assert offer.status == Status.PENDING
    assert offer.routed_tier == tiers["manager"]


# --- The cumulative 12-month limit ---------------------------------------------------------------


@pytest.mark.parametrize("status", [Status.APPROVED, Status.PRESENTED, Status.ACCEPTED])
def test_offers_granted_in_the_last_12_months_count_as_conceded(status, agent, manager, catalogue):
    subscriber = SubscriberFactory.create()
    earlier_offer(
        subscriber,
        status=status,
        total=D("61.00"),
        days_ago=30,
        proposer=agent,
        decided_by=manager,
        template=catalogue["fixed"],
    )
    assert conceded_within_year(subscriber_id=subscriber.pk) == D("61.00")


def test_an_offer_within_its_own_limits_waits_when_the_year_adds_up_to_too_much(
    agent, manager, tiers, catalogue
):
    subscriber = SubscriberFactory.create()
    earlier_offer(
        subscriber,
        status=Status.ACCEPTED,
        total=D("61.00"),
        days_ago=30,
        proposer=agent,
        decided_by=manager,
        template=catalogue["fixed"],
    )
    offer = propose(subscriber, catalogue["fixed"], agent)  # €61 + €60 is over the agent's €120
    assert offer.status == Status.PENDING
    assert offer.routed_tier == tiers["manager"]


@pytest.mark.parametrize(
    "status",
    [Status.PENDING, Status.REJECTED, Status.DECLINED, Status.EXPIRED, Status.WITHDRAWN],
)
def test_offers_the_subscriber_never_got_do_not_count(status, agent, manager, tiers, catalogue):
    subscriber = SubscriberFactory.create()
    earlier = earlier_offer(
        subscriber,
        status=status,
        total=D("61.00"),
        days_ago=30,
        proposer=agent,
        decided_by=manager,
        template=catalogue["fixed"],
    )
    assert conceded_within_year(subscriber_id=subscriber.pk) == D("0.00")
    if status == Status.PENDING:
        earlier.status = Status.WITHDRAWN  # one offer under way at a time
        earlier.save()
    offer = propose(subscriber, catalogue["fixed"], agent)
    assert offer.status == Status.APPROVED


def test_concessions_older_than_365_days_do_not_count(agent, manager, catalogue):
    subscriber = SubscriberFactory.create()
    for total, days_ago in ((D("100.00"), 366), (D("20.00"), 364)):
        earlier_offer(
            subscriber,
            status=Status.ACCEPTED,
            total=total,
            days_ago=days_ago,
            proposer=agent,
            decided_by=manager,
            template=catalogue["fixed"],
        )
    assert conceded_within_year(subscriber_id=subscriber.pk) == D("20.00")
    assert propose(subscriber, catalogue["fixed"], agent).status == Status.APPROVED  # 20 + 60


# --- Tiers ----------------------------------------------------------------------------------------


def test_a_users_own_tier_beats_their_groups(manager, tiers, catalogue):
    probation = AuthorityTier.objects.create(
        name="Manager on probation",
        rank=15,
        user=manager,
        max_monthly=D("5"),
        max_total=D("30"),
        max_cumulative=D("60"),
    )
    assert authority_for(manager).tier == probation
    offer = propose(SubscriberFactory.create(), catalogue["fixed"], manager)  # €60
    assert offer.status == Status.PENDING


def test_the_highest_ranked_group_tier_wins(agent, lead, tiers):
    agent.groups.add(Group.objects.get(name=Role.MANAGER))
    assert authority_for(agent).tier == tiers["manager"]
    assert authority_for(lead).tier == tiers["lead"]


def test_an_offer_waits_for_the_lowest_tier_that_covers_all_three_figures(tiers):
    def covering(monthly, total, cumulative):
        return tier_covering(monthly=D(monthly), total=D(total), cumulative=D(cumulative))

    assert covering("10", "60", "120") == tiers["agent"]
    assert covering("10", "60", "121") == tiers["manager"]
    assert covering("26", "26", "26") == tiers["lead"]
    assert covering("10", "301", "301") == tiers["lead"]
    assert covering("61", "61", "61") is None


# --- Delegation -----------------------------------------------------------------------------------


@pytest.fixture
def holiday(lead, manager2):
    """The lead hands their inbox to manager2 for two days from tomorrow."""
    return delegations.delegation_create(
        delegator=lead,
        delegate=manager2,
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=3),
    )


def test_a_delegate_holds_the_delegators_authority_only_during_the_delegation(
    holiday, lead, manager2, tiers
):
    def held(at):
        return [(a.tier, a.on_behalf_of) for a in authorities_for_approver(manager2, at)]

    assert held(NOW) == [(tiers["manager"], None)]
    assert held(holiday.starts_at) == [(tiers["manager"], None), (tiers["lead"], lead)]
    assert held(holiday.ends_at - timedelta(seconds=1))[1] == (tiers["lead"], lead)
    assert held(holiday.ends_at) == [(tiers["manager"], None)]


def test_a_delegate_approves_on_the_delegators_behalf_only_during_the_delegation(
    holiday, agent, lead, manager2, catalogue
):
    with time_machine.travel(NOW, tick=False) as traveller:
        offer = propose(SubscriberFactory.create(), catalogue["free"], agent)  # €29.99 a month
        with pytest.raises(OutsideAuthority, match="beyond your authority"):
            services.offer_approve(offer=offer, actor=manager2)
        traveller.move_to(holiday.starts_at)
        offer = services.offer_approve(offer=offer, actor=manager2, note="for the lead")
    assert offer.status == Status.APPROVED
    assert (offer.decided_by, offer.decided_for) == (manager2, lead)


def test_a_delegate_cannot_approve_the_delegators_own_offer(manager, manager2, lead, catalogue):
    offer = propose(SubscriberFactory.create(), catalogue["free"], manager)  # over a manager
    assert offer.status == Status.PENDING
    # While it waits, the manager is promoted and goes on holiday, handing over to manager2.
    manager.groups.add(Group.objects.get(name="Retention lead"))
    now = timezone.now()
    delegations.delegation_create(
        delegator=manager, delegate=manager2, starts_at=now, ends_at=now + timedelta(days=1)
    )
    assert (
        authority_for(manager2).covers(monthly=D("29.99"), total=D("29.99"), cumulative=D("29.99"))
        is False
    )
    with pytest.raises(OutsideAuthority, match="beyond your authority"):
        services.offer_approve(offer=offer, actor=manager2)
    assert offer not in inbox(manager2)
    assert services.offer_approve(offer=offer, actor=lead).decided_by == lead


# --- The approvals inbox --------------------------------------------------------------------------


def test_the_inbox_shows_a_manager_only_the_offers_their_authority_covers(
    agent, manager, lead, catalogue
):
    within_a_manager = propose(SubscriberFactory.create(), catalogue["big"], agent)
    beyond_a_manager = propose(SubscriberFactory.create(), catalogue["free"], agent)
    propose(SubscriberFactory.create(), catalogue["fixed"], agent)  # approved at once
    assert inbox(manager) == [within_a_manager]
    assert inbox(lead) == [within_a_manager, beyond_a_manager]  # oldest first


def test_the_inbox_counts_the_subscribers_earlier_concessions(agent, manager, lead, catalogue):
    subscriber = SubscriberFactory.create()
    earlier_offer(
        subscriber,
        status=Status.ACCEPTED,
        total=D("400.00"),
        days_ago=60,
        proposer=agent,
        decided_by=lead,
        template=catalogue["fixed"],
    )
    offer = propose(subscriber, catalogue["big"], agent)  # €400 + €108 is over a manager's €500
    assert offer.routed_tier.name == "Retention lead"
    assert inbox(manager) == []
    assert inbox(lead) == [offer]


def test_the_inbox_never_shows_the_approvers_own_offers(manager, manager2, tiers, catalogue):
    offer = propose(SubscriberFactory.create(), catalogue["free"], manager)
    # While it waits, an admin raises the managers' monthly limit: now it is within theirs.
    AuthorityTier.objects.filter(pk=tiers["manager"].pk).update(max_monthly=D("30"))
    assert inbox(manager) == []
    assert inbox(manager2) == [offer]
    with pytest.raises(OutsideAuthority, match="Nobody approves their own offer"):
        services.offer_approve(offer=offer, actor=manager)
    assert services.offer_approve(offer=offer, actor=manager2).decided_by == manager2


def test_the_inbox_holds_delegated_offers_only_during_the_delegation(
    holiday, agent, manager2, catalogue
):
    with time_machine.travel(NOW, tick=False) as traveller:
        beyond_a_manager = propose(SubscriberFactory.create(), catalogue["free"], agent)
        assert inbox(manager2) == []
        traveller.move_to(holiday.starts_at)
        assert inbox(manager2) == [beyond_a_manager]
        traveller.move_to(holiday.ends_at)
        assert inbox(manager2) == []


def test_the_inbox_shows_other_teams_offers_when_the_authority_covers_them(
    manager, catalogue, tiers
):
    north, south = Team.objects.create(name="North"), Team.objects.create(name="South")
    manager.team = north
    manager.save()
    southern_agent = user_with_role(Role.AGENT, username="south-agent", team=south)
    covered = propose(SubscriberFactory.create(), catalogue["big"], southern_agent)
    propose(SubscriberFactory.create(), catalogue["free"], southern_agent)  # beyond a manager
    assert inbox(manager) == [covered]


# --- Tier names in the reader's language ----------------------------------------------------------


def test_the_desks_own_tiers_are_named_in_the_readers_language_and_others_as_named(tiers):
    custom = AuthorityTier.objects.create(
        name="Night shift",
        group=Group.objects.create(name="Night shift"),
        rank=15,
        max_monthly=D("5"),
        max_total=D("5"),
        max_cumulative=D("5"),
    )
    with translation.override("lv"):
        assert [str(tiers[k]) for k in ("agent", "manager", "lead")] == [
            "Operators",
            "Vadītājs",
            "Noturēšanas vadītājs",
        ]
        assert str(custom) == "Night shift"
    with translation.override("ru"):
        assert str(tiers["manager"]) == "Руководитель"


def test_an_offer_within_authority_says_whose_in_each_readers_language(agent, tiers, catalogue):
    offer = propose(SubscriberFactory.create(), catalogue["fixed"], agent)
    note = offer.history.get(params__tier__isnull=False)
    assert note.params == {"tier": "Agent"}  # stored as named, said as the reader reads
    with translation.override("lv"):
        assert "(Operators)" in note.text
    with translation.override("en"):
        assert "(Agent)" in note.text
