"""A manager watches a large campaign send, in Chromium, in English and in Latvian: the progress
refreshes itself while a worker sends through a real SMTP server (the local sink, answering each
message after 25 ms and refusing about one in fifty for good), the counts only ever grow and
always add up, and the page ends on "Finished" with every message counted once, the refused ones
under why they failed, in the manager's language, without a reload.

The worker is a thread of the test calling the sender as the Celery task does.

`SCREENSHOTS=dir` keeps the page while sending and when finished (campaign-live-<n>-<width>.png).
"""

import os
import re
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Page, expect

from offers.models import OfferKind
from retention.models import OutreachCampaign, OutreachMessage, User
from retention.outreach import services
from retention.outreach.audience import campaign_fan_out
from retention.outreach.sending import outreach_send
from retention.outreach.services import campaigns_finish
from retention.outreach.views import SEND_ERRORS
from retention.sinks import SmtpSink
from retention.system.services import demo_users_ensure
from subscribers.models import Subscriber, TimelineEvent
from tests.browser.login import log_in
from tests.factories import PlanFactory, SubscriberFactory, offer_template
from tests.zones import zone_where_it_is

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Campaign = OutreachCampaign
MState = OutreachMessage.State
AUDIENCE = 1_200


def shoot(page: Page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    for width, height in ((1440, 900), (768, 1024)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=f"{folder}/campaign-live-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1440, "height": 900})


@pytest.fixture
def smtp(settings):
    """Django's mailer speaks SMTP to a local server that takes 25 ms a message; four
    connections at a time, so 1,200 messages take several seconds to send."""
    with SmtpSink(latency_ms=25, error_rate=0.02, error_kind="permanent", seed=7) as sink:
        settings.MAILERS = {
            "default": {
                "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                "OPTIONS": {"host": sink.host, "port": sink.port, "timeout": 5},
            }
        }
        settings.SEND_CONCURRENCY = 4
        yield sink


@pytest.fixture
def campaign(monkeypatch) -> Campaign:
    monkeypatch.setattr("retention.core.broker.enqueue", lambda task, *args: True)
    demo_users_ensure()
    manager = User.objects.get(username="manager")
    plan = PlanFactory.create()
    zone = zone_where_it_is(12)  # midday there: e-mail may go out now
    Subscriber.objects.bulk_create(
        SubscriberFactory.build(plan=plan, time_zone=zone) for _ in range(AUDIENCE)
    )
    template = offer_template("loyalty-tariff", OfferKind.PLAN_CHANGE)
    campaign = services.campaign_create(
        actor=manager,
        values={
            "name": "Winter loyalty",
            "template": template,
            "channel": "email",
            "not_contacted_days": 0,
            "body_lv": "Labdien, {name}! {offer}. {link}",
            "body_ru": "Здравствуйте, {name}! {offer}. {link}",
            "body_en": "Hello {name}! {offer}. {link}",
        },
    )
    services.campaign_launch(campaign=campaign, actor=manager)
    assert campaign_fan_out(campaign=campaign) == AUDIENCE
    return campaign


def send_everything(campaign_id: int, failures: list[BaseException]) -> None:
    """The worker: chunk after chunk until nothing is left, then the campaign is finished."""
    try:
        while outreach_send(campaign_id=campaign_id).claimed:
            pass
        campaigns_finish()
    except BaseException as exc:  # handed to the test, which fails with it
        failures.append(exc)
    finally:
        connection.close()


def number(page: Page, selector: str) -> int:
    text = page.locator(selector).inner_text()
    found = re.match(r"\d+", text.strip())
    assert found is not None, text
    return int(found.group(0))


@pytest.mark.parametrize("language", ["en", "lv", "ru"])
def test_a_manager_watches_a_large_campaign_send_live_and_every_count_adds_up(
    live_server, page: Page, smtp: SmtpSink, campaign: Campaign, language: str
):
    with translation.override(language):
        running = str(Campaign.State.RUNNING.label)
        finished = str(Campaign.State.FINISHED.label)
        refused = str(SEND_ERRORS["smtp_refused"])
    log_in(page, live_server, "Manager")
    page.get_by_label("Language").select_option(language)
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{live_server.url}{reverse('campaign', args=[campaign.pk])}")
    expect(page.locator("#progress-state")).to_have_text(running)
    expect(page.locator("#progress-matched")).to_have_text(str(AUDIENCE))
    # A mark on the window: a reload would lose it.
    page.evaluate("window.stillTheSamePage = true")

    failures: list[BaseException] = []
    worker = threading.Thread(target=send_everything, args=(campaign.pk, failures))
    worker.start()
    seen: list[int] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            sent = number(page, "#progress-sent")
            if not seen or sent != seen[-1]:
                seen.append(sent)
                # Whatever the moment, the states add up to everyone who matched.
                counts = [
                    number(page, f"#progress-{state}")
                    for state in ("sent", "deferred", "skipped", "failed", "responded", "pending")
                ]
                assert number(page, "#progress-matched") == AUDIENCE
                assert sum(counts) == AUDIENCE, counts
                if 0 < sent < AUDIENCE and len(seen) == 2:
                    shoot(page, f"sending-{language}")
            if sent + number(page, "#progress-failed") == AUDIENCE:
                break
            page.wait_for_timeout(200)
    finally:
        worker.join(120)
    assert not worker.is_alive(), "the sender did not finish"
    assert not failures, failures

    # Counts that grew while the manager watched, chunk by chunk, and ended at everyone: sent,
    # or refused by the relay for good and said so.
    refusals = smtp.snapshot()["refused"]
    assert 0 < refusals < AUDIENCE // 10
    assert seen == sorted(seen), seen
    assert seen[-1] == AUDIENCE - refusals
    assert len([n for n in seen if 0 < n < seen[-1]]) >= 2, seen
    expect(page.locator("#progress-state")).to_have_text(finished, timeout=10_000)
    expect(page.locator("#progress-failed")).to_contain_text(str(refusals))
    expect(page.locator("#progress-failures")).to_contain_text(
        f"{refusals} — {refused}: 550 5.1.1 Mailbox unavailable (sink)"
    )
    assert page.evaluate("window.stillTheSamePage") is True
    shoot(page, f"finished-{language}")

    # What the page says is what happened: each message once at the server, once on the books.
    assert smtp.unique == AUDIENCE - refusals and smtp.duplicates == 0
    sent = OutreachMessage.objects.filter(campaign=campaign, state=MState.SENT).count()
    assert sent == AUDIENCE - refusals
    contacts = TimelineEvent.objects.filter(source="outreach", data__campaign=campaign.pk)
    assert contacts.count() == sent
