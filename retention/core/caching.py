"""The cache, used so that an outage of it costs speed, not pages.

Project infrastructure like retention.roles: every app may import it. In production the cache
is Redis, which is also the broker; when Redis is down a page computes what it would have
read from the cache instead of failing.
"""

import logging
from collections.abc import Callable

from django.core.cache import cache

log = logging.getLogger(__name__)


def cached[T](key: str, compute: Callable[[], T], *, timeout: int) -> T:
    try:
        found: T | None = cache.get(key)
    except Exception as exc:
        log.warning("cache unavailable, computing %s: %s", key, exc)
        return compute()
    if found is not None:
        return found
    value = compute()
    try:
        cache.set(key, value, timeout=timeout)
    except Exception as exc:
        log.warning("cache unavailable, not storing %s: %s", key, exc)
    return value
