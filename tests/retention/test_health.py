import pytest

from retention.system.services import heartbeat_record


@pytest.mark.django_db
def test_health_is_open_and_shows_the_last_heartbeat(client):
    heartbeat_record()
    heartbeat_record()
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.context["health"].beats == 2
    assert response.context["health"].worker_ok


@pytest.mark.django_db
def test_health_refreshes_itself_with_a_fragment(client, django_assert_num_queries):
    heartbeat_record()
    with django_assert_num_queries(1):
        response = client.get("/health/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="beat-count"' in html and "<html" not in html


@pytest.mark.django_db
def test_health_without_any_heartbeat_says_jobs_are_not_running(client):
    response = client.get("/health/?format=json")
    assert response.json()["worker"] is False
    assert response.json()["ok"] is True
