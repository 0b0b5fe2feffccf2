"""An outage of the cache (Redis, in production) costs speed, not pages."""

import pytest
from django.urls import reverse

from retention.core import caching
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


class DownCache:
    """What Django's Redis cache does when Redis is unreachable: every call raises."""

    def get(self, *args, **kwargs):
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    set = get


def test_cached_computes_when_the_cache_is_down(monkeypatch):
    monkeypatch.setattr(caching, "cache", DownCache())
    assert caching.cached("k", lambda: 42, timeout=10) == 42


def test_the_queue_and_its_filters_work_when_the_cache_is_down(agent_client, monkeypatch):
    case = CaseFactory.create()
    monkeypatch.setattr(caching, "cache", DownCache())
    response = agent_client.get(reverse("queue"), {"region": case.subscriber.region})
    assert response.status_code == 200
    assert f'data-case="{case.pk}"' in response.content.decode()
