"""Logging in through the form, as a person does, with a demo login of the given role."""

from playwright.sync_api import Page

from retention.system.services import DEMO_USERS


def log_in(page: Page, live_server, role: str) -> None:
    """With the first demo login of ``role``."""
    log_in_as(page, live_server, next(u.username for u in DEMO_USERS if u.role == role))


def log_in_as(page: Page, live_server, username: str) -> None:
    """With the demo login of this name."""
    demo = next(u for u in DEMO_USERS if u.username == username)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(demo.username)
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Log in").click()
    landed(page)


def landed(page: Page) -> None:
    """The page a login lands on, whole: its deferred scripts (htmx, the queue's keys) have
    run, so the next step's change, click or key is heard. A person cannot act faster than
    that; a test can, and a filter chosen (or a `j` pressed) before the scripts bound did
    nothing."""
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.wait_for_load_state("load")
