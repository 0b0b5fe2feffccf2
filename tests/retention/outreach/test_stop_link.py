""" "Stop contacting me": every outreach message carries a stop link (and an e-mail the RFC 8058
one-click headers) to a page with no login, one button per channel and one for all; looking
changes nothing, a click stops that channel once (on the subscriber's timeline), and every
later contact keeps to it.

The clock stands at Tuesday 2026-12-01 10:00 UTC (12:00 in Riga).
"""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail, signing
from django.urls import reverse

from offers.models import OfferKind
from retention.cases.contacts import contact_log
from retention.core.refusals import ContactRefused
from retention.models import ContactAttempt, OutreachMessage
from retention.outreach import services
from retention.outreach.audience import campaign_fan_out
from retention.outreach.links import STOP_MAX_AGE, message_token, stop_token
from retention.outreach.notice import notices_nightly
from retention.outreach.sending import outreach_send
from subscribers.models import Subscriber, TariffFit, TimelineEvent
from tests.factories import CaseFactory, PlanFactory, SubscriberFactory, offer_template
from tests.retention.outreach.helpers import NOW, draft

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

MState = OutreachMessage.State


@pytest.fixture(autouse=True)
def sms_folder(settings, tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: True)
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return tmp_path / "sms"


def send_campaign(manager, channel: str = "email") -> OutreachMessage:
    campaign = draft(manager, channel=channel)
    services.campaign_launch(campaign=campaign, actor=manager)
    campaign_fan_out(campaign=campaign)
    outreach_send(campaign_id=campaign.pk)
    return OutreachMessage.objects.filter(campaign=campaign).order_by("pk").first()  # type: ignore[return-value]


def stop_url_in(text: object) -> str:
    found = re.search(r"https?://[^/\s]+(/stop/[^/\s]+/)", str(text))
    assert found, text
    return found.group(1)


# --- In every message ---------------------------------------------------------------------------


def test_a_campaign_e_mail_carries_the_stop_line_and_the_one_click_headers(manager):
    anna = SubscriberFactory.create(language="lv")
    message = send_campaign(manager)
    assert message.state == MState.SENT
    email = mail.outbox[0]
    url = stop_url_in(email.body)
    assert email.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    one_click = email.extra_headers["List-Unsubscribe"]
    assert one_click.startswith("<http") and one_click.endswith("/one-click/>")
    assert url.rstrip("/") in one_click
    assert signing.loads(url.split("/")[2], salt="outreach-stop") == [anna.pk, "email"]


def test_an_sms_carries_a_short_stop_link(manager, sms_folder):
    SubscriberFactory.create(language="ru")
    send_campaign(manager, channel="sms")
    (file,) = sms_folder.iterdir()
    body = json.loads(file.read_text(encoding="utf-8"))["body"]
    # A short "Stop: <url>" at the end, in their language, after the offer's own link.
    assert re.search(r"/o/\S+/ \S+: http://\S+/stop/\S+/$", body), body


def test_the_annual_notice_carries_the_stop_line_too():
    from retention.core.roles import Role
    from tests.factories import user_with_role

    user_with_role(Role.MANAGER, username="notice-manager")
    offer_template("plan-that-fits", OfferKind.PLAN_CHANGE, to_fitting_plan=True)
    plan = PlanFactory.create()
    subscriber = SubscriberFactory.create(
        plan=plan, language="en", signup_date=NOW.date() - timedelta(days=400)
    )
    TariffFit.objects.create(
        subscriber=subscriber,
        computed_on=NOW.date(),
        months=6,
        current_cost=subscriber.monthly_price,
        best_plan=plan,
        best_cost=subscriber.monthly_price,
        saving=0,
        verdict=TariffFit.Verdict.FITS,
    )
    assert notices_nightly(today=NOW.date()) == 1
    message = OutreachMessage.objects.get()
    outreach_send(campaign_id=message.campaign_id)
    assert "To stop e-mails, SMS or calls from us:" in mail.outbox[0].body
    assert "List-Unsubscribe" in mail.outbox[0].extra_headers


# --- The page -----------------------------------------------------------------------------------


def stop_url(subscriber: Subscriber, channel: str = "email") -> str:
    return reverse("outreach_stop", args=[stop_token(subscriber_id=subscriber.pk, channel=channel)])


def test_looking_at_the_stop_page_changes_nothing_and_offers_every_channel(
    client, django_assert_num_queries
):
    ivan = SubscriberFactory.create(language="ru", do_not_call=True)
    with django_assert_num_queries(1):  # the subscriber
        response = client.get(stop_url(ivan, "sms"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ru">' in html
    assert 'id="stop-came-by"' in html
    # The channel the message came by first and marked; calls stopped already.
    assert html.index('id="stop-sms"') < html.index('id="stop-email"')
    assert 'id="stop-sms" class="primary"' in html
    assert 'id="stop-phone"' not in html and 'id="stopped-phone"' in html
    assert 'id="stop-all"' in html
    ivan.refresh_from_db()
    assert (ivan.do_not_email, ivan.do_not_sms) == (False, False)
    assert not TimelineEvent.objects.filter(subscriber=ivan).exists()


@pytest.mark.parametrize(
    ("choice", "stopped"),
    [
        ("email", (False, True, False)),
        ("sms", (False, False, True)),
        ("phone", (True, False, False)),
        ("all", (True, True, True)),
    ],
)
def test_one_click_stops_that_channel_on_the_timeline(client, choice, stopped):
    anna = SubscriberFactory.create(language="lv")
    response = client.post(stop_url(anna), {"channel": choice}, follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="lv">' in html and 'class="message success"' in html
    anna.refresh_from_db()
    assert (anna.do_not_call, anna.do_not_email, anna.do_not_sms) == stopped
    events = TimelineEvent.objects.filter(subscriber=anna, kind=TimelineEvent.Kind.CONTACT)
    assert events.count() == sum(stopped)
    event = events.first()
    assert event is not None
    assert event.source == "subscriber" and event.actor is None
    assert event.code == "contact.stopped_by_subscriber"
    assert event.data["direction"] == "inbound" and event.data["via"] == "link"


def test_a_second_click_says_it_is_done_already_and_records_nothing_more(client):
    john = SubscriberFactory.create(language="en")
    client.post(stop_url(john), {"channel": "email"})
    again = client.post(stop_url(john), {"channel": "email"}, follow=True)
    assert "That was already done" in again.content.decode()
    assert TimelineEvent.objects.filter(subscriber=john).count() == 1


def test_an_unknown_choice_is_refused_and_changes_nothing(client):
    john = SubscriberFactory.create(language="en")
    response = client.post(stop_url(john), {"channel": "pigeon"})
    assert response.status_code == 400
    john.refresh_from_db()
    assert not (john.do_not_email or john.do_not_sms or john.do_not_call)


def test_a_tampered_forged_or_expired_stop_link_is_a_clear_page_not_an_error(client, clock):
    john = SubscriberFactory.create(language="en")
    token = stop_token(subscriber_id=john.pk, channel="email")
    for bad in [
        "garbage",
        token[:-2] + ("xx" if not token.endswith("xx") else "yy"),
        signing.dumps([john.pk, "email"], salt="outreach"),  # another link's signature
        signing.dumps([john.pk, "pigeon"], salt="outreach-stop"),  # not a channel
        stop_token(subscriber_id=10**9, channel="email"),  # nobody
    ]:
        for response in (
            client.get(reverse("outreach_stop", args=[bad])),
            client.post(reverse("outreach_stop", args=[bad]), {"channel": "all"}),
        ):
            assert response.status_code == 404
            assert "This link does not work" in response.content.decode()
    url = stop_url(john)
    clock.move_to(NOW + STOP_MAX_AGE + timedelta(days=1))
    assert client.post(url, {"channel": "all"}).status_code == 404
    john.refresh_from_db()
    assert not (john.do_not_email or john.do_not_sms or john.do_not_call)


def test_the_one_click_post_needs_no_csrf_token_only_a_valid_signed_one():
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    anna = SubscriberFactory.create()
    token = stop_token(subscriber_id=anna.pk, channel="email")
    url = reverse("outreach_stop_one_click", args=[token])
    # Opened in a browser: the page, nothing changed.
    assert client.get(url).status_code == 302
    # Not the RFC's body: refused.
    assert client.post(url, {}).status_code == 400
    anna.refresh_from_db()
    assert not anna.do_not_email
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    anna.refresh_from_db()
    assert anna.do_not_email and not anna.do_not_sms
    assert TimelineEvent.objects.get(subscriber=anna).data["via"] == "one_click"
    bad = reverse("outreach_stop_one_click", args=[token[:-3] + "abc"])
    assert client.post(bad, {"List-Unsubscribe": "One-Click"}).status_code == 404
    # The page's own buttons still need their CSRF token.
    stop = reverse("outreach_stop", args=[token])
    assert client.post(stop, {"channel": "sms"}).status_code == 403


def test_the_offer_link_page_shows_the_same_stop_choices(client, manager):
    SubscriberFactory.create(language="en")
    message = send_campaign(manager)
    html = client.get(reverse("outreach_link", args=[message_token(message)])).content.decode()
    # E-mail first, beside the offer's own main button.
    assert html.index('id="stop-email"') < html.index('id="stop-sms"') and 'id="stop-all"' in html
    assert 'id="stop-email" class="primary"' not in html
    token = re.search(r'action="/stop/([^/]+)/"', html).group(1)  # type: ignore[union-attr]
    client.post(reverse("outreach_stop", args=[token]), {"channel": "email"})
    message.subscriber.refresh_from_db()
    assert message.subscriber.do_not_email


# --- Honoured by every later contact ------------------------------------------------------------


def test_after_stopping_e_mail_nothing_later_e_mails_them(client, manager):
    plan = PlanFactory.create()
    anna = SubscriberFactory.create(
        plan=plan, language="en", signup_date=NOW.date() - timedelta(days=400)
    )
    first = send_campaign(manager)
    assert first.subscriber_id == anna.pk and len(mail.outbox) == 1
    client.post(stop_url_in(mail.outbox[0].body), {"channel": "email"})

    # The next campaign skips them for e-mail.
    later = send_campaign(manager)
    later.refresh_from_db()
    assert (later.state, later.skip_reason) == (MState.SKIPPED, "do_not_contact")
    # The annual notice too (by e-mail; they have no phone for an SMS).
    Subscriber.objects.filter(pk=anna.pk).update(phone="")
    offer_template("plan-that-fits", OfferKind.PLAN_CHANGE, to_fitting_plan=True)
    TariffFit.objects.create(
        subscriber=anna,
        computed_on=NOW.date(),
        months=6,
        current_cost=anna.monthly_price,
        best_plan=plan,
        best_cost=anna.monthly_price,
        saving=0,
        verdict=TariffFit.Verdict.FITS,
    )
    notices_nightly(today=NOW.date())
    notice = OutreachMessage.objects.get(campaign__purpose="best_tariff")
    outreach_send(campaign_id=notice.campaign_id)
    notice.refresh_from_db()
    assert (notice.state, notice.skip_reason) == (MState.SKIPPED, "do_not_contact")
    # And an agent's e-mail on their case is refused by the contact policy.
    case = CaseFactory.create(subscriber=anna, owner=manager, status="in_progress")
    with pytest.raises(ContactRefused):
        contact_log(
            case=case, actor=manager, channel="email", direction="outbound", outcome="reached"
        )
    assert not ContactAttempt.objects.exists()
    assert len(mail.outbox) == 1
