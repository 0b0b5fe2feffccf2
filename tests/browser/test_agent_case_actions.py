"""Every routine action on the case page, clicked (and typed) through in Chromium by the agent
who owns the case: what the page shows afterwards and what the database holds.

test_desk_flow covers a contact refused in quiet hours, an inbound contact and processing the
cancellation on the offered date; these cover the rest, on a Tuesday morning in Riga."""

from datetime import datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from retention.models import CancellationCase, CancellationReason, CaseHistory, ContactAttempt, User
from retention.system.services import demo_users_ensure
from subscribers.models import TimelineEvent
from tests.browser.clock import RIGA
from tests.browser.login import log_in
from tests.factories import CaseFactory, SubscriberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

Status = CancellationCase.Status
Action = CaseHistory.Action


@pytest.fixture
def case(case: CancellationCase) -> CancellationCase:
    """Jānis's case (tests/browser/conftest.py), with the competitor reason to choose."""
    CancellationReason.objects.get_or_create(
        code="competitor", defaults={"category": "competitor", "name_en": "Competitor offer"}
    )
    return case


def open_case(page, live_server, case: CancellationCase) -> None:
    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator("#case-status")).to_have_text("In progress")


def test_agent_logs_a_call_sets_the_reason_a_callback_and_a_note_without_leaving_the_page(
    live_server, page, case, morning
):
    open_case(page, live_server, case)
    history = page.locator("#conversation")

    # "c" jumps to the contact form's outcome; an outbound call at 11:00 is allowed.
    page.keyboard.press("c")
    expect(page.locator("#contact-form").get_by_label("Outcome")).to_be_focused()
    form = page.locator("#contact-form")
    form.get_by_label("Channel").select_option("phone")
    form.get_by_label("Direction").select_option("outbound")
    form.get_by_label("Outcome").select_option("no_answer")
    form.get_by_label("Note").fill("Rang twice")
    form.get_by_role("button", name="Log contact").click()
    expect(page.locator("#conversation")).to_contain_text("No answer — Rang twice")
    contact = ContactAttempt.objects.get(case=case)
    assert (contact.channel, contact.direction, contact.outcome) == (
        "phone",
        "outbound",
        "no_answer",
    )

    # The reason, in his words, with the competitor he named.
    reason = page.locator("section[aria-labelledby=reason-h]")
    reason.get_by_label("Reason").select_option(label="Competitor offer")
    reason.get_by_label("In the subscriber's words").fill("Tele2 offers the same for less")
    reason.get_by_label("Competitor").fill("Tele2")
    reason.get_by_role("button", name="Save reason").click()
    expect(history).to_contain_text("Reason changed")
    case.refresh_from_db()
    assert (case.reason.code, case.competitor) == ("competitor", "Tele2")
    assert case.reason_detail == "Tele2 offers the same for less"

    # A callback tomorrow at 10:00, his time and the desk's. The deadlines card shows it at once
    # (waits for the fix of the "Call back at" line, which stayed as it was until a reload).
    tomorrow_ten = datetime.combine(morning.date() + timedelta(days=1), time(10), tzinfo=RIGA)
    callback = page.locator("section[aria-labelledby=callback-h]")
    callback.get_by_label("Call back at").fill(tomorrow_ten.strftime("%Y-%m-%dT%H:%M"))
    callback.get_by_role("button", name="Set callback").click()
    expect(history).to_contain_text("Callback set")
    case.refresh_from_db()
    assert case.callback_at == tomorrow_ten
    expect(page.locator("#callback-at")).to_have_text(tomorrow_ten.strftime("%d.%m.%Y 10:00"))

    # "m" jumps to the note; the note goes to the case history and the subscriber's timeline.
    page.locator("#conversation").click()  # out of any field: the shortcut is not typed
    page.keyboard.press("m")
    note = page.get_by_role("textbox", name="Note m")
    expect(note).to_be_focused()
    page.keyboard.type("Wants to compare Tele2's contract first")
    callback.get_by_role("button", name="Add note").click()
    expect(history).to_contain_text("Wants to compare Tele2's contract first")
    assert CaseHistory.objects.filter(case=case, action=Action.NOTE).count() == 1
    assert TimelineEvent.objects.filter(
        subscriber=case.subscriber,
        kind=TimelineEvent.Kind.NOTE,
        summary="Wants to compare Tele2's contract first",
    ).exists()
    expect(page.locator("#case-status")).to_have_text("In progress")


def test_agent_releases_the_case_back_to_the_queue(live_server, page, case):
    open_case(page, live_server, case)
    page.get_by_role("button", name="Release to the queue").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Cancellation queue")
    expect(page.locator(".messages")).to_contain_text(f"Case #{case.pk} is back in the queue.")
    row = page.locator("#queue-table tbody tr").filter(has_text="Jānis Bērziņš")
    expect(row.get_by_role("button", name="Claim")).to_be_visible()
    case.refresh_from_db()
    assert (case.owner, case.status) == (None, Status.NEW)
    assert CaseHistory.objects.filter(case=case, action=Action.RELEASED).exists()


def test_agent_records_that_the_subscriber_withdrew_and_the_case_closes(live_server, page, case):
    open_case(page, live_server, case)
    outcome = page.locator("#withdraw-form")
    outcome.get_by_label("What did the subscriber say?").fill("Talked it over; staying with us")
    outcome.get_by_role("button", name="Withdrawn: they stay").click()

    expect(page.locator("#case-status")).to_have_text("Withdrawn")
    expect(page.locator("#contact-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Release to the queue")).to_have_count(0)
    case.refresh_from_db()
    assert case.status == Status.WITHDRAWN
    assert case.closed_at is not None
    assert case.outcome_note == "Talked it over; staying with us"
    assert TimelineEvent.objects.filter(
        subscriber=case.subscriber, kind=TimelineEvent.Kind.WITHDRAWN
    ).exists()


def test_agent_processes_the_cancellation_on_a_date_the_subscriber_chose(
    live_server, page, case, morning
):
    open_case(page, live_server, case)
    cancel = page.locator("#cancel-form")
    end_date = cancel.get_by_label("Service and billing end on")
    # The date offered is the one the subscriber asked for.
    expect(end_date).to_have_value(case.requested_end_date.isoformat())

    chosen = morning.date() + timedelta(days=7)
    end_date.fill(chosen.isoformat())
    cancel.get_by_label("Note").fill("Moving abroad; leaves a week earlier")
    cancel.get_by_role("button", name="Process the cancellation").click()
    # It asks first, saying what will happen; only "Yes" processes it.
    page.locator("#cancel-dialog").get_by_role(
        "button", name="Yes, process the cancellation"
    ).click()

    expect(page.locator("#case-status")).to_have_text("Cancelled")
    expect(page.locator("section[aria-labelledby=deadlines-h]")).to_contain_text(
        chosen.strftime("%d.%m.%Y")
    )
    case.refresh_from_db()
    assert (case.status, case.effective_date) == (Status.CANCELLED, chosen)
    assert case.closed_at is not None


def test_agent_claims_an_unclaimed_case_from_its_page(live_server, page, morning):
    demo_users_ensure()
    case = CaseFactory.create(subscriber=SubscriberFactory.create(name="Elza Kļaviņa"))

    log_in(page, live_server, "Agent")
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    expect(page.locator(".pagehead")).to_contain_text("Unclaimed")
    expect(page.locator("#contact-form")).to_have_count(0)
    page.get_by_role("button", name="Claim this case").click()

    expect(page.locator("#case-status")).to_have_text("In progress")
    expect(page.locator(".pagehead")).to_contain_text("Owner: Laura Kalniņa")
    expect(page.locator("#contact-form")).to_be_visible()
    case.refresh_from_db()
    assert case.owner == User.objects.get(username="agent")
