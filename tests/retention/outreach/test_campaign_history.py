"""A campaign's history: every write to a campaign (create, edit, launch, pause, resume) leaves
one row naming who did it, in the same transaction; the desk's own finishing leaves one with no
one; a refused change leaves none. The campaign page and the admin show it.

The clock stands at Tuesday 2026-12-01 10:00 UTC (12:00 in Riga) unless a test moves it.
"""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from offers.models import OfferKind
from retention.core.refusals import WrongState
from retention.models import CampaignHistory, OutreachCampaign, OutreachMessage
from retention.outreach import services
from tests.factories import SubscriberFactory, UserFactory, offer_template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock", "no_broker")]

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
State = OutreachCampaign.State
Action = CampaignHistory.Action
BODIES = {"body_lv": "Sveiki, {name}! {link}", "body_ru": "{name}! {link}", "body_en": "Hi {name}"}


@pytest.fixture
def discount(tiers):
    return offer_template("loyal-5-12", OfferKind.FIXED_DISCOUNT, amount=5, months=12)


def draft(manager, template, **fields) -> OutreachCampaign:
    values = {"name": "Loyal customers", "template": template, "channel": "sms", **BODIES}
    return services.campaign_create(actor=manager, values={**values, **fields})


def rows(campaign) -> list[tuple[str, str, str, str | None]]:
    """The campaign's history, oldest first: action, from, to, and who (None: the desk)."""
    return [
        (h.action, h.from_status, h.to_status, h.actor.username if h.actor else None)
        for h in campaign.history.select_related("actor").order_by("at", "id")
    ]


def in_state(manager, template, state: str) -> OutreachCampaign:
    campaign = draft(manager, template)
    OutreachCampaign.objects.filter(pk=campaign.pk).update(state=state, fanned_out_at=NOW)
    campaign.refresh_from_db()
    return campaign


# --- Every write, one row -------------------------------------------------------------------


def test_creating_a_draft_writes_created_by_its_author(manager, discount):
    campaign = draft(manager, discount)
    assert rows(campaign) == [(Action.CREATED, "", State.DRAFT, "manager")]
    assert campaign.history.get().at == campaign.created_at == NOW


def test_editing_a_draft_writes_edited_and_saving_it_unchanged_writes_nothing(
    manager, discount, clock
):
    campaign = draft(manager, discount)
    colleague = UserFactory.create(username="colleague")
    colleague.groups.set(manager.groups.all())
    clock.shift(timedelta(minutes=5))
    services.campaign_update(campaign=campaign, actor=colleague, values={"name": "Renamed"})
    services.campaign_update(campaign=campaign, actor=colleague, values={"name": "Renamed"})
    assert rows(campaign)[1:] == [(Action.EDITED, State.DRAFT, State.DRAFT, "colleague")]
    assert campaign.history.latest("at").at == NOW + timedelta(minutes=5)


def test_launch_pause_resume_and_finish_each_write_one_row_with_who_did_it(
    manager, discount, clock
):
    campaign = draft(manager, discount)
    launched = services.campaign_launch(campaign=campaign, actor=manager)
    assert launched.history.latest("id").at == launched.launched_at == NOW
    clock.shift(timedelta(minutes=1))
    services.campaign_pause(campaign=campaign, actor=manager)
    clock.shift(timedelta(minutes=1))
    services.campaign_resume(campaign=campaign, actor=manager)
    # The worker's part: the messages, sent; then the desk finishes what has nothing left.
    OutreachCampaign.objects.filter(pk=campaign.pk).update(fanned_out_at=NOW)
    assert services.campaigns_finish() == 1
    assert services.campaigns_finish() == 0  # finished once, recorded once
    assert rows(campaign) == [
        (Action.CREATED, "", State.DRAFT, "manager"),
        (Action.LAUNCHED, State.DRAFT, State.RUNNING, "manager"),
        (Action.PAUSED, State.RUNNING, State.PAUSED, "manager"),
        (Action.RESUMED, State.PAUSED, State.RUNNING, "manager"),
        (Action.FINISHED, State.RUNNING, State.FINISHED, None),
    ]
    campaign.refresh_from_db()
    assert campaign.state == State.FINISHED


def test_the_desk_finishes_only_running_campaigns_with_nothing_left(manager, discount):
    done = in_state(manager, discount, State.RUNNING)
    paused = in_state(manager, discount, State.PAUSED)
    standing = in_state(manager, discount, State.RUNNING)
    OutreachCampaign.objects.filter(pk=standing.pk).update(standing=True)
    waiting = in_state(manager, discount, State.RUNNING)
    OutreachMessage.objects.create(
        campaign=waiting, subscriber=SubscriberFactory.create(), state="pending", due_at=NOW
    )
    assert services.campaigns_finish() == 1
    finished = CampaignHistory.objects.filter(action=Action.FINISHED)
    assert [(h.campaign_id, h.actor_id) for h in finished] == [(done.pk, None)]
    for campaign in (paused, standing, waiting):
        assert not campaign.history.filter(action=Action.FINISHED).exists()


# --- A refused change writes nothing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "change", "why"),
    [
        (State.DRAFT, services.campaign_pause, "Only a running campaign can be paused."),
        (State.DRAFT, services.campaign_resume, "Only a paused campaign can be resumed."),
        (State.RUNNING, services.campaign_resume, "Only a paused campaign can be resumed."),
        (State.RUNNING, services.campaign_launch, "Only a draft campaign can be launched."),
        (State.PAUSED, services.campaign_launch, "Only a draft campaign can be launched."),
        (State.FINISHED, services.campaign_pause, "Only a running campaign can be paused."),
    ],
)
def test_an_illegal_transition_is_wrong_state_and_writes_nothing(
    manager, discount, state, change, why
):
    campaign = in_state(manager, discount, state)
    before = rows(campaign)
    with pytest.raises(WrongState, match=why):
        change(campaign=campaign, actor=manager)
    campaign.refresh_from_db()
    assert campaign.state == state
    assert rows(campaign) == before


def test_editing_a_launched_campaign_is_wrong_state_and_writes_nothing(manager, discount):
    campaign = in_state(manager, discount, State.RUNNING)
    with pytest.raises(WrongState, match=r"Only a draft campaign can be changed\."):
        services.campaign_update(campaign=campaign, actor=manager, values={"name": "Late"})
    campaign.refresh_from_db()
    assert campaign.name == "Loyal customers"
    assert rows(campaign) == [(Action.CREATED, "", State.DRAFT, "manager")]


def test_a_stale_copy_is_checked_against_the_locked_row(manager, discount):
    """The state check reads the row under its lock, not the caller's copy: a campaign paused
    at another desk is not paused twice."""
    campaign = in_state(manager, discount, State.RUNNING)
    stale = OutreachCampaign.objects.get(pk=campaign.pk)
    services.campaign_pause(campaign=campaign, actor=manager)
    with pytest.raises(WrongState):
        services.campaign_pause(campaign=stale, actor=manager)
    assert campaign.history.filter(action=Action.PAUSED).count() == 1


# --- Where people read it ---------------------------------------------------------------------


def page(client, campaign) -> str:
    return client.get(reverse("campaign", args=[campaign.pk])).content.decode()


def history_of(html: str) -> str:
    start = html.index('id="campaign-history"')
    return html[start : html.index("</ol>", start)]


def test_the_campaign_page_shows_the_history_newest_first_with_the_desk_for_no_one(
    manager_client, manager, discount
):
    manager.first_name, manager.last_name = "Ilze", "Kalniņa"
    manager.save()
    campaign = draft(manager, discount)
    services.campaign_launch(campaign=campaign, actor=manager)
    OutreachCampaign.objects.filter(pk=campaign.pk).update(fanned_out_at=NOW)
    services.campaigns_finish()
    shown = history_of(page(manager_client, campaign))
    assert shown.count("<li>") == 3
    assert "Ilze Kalniņa" in shown and "the desk" in shown
    assert shown.index("Finished") < shown.index("Launched") < shown.index("Created")


def test_the_history_is_in_the_readers_language(manager_client, manager, discount, settings):
    manager_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "lv"
    campaign = draft(manager, discount)
    services.campaign_launch(campaign=campaign, actor=manager)
    OutreachCampaign.objects.filter(pk=campaign.pk).update(fanned_out_at=NOW)
    services.campaigns_finish()
    html = page(manager_client, campaign)
    assert "Vēsture" in html
    shown = history_of(html)
    assert "Izveidota" in shown and "Uzsākta" in shown and "Pabeigta" in shown
    assert "sistēma" in shown and "the desk" not in shown


@pytest.mark.parametrize("edits", [1, 12])
def test_the_history_costs_one_query_however_long_it_is(
    manager_client, manager, discount, django_assert_num_queries, edits
):
    campaign = draft(manager, discount)
    for i in range(edits):
        author = UserFactory.create(username=f"editor{i}")
        author.groups.set(manager.groups.all())
        services.campaign_update(campaign=campaign, actor=author, values={"name": f"v{i}"})
    services.campaign_launch(campaign=campaign, actor=manager)
    # session, user, roles, campaign, counts by state and skip reason, the history
    with django_assert_num_queries(6):
        shown = history_of(page(manager_client, campaign))
    assert shown.count("<li>") == edits + 2


def test_the_admin_shows_the_history_read_only(client, admin_user, manager, discount):
    campaign = draft(manager, discount)
    services.campaign_launch(campaign=campaign, actor=manager)
    client.force_login(admin_user)
    response = client.get(reverse("admin:retention_outreachcampaign_change", args=[campaign.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "campaign history" in html.lower()
    assert "Launched" in html and "Created" in html
    assert 'name="history-0-action"' not in html  # shown, not a form to change
