from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from retention.http import DeskRequest
from retention.roles import STAFF_ROLES, role_required
from subscribers import selectors
from subscribers.forms import SearchForm, TimelineFilterForm


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
    context = {
        "subscriber": subscriber,
        "equipment": selectors.subscriber_equipment(subscriber=subscriber),
        "windows": selectors.contact_windows(subscriber=subscriber, now=timezone.now()),
        "local_now": timezone.now().astimezone(subscriber.zone),
        "tenure_months": subscriber.tenure_months(),
        "filters": filters,
        "kinds": kinds,
        "page": page,
    }
    return render(request, "subscribers/detail.html", context)


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
