"""Roles and the one permission helper that views and services use.

A role is a group created by a data migration. Superusers hold every role. The group names
are read once per request and cached on the user object, so a page costs one query for them
whatever it checks.

This module is project infrastructure like settings: every app may import it, so it must not
import any app's models.
"""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from retention.core.refusals import NotAllowed


class Role(StrEnum):
    AGENT = "Agent"
    MANAGER = "Manager"
    ADMIN = "Admin"


STAFF_ROLES = (Role.AGENT, Role.MANAGER, Role.ADMIN)
# Those who work cases: claim, contact, close. Admins run the system, not the queue.
WORKER_ROLES = (Role.AGENT, Role.MANAGER)


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    if getattr(user, "is_superuser", False):
        return frozenset(Role)
    cached: frozenset[str] | None = getattr(user, "_desk_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))  # type: ignore[attr-defined]
        user._desk_roles = cached  # type: ignore[attr-defined]
    return cached


def has_role(user: AbstractBaseUser | AnonymousUser, *roles: Role) -> bool:
    return bool(user_roles(user) & set(roles))


def require_role(user: AbstractBaseUser | AnonymousUser, *roles: Role) -> None:
    """For services: refuse (NotAllowed) unless the user holds one of the roles."""
    if not has_role(user, *roles):
        raise NotAllowed(_("This is not part of your role."))


def role_required(
    *roles: Role,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """For views: 403 unless the logged-in user holds one of the roles."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not has_role(request.user, *roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
