"""The annual best tariff notice (retention.outreach.notice): every active subscriber with a
tariff fit hears once a year, on their signup anniversary, which plan fits them best (or that
theirs does), under the contact policy; their link switches them to it, once.

The clock starts on Tuesday 2026-03-10 10:00 UTC (12:00 in Riga). Subscribers pay €29.99 on
"Fibre big"; the plan that fits the light users is "Fibre small" (new customers pay €14.99),
which would have cost them €15.50 a month with their usage: a saving of €14.49.
"""

import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from offers.models import CounterOffer, OfferHistory, OfferKind
from retention.core.refusals import Conflict, WrongState
from retention.core.roles import Role
from retention.models import CampaignHistory, OutreachCampaign, OutreachMessage
from retention.outreach.audience import campaign_fan_out
from retention.outreach.links import message_token
from retention.outreach.notice import notice_switch, notices_nightly
from retention.outreach.sending import outreach_send
from subscribers.models import OutboundEvent, Subscriber, TariffFit, TimelineEvent
from tests.factories import PlanFactory, SubscriberFactory, offer_template, user_with_role
from tests.threads import run_at_once

pytestmark = pytest.mark.django_db

D = Decimal
State = OutreachMessage.State
NOW = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)  # Tuesday, 12:00 in Riga
TODAY = date(2026, 3, 10)
Verdict = TariffFit.Verdict


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def sms_folder(settings, tmp_path) -> Path:
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


@pytest.fixture
def desk(db, tiers):
    """A manager (in whose name switches are made) and the catalogue's move to the plan that
    fits (offers/migrations/0007; made again for transactional tests, which flush it)."""
    manager = user_with_role(Role.MANAGER, username="manager")
    offer_template("plan-that-fits", OfferKind.PLAN_CHANGE, to_fitting_plan=True)
    return manager


@pytest.fixture
def plans():
    big = PlanFactory.create(code="big", name="Fibre big", new_customer_price=D("24.99"))
    small = PlanFactory.create(
        code="small", name="Fibre small", download_mbps=100, new_customer_price=D("14.99")
    )
    return big, small


def subscriber(plans, *, signup=date(2020, 3, 10), verdict=Verdict.LIGHT, **fields) -> Subscriber:
    """Signed up on ``signup``; with a fit (``verdict`` None: none) computed today."""
    big, small = plans
    found = SubscriberFactory.create(
        plan=big, monthly_price=D("29.99"), signup_date=signup, **fields
    )
    if verdict is not None:
        fits = verdict == Verdict.FITS
        TariffFit.objects.create(
            subscriber=found,
            computed_on=TODAY,
            months=6,
            current_cost=D("29.99"),
            best_plan=big if fits else small,
            best_cost=D("29.99") if fits else D("15.50"),
            saving=D("0.00") if fits else D("14.49"),
            verdict=verdict,
        )
    return found


def notices(year: int = 2026) -> OutreachCampaign:
    return OutreachCampaign.objects.get(purpose="best_tariff", year=year)


def messages_of(year: int = 2026) -> dict[int, OutreachMessage]:
    return {m.subscriber_id: m for m in OutreachMessage.objects.filter(campaign=notices(year))}


def send(at: datetime = NOW, year: int = 2026):
    return outreach_send(campaign_id=notices(year).pk, now=at)


# --- Who hears, and once a year ---------------------------------------------------------------


def test_the_nightly_run_gives_each_due_subscriber_one_notice_however_often_it_runs(desk, plans):
    due_today = subscriber(plans, signup=date(2020, 3, 10))
    due_earlier = subscriber(plans, signup=date(2019, 1, 5), verdict=Verdict.FITS)
    subscriber(plans, signup=date(2020, 3, 11))  # anniversary tomorrow
    subscriber(plans, signup=date(2026, 1, 5))  # signed up this year: first notice in 2027
    subscriber(plans, verdict=None)  # no fit: nothing to tell
    subscriber(plans, status=Subscriber.Status.CANCELLED)

    assert notices_nightly(today=TODAY) == 2
    assert notices_nightly(today=TODAY) == 0
    assert set(messages_of()) == {due_today.pk, due_earlier.pk}
    campaign = notices()
    assert (campaign.state, campaign.standing, campaign.created_by) == ("running", True, desk)
    assert [(h.action, h.actor) for h in CampaignHistory.objects.filter(campaign=campaign)] == [
        (CampaignHistory.Action.LAUNCHED, None)
    ]
    assert OutreachCampaign.objects.filter(purpose="best_tariff").count() == 1


def test_one_notice_campaign_a_year_is_kept_by_the_database(desk, plans):
    notices_nightly(today=TODAY)
    campaign = notices()
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        OutreachCampaign.objects.create(
            name="again",
            purpose="best_tariff",
            year=2026,
            created_by=desk,
            template=campaign.template,
            channel="email",
        )


def test_across_the_year_boundary_the_subscriber_hears_once_more_on_their_anniversary(
    desk, plans, clock
):
    someone = subscriber(plans, signup=date(2020, 3, 10))
    notices_nightly(today=TODAY)
    assert send().sent == 1

    clock.move_to(datetime(2026, 12, 31, 20, 0, tzinfo=UTC))  # 22:00 in Riga
    assert notices_nightly(today=date(2026, 12, 31)) == 0
    clock.move_to(datetime(2027, 1, 1, 1, 0, tzinfo=UTC))
    assert notices_nightly(today=date(2027, 1, 1)) == 0  # not their anniversary yet
    assert notices().standing is False  # last year's takes nobody in any more
    assert campaign_fan_out(campaign=notices()) == 0
    assert OutreachMessage.objects.filter(campaign=notices(2027)).count() == 0

    for day in (date(2027, 3, 9), date(2027, 3, 10), date(2027, 3, 11), date(2027, 12, 30)):
        clock.move_to(datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=1))
        notices_nightly(today=day)
    assert set(messages_of(2027)) == {someone.pk}
    assert set(messages_of(2026)) == {someone.pk}


def test_a_subscriber_whose_fit_arrives_later_in_the_year_hears_then(desk, plans, clock):
    late = subscriber(plans, signup=date(2020, 2, 1), verdict=None)
    notices_nightly(today=TODAY)
    assert late.pk not in messages_of()
    subscriber_fit = TariffFit.objects.create(
        subscriber=late,
        computed_on=date(2026, 5, 1),
        months=3,
        current_cost=D("29.99"),
        best_plan=plans[1],
        best_cost=D("15.50"),
        saving=D("14.49"),
        verdict=Verdict.LIGHT,
    )
    clock.move_to(datetime(2026, 5, 1, 1, 0, tzinfo=UTC))
    assert notices_nightly(today=subscriber_fit.computed_on) == 1
    assert late.pk in messages_of()


def test_without_a_manager_no_notice_campaign_is_made(db, plans):
    offer_template("plan-that-fits", OfferKind.PLAN_CHANGE, to_fitting_plan=True)
    subscriber(plans)
    assert notices_nightly(today=TODAY) == 0
    assert not OutreachCampaign.objects.filter(purpose="best_tariff").exists()


def test_a_paused_notice_takes_nobody_in_until_resumed(desk, plans):
    notices_nightly(today=TODAY)
    OutreachCampaign.objects.filter(pk=notices().pk).update(state="paused")
    subscriber(plans, signup=date(2020, 1, 1))
    assert notices_nightly(today=TODAY) == 0


# --- What it says, and the contact policy -----------------------------------------------------


def test_the_notice_says_the_plan_that_fits_or_that_theirs_does_in_their_language(desk, plans):
    saver = subscriber(plans, language="en", do_not_sms=True)
    fitted = subscriber(plans, language="en", verdict=Verdict.FITS, do_not_sms=True)
    latvian = subscriber(plans, language="lv", do_not_sms=True)
    notices_nightly(today=TODAY)
    assert send().sent == 3
    by_address = {m.to[0]: m for m in mail.outbox}
    said = by_address[saver.email]
    assert said.subject == "Your best tariff for 2026"
    assert "On Fibre small you would have paid €15.50 a month: €14.49 a month less" in said.body
    assert reverse("outreach_link", args=["x"]).rsplit("x", 1)[0] in said.body
    assert "Your plan Fibre big already fits you best" in by_address[fitted.email].body
    assert "€14,49" in by_address[latvian.email].body  # Latvian writes a decimal comma
    contact = TimelineEvent.objects.get(subscriber=saver, kind=TimelineEvent.Kind.CONTACT)
    assert contact.data["channel"] == "email"


def test_do_not_contact_is_kept_per_channel(desk, plans, sms_folder):
    by_sms = subscriber(plans, do_not_email=True)
    nobody = subscriber(plans, do_not_email=True, do_not_sms=True)
    notices_nightly(today=TODAY)
    result = send()
    assert (result.sent, result.skipped) == (1, 1)
    found = messages_of()
    assert found[by_sms.pk].state == State.SENT
    assert sorted(p.name for p in sms_folder.iterdir()) == [f"outreach-{found[by_sms.pk].pk}.json"]
    assert (found[nobody.pk].state, found[nobody.pk].skip_reason) == (
        State.SKIPPED,
        "do_not_contact",
    )
    assert mail.outbox == []


def test_quiet_hours_defer_the_notice_which_goes_at_the_next_allowed_moment(desk, plans):
    someone = subscriber(plans, do_not_sms=True)
    notices_nightly(today=TODAY)
    evening = datetime(2026, 3, 10, 19, 30, tzinfo=UTC)  # 21:30 in Riga
    assert send(evening).deferred == 1
    message = messages_of()[someone.pk]
    assert (message.state, message.due_at) == (
        State.DEFERRED,
        datetime(2026, 3, 11, 7, 0, tzinfo=UTC),  # Wednesday 09:00 in Riga
    )
    assert send(datetime(2026, 3, 11, 6, 59, tzinfo=UTC)).claimed == 0
    assert send(datetime(2026, 3, 11, 7, 0, tzinfo=UTC)).sent == 1
    assert len(mail.outbox) == 1


def test_a_notice_due_to_someone_who_left_meanwhile_is_skipped(desk, plans):
    leaving = subscriber(plans)
    notices_nightly(today=TODAY)
    Subscriber.objects.filter(pk=leaving.pk).update(status=Subscriber.Status.CANCELLING)
    assert send().skipped == 1
    assert messages_of()[leaving.pk].skip_reason == "not_active"


# --- The switch -------------------------------------------------------------------------------


def sent_notice(plans, **fields) -> OutreachMessage:
    someone = subscriber(plans, **fields)
    notices_nightly(today=TODAY)
    assert send().sent >= 1
    return OutreachMessage.objects.get(campaign=notices(), subscriber=someone)


def switch(message, **changed):
    fit = TariffFit.objects.get(subscriber_id=message.subscriber_id)
    given = {"plan_id": fit.best_plan_id, "computed_on": fit.computed_on, **changed}
    return notice_switch(message=message, **given)


def test_the_switch_moves_them_to_the_plan_that_fits_once_with_its_history(desk, plans):
    message = sent_notice(plans)
    offer = switch(message)
    assert offer.status == CounterOffer.Status.ACCEPTED
    assert offer.template.code == "plan-that-fits"
    someone = Subscriber.objects.select_related("plan").get(pk=message.subscriber_id)
    assert (someone.plan.code, someone.monthly_price) == ("small", D("14.99"))
    message.refresh_from_db()
    assert (message.state, message.response) == (State.RESPONDED, "switched")
    assert set(OfferHistory.objects.filter(offer=offer).values_list("action", flat=True)) >= {
        OfferHistory.Action.PROPOSED,
        OfferHistory.Action.ACCEPTED,
    }
    kinds = set(TimelineEvent.objects.filter(subscriber=someone).values_list("kind", flat=True))
    assert {TimelineEvent.Kind.PLAN_CHANGE, TimelineEvent.Kind.PRICE_CHANGE} <= kinds
    event = OutboundEvent.objects.get(subscriber_id=someone.pk)
    assert event.type == OutboundEvent.Type.OFFER_ACCEPTED
    assert event.payload["data"]["plan"] == {"from": "big", "to": "small"}

    with pytest.raises(WrongState):
        switch(message)
    assert CounterOffer.objects.filter(subscriber=someone).count() == 1


def test_the_switch_refuses_a_fit_worked_out_again_since_the_page_was_shown(desk, plans):
    message = sent_notice(plans)
    with pytest.raises(Conflict):
        switch(message, plan_id=plans[0].pk)
    with pytest.raises(Conflict):
        switch(message, computed_on=TODAY - timedelta(days=1))
    assert not CounterOffer.objects.exists()
    message.refresh_from_db()
    assert message.response == ""


def test_the_switch_refuses_a_stale_fit(desk, plans, clock):
    message = sent_notice(plans)
    clock.move_to(NOW + timedelta(days=8))
    with pytest.raises(WrongState, match="out of date"):
        switch(message, today=TODAY + timedelta(days=8))
    assert not CounterOffer.objects.exists()


def test_the_switch_refuses_a_subscriber_who_is_leaving(desk, plans):
    message = sent_notice(plans)
    Subscriber.objects.filter(pk=message.subscriber_id).update(status=Subscriber.Status.CANCELLED)
    with pytest.raises(WrongState):
        switch(message)
    assert not CounterOffer.objects.exists()


def test_the_switch_refuses_a_subscriber_already_on_that_plan(desk, plans):
    message = sent_notice(plans)
    Subscriber.objects.filter(pk=message.subscriber_id).update(plan=plans[1])
    with pytest.raises(WrongState, match="already on the plan"):
        switch(message)


def test_the_switch_refuses_when_their_own_plan_fits(desk, plans):
    message = sent_notice(plans, verdict=Verdict.FITS)
    with pytest.raises(WrongState, match="already on the plan"):
        switch(message)


def test_the_switch_refuses_a_notice_that_was_not_sent(desk, plans):
    someone = subscriber(plans)
    notices_nightly(today=TODAY)
    message = messages_of()[someone.pk]
    assert message.state == State.PENDING
    with pytest.raises(WrongState, match="not sent"):
        switch(message)


# --- The link page ----------------------------------------------------------------------------


def link(message) -> str:
    return reverse("outreach_link", args=[message_token(message)])


def test_the_link_page_shows_the_best_tariff_in_their_language_and_switches(
    client, desk, plans, django_assert_num_queries
):
    message = sent_notice(plans, language="ru")
    with django_assert_num_queries(2):  # the message with what it shows; the fit
        page = client.get(link(message))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'lang="ru"' in html
    assert 'id="plan-best"><strong>Fibre small</strong>' in html
    assert 'id="saving"><strong>€14,49</strong>' in html
    fit = TariffFit.objects.get(subscriber_id=message.subscriber_id)
    answer = client.post(
        link(message), {"plan": fit.best_plan_id, "computed_on": fit.computed_on.isoformat()}
    )
    assert answer.status_code == 302
    done = client.get(link(message)).content.decode()
    assert 'id="switched"' in done and "Fibre small" in done
    assert 'id="switch"' not in done
    assert Subscriber.objects.get(pk=message.subscriber_id).plan_id == plans[1].pk


def test_the_link_page_refuses_a_switch_to_a_plan_it_did_not_show(client, desk, plans):
    message = sent_notice(plans, language="en")
    answer = client.post(link(message), {"plan": plans[0].pk, "computed_on": TODAY.isoformat()})
    assert answer.status_code == 409
    assert "worked out again" in answer.content.decode()
    bad = client.post(link(message), {"plan": "x", "computed_on": ""})
    assert bad.status_code == 400
    assert client.post(link(message), {"response": "accepted"}).status_code == 400
    assert not CounterOffer.objects.exists()


def test_the_link_page_says_when_their_plan_fits(client, desk, plans):
    message = sent_notice(plans, language="en", verdict=Verdict.FITS)
    html = client.get(link(message)).content.decode()
    assert 'id="notice-fits"' in html
    assert 'id="switch"' not in html


# --- Races (real threads, PostgreSQL) ---------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_nightly_runs_at_once_make_one_campaign_and_one_notice_each(desk, plans):
    people = [subscriber(plans, signup=date(2020, 1, 1 + i)) for i in range(20)]
    errors = run_at_once(lambda: notices_nightly(today=TODAY), lambda: notices_nightly(today=TODAY))
    assert errors == []
    assert OutreachCampaign.objects.filter(purpose="best_tariff").count() == 1
    assert sorted(messages_of()) == sorted(p.pk for p in people)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_switch_switches_once(desk, plans):
    message = sent_notice(plans)
    errors = run_at_once(lambda: switch(message), lambda: switch(message))
    assert [type(e) for e in errors] == [WrongState]
    assert CounterOffer.objects.filter(subscriber_id=message.subscriber_id).count() == 1
    assert OutboundEvent.objects.filter(subscriber_id=message.subscriber_id).count() == 1


# --- What managers see ------------------------------------------------------------------------


def test_managers_see_the_standing_annual_notice_in_the_campaigns_list(
    client, desk, plans, django_assert_num_queries
):
    subscriber(plans)
    notices_nightly(today=TODAY)
    client.force_login(desk)
    with django_assert_num_queries(5):  # session, user, roles, campaigns, message counts
        listed = client.get(reverse("campaigns")).content.decode()
    row = re.search(rf'<tr id="campaign-{notices().pk}">(.*?)</tr>', listed, re.S)
    assert row is not None
    assert "Best tariff notice 2026" in row.group(1) and "annual, standing" in row.group(1)
    page = client.get(reverse("campaign", args=[notices().pk])).content.decode()
    assert 'id="notice-about"' in page and "signup anniversary" in page


def test_the_demo_seeding_makes_this_years_notice(plans):
    from django.core.management import call_command

    from retention.system.services import demo_users_ensure

    demo_users_ensure()
    subscriber(plans, signup=date(2020, 1, 1))
    out = io.StringIO()
    call_command("seed_outreach", stdout=out)
    assert "Best tariff notice 2026: 1 notices added." in out.getvalue()
    assert len(messages_of()) == 1
