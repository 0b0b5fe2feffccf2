import pytest

from retention.services import heartbeat_record


@pytest.mark.django_db
def test_health_is_open_and_shows_the_last_heartbeat(client):
    heartbeat_record()
    heartbeat_record()
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.context["health"].beats == 2
    assert response.context["health"].worker_ok
