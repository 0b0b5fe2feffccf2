import zoneinfo
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from retention.core.error_pages import refused
from retention.core.refusals import NotAllowed, Refusal


class UserTimezoneMiddleware:
    """Show times in the logged-in user's own time zone (default Europe/Riga)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        name = getattr(request.user, "time_zone", "")
        if name:
            try:
                timezone.activate(zoneinfo.ZoneInfo(name))
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        return self.get_response(request)


class RefusalMiddleware:
    """A service's refusal that a view let through is an answer, not a server error.

    Views catch the refusals they expect and answer with their own fragment (see
    retention.core.refusals). One that escapes gets the refusal page of its status with the
    service's message, and one log line like any other refusal: "not yours" becomes
    PermissionDenied (the 403 page), "not now" the 409 page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotAllowed):
            raise PermissionDenied(str(exception)) from exception
        if isinstance(exception, Refusal):
            return refused(request, exception)
        return None
