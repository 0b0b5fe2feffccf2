"""Every read authorises: a case or an offer is fetched by id only through a selector that also
says what the reader may do with it, and the pages show a button only to those who may press it.

Ilze, an agent of the Rīga team, owns a case and proposed a proactive offer. Around her: Jānis,
another agent of her team; Anna, the Rīga team's manager; Oskars, a manager of another team; a
system administrator (the Admin role only); a user with no desk role; and nobody logged in.

    reader          sees it   may act on Ilze's case and on her proactive offer
    Ilze            yes       yes (hers)
    Jānis           yes       no: agents see every case for the context, act on their own
    Anna            yes       yes: managers act on their team's cases and offers
    Oskars          yes       no: not his team
    the admin       yes       no: admins run the system, not the queue
    no desk role    404       no
    nobody          404       no (the pages send them to log in)

Through the pages, every request that would change the case or the offer is refused with the
answer the desk gives for it, and changes nothing.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import get_messages
from django.core.cache import cache
from django.http import Http404
from django.urls import reverse

from offers.models import CounterOffer, OfferHistory, OfferKind
from retention.cases import services as cases
from retention.cases.selectors import case_get_for_user
from retention.core.roles import Role
from retention.models import (
    CancellationCase,
    CancellationReason,
    CaseHistory,
    CaseMessage,
    ContactAttempt,
    MessageTemplate,
    Notification,
    Reminder,
    Team,
    User,
)
from retention.saves import services as saves
from retention.saves.selectors import offer_get_for_user
from subscribers.models import Subscriber, TimelineEvent
from tests.factories import CaseFactory, SubscriberFactory, offer_template, user_with_role

pytestmark = pytest.mark.django_db

D = Decimal
HTMX = {"HX-Request": "true"}
# Tuesday 24 November 2026, 12:00 in Riga: within calling hours; cases made now are processed
# by 8 December.
TUESDAY_NOON_RIGA = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)

OWNER, COLLEAGUE, TEAM_MANAGER, OTHER_MANAGER, ADMIN, NO_ROLE, ANONYMOUS = (
    "owner",
    "colleague",
    "team_manager",
    "other_manager",
    "admin",
    "no_role",
    "anonymous",
)
# Who may act on Ilze's case and on her proactive offer, by the rule the services refuse by.
MAY_ACT = {
    OWNER: True,
    COLLEAGUE: False,
    TEAM_MANAGER: True,
    OTHER_MANAGER: False,
    ADMIN: False,
}
UNSEEING = [NO_ROLE, ANONYMOUS]
REFUSED = [COLLEAGUE, OTHER_MANAGER, ADMIN, NO_ROLE, ANONYMOUS]


@pytest.fixture(autouse=True)
def _tuesday_noon():
    cache.clear()
    with time_machine.travel(TUESDAY_NOON_RIGA, tick=False):
        yield


@dataclass
class Desk:
    users: dict[str, Any]
    credit: Any  # within an agent's authority: approved at once
    big: Any  # beyond an agent's authority: waits for a manager

    @property
    def ilze(self) -> User:
        return self.users[OWNER]


@pytest.fixture
def desk(tiers) -> Desk:
    riga, daugavpils = Team.objects.create(name="Rīga"), Team.objects.create(name="Daugavpils")
    users: dict[str, Any] = {
        OWNER: user_with_role(
            Role.AGENT, username="ilze", team=riga, first_name="Ilze", last_name="Kalniņa"
        ),
        COLLEAGUE: user_with_role(Role.AGENT, username="janis", team=riga),
        TEAM_MANAGER: user_with_role(Role.MANAGER, username="anna", team=riga),
        OTHER_MANAGER: user_with_role(Role.MANAGER, username="oskars", team=daugavpils),
        ADMIN: user_with_role(Role.ADMIN, username="sysadmin", is_staff=True),
        NO_ROLE: user_with_role(username="nobody", team=riga),
        ANONYMOUS: AnonymousUser(),
    }
    credit = offer_template("credit-20", OfferKind.ONE_TIME_CREDIT, amount=D("20"))
    big = offer_template("discount-30-12", OfferKind.PERCENT_DISCOUNT, percent=D("30"), months=12)
    return Desk(users, credit, big)


def _subscriber() -> Subscriber:
    return SubscriberFactory.create(time_zone="Europe/Riga", balance=D("35.00"))


@pytest.fixture
def case(desk) -> CancellationCase:
    """Ilze's case, in progress."""
    case = CaseFactory.create(subscriber=_subscriber())
    return cases.case_claim(case=case, actor=desk.ilze)


@pytest.fixture
def unowned(desk) -> CancellationCase:
    return CaseFactory.create(subscriber=_subscriber())


def proactive_offer(desk: Desk, *, presented: bool = False) -> CounterOffer:
    offer = saves.offer_propose_proactive(
        subscriber=_subscriber(), template=desk.credit, actor=desk.ilze
    )
    if presented:
        offer = saves.offer_present(offer=offer, actor=desk.ilze, note="on the phone")
    return offer


def offer_on_case(desk: Desk, *, presented: bool = False) -> CounterOffer:
    case = cases.case_claim(case=CaseFactory.create(subscriber=_subscriber()), actor=desk.ilze)
    offer = saves.case_offer_propose(case=case, template=desk.credit, actor=desk.ilze)
    if presented:
        offer = saves.offer_present(offer=offer, actor=desk.ilze, note="on the phone")
    return offer


OFFERS = {"proactive": proactive_offer, "on_case": offer_on_case}


def client_for(client, user):
    if user.is_authenticated:
        client.force_login(user)
    return client


def snapshot() -> dict[str, object]:
    """Everything a refused request could have changed."""
    return {
        "cases": list(CancellationCase.objects.order_by("pk").values()),
        "offers": list(CounterOffer.objects.order_by("pk").values()),
        "subscribers": list(Subscriber.objects.order_by("pk").values()),
        "case_history": CaseHistory.objects.count(),
        "offer_history": OfferHistory.objects.count(),
        "contacts": ContactAttempt.objects.count(),
        "timeline": TimelineEvent.objects.count(),
        "reminders": Reminder.objects.count(),
        "notifications": Notification.objects.count(),
        "messages": CaseMessage.objects.count(),
    }


def flag(found: object, name: str) -> bool:
    """What the selector says the reader may do (a flag on the object, not a model field)."""
    return found.__dict__[name]


def messages_of(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


# --- The selectors' answers ---------------------------------------------------------------------


@pytest.mark.parametrize(("reader", "may_act"), MAY_ACT.items())
def test_everyone_on_the_desk_sees_ilzes_case_and_may_act_by_the_rule(
    desk, case, reader, may_act, django_assert_num_queries
):
    user = User.objects.get(pk=desk.users[reader].pk)  # roles not read yet, as in a request
    with django_assert_num_queries(2):  # the reader's roles, the case with what a page needs
        found = case_get_for_user(user=user, pk=case.pk)
    assert found == case
    assert flag(found, "may_act") is may_act
    assert flag(found, "may_claim") is False  # Ilze owns it


@pytest.mark.parametrize("reader", UNSEEING)
def test_who_holds_no_desk_role_does_not_see_a_case(desk, case, reader):
    with pytest.raises(Http404):
        case_get_for_user(user=desk.users[reader], pk=case.pk)


def test_an_unknown_case_is_a_404(desk):
    with pytest.raises(Http404):
        case_get_for_user(user=desk.ilze, pk=999_999)


@pytest.mark.parametrize(
    ("reader", "may_act", "may_claim"),
    [
        (COLLEAGUE, False, True),  # an agent claims an unowned case before working it
        (TEAM_MANAGER, True, True),
        (OTHER_MANAGER, True, True),  # managers act on unowned cases
        (ADMIN, False, False),
    ],
)
def test_an_unowned_case_is_claimed_by_those_who_work_cases(
    desk, unowned, reader, may_act, may_claim
):
    found = case_get_for_user(user=desk.users[reader], pk=unowned.pk)
    assert (flag(found, "may_act"), flag(found, "may_claim")) == (may_act, may_claim)


@pytest.mark.parametrize("kind", OFFERS)
@pytest.mark.parametrize(("reader", "may_act"), MAY_ACT.items())
def test_everyone_on_the_desk_sees_ilzes_offers_and_may_act_by_the_rule(
    desk, kind, reader, may_act, django_assert_num_queries
):
    offer = OFFERS[kind](desk)
    user = User.objects.get(pk=desk.users[reader].pk)
    with django_assert_num_queries(2):  # the reader's roles, the offer with its case and owner
        found = offer_get_for_user(user=user, pk=offer.pk)
    assert found == offer
    assert flag(found, "may_act") is may_act


@pytest.mark.parametrize("reader", UNSEEING)
def test_who_holds_no_desk_role_does_not_see_an_offer(desk, reader):
    offer = proactive_offer(desk)
    with pytest.raises(Http404):
        offer_get_for_user(user=desk.users[reader], pk=offer.pk)


# --- The case's endpoints refuse and change nothing ----------------------------------------------


def case_payloads(case: CancellationCase, desk: Desk) -> dict[str, dict[str, object]]:
    """A valid request for every action on a case: only who sends it may be wrong."""
    quality = CancellationReason.objects.get_or_create(
        code="quality", defaults={"category": "quality", "name_en": "Quality"}
    )[0]
    letter = MessageTemplate.objects.get_or_create(
        name="Price letter", defaults={"channel": "email", "body_en": "Hello {name}"}
    )[0]
    return {
        "case_contact": {"channel": "phone", "direction": "inbound", "outcome": "reached"},
        "case_message": {"template": letter.pk, "subject": "Price", "body": "Hello", "key": "k1"},
        "case_callback": {"callback_at": "2026-11-25T11:00"},
        "case_reason": {"reason": quality.pk, "reason_detail": "slow", "competitor": ""},
        "case_note": {"text": "called"},
        "case_withdraw": {"note": "they stay"},
        "case_offer": {"template": desk.credit.pk, "note": ""},
        "case_cancel": {
            "effective_date": case.process_by.isoformat(),
            "note": "",
            "confirmed": "on",
        },
    }


CASE_ACTIONS = [
    "case_contact",
    "case_message",
    "case_callback",
    "case_reason",
    "case_note",
    "case_withdraw",
    "case_offer",
    "case_cancel",
]
# What the desk answers a refused reader: workers are told by the service (the fragment with
# the reason), the others are stopped at the door, the anonymous sent to log in.
ACTION_STATUS = {COLLEAGUE: 403, OTHER_MANAGER: 403, ADMIN: 403, NO_ROLE: 403, ANONYMOUS: 302}


@pytest.mark.parametrize("action", CASE_ACTIONS)
@pytest.mark.parametrize("reader", REFUSED)
def test_every_action_on_ilzes_case_is_refused_and_changes_nothing(
    client, desk, case, reader, action
):
    before = snapshot()
    response = client_for(client, desk.users[reader]).post(
        reverse(action, args=[case.pk]), case_payloads(case, desk)[action], headers=HTMX
    )
    assert response.status_code == ACTION_STATUS[reader]
    if reader in (COLLEAGUE, OTHER_MANAGER):
        assert "This case belongs to Ilze Kalniņa" in response.content.decode()
    if reader == ANONYMOUS:
        assert response["Location"].startswith(reverse("login"))
    assert snapshot() == before


@pytest.mark.parametrize("action", CASE_ACTIONS)
@pytest.mark.parametrize("reader", [OWNER, TEAM_MANAGER])
def test_the_same_requests_from_ilze_or_her_manager_go_through(client, desk, case, reader, action):
    """The requests above are valid: only who sent them was refused."""
    before = snapshot()
    response = client_for(client, desk.users[reader]).post(
        reverse(action, args=[case.pk]), case_payloads(case, desk)[action], headers=HTMX
    )
    assert response.status_code == 200, response.content.decode()
    assert snapshot() != before


# Claiming and releasing are plain forms: a refused worker is sent back with the reason.
CLAIM_REFUSAL = {
    "case_claim": ("queue", "Ilze Kalniņa claimed this case first."),
    "case_release": ("case", "This case belongs to Ilze Kalniņa."),
}


@pytest.mark.parametrize("action", CLAIM_REFUSAL)
@pytest.mark.parametrize("reader", REFUSED)
def test_nobody_else_claims_or_releases_ilzes_case(client, desk, case, reader, action):
    before = snapshot()
    response = client_for(client, desk.users[reader]).post(reverse(action, args=[case.pk]))
    if reader in (COLLEAGUE, OTHER_MANAGER):
        target, reason = CLAIM_REFUSAL[action]
        assert response.status_code == 302
        assert response["Location"] == reverse(target, args=[case.pk] if target == "case" else [])
        assert reason in messages_of(response)
    elif reader == ANONYMOUS:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == 403
    assert snapshot() == before


# --- An offer's steps refuse and change nothing --------------------------------------------------

STEPS = {
    # step: (URL name, form, whether the offer must have been presented first)
    "present": ("offer_present", {}, False),
    "accept": ("offer_answer", {"answer": "accept", "note": "yes"}, True),
    "decline": ("offer_answer", {"answer": "decline", "note": "no"}, True),
    "withdraw": ("offer_withdraw", {"note": "a better one"}, False),
}
AFTER_STEP = {
    "present": CounterOffer.Status.PRESENTED,
    "accept": CounterOffer.Status.ACCEPTED,
    "decline": CounterOffer.Status.DECLINED,
    "withdraw": CounterOffer.Status.WITHDRAWN,
}


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("kind", OFFERS)
@pytest.mark.parametrize("reader", REFUSED)
def test_every_step_of_ilzes_offer_is_refused_and_changes_nothing(client, desk, reader, kind, step):
    name, form, presented = STEPS[step]
    offer = OFFERS[kind](desk, presented=presented)
    before = snapshot()
    response = client_for(client, desk.users[reader]).post(
        reverse(name, args=[offer.pk]), {"offer": offer.pk, **form}, headers=HTMX
    )
    assert response.status_code == ACTION_STATUS[reader]
    if reader in (COLLEAGUE, OTHER_MANAGER):
        assert "belongs to Ilze Kalniņa" in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("kind", OFFERS)
@pytest.mark.parametrize("reader", [OWNER, TEAM_MANAGER])
def test_ilze_and_her_manager_take_every_step_of_her_offer(client, desk, reader, kind, step):
    name, form, presented = STEPS[step]
    offer = OFFERS[kind](desk, presented=presented)
    response = client_for(client, desk.users[reader]).post(
        reverse(name, args=[offer.pk]), {"offer": offer.pk, **form}, headers=HTMX
    )
    assert response.status_code == 200, response.content.decode()
    offer.refresh_from_db()
    assert offer.status == AFTER_STEP[step]


# --- Deciding an offer is a manager's -----------------------------------------------------------

DECISIONS = {
    "offer_approve": lambda offer: {"note": ""},
    "offer_reject": lambda offer: {"note": "too much"},
    "offer_amend": lambda offer: {
        f"amend-{offer.pk}-percent": "20",
        f"amend-{offer.pk}-months": "12",
        f"amend-{offer.pk}-note": "less",
    },
}


@pytest.mark.parametrize("decision", DECISIONS)
@pytest.mark.parametrize("reader", [OWNER, COLLEAGUE, ADMIN, NO_ROLE, ANONYMOUS])
def test_only_managers_decide_ilzes_offer(client, desk, case, reader, decision):
    offer = saves.case_offer_propose(case=case, template=desk.big, actor=desk.ilze)
    assert offer.status == CounterOffer.Status.PENDING
    before = snapshot()
    response = client_for(client, desk.users[reader]).post(
        reverse(decision, args=[offer.pk]), DECISIONS[decision](offer), headers=HTMX
    )
    assert response.status_code == ACTION_STATUS.get(reader, 403)
    assert snapshot() == before


@pytest.mark.parametrize("decision", DECISIONS)
def test_a_manager_decides_ilzes_offer(client, desk, case, decision):
    offer = saves.case_offer_propose(case=case, template=desk.big, actor=desk.ilze)
    response = client_for(client, desk.users[TEAM_MANAGER]).post(
        reverse(decision, args=[offer.pk]), DECISIONS[decision](offer), headers=HTMX
    )
    assert response.status_code == 200
    offer.refresh_from_db()
    assert offer.status != CounterOffer.Status.PENDING


# --- The pages show the buttons only to those who may press them --------------------------------


@pytest.mark.parametrize(("reader", "may_act"), MAY_ACT.items())
def test_the_subscribers_offers_page_shows_the_steps_only_to_who_may_take_them(
    client, desk, reader, may_act
):
    offer = proactive_offer(desk)
    page = (
        client_for(client, desk.users[reader])
        .get(reverse("subscriber_offers", args=[offer.subscriber_id]))
        .content.decode()
    )
    assert 'id="live-offer"' in page  # everyone sees the offer under way
    assert ('id="present-offer"' in page) is may_act
    assert ("Withdraw this offer" in page) is may_act


@pytest.mark.parametrize(("reader", "may_act"), MAY_ACT.items())
def test_a_presented_offer_takes_the_answer_only_from_who_may_record_it(
    client, desk, reader, may_act
):
    offer = proactive_offer(desk, presented=True)
    page = (
        client_for(client, desk.users[reader])
        .get(reverse("subscriber_offers", args=[offer.subscriber_id]))
        .content.decode()
    )
    assert ('id="offer-accepted"' in page) is may_act


@pytest.mark.parametrize(("reader", "may_act"), MAY_ACT.items())
def test_the_case_page_shows_the_work_only_to_who_may_do_it(client, desk, reader, may_act):
    offer = offer_on_case(desk)
    page = (
        client_for(client, desk.users[reader])
        .get(reverse("case", args=[offer.case_id]))
        .content.decode()
    )
    assert ('id="present-offer"' in page) is may_act
    assert ('id="contact-form"' in page) is may_act
    assert ("Release to the queue" in page) is may_act
    assert "Claim this case" not in page


@pytest.mark.parametrize(("reader", "shown"), [(COLLEAGUE, True), (ADMIN, False)])
def test_the_claim_button_is_for_those_who_work_cases(client, desk, unowned, reader, shown):
    page = client_for(client, desk.users[reader]).get(reverse("case", args=[unowned.pk]))
    assert ("Claim this case" in page.content.decode()) is shown
