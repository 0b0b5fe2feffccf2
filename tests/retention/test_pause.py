"""The pause offer at the desk: the builder's months and fee, the reminder a week before the
resume, "Paused until" on the subscriber page and the case's context pane, the pauses tick.

The subscribers pay €29.99; the agent's authority is €10 a month.
"""

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from offers.models import CounterOffer, OfferKind
from retention.cases.services import case_claim
from retention.core.roles import Role
from retention.models import CancellationReason, Notification, Reminder
from retention.notifications.reminders import reminders_for_discounts_ending, reminders_tick
from retention.saves import services as saves
from retention.saves.tasks import pauses_tick
from subscribers.models import OutboundEvent, Subscriber
from tests.factories import CaseFactory, SubscriberFactory, offer_template, user_with_role

pytestmark = pytest.mark.django_db

D = Decimal
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Riga
TWENTY = D("20")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def pause(tiers):
    return offer_template(
        "pause-3", OfferKind.PAUSE, months=3, amount=D("0"), reason_categories=["moving"]
    )


def moving_case(agent, **fields):
    reason = CancellationReason.objects.get_or_create(
        code="moving", defaults={"category": "moving", "name_en": "Moving"}
    )[0]
    return case_claim(case=CaseFactory.create(reason=reason, **fields), actor=agent)


def accepted(case, agent, pause, months=2, amount=TWENTY):
    offer = saves.case_offer_propose(
        case=case, template=pause, actor=agent, months=months, amount=amount
    )
    offer = saves.offer_present(offer=offer, actor=agent)
    return saves.offer_answer(offer=offer, actor=agent, accepted=True)


# --- The offer builder --------------------------------------------------------------------------


def test_the_builder_shows_the_pause_with_its_months_and_fee(agent_client, agent, pause):
    case = moving_case(agent)
    html = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    assert 'data-offer="pause-3"' in html
    assert f'id="pause-months-{pause.pk}" min="1" max="3" value="3"' in html
    assert f'id="pause-fee-{pause.pk}"' in html


def test_the_agent_proposes_a_pause_of_the_months_and_fee_chosen(agent_client, agent, pause):
    case = moving_case(agent)
    response = agent_client.post(
        reverse("case_offer", args=[case.pk]),
        {"template": pause.pk, "months": "1", "amount": "20"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    offer = CounterOffer.objects.get(case=case)
    assert (offer.kind, offer.months, offer.amount, offer.status) == (
        OfferKind.PAUSE,
        1,
        D("20.00"),
        CounterOffer.Status.APPROVED,
    )


@pytest.mark.parametrize(
    ("months", "amount", "error"),
    [
        ("4", "0", "Pause for 1 to 3 months."),
        ("0", "0", "Pause for 1 to 3 months."),
        ("", "0", "Give the months of the pause."),
        ("2", "", "Give the fee while paused (0 for free)."),
        ("2", "-1", "Ensure this value is greater than or equal to 0."),
        ("two", "0", "Enter a whole number."),
    ],
)
def test_bad_months_or_fee_give_a_form_error_and_change_nothing(
    agent_client, agent, pause, months, amount, error
):
    case = moving_case(agent)
    response = agent_client.post(
        reverse("case_offer", args=[case.pk]),
        {"template": pause.pk, "months": months, "amount": amount},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not CounterOffer.objects.filter(case=case).exists()


def test_a_fee_not_below_the_price_is_refused_with_the_reason(agent_client, agent, pause):
    case = moving_case(agent)
    response = agent_client.post(
        reverse("case_offer", args=[case.pk]),
        {"template": pause.pk, "months": "2", "amount": "29.99"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 409
    assert "must be below what the subscriber pays now" in response.content.decode()
    assert not CounterOffer.objects.filter(case=case).exists()


# --- The pause line re-priced as the agent types ------------------------------------------------


def priced(client, case, **params):
    return client.get(
        reverse("subscriber_pause_price", args=[case.subscriber_id]),
        params,
        headers={"HX-Request": "true"},
    )


def test_the_pause_line_follows_the_months_and_fee_typed_and_changes_nothing(
    agent_client, agent, pause, django_assert_num_queries
):
    case = moving_case(agent)
    builder = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    # The catalogue's three months free to start with: €29.99 thrice, over the agent's €10 a month.
    assert f'<span id="offer-cost-{pause.pk}" aria-live="polite">€89.97<br>' in builder

    # session, user, roles; the subscriber; the template; the agent's tier, the concessions
    # of 12 months, the last pause, the tiers
    with django_assert_num_queries(9):
        response = priced(agent_client, case, template=pause.pk, months="2", amount="20")
    assert response.status_code == 200
    html = response.content.decode()
    # Two months at €20 concede €9.99 a month: within the agent's own authority.
    assert html.lstrip().startswith('€19.98<br><span class="muted small">€9.99 × 2</span>')
    assert f'<span id="offer-price-{pause.pk}" hx-swap-oob="innerHTML">€20.00</span>' in html
    assert (
        f'<span id="offer-authority-{pause.pk}" hx-swap-oob="innerHTML"><span class="ok">' in html
    )
    assert "Within yours: approved at once" in html
    assert "Service paused for 2 months at €20.00 a month" in html

    html = priced(agent_client, case, template=pause.pk, months="3", amount="0").content.decode()
    assert "€89.97" in html and "Needs approval" in html
    assert "€29.99 a month is over the €10.00 limit" in html
    assert not CounterOffer.objects.exists()


def test_the_priced_pause_is_what_proposing_it_costs(agent_client, agent, pause):
    case = moving_case(agent)
    html = priced(agent_client, case, template=pause.pk, months="2", amount="7.5").content.decode()
    assert html.lstrip().startswith("€44.98<br>")
    agent_client.post(
        reverse("case_offer", args=[case.pk]),
        {"template": pause.pk, "months": "2", "amount": "7.5"},
        headers={"HX-Request": "true"},
    )
    offer = CounterOffer.objects.get(case=case)
    assert (offer.months, offer.amount, offer.total_cost) == (2, D("7.50"), D("44.98"))


@pytest.mark.parametrize(
    ("params", "error", "status"),
    [
        ({"months": "4", "amount": "0"}, "Pause for 1 to 3 months.", 400),
        ({"months": "", "amount": "0"}, "Give the months of the pause.", 400),
        ({"months": "2", "amount": "-1"}, "Ensure this value is greater than or equal to 0.", 400),
        ({"months": "2\x00", "amount": "0"}, "Enter a whole number.", 400),
        ({"months": "two", "amount": "0"}, "Enter a whole number.", 400),
        ({"months": "2", "amount": "29.99"}, "must be below what the subscriber pays now", 409),
        (
            {"months": "2", "amount": "0", "template": "x"},
            "That is not a pause from the catalogue",
            400,
        ),
        ({"months": "2", "amount": "0", "template": "other"}, "That is not a pause from the", 400),
    ],
)
def test_terms_the_service_would_refuse_answer_400_with_the_reason_in_place_of_the_cost(
    agent_client, agent, pause, params, error, status
):
    case = moving_case(agent)
    if params.get("template") == "other":
        params["template"] = offer_template("credit-10", OfferKind.ONE_TIME_CREDIT).pk
    response = priced(agent_client, case, **{"template": pause.pk, **params})
    assert response.status_code == status  # a refusal of the service: its own status
    html = response.content.decode()
    assert error in html and 'role="alert"' in html
    # No figures beside an error: the new price and the authority are blanked (when the line
    # is known).
    assert re.findall(r'hx-swap-oob="innerHTML">(.*?)</span>', html) in ([], ["—", "—"])
    assert not CounterOffer.objects.exists()


def test_a_pause_too_soon_after_the_last_is_priced_as_the_service_would_refuse_it(
    agent_client, agent, pause, clock
):
    first = moving_case(agent)
    accepted(first, agent, pause)
    clock.move_to(datetime(2027, 2, 1, 8, 0, tzinfo=UTC))
    pauses_tick()  # resumed, but the last pause was accepted less than 12 months ago
    second = moving_case(agent, subscriber=first.subscriber)
    response = priced(agent_client, second, template=pause.pk, months="1", amount="0")
    assert response.status_code == 409
    assert "a new pause is possible from 01.12.2027" in response.content.decode()
    assert CounterOffer.objects.filter(case=second).count() == 0


def test_only_those_who_make_offers_may_price_one(client, admin_user, agent, pause):
    case = moving_case(agent)
    url = reverse("subscriber_pause_price", args=[case.subscriber_id])
    params = {"template": pause.pk, "months": "2", "amount": "0"}
    assert client.get(url, params).status_code == 302  # to the login
    client.force_login(user_with_role(Role.ADMIN, username="sysadmin"))
    assert client.get(url, params).status_code == 403
    assert client.post(url, params).status_code in (403, 405)
    client.force_login(agent)
    assert client.post(url, params).status_code == 405
    assert client.get(reverse("subscriber_pause_price", args=[999_999]), params).status_code == 404


def test_the_builder_hides_the_pause_while_a_new_one_is_not_allowed(
    agent_client, agent, pause, clock
):
    first = moving_case(agent)
    accepted(first, agent, pause)
    offer_template("fixed-5-12", OfferKind.FIXED_DISCOUNT, amount=D("5"), months=12)
    second = moving_case(agent, subscriber=first.subscriber)
    # While paused: no offer at all, and why.
    html = agent_client.get(reverse("case", args=[second.pk])).content.decode()
    assert 'id="offer-builder"' not in html
    assert "The service is paused until 01.02.2027; make an offer once it resumes." in html
    # Resumed: the builder is back, without the pause until 12 months have passed.
    clock.move_to(datetime(2027, 2, 1, 8, 0, tzinfo=UTC))
    pauses_tick()
    html = agent_client.get(reverse("case", args=[second.pk])).content.decode()
    assert 'data-offer="fixed-5-12"' in html and 'data-offer="pause-3"' not in html
    assert 'id="paused-no-offers"' not in html


@pytest.mark.parametrize("earlier", [0, 4])
def test_a_moving_case_page_asks_for_the_last_pause_once(
    agent_client, agent, pause, django_assert_num_queries, earlier
):
    subscriber = SubscriberFactory.create()
    for _ in range(earlier):
        case = moving_case(agent, subscriber=subscriber)
        saves.case_offer_propose(case=case, template=pause, actor=agent, months=1, amount=D("20"))
        CounterOffer.objects.filter(case=case).update(status=CounterOffer.Status.DECLINED)
        case.status, case.closed_at = case.Status.CANCELLED, NOW
        case.save(update_fields=["status", "closed_at"])
    case = moving_case(agent, subscriber=subscriber)
    # The case page's 23 (tests/retention/test_case_views.py) and the subscriber's last pause.
    with django_assert_num_queries(24):
        response = agent_client.get(reverse("case", args=[case.pk]))
    assert response.status_code == 200


# --- Paused until -------------------------------------------------------------------------------


def test_the_subscriber_page_and_the_case_pane_say_paused_until(
    agent_client, agent, pause, django_assert_num_queries
):
    case = moving_case(agent)
    accepted(case, agent, pause)
    # As for any subscriber (tests/subscribers/test_views.py): the pause is on their row.
    with django_assert_num_queries(12):
        page = agent_client.get(reverse("subscribers:detail", args=[case.subscriber_id]))
    assert "Paused until 01.02.2027" in page.content.decode()
    pane = agent_client.get(reverse("case", args=[case.pk])).content.decode()
    assert 'id="paused-until"' in pane and "Paused until 01.02.2027" in pane
    assert "resumes 01.02.2027" in pane  # on the offer


# --- The reminder a week before the resume ------------------------------------------------------


def test_the_agent_is_reminded_a_week_before_the_resume(agent, pause, clock):
    case = moving_case(agent)
    offer = accepted(case, agent, pause)
    reminder = Reminder.objects.get(kind=Reminder.Kind.PAUSE_ENDING)
    # 25 January 2027, 9:00 in Riga.
    assert (reminder.due_at, reminder.recipient, reminder.offer_id) == (
        datetime(2027, 1, 25, 7, 0, tzinfo=UTC),
        agent,
        offer.pk,
    )
    clock.move_to(datetime(2027, 1, 25, 6, 59, tzinfo=UTC))
    reminders_tick()
    assert not Notification.objects.filter(recipient=agent, code="notify.pause_ending").exists()
    clock.move_to(datetime(2027, 1, 25, 7, 0, tzinfo=UTC))
    reminders_tick()
    reminders_tick()
    note = Notification.objects.get(recipient=agent, code="notify.pause_ending")
    assert str(note) == (
        f"{case.subscriber.name}'s paused service resumes on 01.02.2027: a good moment to call "
        "them."
    )


def test_the_reminder_goes_to_the_cases_owner(agent, manager, pause):
    case = moving_case(agent)
    offer = saves.case_offer_propose(
        case=case, template=pause, actor=agent, months=2, amount=D("20")
    )
    case.owner = manager
    case.save(update_fields=["owner"])
    offer = saves.offer_present(offer=offer, actor=manager)
    saves.offer_answer(offer=offer, actor=manager, accepted=True)
    assert Reminder.objects.get(kind=Reminder.Kind.PAUSE_ENDING).recipient == manager


def test_a_pause_has_no_discount_ending_reminder(agent, pause, clock):
    accepted(moving_case(agent), agent, pause)
    assert reminders_for_discounts_ending(today=date(2027, 1, 10)) == 0


def test_no_reminder_once_billing_refused_the_pause(agent, pause, clock):
    offer = accepted(moving_case(agent), agent, pause)
    saves.offer_billing_answered(offer_id=offer.pk, applied=False, reason="no", at=NOW)
    clock.move_to(datetime(2027, 1, 25, 7, 0, tzinfo=UTC))
    reminders_tick()
    assert not Notification.objects.filter(code="notify.pause_ending").exists()


# --- The tick -----------------------------------------------------------------------------------


def test_the_pauses_task_resumes_the_service_once(agent, pause, clock):
    offer = accepted(moving_case(agent), agent, pause)
    clock.move_to(datetime(2027, 2, 1, 5, 0, tzinfo=UTC) + timedelta(minutes=1))
    pauses_tick()
    pauses_tick()
    subscriber = Subscriber.objects.get(pk=offer.subscriber_id)
    assert (subscriber.monthly_price, subscriber.paused_until) == (D("29.99"), None)
    assert OutboundEvent.objects.filter(type=OutboundEvent.Type.PAUSE_RESUMED).count() == 1
