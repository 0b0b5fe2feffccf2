"""The notification bell and the notifications page."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event
from django_tables2 import LazyPaginator, RequestConfig

from retention.core.http import DeskRequest
from retention.core.roles import STAFF_ROLES, role_required
from retention.models import User
from retention.notifications.selectors import notifications_for, notifications_unread_count
from retention.notifications.services import notifications_mark_read
from retention.notifications.tables import NotificationsTable

PER_PAGE = 50
# The bell listens for this event: a page that changes what is unread tells it at once.
NOTIFICATIONS_CHANGED = "notifications-changed"


@require_GET
@never_cache
def notifications_count(request: DeskRequest[User]) -> HttpResponse:
    """The bell's unread count, polled by every page. It reads only the caller's own rows, so
    it checks no role: session, user and one COUNT, whatever the page."""
    unread = notifications_unread_count(user=request.user)
    # Rendered without the request: the context processors would read the user's roles, a
    # query the fragment does not need.
    fragment = get_template("retention/notifications.html#count")
    return HttpResponse(fragment.render({"unread": unread}))


@require_GET
@role_required(*STAFF_ROLES)
def notifications(request: DeskRequest[User]) -> HttpResponse:
    """My notifications, newest first."""
    return _notifications(request)


def _notifications(request: DeskRequest[User]) -> HttpResponse:
    table = NotificationsTable(notifications_for(user=request.user), request=request)
    # A page at a time, read without counting them all: 50 and one more to know of another.
    paginate = {"paginator_class": LazyPaginator, "per_page": PER_PAGE}
    RequestConfig(request, paginate=paginate).configure(table)
    items = [row.record for row in table.page.object_list]  # this page's notifications
    context = {
        "items": items,
        "table": table,
        "any_unread": any(n.read_at is None for n in items),
    }
    if request.htmx:
        response = render(request, "retention/notifications.html#list", context)
        return trigger_client_event(response, NOTIFICATIONS_CHANGED)
    return render(request, "retention/notifications.html", context)


@require_POST
@role_required(*STAFF_ROLES)
def notification_read(request: DeskRequest[User], pk: int) -> HttpResponse:
    # The service marks only the caller's own notifications: someone else's id changes nothing.
    notifications_mark_read(user=request.user, ids=[pk])
    return _after_marking(request)


@require_POST
@role_required(*STAFF_ROLES)
def notifications_read_all(request: DeskRequest[User]) -> HttpResponse:
    notifications_mark_read(user=request.user)
    return _after_marking(request)


def _after_marking(request: DeskRequest[User]) -> HttpResponse:
    if request.htmx:
        return _notifications(request)
    return redirect("notifications")
