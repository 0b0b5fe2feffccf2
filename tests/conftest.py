import os
import shutil

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation

from retention.core.roles import Role
from subscribers.ingestion import api_token_create
from subscribers.models import ApiToken, Subscriber
from tests.browser.watch import page_watch
from tests.clock import shift_from_environment
from tests.factories import SubscriberFactory, authority_tier, user_with_role

# The local SMTP server and SMS API fixtures (smtp_sink, sms_to_sink, email_to_sink, …).
pytest_plugins = ["tests.sinks.fixtures"]

# In CI (and whenever .ci/run drives the suite) a test that needs PostgreSQL, Redis or
# Chromium must run: a missing service fails the test instead of skipping it.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_configure(config: pytest.Config) -> None:
    shift_from_environment()  # CLOCK_AHEAD_DAYS: see tests/clock.py


def unavailable(reason: str) -> None:
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _language_reset():
    """Each test starts in the default language. LocaleMiddleware activates the language of each
    request and leaves it active in the thread, so a page read in Russian would otherwise make
    the next test's notifications and messages Russian."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _desk_calendar_fresh():
    """The desk's calendar is cached across requests (and in Redis, across processes); a test
    that changed it rolls its rows back, so the next test must not read the cached copy."""
    from subscribers.desk_calendar import desk_calendar_forget

    desk_calendar_forget()
    yield
    desk_calendar_forget()


@pytest.fixture(autouse=True)
def _send_rates_fresh():
    """The providers' rate buckets live in Redis, across tests: a 429's hold in one test must
    not make the next one wait."""
    yield
    from retention.core.ratelimit import buckets_reset

    buckets_reset()


@pytest.fixture(autouse=True)
def _require_postgres(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        unavailable("this test needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        unavailable("this test needs Redis (set REDIS_URL)")
    return url


@pytest.fixture(scope="session")
def chromium():
    path = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")
    if not path:
        unavailable("Chromium is not installed (apt-get install chromium)")
    # Playwright's sync API runs an event loop in this thread; the live server's ORM calls
    # are still plain synchronous ones.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    """A fresh browser page. The test fails on a script error, a CSP violation, or an HTTP
    error answer it did not declare with tests.browser.watch.expect_status(page, 409)."""
    context = chromium.new_context(locale="en-GB", timezone_id="Europe/Riga")
    context.set_default_timeout(10_000)
    page = context.new_page()
    watch = page_watch(page)
    yield page
    context.close()
    problems = watch.problems()
    assert not problems, problems


@pytest.fixture
def agent(db):
    return user_with_role(Role.AGENT, username="agent")


@pytest.fixture
def manager(db):
    return user_with_role(Role.MANAGER, username="manager")


@pytest.fixture
def admin_user(db):
    return user_with_role(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


# --- The ingestion API (tests/ingestion.py) ------------------------------------------------------


@pytest.fixture
def billing_token(db) -> tuple[ApiToken, str]:
    """An API token for billing, with its raw secret."""
    return api_token_create(name="Billing", source="billing")


@pytest.fixture
def api_client(billing_token) -> Client:
    """A client that calls the ingestion API with billing's token."""
    _, raw = billing_token
    return Client(headers={"authorization": f"Bearer {raw}"})


@pytest.fixture
def subscriber(db) -> Subscriber:
    """The subscriber the API tests' requests name: account number LV-100200."""
    return SubscriberFactory.create(account_number="LV-100200")


@pytest.fixture
def tiers(db):
    """The default authority tiers (the catalogue migration's; transactional tests flush them),
    per month / one offer / 12 months: agent 10/60/120, manager 25/300/500, lead 60/1000/1500."""
    return {
        "agent": authority_tier(Role.AGENT, 10, "10", "60", "120"),
        "manager": authority_tier(Role.MANAGER, 20, "25", "300", "500"),
        "lead": authority_tier("Retention lead", 30, "60", "1000", "1500"),
    }
