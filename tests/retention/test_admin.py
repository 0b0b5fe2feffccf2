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
