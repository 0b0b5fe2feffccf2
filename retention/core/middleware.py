import zoneinfo
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from offers.exceptions import OutsideAuthority
from retention.core.refusals import NotAllowed


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
    """A service's "not yours" that a view let through is a 403, not a server error.

    Views catch the refusals they expect and answer with their own fragment (see
    retention.core.refusals); one that escapes becomes PermissionDenied with the service's
    message, so it gets the 403 page and one log line like any other refusal.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        if isinstance(exception, (NotAllowed, OutsideAuthority)):
            raise PermissionDenied(str(exception)) from exception
