"""The desk's rows in the Django admin: readable by admins, written only by the services."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

MODELS = ["reminder", "notification", "outreachcampaign", "outreachmessage"]


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("model", MODELS)
def test_the_outbox_changelists_open_with_few_queries(
    admin_client, model, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse(f"admin:retention_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_the_outbox_rows_cannot_be_added_in_the_admin(admin_client, model):
    assert admin_client.get(reverse(f"admin:retention_{model}_add")).status_code == 403


def user_form(user, **changes: str) -> dict[str, str]:
    """The admin's change form of a user, as their page fills it, with ``changes``."""
    return {
        "username": user.username,
        "email": user.email,
        "is_active": "on",
        "date_joined_0": "2026-12-01",
        "date_joined_1": "10:00:00",
        "time_zone": user.time_zone,
        "language": user.language,
        "phone": user.phone,
        **changes,
    }


def test_a_member_of_staff_s_mobile_number_is_kept_as_an_sms_provider_takes_it(
    admin_client, manager
):
    url = reverse("admin:retention_user_change", args=[manager.pk])
    response = admin_client.post(url, user_form(manager, phone="+371 2000-0000"))
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.phone == "+37120000000"


@pytest.mark.parametrize("phone", ["20000000", "+371 2000 000x", "00371 20000000"])
def test_a_mobile_number_not_in_international_form_is_refused(admin_client, manager, phone):
    url = reverse("admin:retention_user_change", args=[manager.pk])
    response = admin_client.post(url, user_form(manager, phone=phone))
    assert response.status_code == 200
    assert "Enter the number in international form, e.g. +37120000000." in response.content.decode()
    manager.refresh_from_db()
    assert manager.phone == ""
