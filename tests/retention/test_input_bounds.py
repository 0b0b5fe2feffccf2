"""Input a user can get wrong is refused with a clear error and changes nothing: callbacks out
of bounds, requested end dates decades ahead (on the desk, in the API and in an import, by one
rule), hand-overs of approvals for good. And every user picker names people as the queue does."""

import io
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from offers import delegation as offer_delegation
from offers.exceptions import InvalidTerms
from offers.forms import DelegationForm
from offers.models import ApprovalDelegation
from retention.cases import services as cases
from retention.cases.case_import import CaseImportRejected, cases_import_csv
from retention.cases.forms import ReassignForm
from retention.cases.opening import Intake, RequestedEndTooLate, case_open
from retention.core.refusals import WrongState
from retention.core.roles import Role
from retention.dashboard.forms import DashboardForm
from retention.models import CancellationCase, CancellationReason, CaseHistory, Reminder
from subscribers.ingestion import api_token_create
from tests.factories import CaseFactory, SubscriberFactory, user_with_role

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
# Tuesday 24 November 2026, 12:00 in Riga; cases made then must be processed by 8 December.
TUESDAY_NOON_RIGA = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def opening_tag(html: str, pattern: str) -> str:
    found = re.search(pattern, html)
    assert found, f"no tag like {pattern}"
    return found.group(0)


# --- Callbacks -------------------------------------------------------------------------------


@pytest.fixture
def case(agent):
    with time_machine.travel(TUESDAY_NOON_RIGA, tick=False):
        case = CaseFactory.create(subscriber=SubscriberFactory.create(time_zone="Europe/Riga"))
        cases.case_claim(case=case, actor=agent)
    assert case.process_by == date(2026, 12, 8)
    return case


def set_callback(client, case, at: str):
    return client.post(reverse("case_callback", args=[case.pk]), {"callback_at": at}, headers=HTMX)


def callback_error(response) -> str:
    """The callback form's error under its field, as the agent reads it."""
    html = response.content.decode()
    found = re.search(r'<ul class="errorlist"[^>]*>(.*?)</ul>', html, re.S)
    assert found, "no form error shown"
    return re.sub(r"<[^>]+>", "", found.group(1)).replace("&#x27;", "'")


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
@pytest.mark.parametrize(
    ("at", "error"),
    [
        ("2026-11-24T11:00", "A callback must be in the future."),
        ("2099-12-31T10:00", "A callback must be before the process-by date (08.12.2026)"),
        ("9999-12-31T10:00", "A callback must be before the process-by date (08.12.2026)"),
        ("2026-12-08T10:00", "A callback must be before the process-by date (08.12.2026)"),
        (
            "2026-11-25T03:00",
            "Wed 25 Nov 03:00 is outside the hours the subscriber may be called, their local "
            "time (Europe/Riga): 09:00–20:00 that day. The next allowed time is Wed 25 Nov 09:00.",
        ),
        (
            "2026-11-28T19:00",
            "Sat 28 Nov 19:00 is outside the hours the subscriber may be called, their local "
            "time (Europe/Riga): 10:00–18:00 that day. The next allowed time is Sun 29 Nov 10:00.",
        ),
    ],
)
def test_a_callback_out_of_bounds_is_refused_with_a_form_error_and_changes_nothing(
    agent_client, case, at, error
):
    response = set_callback(agent_client, case, at)
    assert response.status_code == 400
    assert error in callback_error(response)
    case.refresh_from_db()
    assert case.callback_at is None
    assert not case.history.filter(action=CaseHistory.Action.CALLBACK).exists()
    assert not Reminder.objects.filter(kind=Reminder.Kind.CALLBACK).exists()


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_a_callback_within_the_bounds_is_set(agent_client, case):
    # The last minute before 20:00 on the day before the process-by date.
    response = set_callback(agent_client, case, "2026-12-07T19:59")
    assert response.status_code == 200
    case.refresh_from_db()
    assert case.callback_at == datetime(2026, 12, 7, 17, 59, tzinfo=UTC)


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_a_callback_keeps_to_the_subscribers_hours_in_their_own_time_zone(agent_client, agent):
    case = CaseFactory.create(subscriber=SubscriberFactory.create(time_zone="America/New_York"))
    cases.case_claim(case=case, actor=agent)
    # The agent works in Riga: 15:00 there is 08:00 in New York, too early to call.
    early = set_callback(agent_client, case, "2026-11-25T15:00")
    assert early.status_code == 400
    assert "Wed 25 Nov 08:00 is outside" in callback_error(early)
    assert "(America/New_York)" in callback_error(early)
    assert set_callback(agent_client, case, "2026-11-25T17:00").status_code == 200


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_the_service_refuses_a_callback_out_of_bounds_whoever_calls_it(case, agent):
    for at in (
        datetime(2099, 12, 31, 10, tzinfo=UTC),
        datetime(2026, 11, 25, 1, tzinfo=UTC),  # 03:00 in Riga
    ):
        with pytest.raises(WrongState):
            cases.case_set_callback(case=case, actor=agent, at=at)
    case.refresh_from_db()
    assert case.callback_at is None


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_the_callback_picker_offers_only_times_before_the_process_by_date(agent_client, case):
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    field = opening_tag(html, r'<input[^>]*name="callback_at"[^>]*>')
    assert 'min="2026-11-24T12:00"' in field and 'max="2026-12-07T23:59"' in field


# --- The requested end date: one rule for the desk, the API and an import -------------------

ONE_YEAR_AHEAD = date(2027, 11, 24)  # from Tuesday 24 November 2026
TOO_LATE = "The requested end date can be at most a year ahead, until 2027-11-24."


def open_on_the_desk(client, subscriber, end: date, channel: str):
    reason = CancellationReason.objects.filter(is_active=True).first()
    assert reason is not None
    response = client.post(
        reverse("case_open", args=[subscriber.pk]),
        {"channel": channel, "reason": reason.pk, "requested_end_date": end.isoformat()},
    )
    if response.status_code == 302:
        return None
    html = response.content.decode().replace("&#x27;", "'")
    return TOO_LATE if TOO_LATE in html else html


def open_by_api(client, subscriber, end: date, channel: str):
    _, raw = api_token_create(name="Billing", source="billing")
    item = {
        "external_id": "req-1",
        "account_number": subscriber.account_number,
        "channel": channel,
        "requested_end_date": end.isoformat(),
    }
    response = Client(headers={"authorization": f"Bearer {raw}"}).post(
        "/api/v1/cancellations", json.dumps({"cancellations": [item]}), "application/json"
    )
    if response.status_code == 200:
        return None
    [error] = response.json()["items"][0]["errors"]
    assert error["field"] == "requested_end_date"
    return error["message"]


def open_by_import(client, subscriber, end: date, channel: str):
    text = (
        "external_id,account_number,channel,requested_end_date\n"
        f"imp-1,{subscriber.account_number},{channel},{end.isoformat()}\n"
    )
    try:
        cases_import_csv(file=io.BytesIO(text.encode()))
    except CaseImportRejected as exc:
        [row] = exc.rows
        assert row.line == 2 and row.errors[0].field == "requested_end_date"
        return row.errors[0].message
    return None


ENTRY_POINTS = [open_on_the_desk, open_by_api, open_by_import]


# The desk's form opens no port-outs: those come from billing, by the API or a file.
ENTRY_CHANNELS = [
    pytest.param(entry, channel, id=f"{entry.__name__}-{channel}")
    for entry in ENTRY_POINTS
    for channel in ("web", "port_out")
    if not (entry is open_on_the_desk and channel == "port_out")
]


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
@pytest.mark.parametrize(("entry", "channel"), ENTRY_CHANNELS)
@pytest.mark.parametrize("end", [date(2099, 12, 31), ONE_YEAR_AHEAD + timedelta(days=1)])
def test_a_requested_end_date_over_a_year_ahead_is_refused_everywhere_and_opens_nothing(
    agent_client, entry, channel, end
):
    subscriber = SubscriberFactory.create()
    assert entry(agent_client, subscriber, end, channel) == TOO_LATE
    assert not CancellationCase.objects.exists()


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda f: f.__name__)
def test_a_requested_end_date_a_year_ahead_is_accepted_everywhere(agent_client, entry):
    subscriber = SubscriberFactory.create()
    assert entry(agent_client, subscriber, ONE_YEAR_AHEAD, "web") is None
    assert CancellationCase.objects.get().requested_end_date == ONE_YEAR_AHEAD


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_the_intake_service_itself_refuses_a_switch_date_decades_ahead(agent):
    subscriber = SubscriberFactory.create()
    with pytest.raises(RequestedEndTooLate, match="at most a year ahead"):
        case_open(
            subscriber=subscriber,
            intake=Intake(channel="port_out", requested_end_date=date(2099, 12, 31)),
            actor=None,
        )
    assert not CancellationCase.objects.exists()


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_the_desks_date_picker_offers_only_the_dates_it_accepts(agent_client):
    subscriber = SubscriberFactory.create()
    html = agent_client.get(reverse("case_open", args=[subscriber.pk])).content.decode()
    field = opening_tag(html, r'<input[^>]*name="requested_end_date"[^>]*>')
    assert 'min="2026-11-24"' in field and 'max="2027-11-24"' in field


# --- Handing over approvals ------------------------------------------------------------------


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
@pytest.mark.parametrize(
    ("until", "error"),
    [
        ("9999-12-31T10:00", "A hand-over lasts at most 90 days"),
        ("2027-02-23T12:01", "A hand-over lasts at most 90 days"),
        ("2026-11-24T11:00", "The end must come after the start."),
    ],
)
def test_a_hand_over_beyond_90_days_is_refused_with_a_clear_error(manager_client, until, error):
    deputy = user_with_role(Role.MANAGER, username="deputy", first_name="Dace", last_name="Ozola")
    response = manager_client.post(
        reverse("delegation"),
        {"delegate": deputy.pk, "starts_at": "2026-11-24T12:00", "ends_at": until},
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not ApprovalDelegation.objects.exists()


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_a_hand_over_of_90_days_is_accepted(manager_client):
    deputy = user_with_role(Role.MANAGER, username="deputy", first_name="Dace", last_name="Ozola")
    response = manager_client.post(
        reverse("delegation"),
        {"delegate": deputy.pk, "starts_at": "2026-11-24T12:00", "ends_at": "2027-02-22T12:00"},
    )
    assert response.status_code == 302
    assert ApprovalDelegation.objects.get().delegate == deputy


@time_machine.travel(TUESDAY_NOON_RIGA, tick=False)
def test_the_delegation_service_refuses_a_hand_over_for_good(manager):
    deputy = user_with_role(Role.MANAGER, username="deputy", first_name="Dace", last_name="Ozola")
    with pytest.raises(InvalidTerms, match="at most 90 days"):
        offer_delegation.delegation_create(
            delegator=manager,
            delegate=deputy,
            starts_at=timezone.now(),
            ends_at=datetime(9999, 12, 31, tzinfo=UTC),
        )
    assert not ApprovalDelegation.objects.exists()


# --- User pickers name people ----------------------------------------------------------------


def labels(field) -> dict[int, str]:
    return {int(str(value)): str(label) for value, label in field.choices if value}


def test_every_user_picker_shows_full_names_and_the_username_only_without_one(manager):
    named = user_with_role(Role.MANAGER, username="lead", first_name="Līga", last_name="Kalniņa")
    nameless = user_with_role(Role.MANAGER, username="deputy", first_name="", last_name="")
    for field in (
        ReassignForm().fields["to_user"],
        DashboardForm().fields["agent"],
        DelegationForm(delegator=manager).fields["delegate"],
    ):
        shown = labels(field)
        assert shown[named.pk] == "Līga Kalniņa"
        assert shown[nameless.pk] == "deputy"


def test_the_reassign_and_delegation_selects_show_full_names(manager_client, manager):
    named = user_with_role(Role.MANAGER, username="lead", first_name="Līga", last_name="Kalniņa")
    queue = manager_client.get(reverse("queue")).content.decode()
    delegation = manager_client.get(reverse("delegation")).content.decode()
    for html in (queue, delegation):
        assert re.search(rf'<option value="{named.pk}"[^>]*>Līga Kalniņa</option>', html)
        assert f'<option value="{named.pk}">lead</option>' not in html
