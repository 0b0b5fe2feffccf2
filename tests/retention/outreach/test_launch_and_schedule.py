"""Launching asks for confirmation with what will happen, and a campaign can be scheduled: the
outreach tick starts it at its time, once, however many ticks run; a manager can cancel the
schedule before it starts.

The clock stands at Tuesday 2026-12-01 10:00 UTC (12:00 in Riga) unless a test moves it.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from retention.core.refusals import InvalidInput, WrongState
from retention.models import CampaignHistory, OutreachCampaign, OutreachMessage
from retention.outreach import services, tasks
from tests.factories import SubscriberFactory, user_with_role
from tests.retention.outreach.helpers import NOW, draft
from tests.threads import run_at_once

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

State = OutreachCampaign.State
Action = CampaignHistory.Action


@pytest.fixture
def asked(monkeypatch) -> list[tuple]:
    """What was asked of the worker (after commit)."""
    found: list[tuple] = []
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: found.append(args))
    return found


def audience() -> None:
    """Five who get an e-mail, two who asked not to be e-mailed, one without an address."""
    SubscriberFactory.create_batch(5)
    SubscriberFactory.create_batch(2, do_not_email=True)
    SubscriberFactory.create(email="")


def confirm_url(campaign) -> str:
    return reverse("campaign_launch", args=[campaign.pk])


# --- The confirmation ---------------------------------------------------------------------------


def test_the_confirmation_says_who_gets_a_message_who_is_left_out_and_when(manager_client, manager):
    audience()
    campaign = draft(manager, rate_per_minute=2)
    response = manager_client.get(confirm_url(campaign))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<td class="num" id="confirm-matched">8</td>' in html
    assert '<td class="num" id="confirm-dnc">2</td>' in html
    assert '<td class="num" id="confirm-no-address">1</td>' in html
    assert 'id="confirm-reachable"><strong>5</strong>' in html
    assert "Now" in html  # when it starts
    assert "at most 2 messages a minute" in html
    assert "about 3 min" in html  # 5 messages at 2 a minute
    assert "Loyalty tariff: the new-customer price" in html
    assert 'name="shown" value="5"' in html
    assert "Launch now: 5 messages" in html
    # Looking launches nothing.
    campaign.refresh_from_db()
    assert campaign.state == State.DRAFT


def test_a_scheduled_start_is_shown_in_the_managers_zone(manager_client, manager):
    campaign = draft(manager)
    # 09:30 in Riga (the manager's zone) on Wednesday is 07:30 UTC.
    response = manager_client.get(confirm_url(campaign), {"start": "2026-12-02T09:30"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="confirm-start">02.12.2026 09:30 <span class="muted small">(Europe/Riga)' in html
    assert 'name="start" value="2026-12-02T09:30"' in html
    assert "Schedule: 0 messages from" in html


@pytest.mark.parametrize(
    ("start", "said"),
    [
        ("2026-12-01T11:00", "The start time must be in the future."),  # 09:00 UTC: past
        ("tomorrow at nine", "Enter a date and time"),
        ("2026-13-40T25:00", "Enter a date and time"),
    ],
)
def test_a_start_in_the_past_or_not_a_time_is_refused_clearly_and_changes_nothing(
    manager_client, manager, asked, start, said
):
    campaign = draft(manager)
    shown = manager_client.get(confirm_url(campaign), {"start": start})
    assert shown.status_code == 400
    assert said in shown.content.decode()
    assert 'id="confirm-form"' not in shown.content.decode()
    posted = manager_client.post(confirm_url(campaign), {"start": start, "shown": "0"})
    assert posted.status_code == 400
    campaign.refresh_from_db()
    assert (campaign.state, campaign.starts_at) == (State.DRAFT, None) and not asked


def test_only_the_confirm_launches_and_the_audience_is_counted_again(
    manager_client, manager, asked
):
    audience()
    campaign = draft(manager)
    # A post that did not come from the confirmation (no count shown) launches nothing.
    assert manager_client.post(confirm_url(campaign)).status_code == 400
    # Twenty more people match since the confirmation showed five: it asks again.
    SubscriberFactory.create_batch(20)
    again = manager_client.post(confirm_url(campaign), {"shown": "5"})
    assert again.status_code == 409
    html = again.content.decode()
    assert "The audience changed since you looked: 5 then, 25 now." in html
    assert 'name="shown" value="25"' in html
    campaign.refresh_from_db()
    assert campaign.state == State.DRAFT and not asked
    # A small change does not stand in the way.
    SubscriberFactory.create(email="")
    assert manager_client.post(confirm_url(campaign), {"shown": "24"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == State.RUNNING


def test_agents_may_not_see_or_confirm_a_launch(agent_client, manager):
    campaign = draft(manager)
    assert agent_client.get(confirm_url(campaign)).status_code == 403
    assert agent_client.post(confirm_url(campaign), {"shown": "0"}).status_code == 403
    assert agent_client.post(reverse("campaign_unschedule", args=[campaign.pk])).status_code == 403


@pytest.mark.parametrize("scale", [2, 30])
def test_the_confirmation_costs_a_constant_number_of_queries(
    manager_client, manager, django_assert_num_queries, scale
):
    SubscriberFactory.create_batch(scale)
    SubscriberFactory.create_batch(scale, do_not_email=True)
    campaign = draft(manager)
    # session, user, roles, the campaign (with offer, author, plan), the audience counted
    with django_assert_num_queries(5):
        response = manager_client.get(confirm_url(campaign), {"start": "2026-12-02T09:30"})
    assert response.context["summary"].reachable == scale


# --- Scheduling ---------------------------------------------------------------------------------


def test_a_scheduled_campaign_says_when_and_starts_at_its_time_once(
    manager_client, manager, asked, clock
):
    SubscriberFactory.create_batch(3)
    campaign = draft(manager)
    response = manager_client.post(
        confirm_url(campaign), {"start": "2026-12-01T14:00", "shown": "3"}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == State.SCHEDULED
    assert campaign.starts_at == NOW + timedelta(hours=2)  # 14:00 in Riga is 12:00 UTC
    assert not asked and not OutreachMessage.objects.exists()
    page = manager_client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert "Scheduled for" in page and 'id="campaign-scheduled"' in page
    assert "Cancel the schedule" in page and "Launch…" not in page

    # Before its time the tick leaves it alone.
    tasks.outreach_tick()
    campaign.refresh_from_db()
    assert campaign.state == State.SCHEDULED and not asked

    # At its time the tick starts it and asks for its work; a second tick does nothing more.
    clock.move_to(NOW + timedelta(hours=2, seconds=30))
    tasks.outreach_tick()
    tasks.outreach_tick()
    campaign.refresh_from_db()
    assert campaign.state == State.RUNNING
    assert campaign.launched_at == NOW + timedelta(hours=2, seconds=30)
    started = campaign.history.filter(action=Action.STARTED)
    assert [(h.actor, h.from_status, h.to_status) for h in started] == [
        (None, State.SCHEDULED, State.RUNNING)
    ]
    # Each tick asks for the work of the running campaign (the worker's fan-out is idempotent).
    assert set(asked) == {(campaign.pk,)}


def test_the_schedule_can_be_cancelled_before_it_starts(manager_client, manager, asked, clock):
    campaign = draft(manager)
    services.campaign_launch(campaign=campaign, actor=manager, starts_at=NOW + timedelta(hours=1))
    response = manager_client.post(reverse("campaign_unschedule", args=[campaign.pk]))
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.state, campaign.starts_at) == (State.DRAFT, None)
    clock.move_to(NOW + timedelta(hours=2))
    tasks.outreach_tick()
    campaign.refresh_from_db()
    assert campaign.state == State.DRAFT and not asked
    actions = list(campaign.history.order_by("at", "pk").values_list("action", flat=True))
    assert actions == [Action.CREATED, Action.SCHEDULED, Action.UNSCHEDULED]


def test_illegal_schedule_transitions_are_refused_and_change_nothing(manager):
    campaign = draft(manager)
    with pytest.raises(WrongState):  # a draft has no schedule to cancel
        services.campaign_schedule_cancel(campaign=campaign, actor=manager)
    with pytest.raises(InvalidInput):  # not in the future
        services.campaign_launch(campaign=campaign, actor=manager, starts_at=NOW)
    with pytest.raises(InvalidInput):  # naive: whose nine o'clock?
        services.campaign_launch(
            campaign=campaign, actor=manager, starts_at=NOW.replace(tzinfo=None) + timedelta(1)
        )
    services.campaign_launch(campaign=campaign, actor=manager, starts_at=NOW + timedelta(hours=1))
    with pytest.raises(WrongState):  # scheduled already
        services.campaign_launch(campaign=campaign, actor=manager)
    with pytest.raises(WrongState):
        services.campaign_pause(campaign=campaign, actor=manager)
    with pytest.raises(WrongState):  # a scheduled campaign is not edited
        services.campaign_update(campaign=campaign, actor=manager, values={"name": "Other"})
    campaign.refresh_from_db()
    assert campaign.state == State.SCHEDULED and campaign.name == "Loyalty"
    assert campaign.history.count() == 2  # created, scheduled


def test_a_started_campaign_cannot_have_its_schedule_cancelled(manager, asked):
    campaign = draft(manager)
    services.campaign_launch(campaign=campaign, actor=manager, starts_at=NOW + timedelta(hours=1))
    assert services.campaigns_start_due(now=NOW + timedelta(hours=1)) == [campaign.pk]
    with pytest.raises(WrongState):
        services.campaign_schedule_cancel(campaign=campaign, actor=manager)
    campaign.refresh_from_db()
    assert campaign.state == State.RUNNING


@pytest.mark.django_db(transaction=True)
def test_two_ticks_racing_start_a_scheduled_campaign_once(asked):
    manager = user_with_role("Manager", username="racer")
    campaigns = [draft(manager, name=f"c{i}") for i in range(5)]
    for campaign in campaigns:
        services.campaign_launch(
            campaign=campaign, actor=manager, starts_at=NOW + timedelta(minutes=5)
        )
    started: list[list[int]] = []
    later = NOW + timedelta(minutes=6)
    errors = run_at_once(*[lambda: started.append(services.campaigns_start_due(now=later))] * 4)
    assert errors == []
    assert sorted(pk for found in started for pk in found) == sorted(c.pk for c in campaigns)
    assert CampaignHistory.objects.filter(action=Action.STARTED).count() == 5
    assert set(OutreachCampaign.objects.values_list("state", flat=True)) == {State.RUNNING}


@pytest.mark.django_db(transaction=True)
def test_a_cancel_racing_the_tick_leaves_one_of_them_done(asked):
    manager = user_with_role("Manager", username="racer")
    campaign = draft(manager)
    services.campaign_launch(campaign=campaign, actor=manager, starts_at=NOW + timedelta(minutes=5))
    later = NOW + timedelta(minutes=6)
    errors = run_at_once(
        lambda: services.campaigns_start_due(now=later),
        lambda: services.campaign_schedule_cancel(campaign=campaign, actor=manager),
    )
    campaign.refresh_from_db()
    if campaign.state == State.RUNNING:  # the tick won: the cancel was told it had started
        assert len(errors) == 1 and isinstance(errors[0], WrongState)
    else:
        assert errors == [] and campaign.state == State.DRAFT
    assert campaign.history.filter(action__in=[Action.STARTED, Action.UNSCHEDULED]).count() == 1
