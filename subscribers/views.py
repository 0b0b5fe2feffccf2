from django.contrib import messages
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from retention.core.http import DeskRequest
from retention.core.refusals import WrongState
from retention.core.roles import STAFF_ROLES, role_required
from subscribers import fit_selectors, selectors, services
from subscribers.forms import EquipmentReturnedForm, SearchForm, TimelineFilterForm
from subscribers.models import Equipment


@require_GET
@role_required(*STAFF_ROLES)
def search(request: DeskRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    result = None
    if form.is_valid() and form.cleaned_data["q"]:
        result = selectors.subscriber_search(query=form.cleaned_data["q"])
    template = "subscribers/search.html#results" if request.htmx else "subscribers/search.html"
    return render(request, template, {"form": form, "result": result})


@require_GET
@role_required(*STAFF_ROLES)
def detail(request: DeskRequest, pk: int) -> HttpResponse:
    subscriber = selectors.subscriber_get(pk=pk)
    filters = TimelineFilterForm(request.GET)
    kinds = filters.cleaned_data["kind"] if filters.is_valid() else []
    page = selectors.timeline_page(subscriber=subscriber, kinds=kinds)
    now = timezone.now()
    context = {
        **selectors.subscriber_summary(subscriber=subscriber, now=now),
        "usage": fit_selectors.fit_explained(subscriber=subscriber, today=timezone.localdate(now)),
        "filters": filters,
        "kinds": kinds,
        "page": page,
    }
    return render(request, "subscribers/detail.html", context)


@require_POST
@role_required(*STAFF_ROLES)
def equipment_returned(request: DeskRequest, pk: int) -> HttpResponse:
    """One click: the item is back. Billing never waited for it."""
    item = get_object_or_404(Equipment, pk=pk)
    form = EquipmentReturnedForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(form.errors.as_text())
    try:
        services.equipment_mark_returned(
            equipment=item, actor=request.user, method=form.cleaned_data["method"]
        )
    except WrongState as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(item)s marked as returned.") % {"item": item})
    return redirect("subscribers:detail", pk=item.subscriber_id)


@require_GET
@role_required(*STAFF_ROLES)
def timeline(request: DeskRequest, pk: int) -> HttpResponse:
    """The timeline fragment: the first page for a new filter, or the page after a cursor."""
    filters = TimelineFilterForm(request.GET)
    if not filters.is_valid():
        return HttpResponseBadRequest(filters.errors.as_text())
    subscriber = selectors.subscriber_get(pk=pk)
    page = selectors.timeline_page(
        subscriber=subscriber,
        kinds=filters.cleaned_data["kind"],
        after=filters.cleaned_data["after"] or None,
    )
    partial = "events" if filters.cleaned_data["after"] else "timeline"
    context = {"subscriber": subscriber, "page": page, "kinds": filters.cleaned_data["kind"]}
    return render(request, f"subscribers/detail.html#{partial}", context)
