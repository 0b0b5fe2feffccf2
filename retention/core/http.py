"""Request types for views: what the middleware has attached by the time a view runs.

Project infrastructure like retention.roles: every app may import it.
"""

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

if TYPE_CHECKING:
    from retention.models import User


class DeskRequest(HttpRequest):
    """A request that passed LoginRequiredMiddleware and HtmxMiddleware."""

    user: "User"
    htmx: HtmxDetails
