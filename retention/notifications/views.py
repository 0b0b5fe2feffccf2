"""The notification bell and the notifications page."""

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from retention.core.http import DeskRequest
from retention.core.roles import STAFF_ROLES, role_required
from retention.notifications import reminders

# The bell listens for this event: a page that changes what is unread tells it at once.
NOTIFICATIONS_CHANGED = "notifications-changed"


@require_GET
@never_cache
def notifications_count(request: DeskRequest) -> HttpResponse:
    """The bell's unread count, polled by every page. It reads only the caller's own rows, so
    it checks no role: session, user and one COUNT, whatever the page."""
    unread = reminders.notifications_unread_count(user=request.user)
    # Rendered without the request: the context processors would read the user's roles, a
    # query the fragment does not need.
    fragment = get_template("retention/notifications.html#count")
    return HttpResponse(fragment.render({"unread": unread}))


@require_GET
@role_required(*STAFF_ROLES)
def notifications(request: DeskRequest) -> HttpResponse:
    """My notifications, newest first."""
    return _notifications(request)


def _notifications(request: DeskRequest) -> HttpResponse:
    items = reminders.notifications_for(user=request.user)
    context = {"items": items, "any_unread": any(n.read_at is None for n in items)}
    if request.htmx:
        response = render(request, "retention/notifications.html#list", context)
        return trigger_client_event(response, NOTIFICATIONS_CHANGED)
    return render(request, "retention/notifications.html", context)


@require_POST
@role_required(*STAFF_ROLES)
def notification_read(request: DeskRequest, pk: int) -> HttpResponse:
    # The service marks only the caller's own notifications: someone else's id changes nothing.
    reminders.notifications_mark_read(user=request.user, ids=[pk])
    return _after_marking(request)


@require_POST
@role_required(*STAFF_ROLES)
def notifications_read_all(request: DeskRequest) -> HttpResponse:
    reminders.notifications_mark_read(user=request.user)
    return _after_marking(request)


def _after_marking(request: DeskRequest) -> HttpResponse:
    if request.htmx:
        return _notifications(request)
    return redirect("notifications")
