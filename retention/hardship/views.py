"""The subscriber page's payment arrangements: a fragment the page loads, since subscribers'
own views may not read the desk's models."""

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from retention.core.http import DeskRequest
from retention.core.roles import STAFF_ROLES, role_required
from retention.hardship.selectors import arrangements_for_subscriber


@require_GET
@role_required(*STAFF_ROLES)
def subscriber_hardship(request: DeskRequest, subscriber_pk: int) -> HttpResponse:
    arrangements = arrangements_for_subscriber(subscriber_id=subscriber_pk)
    return render(
        request,
        "retention/subscriber_hardship.html",
        {"arrangements": arrangements, "subscriber_pk": subscriber_pk},
    )
