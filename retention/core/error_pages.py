"""The desk's answers when a request is refused or fails, and how a refusal is logged.

400, 403, 404 and 409 (a service's "not now" that no view caught) come in the desk's layout with
the navigation of the logged-in user and a way back; an htmx request gets the page's `refusal`
partial instead, to swap where it asked. The 500 page is rendered without the database or the
request's context: whatever broke the request may have broken those too.

A refusal is an answer, not a fault: django.request logs it as one line (method, path, user,
status, reason) instead of a traceback. A 5xx keeps its traceback.
"""

import logging
from typing import Any

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template import loader
from django.urls import Resolver404
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import requires_csrf_token

from retention.core.refusals import Refusal

logger = logging.getLogger(__name__)

# The last resort when even 500.html cannot be rendered.
BARE_500 = "<!doctype html><title>Server error</title><h1>Server error (500)</h1>"


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _refusal(request, 400, exception)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    # A PermissionDenied with a message (a refusal from a service) says why; a bare one does not.
    return _refusal(request, 403, exception, reason=str(exception))


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    # Not the exception's text: a 404's message is for developers ("bad cursor").
    return _refusal(request, 404, exception)


def refused(request: HttpRequest, exception: Refusal) -> HttpResponse:
    """A refusal other than "not allowed" that no view caught: "not now", with its reason."""
    return _refusal(request, exception.status, exception, reason=str(exception))


def server_error(request: HttpRequest) -> HttpResponse:
    """A plain render of 500.html: no context processors, so no session or user query."""
    try:
        body = loader.get_template("500.html").render({"back_url": _back_url(request)})
    except Exception:
        # The page that reports a failure must not fail itself.
        logger.exception("500.html could not be rendered")
        body = BARE_500
    return HttpResponseServerError(body)


def _refusal(
    request: HttpRequest, status: int, exception: Exception, *, reason: str = ""
) -> HttpResponse:
    # Django logs a 404 after the response, without its exception: the log line finds it here.
    request.refused_because = _reason(exception)  # type: ignore[attr-defined]
    # A 400 raised by a middleware before HtmxMiddleware ran has no request.htmx.
    htmx = getattr(request, "htmx", False)
    template = f"{status}.html#refusal" if htmx else f"{status}.html"
    context = {"reason": reason, "back_url": _back_url(request)}
    return HttpResponse(loader.render_to_string(template, context, request), status=status)


def _back_url(request: HttpRequest) -> str:
    """The page the user came from, when it is one of ours and not this one."""
    referer = request.META.get("HTTP_REFERER", "")
    if not referer:
        return ""
    try:
        host = request.get_host()
    except DisallowedHost:
        return ""  # the refusal may be of the host itself
    same_site = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    )
    return referer if same_site and referer != request.build_absolute_uri() else ""


class RefusalLogFilter(logging.Filter):
    """On django.request: a 4xx becomes one line, `GET /approvals/ 403 user=agent reason=…`.

    Django logs a refusal raised as an exception (PermissionDenied) with its traceback, which
    says nothing about a refusal the desk meant to give; a 5xx is left as it is.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        status: int | None = getattr(record, "status_code", None)
        request: HttpRequest | None = getattr(record, "request", None)
        if status is None or status >= 500 or request is None:
            return True
        exception = record.exc_info[1] if record.exc_info else None
        reason = _reason(exception) if exception else getattr(request, "refused_because", "-")
        record.msg = "%s %s %s user=%s reason=%s"
        record.args = (
            _printable(request.method or ""),
            _printable(request.path),
            status,
            _printable(_username(request)),
            _printable(reason),
        )
        record.exc_info = None
        record.exc_text = None
        return True


def _username(request: HttpRequest) -> str:
    # Only a user the authentication middleware has already loaded (it caches it there): a log
    # line must not query the database.
    user: Any = getattr(request, "_cached_user", None)
    if user is None:
        return "-"
    return user.get_username() if user.is_authenticated else "anonymous"


def _reason(exception: BaseException) -> str:
    if isinstance(exception, Resolver404):
        return "no such address"  # its text is the list of every pattern tried
    return str(exception) or type(exception).__name__


def _printable(text: str) -> str:
    """No line breaks or control characters from a request forged into the log; letters of
    any alphabet stay as they are."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text
    )
