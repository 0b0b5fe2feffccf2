"""What a security probe found, each pinned so it cannot come back.

- A proactive offer (one not bound to a case) is acted on by its proposer and by a manager of
  the proposer's team, as a case is by its owner and their managers; everyone else is refused
  the same way as on someone else's case, and nothing changes.
- The dashboard's CSV exports never hand a spreadsheet a live formula.
- A NUL character in a web form is a form error, not a server error.
"""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from offers.models import CounterOffer, OfferHistory, OfferKind
from retention.core.refusals import NotAllowed
from retention.core.roles import Role
from retention.dashboard import figures
from retention.dashboard.export import csv_cell
from retention.models import CancellationCase, Team
from retention.saves import services as saves
from subscribers.models import Subscriber
from tests.factories import (
    CaseFactory,
    SubscriberFactory,
    offer_template,
    user_with_role,
)

pytestmark = pytest.mark.django_db

D = Decimal
Status = CounterOffer.Status
HTMX = {"HX-Request": "true"}


# --- Someone else's proactive offer --------------------------------------------------------------


@pytest.fixture
def team():
    return Team.objects.create(name="Rīga desk")


@pytest.fixture
def proposer(team):
    return user_with_role(Role.AGENT, username="ilze", team=team)


@pytest.fixture
def colleague(team):
    """An agent of the same team: sees the subscriber's offers, may not act on Ilze's."""
    return user_with_role(Role.AGENT, username="janis", team=team)


@pytest.fixture
def credit(tiers):
    """€20 off the balance once: within an agent's authority, so approved at once."""
    return offer_template("credit-20", OfferKind.ONE_TIME_CREDIT, amount=D("20"))


@pytest.fixture
def offer(proposer, credit):
    subscriber = SubscriberFactory.create(balance=D("35.00"))
    return saves.offer_propose_proactive(subscriber=subscriber, template=credit, actor=proposer)


@pytest.fixture
def presented(offer, proposer):
    return saves.offer_present(offer=offer, actor=proposer, note="on the phone")


def unchanged(offer, *, status, balance="35.00", actors=("ilze",)):
    """Nothing changed: the offer's status, the subscriber's balance, who is in its history."""
    offer.refresh_from_db()
    assert offer.status == status
    assert Subscriber.objects.get(pk=offer.subscriber_id).balance == D(balance)
    history = OfferHistory.objects.filter(offer=offer, actor__isnull=False)
    assert set(history.values_list("actor__username", flat=True)) == set(actors)


STEPS = {
    "present": lambda offer, actor: saves.offer_present(offer=offer, actor=actor),
    "accept": lambda offer, actor: saves.offer_answer(offer=offer, actor=actor, accepted=True),
    "decline": lambda offer, actor: saves.offer_answer(offer=offer, actor=actor, accepted=False),
    "withdraw": lambda offer, actor: saves.offer_withdraw(offer=offer, actor=actor, note="mine"),
}


@pytest.mark.parametrize("step", ["present", "withdraw"])
def test_an_agent_cannot_present_or_withdraw_a_colleagues_proactive_offer(offer, colleague, step):
    with pytest.raises(NotAllowed, match="This offer belongs to"):
        STEPS[step](offer, colleague)
    unchanged(offer, status=Status.APPROVED)


@pytest.mark.parametrize("step", ["accept", "decline", "withdraw"])
def test_an_agent_cannot_answer_or_withdraw_a_colleagues_presented_proactive_offer(
    presented, colleague, step
):
    with pytest.raises(NotAllowed, match="This offer belongs to"):
        STEPS[step](presented, colleague)
    unchanged(presented, status=Status.PRESENTED)


def test_the_proposer_presents_their_proactive_offer_and_records_the_yes(offer, proposer):
    saves.offer_present(offer=offer, actor=proposer)
    saves.offer_answer(offer=offer, actor=proposer, accepted=True)
    unchanged(offer, status=Status.ACCEPTED, balance="15.00")


def test_a_manager_of_the_proposers_team_acts_on_their_proactive_offer(offer, team):
    lead = user_with_role(Role.MANAGER, username="anna", team=team)
    saves.offer_present(offer=offer, actor=lead)
    saves.offer_answer(offer=offer, actor=lead, accepted=True)
    unchanged(offer, status=Status.ACCEPTED, balance="15.00", actors=("ilze", "anna"))


def test_a_manager_of_the_proposers_team_withdraws_their_proactive_offer(offer, team):
    lead = user_with_role(Role.MANAGER, username="anna", team=team)
    saves.offer_withdraw(offer=offer, actor=lead, note="a better fitting one")
    unchanged(offer, status=Status.WITHDRAWN, actors=("ilze", "anna"))


def test_a_manager_of_another_team_cannot_act_on_the_proactive_offer(presented):
    other = user_with_role(
        Role.MANAGER, username="oskars", team=Team.objects.create(name="Daugavpils desk")
    )
    with pytest.raises(NotAllowed, match="This offer belongs to"):
        saves.offer_answer(offer=presented, actor=other, accepted=True)
    unchanged(presented, status=Status.PRESENTED)


def test_the_refusal_on_a_colleagues_proactive_offer_is_the_one_for_a_colleagues_case(
    client, offer, colleague, proposer, credit
):
    """The page answers both with a 403 that says whose it is, and nothing changes."""
    case = CaseFactory.create(owner=proposer, status=CancellationCase.Status.IN_PROGRESS)
    on_case = saves.case_offer_propose(case=case, template=credit, actor=proposer)
    client.force_login(colleague)
    for target in (offer, on_case):
        response = client.post(
            reverse("offer_present", args=[target.pk]),
            {"offer": target.pk, "note": ""},
            headers=HTMX,
        )
        assert response.status_code == 403
        assert "belongs to" in response.content.decode()
        target.refresh_from_db()
        assert target.status == Status.APPROVED
    unchanged(offer, status=Status.APPROVED)


def test_the_proposer_presents_their_proactive_offer_from_the_subscribers_page(
    client, offer, proposer
):
    client.force_login(proposer)
    response = client.post(
        reverse("offer_present", args=[offer.pk]),
        {"offer": offer.pk, "note": ""},
        headers=HTMX,
    )
    assert response.status_code == 200
    offer.refresh_from_db()
    assert offer.status == Status.PRESENTED


# --- Formulas in CSV exports ---------------------------------------------------------------------

MARCH = {"period": "custom", "start": "2026-03-01", "end": "2026-03-31"}
HYPERLINK = '=HYPERLINK("http://x","x")'


@pytest.fixture
def hostile_desk(desk):
    """The hand-counted March desk, with text that spreadsheets would run as formulas where a
    subscriber's import or a manager's form put it: a name, regions, a campaign."""
    Subscriber.objects.filter(pk=desk["subs"][1].pk).update(name=HYPERLINK)
    Subscriber.objects.filter(pk=desk["subs"][2].pk).update(region="-2+3")
    Subscriber.objects.filter(pk=desk["subs"][4].pk).update(region="@SUM(1+1)")
    with time_machine.travel(datetime(2026, 4, 2, 9, 0, tzinfo=UTC), tick=False):
        figures.figures_refresh_range(first=date(2026, 3, 1), last=date(2026, 3, 31))
        yield desk


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or cell[1:].replace(".", "").isdigit(), cell


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", HYPERLINK])
def test_text_a_spreadsheet_would_run_as_a_formula_gets_a_leading_quote(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Rīga", "a=b", "", "'quoted", 3, D("-12.50"), D("0.00")])
def test_other_text_and_numbers_negative_ones_too_stay_as_they_are(value):
    assert csv_cell(value) == value


def test_the_cases_csv_writes_a_subscribers_formula_name_as_text(client, manager, hostile_desk):
    client.force_login(manager)
    rows = csv_rows(client.get(reverse("dashboard_cases"), {**MARCH, "format": "csv"}))
    by_case = {int(row[0]): row for row in rows[1:]}
    saved = by_case[hostile_desk["cases"][1].pk]
    assert saved[4] == "'" + HYPERLINK
    assert saved[9:11] == ["29.99", "60.00"]  # numbers stay numbers
    assert_no_formula(rows)


def test_the_table_csv_writes_formula_regions_as_text(client, manager, hostile_desk):
    client.force_login(manager)
    response = client.get(
        reverse("dashboard_export", args=["breakdown"]), {**MARCH, "by": "region"}
    )
    rows = csv_rows(response)
    regions = [row[0] for row in rows[1:]]
    assert "'-2+3" in regions and "'@SUM(1+1)" in regions
    assert_no_formula(rows)


def test_an_agents_figures_csv_goes_through_the_same_cells(client, hostile_desk):
    client.force_login(hostile_desk["ann"])
    rows = csv_rows(client.get(reverse("my_figures"), {**MARCH, "format": "csv"}))
    assert rows[1][:2] == ["Closed cases", "2"]
    assert_no_formula(rows)
