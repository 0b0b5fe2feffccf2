"""Logging in through the form, as a person does, with a demo login of the given role."""

from playwright.sync_api import Page

from retention.system.services import DEMO_USERS


def log_in(page: Page, live_server, role: str) -> None:
    demo = next(u for u in DEMO_USERS if u.role == role)
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(demo.username)
    page.get_by_label("Password").fill(demo.password)
    page.get_by_role("button", name="Log in").click()
    # The page the login lands on, whole: its deferred scripts (htmx) have run, so the next
    # step's change or click is heard. A person cannot act faster than that; a test can, and a
    # filter chosen before htmx bound the form did nothing.
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.wait_for_load_state("load")
