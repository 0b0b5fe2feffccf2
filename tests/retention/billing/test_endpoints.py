"""What admins do about billing delivery (retention/billing/services.py and admin.py): register,
change, enable and disable endpoints, each recorded with who did it and from what to what (a
secret only as changed); send a delivery again; and the admin pages for both."""

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse

from retention.billing.delivery import deliveries_fan_out, deliveries_work
from retention.billing.services import (
    delivery_redeliver,
    endpoint_disable,
    endpoint_enable,
    endpoint_save,
)
from retention.core.refusals import NotAllowed, WrongState
from retention.core.roles import Role
from retention.models import EndpointHistory, EventDelivery, WebhookEndpoint
from retention.models.billing import webhook_secret_new
from subscribers.outbound import DELIVER_TASK
from tests.admin_forms import posted_back
from tests.factories import SubscriberFactory, user_with_role
from tests.retention.billing.conftest import NOW, Type, withdrawn, work_until

pytestmark = pytest.mark.django_db

State = EventDelivery.State
Action = EndpointHistory.Action
HOUR = timedelta(hours=1)
ENDPOINTS = reverse("admin:retention_webhookendpoint_changelist")
DELIVERIES = reverse("admin:retention_eventdelivery_changelist")


@pytest.fixture
def admin(db):
    return user_with_role(Role.ADMIN, username="ilze")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def values(**changed):
    return {
        "name": "Billing",
        "url": "https://billing.example/events",
        "event_types": [Type.CANCELLATION_PROCESSED, Type.CANCELLATION_WITHDRAWN],
        "enabled": True,
        **changed,
    }


def history(endpoint: WebhookEndpoint) -> list[tuple[str, str | None, dict]]:
    return [
        (row.action, row.actor.username if row.actor else None, row.changes)
        for row in endpoint.history.order_by("id")
    ]


@pytest.fixture
def failed(receiver, endpoint, clock):
    """A delivery that failed for three days (billing answered 500); billing works again."""
    receiver.status = 500
    event = withdrawn(SubscriberFactory.create())
    work_until(clock, NOW + 80 * HOUR)
    receiver.status = 200
    found = EventDelivery.objects.get(event=event)
    assert found.state == State.FAILED
    return found


# --- Endpoints --------------------------------------------------------------------------------


def test_registering_and_changing_an_endpoint_are_recorded_with_what_changed(admin, asked):
    endpoint = endpoint_save(endpoint=None, values=values(), actor=admin)
    assert (endpoint.name, endpoint.url, endpoint.enabled) == (
        "Billing",
        "https://billing.example/events",
        True,
    )
    assert endpoint.secret.startswith("whsec_")  # one of its own when none is given
    created = {
        "name": [None, "Billing"],
        "url": [None, "https://billing.example/events"],
        "event_types": [None, [Type.CANCELLATION_PROCESSED, Type.CANCELLATION_WITHDRAWN]],
        "enabled": [None, True],
    }
    assert history(endpoint) == [(Action.CREATED, "ilze", created)]

    changed = endpoint_save(
        endpoint=endpoint,
        values=values(url="https://billing.example/v2/events", event_types=["offer.accepted"]),
        actor=admin,
    )

    assert changed.url == "https://billing.example/v2/events"
    assert history(endpoint)[1:] == [
        (
            Action.CHANGED,
            "ilze",
            {
                "url": ["https://billing.example/events", "https://billing.example/v2/events"],
                "event_types": [
                    [Type.CANCELLATION_PROCESSED, Type.CANCELLATION_WITHDRAWN],
                    ["offer.accepted"],
                ],
            },
        )
    ]
    # Saved again as it is: nothing changed, nothing recorded.
    endpoint_save(
        endpoint=endpoint,
        values=values(url=changed.url, event_types=["offer.accepted"]),
        actor=admin,
    )
    assert endpoint.history.count() == 2


def test_a_changed_secret_is_recorded_as_changed_never_its_value(admin):
    old, new = webhook_secret_new(), webhook_secret_new()
    endpoint = endpoint_save(endpoint=None, values=values(secret=old), actor=admin)

    endpoint_save(endpoint=endpoint, values=values(secret=new), actor=admin)

    endpoint.refresh_from_db()
    assert endpoint.secret == new
    changed = endpoint.history.get(action=Action.CHANGED)
    assert changed.changes == {"secret": ["…", "…"]}
    for row in endpoint.history.all():
        written = json.dumps([row.changes, row.params, row.note])
        assert old.removeprefix("whsec_") not in written
        assert new.removeprefix("whsec_") not in written


def test_enabling_again_through_a_change_forgets_the_failures_before(admin, clock):
    endpoint = endpoint_save(endpoint=None, values=values(enabled=False), actor=admin)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=NOW - 200 * HOUR)

    endpoint_save(endpoint=endpoint, values=values(enabled=True), actor=admin)

    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.failing_since) == (True, None)
    assert history(endpoint)[-1] == (Action.CHANGED, "ilze", {"enabled": [False, True]})


def test_enabling_or_disabling_twice_is_refused_and_recorded_once(
    admin, asked, django_capture_on_commit_callbacks
):
    endpoint = endpoint_save(endpoint=None, values=values(), actor=admin)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=NOW - HOUR)

    endpoint_disable(endpoint=endpoint, actor=admin)
    with pytest.raises(WrongState):
        endpoint_disable(endpoint=endpoint, actor=admin)
    with django_capture_on_commit_callbacks(execute=True):
        endpoint_enable(endpoint=endpoint, actor=admin)
    with pytest.raises(WrongState):
        endpoint_enable(endpoint=endpoint, actor=admin)

    endpoint.refresh_from_db()
    assert (endpoint.enabled, endpoint.failing_since) == (True, None)
    assert [row[:2] for row in history(endpoint)] == [
        (Action.CREATED, "ilze"),
        (Action.DISABLED, "ilze"),
        (Action.ENABLED, "ilze"),
    ]
    assert asked == [DELIVER_TASK]  # its waiting events go at once


def test_an_agent_or_a_manager_may_not_touch_endpoints_or_deliveries(admin, receiver, endpoint):
    withdrawn(SubscriberFactory.create())
    deliveries_work()
    delivered = EventDelivery.objects.get()
    for role in (Role.AGENT, Role.MANAGER):
        someone = user_with_role(role, username=f"not-{role}")
        with pytest.raises(NotAllowed):
            endpoint_save(endpoint=None, values=values(name="Mine"), actor=someone)
        with pytest.raises(NotAllowed):
            endpoint_save(endpoint=endpoint, values=values(url="https://x.example/"), actor=someone)
        with pytest.raises(NotAllowed):
            endpoint_disable(endpoint=endpoint, actor=someone)
        with pytest.raises(NotAllowed):
            delivery_redeliver(delivery=delivered, actor=someone)

    assert list(WebhookEndpoint.objects.values_list("name", "url", "enabled")) == [
        ("Billing", receiver.url, True)
    ]
    assert EventDelivery.objects.get().state == State.DELIVERED
    assert not EndpointHistory.objects.exists()


# --- Redelivery -------------------------------------------------------------------------------


def test_redelivering_a_failed_delivery_sends_it_again_with_a_fresh_three_days(
    failed, admin, receiver, clock, asked, django_capture_on_commit_callbacks
):
    asked_at = NOW + 80 * HOUR
    receiver.status = 500  # still down at first
    with django_capture_on_commit_callbacks(execute=True):
        delivery_redeliver(delivery=failed, actor=admin)

    again = EventDelivery.objects.get(pk=failed.pk)
    assert (again.state, again.next_attempt_at, again.first_attempt_at, again.claim) == (
        State.PENDING,
        asked_at,
        None,
        None,
    )
    assert asked == [DELIVER_TASK]
    (row,) = EndpointHistory.objects.all()
    assert (row.endpoint_id, row.action, row.actor, row.note, row.changes) == (
        failed.endpoint_id,
        Action.REDELIVERED,
        admin,
        str(failed.event.event_id),
        {"state": [State.FAILED, State.PENDING], "attempts": [failed.attempts, 0]},
    )
    assert failed.attempts > 10 and again.attempts == 0

    deliveries_work()  # fails, but its three days start now: it is tried again
    again.refresh_from_db()
    assert (again.state, again.first_attempt_at, again.attempts) == (State.PENDING, asked_at, 1)
    # The new round starts at the first wait, not at the longest the last round reached.
    first = timedelta(seconds=settings.BILLING_RETRY_FIRST_SECONDS)
    assert asked_at + first / 2 <= again.next_attempt_at <= asked_at + first

    receiver.status = 200
    work_until(clock, asked_at + 7 * HOUR)
    again.refresh_from_db()
    assert (again.state, again.delivered_at is not None) == (State.DELIVERED, True)
    assert receiver.ids[-1] == str(failed.event.event_id)


def test_a_delivery_still_being_tried_is_not_redelivered(admin, receiver, endpoint):
    receiver.status = 500
    withdrawn(SubscriberFactory.create())
    deliveries_work()
    pending = EventDelivery.objects.get()
    before = EventDelivery.objects.filter(pk=pending.pk).values().get()

    with pytest.raises(WrongState):
        delivery_redeliver(delivery=pending, actor=admin)

    assert EventDelivery.objects.filter(pk=pending.pk).values().get() == before
    assert not EndpointHistory.objects.exists()


def test_a_delivered_delivery_may_be_sent_again_with_the_same_webhook_id(admin, receiver, endpoint):
    event = withdrawn(SubscriberFactory.create())
    deliveries_work()

    delivery_redeliver(delivery=EventDelivery.objects.get(), actor=admin)
    deliveries_work()

    assert receiver.ids == [str(event.event_id)] * 2
    assert EventDelivery.objects.get().state == State.DELIVERED


# --- The admin pages --------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [3, 30])
def test_the_endpoint_list_costs_the_same_queries_whatever_its_length(
    admin_client, rows, django_assert_num_queries
):
    for n in range(rows):
        WebhookEndpoint.objects.create(
            name=f"Receiver {n}", url=f"https://r{n}.example/", event_types=list(Type.values)
        )
    with django_assert_num_queries(6):
        response = admin_client.get(ENDPOINTS)
    assert response.status_code == 200
    assert "Receiver 0" in response.content.decode()


def test_an_endpoint_registered_through_the_admin_form_is_recorded(admin_client, admin_user):
    form = admin_client.get(reverse("admin:retention_webhookendpoint_add"))
    assert form.status_code == 200
    page = form.content.decode()
    assert all(f'value="{value}"' in page for value in Type.values)  # a box for each type
    secret = form.context["adminform"].form["secret"].value()
    assert secret.startswith("whsec_")  # one is offered

    response = admin_client.post(
        reverse("admin:retention_webhookendpoint_add"),
        {
            "name": "Billing",
            "url": "https://billing.example/events",
            "secret": secret,
            "event_types": [Type.OFFER_ACCEPTED, Type.CANCELLATION_PROCESSED],
            "enabled": "on",
        },
    )

    assert response.status_code == 302
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.url, endpoint.secret, endpoint.event_types) == (
        "https://billing.example/events",
        secret,
        [Type.OFFER_ACCEPTED, Type.CANCELLATION_PROCESSED],
    )
    (row,) = history(endpoint)
    assert row[:2] == (Action.CREATED, admin_user.username)
    assert row[2]["secret"] == [None, "…"]  # never the secret itself
    assert row[2]["url"] == [None, "https://billing.example/events"]


def test_an_endpoint_changed_through_the_admin_form_is_recorded_with_what_changed(
    admin_client, admin_user
):
    endpoint = WebhookEndpoint.objects.create(
        name="Billing", url="https://billing.example/events", event_types=[Type.OFFER_ACCEPTED]
    )
    change = reverse("admin:retention_webhookendpoint_change", args=[endpoint.pk])
    page = admin_client.get(change)
    assert page.status_code == 200
    text = page.content.decode()
    assert f"endpoint__id__exact={endpoint.pk}" in text  # links to its history and deliveries

    data = posted_back(page)
    data.update(url="https://billing.example/v2/events", event_types=list(Type.values))
    response = admin_client.post(change, data)

    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.url == "https://billing.example/v2/events"
    assert history(endpoint) == [
        (
            Action.CHANGED,
            admin_user.username,
            {
                "url": ["https://billing.example/events", "https://billing.example/v2/events"],
                "event_types": [[Type.OFFER_ACCEPTED], list(Type.values)],
            },
        )
    ]
    assert admin_client.get(ENDPOINTS + f"{endpoint.pk}/delete/").status_code == 403


@pytest.mark.parametrize(
    "field, value",
    [
        ("url", "ftp://billing.example/events"),
        ("url", "not a url"),
        ("secret", "whsec_c2hvcnQ="),
        ("secret", "a secret without its prefix or base64 ??????????????"),
        ("secret", "whsec_not base64 at all, only words and spaces!!"),
        ("secret", "c2VjcmV0IHdpdGhvdXQgdGhlIHByZWZpeCwgbG9uZyBlbm91Z2g="),
        ("secret", ""),
    ],
)
def test_a_bad_url_or_secret_is_refused_on_its_field_and_nothing_is_saved(
    admin_client, field, value
):
    data = {
        "name": "Billing",
        "url": "https://billing.example/events",
        "secret": webhook_secret_new(),
        "event_types": [Type.OFFER_ACCEPTED],
        "enabled": "on",
        field: value,
    }
    response = admin_client.post(reverse("admin:retention_webhookendpoint_add"), data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field]
    assert not WebhookEndpoint.objects.exists()
    assert not EndpointHistory.objects.exists()


def test_the_admin_actions_enable_and_disable_endpoints(admin_client, admin_user):
    one = WebhookEndpoint.objects.create(name="One", url="https://one.example/")
    two = WebhookEndpoint.objects.create(name="Two", url="https://two.example/", enabled=False)

    response = admin_client.post(
        ENDPOINTS, {"action": "disable", "_selected_action": [one.pk, two.pk]}, follow=True
    )

    assert response.status_code == 200
    shown = sorted((m.level_tag, str(m)) for m in response.context["messages"])
    assert [level for level, _ in shown] == ["success", "warning"]
    assert "1" in shown[0][1]  # one done
    assert shown[1][1].startswith("Two: ")  # the other refused, by name, with the reason
    assert not WebhookEndpoint.objects.filter(enabled=True).exists()
    assert [(r.endpoint_id, r.action) for r in EndpointHistory.objects.all()] == [
        (one.pk, Action.DISABLED)
    ]


@pytest.mark.postgres  # the admin's row count is an estimate on PostgreSQL only
@pytest.mark.parametrize("rows", [3, 30])
def test_the_delivery_list_costs_the_same_queries_whatever_its_length(
    admin_client, receiver, endpoint, rows, django_assert_num_queries
):
    receiver.status = 500
    for s in SubscriberFactory.create_batch(rows):
        withdrawn(s)
    deliveries_work()
    with django_assert_num_queries(7):
        response = admin_client.get(DELIVERIES)
    assert response.status_code == 200
    assert response.content.decode().count("Cancellation withdrawn") >= rows


def test_the_delivery_list_finds_a_subscriber_or_an_event(admin_client, receiver, endpoint):
    subscriber = SubscriberFactory.create(account_number="LV-100200")
    event = withdrawn(subscriber)
    withdrawn(SubscriberFactory.create())
    deliveries_fan_out()
    for q in ("LV-100200", str(event.event_id)):
        response = admin_client.get(DELIVERIES, {"q": q})
        assert [d.event_id for d in response.context["cl"].result_list] == [event.pk], q
    for q in ("", "not-a-uuid", "a\x00b"):
        assert admin_client.get(DELIVERIES, {"q": q}).status_code == 200, q


def test_a_delivery_page_shows_each_attempt_and_changes_nothing(
    admin_client, receiver, endpoint, clock
):
    receiver.status = 500
    withdrawn(SubscriberFactory.create())
    deliveries_work()
    delivery = EventDelivery.objects.get()
    clock.move_to(delivery.next_attempt_at)
    receiver.status = 200
    deliveries_work()
    change = reverse("admin:retention_eventdelivery_change", args=[delivery.pk])

    page = admin_client.get(change)

    assert page.status_code == 200
    text = page.content.decode()
    assert "&lt;b&gt;down&lt;/b&gt; for maintenance" in text  # the receiver's words, escaped
    assert "<b>down</b>" not in text
    assert "received" in text and "500" in text
    assert 'name="_save"' not in text
    assert admin_client.post(change, {"state": "failed"}).status_code == 403
    assert admin_client.get(reverse("admin:retention_eventdelivery_add")).status_code == 403
    assert EventDelivery.objects.get().state == State.DELIVERED


def test_the_redeliver_action_sends_a_failed_delivery_again_and_refuses_a_pending_one(
    admin_client, admin_user, failed, receiver
):
    later = withdrawn(failed.subscriber)  # held behind the failed one
    deliveries_fan_out()
    pending = EventDelivery.objects.get(event=later)

    response = admin_client.post(
        DELIVERIES,
        {"action": "redeliver", "_selected_action": [failed.pk, pending.pk]},
        follow=True,
    )

    assert response.status_code == 200
    shown = sorted((m.level_tag, str(m)) for m in response.context["messages"])
    assert [level for level, _ in shown] == ["success", "warning"]
    assert "1" in shown[0][1]  # one asked again
    assert shown[1][1].startswith(f"{pending}: ")  # the pending one refused, with the reason
    failed.refresh_from_db()
    assert (failed.state, failed.first_attempt_at) == (State.PENDING, None)
    (row,) = EndpointHistory.objects.filter(action=Action.REDELIVERED)
    assert (row.actor, row.note) == (admin_user, str(failed.event.event_id))
    deliveries_work()
    deliveries_work()
    assert receiver.ids[-2:] == [str(failed.event.event_id), str(later.event_id)]
    assert set(EventDelivery.objects.values_list("state", flat=True)) == {State.DELIVERED}
