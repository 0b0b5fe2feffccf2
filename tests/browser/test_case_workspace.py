"""The case workspace in Chromium: the subscriber's context beside the work without scrolling,
a message written to the subscriber from a macro (and a blocked channel explained), the
confirmation before a cancellation is processed, and a manager on a case of their team.

``SCREENSHOTS=dir`` keeps screenshots of the page (they are looked at, not compared)."""

import os
from datetime import time, timedelta
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect

from retention.cases.services import case_claim
from retention.models import (
    CancellationCase,
    CancellationReason,
    CaseMessage,
    ContactAttempt,
    MessageTemplate,
    Team,
)
from retention.system.services import demo_users_ensure
from subscribers.models import Equipment, Subscriber, TimelineEvent
from tests.browser.clock import next_tuesday_at
from tests.browser.login import log_in
from tests.browser.watch import expect_status
from tests.factories import CaseFactory, EquipmentFactory, SubscriberFactory, TimelineEventFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = os.environ.get("SCREENSHOTS", "")


@pytest.fixture(autouse=True)
def _sms_folder(settings, tmp_path):
    settings.SMS_FILE_PATH = str(tmp_path / "sms")


def price_macro() -> MessageTemplate:
    template = MessageTemplate.objects.create(
        name="Price: a better price for you",
        channel="email",
        subject_en="A better price for your {plan}",
        subject_lv="Labāka cena jūsu {plan}",
        body_en="Hello, {name}. You pay {price} a month for {plan}; new customers pay "
        "{new_customer_price}. I will call you. {agent}",
        body_lv="Labdien, {name}! Jūs maksājat {price} mēnesī par {plan}; jaunie klienti maksā "
        "{new_customer_price}. Es jums piezvanīšu. {agent}",
        callback_days=2,
        callback_time=time(10, 0),
        note="Sent the price letter",
    )
    template.reasons.set(
        [CancellationReason.objects.get_or_create(code="price", defaults={"category": "price"})[0]]
    )
    MessageTemplate.objects.create(
        name="Missed you: call-back SMS",
        channel="sms",
        body_en="Hello, {name}. We tried to reach you. {agent}",
        body_lv="Labdien, {name}! Mēģinājām ar jums sazināties. {agent}",
        callback_hours=3,
    )
    return template


def desk_case(morning, *, language: str = "lv") -> CancellationCase:
    """Jānis's case (price), claimed by the demo agent; a story worth a context pane."""
    agent = demo_users_ensure()[0]
    subscriber = SubscriberFactory.create(
        name="Jānis Bērziņš",
        language=language,
        churn_risk=72,
        churn_risk_scored_on=morning.date(),
        arrears="12.50",
    )
    EquipmentFactory.create(subscriber=subscriber, kind=Equipment.Kind.ROUTER, serial="SN-ROUTER-1")
    EquipmentFactory.create(
        subscriber=subscriber, kind=Equipment.Kind.SET_TOP_BOX, serial="SN-TV-1"
    )
    for days, kind, summary in [
        (5, TimelineEvent.Kind.OUTAGE, "Outage 6 h: fibre cut"),
        (12, TimelineEvent.Kind.TICKET, "Ticket: Wi-Fi drops in the evening"),
        (120, TimelineEvent.Kind.OUTAGE, "Outage 2 h: power failure at the node"),
    ]:
        TimelineEventFactory.create(
            subscriber=subscriber,
            kind=kind,
            summary=summary,
            source="network",
            occurred_at=morning - timedelta(days=days),
        )
    case = CaseFactory.create(
        subscriber=subscriber,
        process_by=morning.date() + timedelta(days=14),
        requested_end_date=morning.date() + timedelta(days=10),
    )
    return case_claim(case=case, actor=agent)


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/workspace-{name}.png")


def assert_in_viewport(page: Page, selector: str) -> None:
    box = page.locator(selector).bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert box["y"] >= 0 and box["x"] >= 0, box
    assert box["y"] + box["height"] <= viewport["height"], (box, viewport)
    assert box["x"] + box["width"] <= viewport["width"], (box, viewport)


def test_agent_sends_a_macro_from_the_case_and_sees_it_in_the_conversation(
    live_server, page, morning
):
    template = price_macro()
    case = desk_case(morning)
    page.set_viewport_size({"width": 1440, "height": 900})
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")

    # The subscriber's context stands beside the work, whole, without scrolling.
    pane = page.locator("#context-pane")
    shot(page, "1440-en")
    assert_in_viewport(page, "#context-pane")
    for text in ("Plan and price", "Loyalty penalty", "Churn risk", "Contact rules right now"):
        expect(pane).to_contain_text(text)
    expect(pane.locator("#incident-counts")).to_contain_text("1 outage · 1 ticket")
    expect(pane.locator("#incident-counts")).not_to_contain_text("2 outages")
    expect(pane).to_contain_text("SN-TV-1")
    assert_in_viewport(page, "#case-incidents")

    # The macro for the case's reason comes first, previewed in Latvian (Jānis's language).
    compose = page.locator("#compose")
    expect(compose.get_by_label("Message template")).to_have_value(str(template.pk))
    body = compose.get_by_label("Message", exact=True)
    expect(body).to_have_value(
        "Labdien, Jānis Bērziņš! Jūs maksājat €29,99 mēnesī par "
        f"{case.subscriber.plan.name}; jaunie klienti maksā "
        f"€{case.subscriber.plan.new_customer_price}".replace(".", ",")
        + ". Es jums piezvanīšu. Laura Kalniņa"
    )
    # Choosing the SMS macro previews it instead; choosing back, the letter again.
    compose.get_by_label("Message template").select_option(label="Missed you: call-back SMS (SMS)")
    expect(page.locator("#message-to")).to_contain_text("SMS to")
    page.locator("#compose").get_by_label("Message template").select_option(str(template.pk))
    expect(page.locator("#message-to")).to_contain_text("E-mail to")
    body = page.locator("#compose").get_by_label("Message", exact=True)
    expect(body).to_contain_text("Labdien, Jānis Bērziņš!")
    body.fill(body.input_value() + "\nP.S. Paldies!")
    page.locator("#compose").get_by_role("button", name="Send").dblclick()

    conversation = page.locator("#conversation")
    expect(conversation.locator(".kind-message")).to_have_count(1)
    expect(conversation.locator(".kind-message")).to_contain_text("P.S. Paldies!")
    expect(conversation.locator(".kind-message")).to_contain_text("Message sent")
    expect(conversation).to_contain_text("Sent the price letter")
    expect(page.locator("#callback-at")).to_be_visible()
    # The subscriber's timeline (below the work; it is read as the page loads) has it too.
    page.reload()
    expect(page.locator("#timeline")).to_contain_text(
        "Retention desk contact, outbound, e-mail: message sent"
    )
    expect(page.locator("#conversation .kind-message")).to_have_count(1)
    message = CaseMessage.objects.get()
    assert message.body.endswith("P.S. Paldies!") and message.language == "lv"
    assert ContactAttempt.objects.filter(case=case, outcome="message_sent").count() == 1


def test_a_blocked_channel_shows_the_explanation_and_nothing_is_sent(live_server, page):
    late = next_tuesday_at(22)
    with time_machine.travel(late, tick=True):
        price_macro()
        case = desk_case(late)
        log_in(page, live_server, "Agent")
        page.goto(f"{live_server.url}/cases/{case.pk}/")
        compose = page.locator("#compose")
        compose.get_by_label("Message template").select_option(
            label="Missed you: call-back SMS (SMS)"
        )
        expect(page.locator("#message-to")).to_contain_text("SMS to")
        expect_status(page, 409)
        page.locator("#compose").get_by_role("button", name="Send").click()
        expect(page.locator("#action-error")).to_contain_text("Quiet hours; allowed from")
        assert not CaseMessage.objects.exists()
        assert not ContactAttempt.objects.filter(case=case).exists()


def test_processing_a_cancellation_asks_first_and_going_back_changes_nothing(
    live_server, page, morning
):
    case = desk_case(morning)
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    cancel = page.locator("#cancel-form")
    chosen = morning.date() + timedelta(days=7)
    cancel.get_by_label("Service and billing end on").fill(chosen.isoformat())
    cancel.get_by_role("button", name="Process the cancellation").click()

    dialog = page.locator("#cancel-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(chosen.strftime("%d.%m.%Y"))  # the date the agent chose
    expect(dialog).to_contain_text("billing stops from that date")
    expect(dialog).to_contain_text("SN-ROUTER-1")
    expect(dialog).to_contain_text("SN-TV-1")
    expect(dialog).to_contain_text("The case closes as cancelled.")
    expect(dialog).to_contain_text("This cannot be undone.")
    dialog.get_by_role("button", name="Go back").click()
    expect(dialog).to_be_hidden()
    case.refresh_from_db()
    assert case.status == CancellationCase.Status.IN_PROGRESS
    expect(page.locator("#case-status")).to_have_text("In progress")

    cancel.get_by_role("button", name="Process the cancellation").click()
    dialog.get_by_role("button", name="Yes, process the cancellation").click()
    expect(page.locator("#case-status")).to_have_text("Cancelled")
    case.refresh_from_db()
    assert (case.status, case.effective_date) == (CancellationCase.Status.CANCELLED, chosen)
    assert case.subscriber.status == Subscriber.Status.CANCELLING


def test_a_manager_writes_to_the_subscriber_on_a_case_of_their_team(live_server, page, morning):
    template = price_macro()
    case = desk_case(morning, language="en")
    team = Team.objects.create(name="Rīga")
    users = demo_users_ensure()
    for user in users[:2]:  # the agent who owns the case and the manager
        user.team = team
        user.save(update_fields=["team"])
    log_in(page, live_server, "Manager")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    compose = page.locator("#compose")
    expect(compose.get_by_label("Message template")).to_have_value(str(template.pk))
    expect(compose.get_by_label("Message", exact=True)).to_contain_text(
        "Hello, Jānis Bērziņš. You pay €29.99 a month"
    )
    compose.get_by_role("button", name="Send").click()
    expect(page.locator("#conversation .kind-message")).to_contain_text("Andris Ozols")
    assert CaseMessage.objects.get().actor.username == "manager"


def test_a_macro_whose_callback_falls_after_the_deadline_is_sent_and_says_why(
    live_server, page, morning
):
    template = price_macro()
    template.callback_days = 30  # past the case's process-by date
    template.save(update_fields=["callback_days"])
    case = desk_case(morning, language="en")
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.locator("#compose").get_by_role("button", name="Send").click()
    expect(page.locator("#action-notice")).to_contain_text(
        "Sent, but its callback was not set: A callback must be before the process-by date"
    )
    expect(page.locator("#conversation .kind-message")).to_contain_text("Hello, Jānis Bērziņš")
    assert CaseMessage.objects.count() == 1


@pytest.mark.parametrize(
    ("width", "height", "language"), [(1440, 900, "lv"), (768, 1024, "en"), (768, 1024, "lv")]
)
def test_the_case_page_at_desk_and_tablet_widths(
    live_server, page, morning, width, height, language
):
    price_macro()
    case = desk_case(morning)
    page.set_viewport_size({"width": width, "height": height})
    log_in(page, live_server, "Agent")
    if language != "en":
        page.get_by_label("Language").select_option(language)
        expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    pane = page.locator("#context-pane")
    expect(pane).to_be_visible()
    if width >= 1200:
        assert_in_viewport(page, "#context-pane")
    else:
        # Stacked: the context comes first, above the work.
        pane_box, work_box = pane.bounding_box(), page.locator(".work-pane").bounding_box()
        assert pane_box and work_box and pane_box["y"] < work_box["y"]
    # Nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    shot(page, f"{width}-{language}")
