"""What a browser test's page must not meet unannounced: a script error, a CSP violation, or an
HTTP error answer (4xx/5xx) the test did not declare.

The `page` fixture watches its page; a test that opens another page watches it with
`page_watch(other)` and checks `problems()` itself. A test that provokes a refusal on purpose
declares it, once per answer it expects, before or after the click:

    expect_status(page, 409)  # the contact in quiet hours is refused
    form.get_by_role("button", name="Log contact").click()

An expected status that never came is a failure too: the refusal the test is about did not
happen.
"""

from collections import Counter
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from playwright.sync_api import ConsoleMessage, Page, Response

# Chromium logs every 4xx/5xx answer on the console too; the response watch judges those.
_FAILED_LOAD = "Failed to load resource: the server responded with a status of "


class PageWatch:
    def __init__(self, page: "Page") -> None:
        self.errors: list[str] = []
        self.answers: list[tuple[int, str]] = []
        self.expected: Counter[int] = Counter()
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("response", self._on_response)

    def _on_console(self, message: "ConsoleMessage") -> None:
        if message.type == "error" and not message.text.startswith(_FAILED_LOAD):
            self.errors.append(message.text)

    def _on_response(self, response: "Response") -> None:
        if response.status >= 400:
            self.answers.append((response.status, f"{response.request.method} {response.url}"))

    def problems(self) -> list[str]:
        """Script errors and CSP violations, HTTP errors nobody declared, and declared ones
        that never came."""
        unmet = self.expected.copy()
        surprises = []
        for status, request in self.answers:
            if unmet[status] > 0:
                unmet[status] -= 1
            else:
                surprises.append(f"unexpected {status}: {request}")
        missing = [f"expected a {status} that never came" for status in unmet.elements()]
        return [*self.errors, *surprises, *missing]


_WATCHES: "WeakKeyDictionary[Page, PageWatch]" = WeakKeyDictionary()


def page_watch(page: "Page") -> PageWatch:
    _WATCHES[page] = watch = PageWatch(page)
    return watch


def expect_status(page: "Page", status: int) -> None:
    """One answer with this status is part of the test (a refusal it provokes)."""
    _WATCHES[page].expected[status] += 1
