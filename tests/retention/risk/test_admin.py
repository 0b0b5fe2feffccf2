"""Churn-risk model versions in the admin: read, never written there; one button asks the
workers to train a new version, after the request commits."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from retention.core.roles import Role
from retention.risk.admin import TRAIN_TASK
from tests.factories import user_with_role
from tests.retention.risk.factories import risk_model, rules_model

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:retention_riskmodel_changelist")
TRAIN = reverse("admin:retention_riskmodel_train")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def asked(monkeypatch) -> list[tuple[str, tuple[object, ...]]]:
    """What was published to the workers (nothing really is)."""
    published: list[tuple[str, tuple[object, ...]]] = []

    def enqueue(task_name: str, *args: object) -> bool:
        published.append((task_name, args))
        return True

    monkeypatch.setattr("retention.core.broker.enqueue", enqueue)
    return published


def test_the_changelist_lists_every_version_with_its_figures(
    admin_client, django_assert_max_num_queries
):
    rules_model(version=1)
    risk_model(version=2)
    with django_assert_max_num_queries(8):
        response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    assert "0.781" in html and "22.5 %" in html
    assert "Rule-based" in html and "Learned from outcomes" in html
    assert f'href="{TRAIN}"' in html


def test_a_version_opens_read_only(admin_client):
    model = risk_model()
    response = admin_client.get(reverse("admin:retention_riskmodel_change", args=[model.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="auc"' not in html  # no input: the figures are shown, not edited
    assert "0.781" in html


def test_versions_cannot_be_added_changed_or_deleted_in_the_admin(admin_client):
    model = risk_model()
    assert admin_client.get(reverse("admin:retention_riskmodel_add")).status_code == 403
    change = reverse("admin:retention_riskmodel_change", args=[model.pk])
    admin_client.post(change, {"auc": "0.99", "version": "1", "kind": "learned"})
    model.refresh_from_db()
    assert model.auc == pytest.approx(0.781)
    delete = reverse("admin:retention_riskmodel_delete", args=[model.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert admin_client.post(
        CHANGELIST, {"action": "delete_selected", "_selected_action": [model.pk], "post": "yes"}
    ).status_code in (200, 302)
    model.refresh_from_db()  # still there


def test_the_train_page_explains_and_asks_before_training(admin_client, asked):
    response = admin_client.get(TRAIN)
    assert response.status_code == 200
    html = response.content.decode()
    assert "manage.py risk_train" in html
    assert 'id="risk-train-form"' in html
    assert asked == []  # a GET changes nothing


def test_training_is_queued_once_with_the_admin_after_the_request_commits(
    admin_client, admin_user, asked, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(TRAIN)
    assert asked == []  # nothing is published before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert asked == [(TRAIN_TASK, (admin_user.pk,))]
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    page = admin_client.get(CHANGELIST).content.decode()
    assert "Training a new model is queued" in page
    assert "manage.py risk_train does the same" in page


def test_staff_without_the_admin_role_may_read_but_not_train(client, asked):
    reader = user_with_role(Role.MANAGER, username="reader", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_riskmodel"))
    client.force_login(reader)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert f'href="{TRAIN}"' not in response.content.decode()
    assert client.get(TRAIN).status_code == 403
    assert client.post(TRAIN).status_code == 403
    assert asked == []
