"""The contact policy changes only through subscribers.services.contact_policy_save, which
records who changed the cap, the period or a channel's hours, from what to what."""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from retention.core.refusals import NotAllowed
from subscribers.models import ContactHours, ContactPolicy, ContactPolicyChange
from subscribers.selectors import contact_policy_get
from subscribers.services import contact_policy_save
from tests.admin_forms import posted_back

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
Action = ContactPolicyChange.Action


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def url(view: str, *args: object, model: str = "contactpolicy") -> str:
    return reverse(f"admin:subscribers_{model}_{view}", args=args)


def hours_row(data: dict[str, object], channel: str) -> str:
    """The inline row's prefix ("hours-0") of a channel's hours in the posted form."""
    return next(
        name.removesuffix("-channel")
        for name, value in data.items()
        if name.endswith("-channel") and value == channel
    )


def changed_in_admin(admin_client, hours: dict[str, dict[str, str]] | None = None, **fields):
    """Open the policy's page and save it with these changes, as an administrator does."""
    data = posted_back(admin_client.get(url("change", 1)))
    data.update(fields)
    for channel, given in (hours or {}).items():
        row = hours_row(data, channel)
        data.update({f"{row}-{name}": value for name, value in given.items()})
    return admin_client.post(url("change", 1), data)


def test_tightening_the_policy_in_the_admin_records_who_changed_what(admin_client, admin_user):
    with time_machine.travel(NOW, tick=False):
        response = changed_in_admin(
            admin_client, max_outbound="1", hours={"phone": {"weekday_end": "19:00"}}
        )
    assert response.status_code == 302
    (change,) = ContactPolicyChange.objects.all()
    assert (change.action, change.actor, change.at) == (Action.CHANGED, admin_user, NOW)
    assert change.changes == {"max_outbound": [2, 1], "phone.weekday_end": ["20:00", "19:00"]}
    assert change.text == ("most outbound contacts 2 → 1; Phone call, weekdays until 20:00 → 19:00")
    # The next contact decision follows the new policy.
    policy = contact_policy_get()
    assert policy.max_outbound == 1
    assert policy.hours["phone"].weekday == (time(9), time(19))


def test_saving_the_policy_without_a_change_records_nothing(admin_client):
    response = changed_in_admin(admin_client, period_days="7")
    assert response.status_code == 302
    assert not ContactPolicyChange.objects.exists()


def test_a_refused_form_records_nothing(admin_client):
    response = changed_in_admin(admin_client, period_days="0")
    assert response.status_code == 200
    assert not ContactPolicyChange.objects.exists()
    assert ContactPolicy.objects.get().period_days == 7


def test_a_new_policy_is_recorded_with_what_it_starts_with(admin_user):
    ContactPolicy.objects.all().delete()
    policy = contact_policy_save(
        values={"period_days": 14, "hours": {"sms": {"weekend_start": time(11)}}},
        actor=admin_user,
    )
    assert (policy.max_outbound, policy.period_days) == (2, 14)
    assert ContactHours.objects.get(policy=policy, channel="sms").weekend_start == time(11)
    (change,) = ContactPolicyChange.objects.all()
    assert change.action == Action.CREATED
    assert change.changes == {
        "max_outbound": [None, 2],
        "period_days": [None, 14],
        "closed_on_public_holidays": [None, True],
        "sms.weekday_start": [None, "09:00"],
        "sms.weekday_end": [None, "20:00"],
        "sms.weekend_start": [None, "11:00"],
        "sms.weekend_end": [None, "18:00"],
    }
    assert contact_policy_get().period == timedelta(days=14)


def test_only_an_administrator_changes_the_policy(manager):
    with pytest.raises(NotAllowed):
        contact_policy_save(values={"max_outbound": 9}, actor=manager)
    assert ContactPolicy.objects.get().max_outbound == 2
    assert not ContactPolicyChange.objects.exists()


@pytest.mark.parametrize(
    ("model", "view"),
    [
        ("contactpolicy", "changelist"),
        ("contactpolicy", "change"),
        ("contactpolicychange", "changelist"),
    ],
)
def test_a_non_admin_is_sent_to_the_admin_login(agent_client, model, view):
    args = (1,) if view == "change" else ()
    response = agent_client.get(url(view, *args, model=model))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_the_policy_page_links_to_its_history(admin_client, django_assert_max_num_queries):
    # Session, user, the policy, whether there is one (for the add button), its hours, and
    # the content type of the admin's own log.
    with django_assert_max_num_queries(6):
        response = admin_client.get(url("change", 1))
    history = url("changelist", model="contactpolicychange")
    assert f'href="{history}"' in response.content.decode()
    # The primary key is the singleton's, not a field to edit.
    assert 'name="id"' not in response.content.decode()


def test_the_history_lists_who_changed_what_in_the_readers_language(
    admin_client, django_assert_max_num_queries
):
    changed_in_admin(admin_client, max_outbound="3")
    history = url("changelist", model="contactpolicychange")
    # Session, user, the count, the sidebar's, the rows with their actors.
    with django_assert_max_num_queries(5) as first:
        html = admin_client.get(history).content.decode()
    assert "most outbound contacts 2 → 3" in html
    queries = len(first)
    for days in ("8", "9", "10"):
        changed_in_admin(admin_client, period_days=days)
    with django_assert_max_num_queries(queries):
        assert admin_client.get(history).status_code == 200
    with translation.override("ru"):
        said = ContactPolicyChange.objects.order_by("pk")[0].text
    assert said.endswith("2 → 3")
    assert "most outbound contacts" not in said


def test_the_history_is_read_only(admin_client):
    changed_in_admin(admin_client, max_outbound="3")
    change = ContactPolicyChange.objects.get()
    page = url("change", change.pk, model="contactpolicychange")
    response = admin_client.get(page)
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    assert admin_client.post(page, {"note": "changed my mind"}).status_code == 403
    assert admin_client.get(url("add", model="contactpolicychange")).status_code == 403
    delete = url("delete", change.pk, model="contactpolicychange")
    assert admin_client.get(delete).status_code == 403
    change.refresh_from_db()
    assert change.note == ""
