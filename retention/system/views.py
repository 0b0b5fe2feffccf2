"""The desk's own pages: the start page, the health page, a user's preferences."""

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from retention.core.http import DeskRequest, HtmxRequest
from retention.core.roles import STAFF_ROLES, Role, has_role, role_required
from retention.models import User
from retention.system import services
from retention.system.forms import PreferencesForm
from retention.system.selectors import health_get


@require_GET
@role_required(*STAFF_ROLES)
def home(request: DeskRequest[User]) -> HttpResponse:
    if has_role(request.user, Role.AGENT, Role.MANAGER):
        return redirect("queue")
    return redirect("subscribers:search")


@require_GET
@never_cache
def health(request: HtmxRequest) -> HttpResponse:
    """Open to load balancers and to people: database reachable, worker and beat alive."""
    health = health_get()
    status = 200 if health.ok else 503
    if request.GET.get("format") == "json":
        return JsonResponse(
            {
                "ok": health.ok,
                "database": health.database_ok,
                "worker": health.worker_ok,
                "last_beat_at": health.last_beat_at.isoformat() if health.last_beat_at else None,
                "beats": health.beats,
            },
            status=status,
        )
    template = "retention/health.html#facts" if request.htmx else "retention/health.html"
    return render(request, template, {"health": health}, status=status)


@require_http_methods(["GET", "POST"])
def preferences(request: DeskRequest[User]) -> HttpResponse:
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_preferences(
            user=request.user,
            actor=request.user,
            time_zone=form.cleaned_data["time_zone"],
            email_notifications=form.cleaned_data["email_notifications"],
            language=form.cleaned_data["language"],
        )
        messages.success(request, _("Your preferences are saved."))
        response = redirect("preferences")
        if form.cleaned_data["language"]:
            # The pages follow the language chosen for the e-mails, as the switcher sets it.
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, form.cleaned_data["language"])
        return response
    return render(request, "retention/preferences.html", {"form": form})
