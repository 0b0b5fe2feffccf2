"""Outreach pages: managers create, preview, launch, pause and resume campaigns and watch them
go; subscribers answer through their signed link."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core import signing
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone, translation

from offers.models import CounterOffer, OfferKind
from retention.models import Notification, OutreachCampaign, OutreachMessage
from retention.outreach import services as outreach
from retention.outreach.links import LINK_MAX_AGE, message_token
from retention.outreach.views import SEND_ERRORS
from subscribers.models import Subscriber
from tests.factories import SubscriberFactory, offer_template

pytestmark = pytest.mark.django_db

Campaign = OutreachCampaign
MState = OutreachMessage.State

BODIES = {
    "body_lv": "Labdien, {name}! {offer}: {new_price} mēnesī. {link}",
    "body_ru": "Здравствуйте, {name}! {offer}: {new_price} в месяц. {link}",
    "body_en": "Hello {name}! {offer}: {new_price} a month instead of {price}. {link}",
}


@pytest.fixture
def loyalty():
    return offer_template(
        "loyalty-tariff",
        OfferKind.PLAN_CHANGE,
        min_tenure_months=12,
        name_en="Loyalty tariff: the new-customer price",
        name_lv="Lojalitātes tarifs: jauna klienta cena",
        name_ru="Тариф лояльности: цена для новых клиентов",
    )


@pytest.fixture
def loyal():
    """Long-standing subscribers paying €29.99 for a plan new customers get for €19.99."""
    return [
        SubscriberFactory.create(name=name, language=language, region="Kurzeme")
        for name, language in [("Anna Ozola", "lv"), ("Ivan Petrov", "ru"), ("John Smith", "en")]
    ]


def make_campaign(manager, template, state=Campaign.State.DRAFT, **fields) -> Campaign:
    values = {"name": "Loyalty", "template": template, "channel": "email", **BODIES, **fields}
    campaign = outreach.campaign_create(actor=manager, values=values)
    if state != Campaign.State.DRAFT:
        Campaign.objects.filter(pk=campaign.pk).update(state=state, launched_at=timezone.now())
        campaign.refresh_from_db()
    return campaign


def form_data(offer, **changes) -> dict:
    data = {
        "name": "Loyalty tariff for Kurzeme",
        "template": offer.pk,
        "channel": "email",
        "min_tenure_months": 12,
        "min_penalty_percent": 20,
        "promo_ended_days": "",
        "min_risk": 0,
        "segment": "",
        "region": "",
        "plan": "",
        "not_contacted_days": 30,
        "subject": "Better terms for you",
        **BODIES,
    }
    data.update(changes)
    return data


def sent_message(campaign, subscriber) -> OutreachMessage:
    now = timezone.now()
    return OutreachMessage.objects.create(
        campaign=campaign, subscriber=subscriber, state=MState.SENT, due_at=now, sent_at=now
    )


# --- Who may -------------------------------------------------------------------------------------


def test_agents_may_not_see_or_run_campaigns(agent_client, manager, loyalty):
    campaign = make_campaign(manager, loyalty)
    for url in [
        reverse("campaigns"),
        reverse("campaign_create"),
        reverse("campaign", args=[campaign.pk]),
        reverse("campaign_edit", args=[campaign.pk]),
    ]:
        assert agent_client.get(url).status_code == 403, url
    assert agent_client.post(reverse("campaign_launch", args=[campaign.pk])).status_code == 403
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT


def test_campaign_pages_need_a_login(client, manager, loyalty):
    campaign = make_campaign(manager, loyalty)
    for url in [reverse("campaigns"), reverse("campaign", args=[campaign.pk])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_managers_see_outreach_in_the_navigation_and_agents_do_not(client, manager, agent):
    client.force_login(manager)
    assert f'href="{reverse("campaigns")}"' in client.get(reverse("queue")).content.decode()
    client.force_login(agent)
    assert f'href="{reverse("campaigns")}"' not in client.get(reverse("queue")).content.decode()


# --- Creating and editing a draft -------------------------------------------------------------


def test_a_manager_creates_a_draft_and_sees_who_matches_and_sample_messages(
    manager_client, manager, loyalty, loyal
):
    form = manager_client.get(reverse("campaign_create")).content.decode()
    assert "{name} {offer} {price} {new_price} {link}" in form
    response = manager_client.post(reverse("campaign_create"), form_data(loyalty))
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("campaign", args=[campaign.pk])
    assert (campaign.state, campaign.created_by, campaign.min_penalty_percent) == (
        Campaign.State.DRAFT,
        manager,
        20,
    )

    html = manager_client.get(response["Location"]).content.decode()
    assert "3 subscribers match now." in html
    # One sample per language, each with the offer named in that language.
    assert "Labdien, Anna Ozola! Lojalitātes tarifs: jauna klienta cena: €19,99" in html
    assert "Здравствуйте, Ivan Petrov! Тариф лояльности" in html
    assert "Hello John Smith! Loyalty tariff: the new-customer price: €19.99 a month" in html
    assert not OutreachMessage.objects.exists()  # a preview sends nothing


@pytest.mark.parametrize(
    ("field", "body", "error"),
    [
        ("body_en", "Hello {nmae}", "Unknown placeholders: nmae"),
        ("body_ru", "Hello {name", "stray { or }"),
    ],
)
def test_a_bad_placeholder_is_a_field_error_and_nothing_is_saved(
    manager_client, loyalty, field, body, error
):
    response = manager_client.post(reverse("campaign_create"), form_data(loyalty, **{field: body}))
    assert response.status_code == 400
    assert error in " ".join(response.context["form"].errors[field])
    assert not Campaign.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"channel": "phone"}, "channel"),
        ({"min_risk": 101}, "min_risk"),
        ({"template": 999999}, "template"),
        ({"body_lv": ""}, "body_lv"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_changes_nothing(
    manager_client, loyalty, changes, field
):
    response = manager_client.post(reverse("campaign_create"), form_data(loyalty, **changes))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not Campaign.objects.exists()


def test_an_inactive_offer_cannot_be_chosen(manager_client, loyalty):
    loyalty.is_active = False
    loyalty.save()
    response = manager_client.post(reverse("campaign_create"), form_data(loyalty))
    assert response.status_code == 400
    assert response.context["form"].errors["template"]


def test_a_draft_can_be_edited(manager_client, manager, loyalty, loyal):
    cache.clear()  # the region choices are cached
    campaign = make_campaign(manager, loyalty)
    assert manager_client.get(reverse("campaign_edit", args=[campaign.pk])).status_code == 200
    response = manager_client.post(
        reverse("campaign_edit", args=[campaign.pk]),
        form_data(loyalty, name="Renamed", channel="sms", region="Kurzeme"),
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert (campaign.name, campaign.channel, campaign.region) == ("Renamed", "sms", "Kurzeme")


def test_a_launched_campaign_cannot_be_edited(manager_client, manager, loyalty):
    campaign = make_campaign(manager, loyalty, state=Campaign.State.RUNNING)
    url = reverse("campaign_edit", args=[campaign.pk])
    assert manager_client.get(url)["Location"] == reverse("campaign", args=[campaign.pk])
    manager_client.post(url, form_data(loyalty, name="Changed after launch"))
    campaign.refresh_from_db()
    assert campaign.name == "Loyalty"


# --- Launch, pause, resume ----------------------------------------------------------------------


def test_launching_starts_the_campaign_and_asks_the_worker_after_commit(
    manager_client, manager, loyalty, django_capture_on_commit_callbacks, monkeypatch
):
    asked = []
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: asked.append(args))
    campaign = make_campaign(manager, loyalty)
    url = reverse("campaign_launch", args=[campaign.pk])
    # Looking at the confirmation changes nothing.
    assert manager_client.get(url).status_code == 200
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT and not asked
    with django_capture_on_commit_callbacks(execute=True):
        response = manager_client.post(url, {"shown": "0"})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.RUNNING and campaign.launched_at
    assert asked == [(campaign.pk,)]
    html = manager_client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert "Launched: the messages go out in the background" in html


def test_launching_twice_is_refused_on_the_page_and_changes_nothing(
    manager_client, manager, loyalty
):
    campaign = make_campaign(manager, loyalty, state=Campaign.State.RUNNING)
    launched_at = campaign.launched_at
    response = manager_client.post(reverse("campaign_launch", args=[campaign.pk]), {"shown": "0"})
    assert response.status_code == 409
    assert "Only a draft campaign can be launched." in response.content.decode()
    campaign.refresh_from_db()
    assert (campaign.state, campaign.launched_at) == (Campaign.State.RUNNING, launched_at)


def test_a_campaign_with_an_invalid_offer_is_not_launched(manager_client, manager):
    broken = offer_template("broken-discount", OfferKind.PERCENT_DISCOUNT, percent=None, months=0)
    campaign = make_campaign(manager, broken)
    response = manager_client.post(reverse("campaign_launch", args=[campaign.pk]), {"shown": "0"})
    assert response.status_code == 409
    assert 'id="action-error"' in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT


def test_pause_and_resume(manager_client, manager, loyalty):
    campaign = make_campaign(manager, loyalty, state=Campaign.State.RUNNING)
    assert manager_client.post(reverse("campaign_pause", args=[campaign.pk])).status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.PAUSED
    response = manager_client.post(reverse("campaign_pause", args=[campaign.pk]))
    assert response.status_code == 409
    assert "Only a running campaign can be paused." in response.content.decode()
    assert manager_client.post(reverse("campaign_resume", args=[campaign.pk])).status_code == 302
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.RUNNING


def test_a_draft_cannot_be_resumed(manager_client, manager, loyalty):
    campaign = make_campaign(manager, loyalty)
    assert manager_client.post(reverse("campaign_resume", args=[campaign.pk])).status_code == 409
    campaign.refresh_from_db()
    assert campaign.state == Campaign.State.DRAFT


# --- Watching it go -----------------------------------------------------------------------------


def progress_of(campaign, **states: int) -> None:
    subscribers = SubscriberFactory.create_batch(sum(states.values()))
    now = timezone.now()
    rows = iter(subscribers)
    OutreachMessage.objects.bulk_create(
        OutreachMessage(
            campaign=campaign,
            subscriber=next(rows),
            state=state,
            due_at=now,
            skip_reason="do_not_contact" if state == MState.SKIPPED else "",
        )
        for state, n in states.items()
        for _ in range(n)
    )


@pytest.mark.parametrize("scale", [1, 10])
def test_the_campaign_list_shows_progress_in_constant_queries(
    manager_client, manager, loyalty, django_assert_num_queries, scale
):
    for i in range(scale):
        campaign = make_campaign(manager, loyalty, state=Campaign.State.RUNNING, name=f"c{i}")
        progress_of(campaign, sent=2, deferred=1, skipped=1)
    with django_assert_num_queries(5):  # session, user, roles, campaigns, message counts
        response = manager_client.get(reverse("campaigns"))
    assert response.status_code == 200
    row = re.search(r'<tr id="campaign-\d+">(.*?)</tr>', response.content.decode(), re.S)
    assert row is not None
    numbers = re.findall(r'<td class="num">(\d+)</td>', row.group(1))
    assert numbers == ["4", "2", "1", "1", "0", "0"]


def test_the_campaign_list_sorts_by_a_heading(manager_client, manager, loyalty):
    for name, sent in (("Beta", 3), ("Alpha", 1), ("Gamma", 2)):
        progress_of(make_campaign(manager, loyalty, name=name), sent=sent)
    by_name = manager_client.get(reverse("campaigns"), {"sort": "name"})
    assert [r.record[0].name for r in by_name.context["table"].rows] == ["Alpha", "Beta", "Gamma"]
    by_sent = manager_client.get(reverse("campaigns"), {"sort": "-sent"})
    assert [r.record[0].name for r in by_sent.context["table"].rows] == ["Beta", "Gamma", "Alpha"]
    assert 'aria-sort="descending"' in by_sent.content.decode()
    bad = manager_client.get(reverse("campaigns"), {"sort": "0__created_by__password"})
    assert bad.status_code == 200


def test_the_draft_page_with_its_preview_costs_a_constant_number_of_queries(
    manager_client, manager, loyalty, loyal, django_assert_num_queries
):
    campaign = make_campaign(manager, loyalty)
    SubscriberFactory.create_batch(10, language="lv")
    # session, user, roles, campaign (+offer, author, plan), who matches by language, the
    # samples, the history
    with django_assert_num_queries(7):
        response = manager_client.get(reverse("campaign", args=[campaign.pk]))
    assert response.context["preview"].matched == 13


@pytest.mark.parametrize("scale", [1, 20])
def test_a_running_campaign_refreshes_its_progress_in_constant_queries(
    manager_client, manager, loyalty, django_assert_num_queries, scale
):
    campaign = make_campaign(manager, loyalty, state=Campaign.State.RUNNING)
    progress_of(campaign, sent=scale, deferred=2, skipped=3, failed=1, responded=1, pending=4)
    url = reverse("campaign", args=[campaign.pk])
    # session, user, roles, campaign, counts by state and reason for skipping, the history
    with django_assert_num_queries(6):
        page = manager_client.get(url).content.decode()
    assert 'hx-trigger="every 2s"' in page
    # the same without the history
    with django_assert_num_queries(5):
        fragment = manager_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in fragment and 'id="progress"' in fragment
    assert f'<progress id="progress-bar" value="{scale + 5}" max="{scale + 11}"' in fragment
    assert f'<dd id="progress-sent">{scale}</dd>' in fragment
    assert "asked not to be contacted: 3" in fragment
    assert 'hx-trigger="every 2s"' in fragment


def errors_of(campaign, **errors: int) -> None:
    """Rows of ``campaign`` that providers answered: ``{"failed:<reason>": n, "deferred:…": n}``"""
    now = timezone.now()
    for spec, n in errors.items():
        state, reason = spec.split(":", 1)
        OutreachMessage.objects.bulk_create(
            OutreachMessage(
                campaign=campaign, subscriber=s, state=state, due_at=now, error=reason, attempts=1
            )
            for s in SubscriberFactory.create_batch(n)
        )


@pytest.mark.parametrize("language", ["en", "lv", "ru"])
def test_the_progress_says_why_messages_failed_or_wait_in_the_readers_language(
    manager_client, manager, loyalty, django_assert_num_queries, language
):
    campaign = make_campaign(manager, loyalty, state=Campaign.State.RUNNING)
    progress_of(campaign, sent=2, deferred=1)  # one waiting for allowed hours: no error
    errors_of(
        campaign,
        **{
            "failed:smtp_refused 550 5.1.1 Mailbox unavailable": 3,
            "failed:smtp_refused 554 5.7.1 Rejected": 1,
            "failed:sms_refused 400 to and text required": 2,
            "deferred:sms_busy 429 rate limited": 4,
        },
    )
    manager_client.cookies["django_language"] = language
    url = reverse("campaign", args=[campaign.pk])
    with django_assert_num_queries(5), translation.override(language):
        page = manager_client.get(url, HTTP_HX_REQUEST="true").content.decode()
        refused = str(SEND_ERRORS["smtp_refused"])
        busy = str(SEND_ERRORS["sms_busy"])
        sms_refused = str(SEND_ERRORS["sms_refused"])
        allowed_hours = translation.ngettext(
            "(%(n)s waiting for allowed hours)", "(%(n)s waiting for allowed hours)", 1
        ) % {"n": 1}
    failures = re.search(r'<ul class="reasons small" id="progress-failures".*?</ul>', page, re.S)
    assert failures is not None
    items = [
        re.sub(r"<[^>]+>", "", li).strip()
        for li in re.findall(r"<li>(.*?)</li>", failures.group(0), re.S)
    ]
    # by meaning, most first, with the provider's words of the most common answer, quoted
    assert items == [
        f"4 — {refused}: 550 5.1.1 Mailbox unavailable",
        f"2 — {sms_refused}: 400 to and text required",
    ]
    assert '<dd id="progress-failed">6' in page
    retrying = re.search(r'id="progress-retrying".*?</ul>', page, re.S)
    assert retrying is not None and f"4</span> — {busy}" in retrying.group(0)
    assert '<dd id="progress-deferred">5' in page
    assert allowed_hours in page
    if language != "en":
        assert refused != "the mail server refused it"


def test_a_paused_or_finished_campaign_stops_refreshing(manager_client, manager, loyalty):
    for state in (Campaign.State.PAUSED, Campaign.State.FINISHED):
        campaign = make_campaign(manager, loyalty, state=state)
        fragment = manager_client.get(
            reverse("campaign", args=[campaign.pk]), HTTP_HX_REQUEST="true"
        ).content.decode()
        assert 'id="progress"' in fragment and "hx-trigger" not in fragment


def test_the_progress_bar_has_no_inline_style(manager_client, manager, loyalty):
    campaign = make_campaign(manager, loyalty, state=Campaign.State.RUNNING)
    progress_of(campaign, sent=3, pending=1)
    html = manager_client.get(reverse("campaign", args=[campaign.pk])).content.decode()
    assert " style=" not in html and "<style" not in html


# --- The subscriber's link ----------------------------------------------------------------------


@pytest.fixture
def message(manager, loyalty, loyal):
    campaign = make_campaign(manager, loyalty, state=Campaign.State.RUNNING)
    return sent_message(campaign, loyal[1])  # Ivan, who reads Russian


@pytest.fixture
def message_en(manager, loyalty, loyal):
    """A message to John, who reads English: the page's texts can be checked as written."""
    campaign = make_campaign(manager, loyalty, state=Campaign.State.RUNNING)
    return sent_message(campaign, loyal[2])


def link(message) -> str:
    return reverse("outreach_link", args=[message_token(message)])


def test_the_link_opens_without_a_login_in_the_subscribers_language(
    client, message, django_assert_num_queries
):
    with django_assert_num_queries(1):  # the message with its campaign, offer and subscriber
        response = client.get(link(message))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert "Тариф лояльности: цена для новых клиентов" in html
    assert "€19,99" in html and "€29,99" in html  # in Russian, decimals take a comma
    assert 'id="bell"' not in html and "langswitch" not in html


def test_a_forged_or_tampered_link_is_a_clear_404(client, message):
    token = message_token(message)
    for bad in ["garbage", token[:-2] + "xx", signing.dumps(message.pk, salt="other")]:
        response = client.get(reverse("outreach_link", args=[bad]))
        assert response.status_code == 404
        assert "This link does not work" in response.content.decode()


def test_an_expired_link_is_a_clear_404_and_answering_it_changes_nothing(client, message):
    url = link(message)
    with time_machine.travel(timezone.now() + LINK_MAX_AGE + timedelta(days=1)):
        assert client.get(url).status_code == 404
        response = client.post(url, {"response": "accepted"})
    assert response.status_code == 404
    message.refresh_from_db()
    assert message.response == ""


def test_a_link_to_a_deleted_message_is_a_404(client, message):
    url = link(message)
    message.delete()
    assert client.get(url).status_code == 404


def test_asking_for_a_call_records_it_and_tells_the_manager(client, message_en, manager):
    response = client.post(link(message_en), {"response": "call"}, follow=True)
    assert response.status_code == 200
    message_en.refresh_from_db()
    assert (message_en.state, message_en.response) == (MState.RESPONDED, "call")
    assert Notification.objects.filter(recipient=manager, code="notify.outreach_call")
    html = response.content.decode()
    assert "We will call you soon" in html
    assert 'id="answered"' in html and 'name="response"' not in html


def test_accepting_applies_the_offer_within_the_launching_managers_authority(client, message_en):
    # €10 a month for 12 months: within a manager's authority, so it applies at once.
    response = client.post(link(message_en), {"response": "accepted"}, follow=True)
    assert "Your new terms apply from your next bill" in response.content.decode()
    message_en.refresh_from_db()
    assert message_en.response == "accepted"
    offer = CounterOffer.objects.get(subscriber=message_en.subscriber)
    assert offer.status == CounterOffer.Status.ACCEPTED
    assert Subscriber.objects.get(pk=message_en.subscriber_id).monthly_price == Decimal("19.99")


def test_answering_twice_says_already_answered_and_changes_nothing(client, message_en, manager):
    client.post(link(message_en), {"response": "call"})
    message_en.refresh_from_db()
    answered_at, notes = message_en.responded_at, Notification.objects.count()
    response = client.post(link(message_en), {"response": "accepted"}, follow=True)
    assert "already answered" in response.content.decode()
    message_en.refresh_from_db()
    assert (message_en.response, message_en.responded_at) == ("call", answered_at)
    assert Notification.objects.count() == notes
    assert not CounterOffer.objects.exists()


def test_an_unknown_answer_is_refused_and_changes_nothing(client, message):
    response = client.post(link(message), {"response": "cancel-my-contract"})
    assert response.status_code == 400
    assert "Unknown response." in response.content.decode()
    message.refresh_from_db()
    assert (message.state, message.response) == (MState.SENT, "")


def test_the_link_is_post_or_get_only(client, message):
    assert client.put(link(message)).status_code == 405
