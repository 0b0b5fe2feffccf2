"""Request types for views: what the middleware has attached by the time a view runs.

Project infrastructure: every app may import it, so it names no app's user model. The desk's
views say which user they get (``DeskRequest[User]``); a lower app's views take the default.
"""

from django.contrib.auth.models import AbstractUser
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class HtmxRequest(HttpRequest):
    """A request that passed HtmxMiddleware: what an open page (health) gets."""

    htmx: HtmxDetails


class DeskRequest[UserT: AbstractUser = AbstractUser](HtmxRequest):
    """A request that passed LoginRequiredMiddleware too: a signed-in user."""

    user: UserT  # type: ignore[assignment]  # signed in: never AnonymousUser here
