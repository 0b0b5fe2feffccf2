"""Every URL needs a login, except the few listed in retention.urls.OPEN_URL_NAMES."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from retention.urls import OPEN_URL_NAMES

pytestmark = pytest.mark.django_db

SAMPLE_VALUES = {
    "int": "1",
    "str": "x",
    "slug": "x",
    "path": "x",
    "uuid": "00000000-0000-0000-0000-000000000000",
}


def walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), namespace, entry


def concrete(route: str) -> str:
    """Turn a route or regex into a URL that resolves to it."""
    route = re.sub(
        r"<(?:(\w+):)?\w+>", lambda m: SAMPLE_VALUES.get(m.group(1) or "str", "x"), route
    )
    # Regex routes (admin): fill named groups and strip anchors.
    route = re.sub(r"\(\?P<\w+>[^)]*\)", "1", route)
    route = route.replace("^", "").replace("$", "").replace("\\", "")
    route = re.sub(r"\(\?:[^)]*\)\??", "", route)
    return "/" + route


def is_open(namespace: str, name: str | None) -> bool:
    return name in OPEN_URL_NAMES or f"{namespace}:*" in OPEN_URL_NAMES


def all_urls():
    return list(walk(get_resolver().url_patterns))


def test_the_walk_finds_the_whole_configuration():
    routes = {route for route, _, _ in all_urls()}
    assert any(r.startswith("admin/") for r in routes)
    assert any(r.startswith("subscribers/") for r in routes)
    assert any(r.startswith("api/v1/") for r in routes)
    assert len(routes) > 50


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_users_are_sent_to_login_everywhere_but_the_allowlist(client, method):
    checked = 0
    for route, namespace, pattern in all_urls():
        if is_open(namespace, pattern.name):
            continue
        url = concrete(route)
        response = getattr(client, method)(url)
        if namespace == "admin":
            # The admin has its own login page; it still lets nobody in.
            assert response.status_code == 302, url
            assert (
                "/admin/login/" in response["Location"]
                or "/accounts/login/" in response["Location"]
            ), url
        else:
            assert response.status_code == 302, (url, response.status_code)
            assert response["Location"].startswith("/accounts/login/"), url
        checked += 1
    assert checked > 40


def test_the_allowlist_is_exactly_what_is_open(client):
    open_found = set()
    for _route, namespace, pattern in all_urls():
        if is_open(namespace, pattern.name):
            open_found.add(pattern.name if not namespace.startswith("api") else f"{namespace}:*")
    assert open_found == set(OPEN_URL_NAMES)


def test_open_pages_answer_without_login(client):
    assert client.get("/accounts/login/").status_code == 200
    assert client.get("/health/").status_code == 200
