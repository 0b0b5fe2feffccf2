from typing import Any

from django.http import HttpRequest

from retention.core.roles import WORKER_ROLES, Role, user_roles


def desk(request: HttpRequest) -> dict[str, Any]:
    roles = user_roles(request.user) if hasattr(request, "user") else frozenset()
    return {
        "desk_roles": roles,
        "is_manager": Role.MANAGER in roles,
        "is_worker": bool(roles & set(WORKER_ROLES)),
        "is_admin_role": Role.ADMIN in roles,
    }
