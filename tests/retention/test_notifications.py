"""The bell, the notifications page, marking read, and the e-mail opt-in in preferences."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone, translation

from retention.models import Notification
from retention.notifications.services import notifications_email, notify
from subscribers.phrases import phrase
from tests.factories import UserFactory, user_with_role

pytestmark = pytest.mark.django_db


def note(user, text: str, minutes_ago: int = 0, read: bool = False) -> Notification:
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return Notification.objects.create(
        recipient=user, text=text, created_at=at, read_at=at if read else None
    )


# --- The bell -----------------------------------------------------------------------------------


def test_every_staff_page_has_an_empty_bell_that_fetches_its_count_after_loading(agent_client):
    html = agent_client.get(reverse("my_cases")).content.decode()
    assert 'id="bell"' in html
    assert f'hx-get="{reverse("notifications_count")}"' in html
    assert 'hx-trigger="load, every 20s, notifications-changed from:body"' in html


def test_anonymous_pages_have_no_bell_and_the_count_needs_a_login(client):
    assert 'id="bell"' not in client.get(reverse("login")).content.decode()
    response = client.get(reverse("notifications_count"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("unread", [0, 3, 40])
def test_the_count_fragment_costs_three_queries_whatever_the_count(
    agent_client, agent, django_assert_num_queries, unread
):
    for i in range(unread):
        note(agent, f"unread {i}")
    note(agent, "read already", read=True)
    note(UserFactory.create(), "someone else's")
    with django_assert_num_queries(3):  # session, user, the count
        response = agent_client.get(reverse("notifications_count"), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    if unread:
        assert f'<span class="bell-badge" aria-hidden="true">{unread}</span>' in html
    else:
        assert html.strip() == ""


# --- The page -----------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [2, 30])
def test_the_notifications_page_lists_mine_newest_first_in_constant_queries(
    agent_client, agent, django_assert_num_queries, count
):
    for i in range(count):
        note(agent, f"note {i}", minutes_ago=i)
    note(UserFactory.create(), "not for the agent")
    with django_assert_num_queries(4):  # session, user, roles, the list
        response = agent_client.get(reverse("notifications"))
    items = response.context["items"]
    assert [n.text for n in items] == [f"note {i}" for i in range(count)]
    assert "not for the agent" not in response.content.decode()


def test_older_notifications_are_a_page_away_in_the_same_queries(
    agent_client, agent, django_assert_num_queries
):
    for i in range(120):
        note(agent, f"note {i}", minutes_ago=i)
    first = agent_client.get(reverse("notifications"))
    assert [n.text for n in first.context["items"]] == [f"note {i}" for i in range(50)]
    html = first.content.decode()
    assert 'href="?page=2" rel="next"' in html and 'rel="prev"' not in html
    with django_assert_num_queries(4):  # session, user, roles, the page and one more: no count
        last = agent_client.get(reverse("notifications"), {"page": 3})
    assert [n.text for n in last.context["items"]] == [f"note {i}" for i in range(100, 120)]
    html = last.content.decode()
    assert 'href="?page=2" rel="prev"' in html and 'rel="next"' not in html
    # A page that is not a number is the first; one past the end, the first too.
    for page in ("abc", "-1", "99", "1.5", "\x00"):
        response = agent_client.get(reverse("notifications"), {"page": page})
        assert response.status_code == 200, page
        assert response.context["items"][0].text == "note 0", page


def test_marking_read_on_an_older_page_answers_with_that_page(agent_client, agent):
    notes = [note(agent, f"note {i}", minutes_ago=i) for i in range(60)]
    url = reverse("notification_read", args=[notes[55].pk])
    response = agent_client.post(f"{url}?page=2", HTTP_HX_REQUEST="true")
    assert [n.text for n in response.context["items"]] == [f"note {i}" for i in range(50, 60)]
    assert f'hx-post="/notifications/{notes[56].pk}/read/?page=2"' in response.content.decode()
    notes[55].refresh_from_db()
    assert notes[55].read_at is not None


def test_marking_one_read_is_post_only_and_touches_only_that_one(agent_client, agent):
    first, second = note(agent, "first"), note(agent, "second")
    url = reverse("notification_read", args=[first.pk])
    assert agent_client.get(url).status_code == 405
    response = agent_client.post(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None


def test_nobody_marks_someone_elses_notification_read(agent_client):
    theirs = note(UserFactory.create(), "private")
    assert agent_client.post(reverse("notification_read", args=[theirs.pk])).status_code == 302
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_marks_mine_only(agent_client, agent):
    mine = [note(agent, f"mine {i}") for i in range(3)]
    theirs = note(UserFactory.create(), "theirs")
    assert agent_client.get(reverse("notifications_read_all")).status_code == 405
    agent_client.post(reverse("notifications_read_all"))
    assert not Notification.objects.filter(pk__in=[n.pk for n in mine], read_at=None).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_marking_read_with_htmx_answers_with_the_list_and_tells_the_bell(agent_client, agent):
    item = note(agent, "call back Ilze")
    response = agent_client.post(
        reverse("notification_read", args=[item.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert "notifications-changed" in json.loads(response["HX-Trigger"])
    html = response.content.decode()
    assert 'id="notifications"' in html and "<html" not in html
    assert "call back Ilze" in html and "Mark read" not in html


def test_my_cases_still_shows_unread_notifications(agent_client, agent):
    note(agent, "Call back Jānis now")
    note(agent, "Old news", read=True)
    html = agent_client.get(reverse("my_cases")).content.decode()
    assert "Call back Jānis now" in html and "Old news" not in html


# --- E-mail opt-in ------------------------------------------------------------------------------


def test_preferences_opt_into_email_and_notifications_then_arrive_by_email(
    agent_client, agent, django_assert_num_queries
):
    with django_assert_num_queries(3):  # session, user, roles for the navigation
        html = agent_client.get(reverse("preferences")).content.decode()
    assert 'name="email_notifications"' in html
    response = agent_client.post(
        reverse("preferences"), {"time_zone": "Europe/Riga", "email_notifications": "on"}
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.email_notifications is True

    notify(recipient=agent, phrase=phrase("notify.offer_expired", id=7, name="Anna"), url="/c/7/")
    assert notifications_email() == 1
    assert [m.to for m in mail.outbox] == [[agent.email]]
    assert "Offer #7 for Anna expired." in mail.outbox[0].body


def test_opting_out_again_stops_the_emails(agent_client, agent):
    agent.email_notifications = True
    agent.save()
    agent_client.post(reverse("preferences"), {"time_zone": "Europe/Riga"})
    agent.refresh_from_db()
    assert agent.email_notifications is False
    notify(recipient=agent, phrase=phrase("notify.offer_expired", id=7, name="Anna"))
    assert notifications_email() == 0


def test_a_bad_preference_changes_nothing(agent_client, agent):
    response = agent_client.post(
        reverse("preferences"), {"time_zone": "Mars/Olympus", "email_notifications": "on"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["time_zone"]
    agent.refresh_from_db()
    assert agent.email_notifications is False


def test_preferences_say_when_there_is_no_address_to_email(client):
    user = user_with_role("Agent", email="")
    client.force_login(user)
    assert 'id="no-email"' in client.get(reverse("preferences")).content.decode()


def test_an_email_is_written_in_the_recipients_language_whoever_triggered_it(agent_client, agent):
    """The notice is stored as a phrase: the worker writes each e-mail in its recipient's
    language, and its times in their time zone, not in the language active when it was made."""
    response = agent_client.post(
        reverse("preferences"),
        {"time_zone": "Europe/Riga", "email_notifications": "on", "language": "lv"},
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert agent.language == "lv"
    due = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)
    with translation.override("ru"):  # whoever's request made it
        notify(recipient=agent, phrase=phrase("notify.sla_warning", name="Anna", due=due, id=5))
    assert notifications_email() == 1
    # Riga is UTC+2 in March.
    assert mail.outbox[0].body.startswith(
        "Pirmais kontakts ar abonentu Anna jāveic līdz 14:00 (lieta #5)."
    )
