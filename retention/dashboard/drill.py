"""The cases behind a figure: what a click on a number asks for, a page of them at a time
(keyset pages, newest first), and the cursor that leads to the next page."""

from datetime import date

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from retention.dashboard.filters import Filters
from retention.dashboard.queries import outcomes
from retention.models import CancellationCase, CaseOutcome
from subscribers.keyset import cursor_decode, cursor_encode

# What a click on a figure asks for: the outcomes behind it.
WHAT = {
    "closed": (_("Closed cases"), Q()),
    "saved": (_("Saved"), Q(status=CancellationCase.Status.SAVED)),
    "cancelled": (_("Cancelled"), Q(status=CancellationCase.Status.CANCELLED)),
    "withdrawn": (_("Withdrawn"), Q(status=CancellationCase.Status.WITHDRAWN)),
    "auto": (_("Processed at the deadline"), Q(auto_processed=True)),
    "sla_missed": (_("First contact late or never"), Q(sla_met=False)),
    "never_contacted": (_("Never contacted"), Q(first_contact_seconds__isnull=True)),
    "refused": (_("With contacts refused by the policy"), Q(refused_contacts__gt=0)),
    "port_out_recontacted": (
        _("Port-outs contacted more than once"),
        Q(channel=CancellationCase.Channel.PORT_OUT, outbound_contacts__gt=1),
    ),
    "rechurned_90": (_("Saved, then cancelled within 90 days"), Q(rechurned_90=True)),
    "rechurned_after_discount": (
        _("Saved, then cancelled within 60 days after the discount"),
        Q(rechurned_after_discount=True),
    ),
}
PAGE_SIZE = 50

# Where a page starts: after the case closed on that day with that id.
Key = tuple[date, int]


def drill_outcomes(filters: Filters, what: str) -> QuerySet[CaseOutcome]:
    return (
        outcomes(filters)
        .filter(WHAT[what][1])
        .select_related("case__subscriber", "agent", "reason", "team")
        .order_by("-closed_on", "-case_id")
    )


def drill_page(
    filters: Filters, what: str, after: Key | None
) -> tuple[list[CaseOutcome], Key | None]:
    """A page of the outcomes behind a figure, newest first, and the key of the next page."""
    qs = drill_outcomes(filters, what)
    if after is not None:
        day, case_id = after
        qs = qs.filter(Q(closed_on__lt=day) | Q(closed_on=day, case_id__lt=case_id))
    page = list(qs[: PAGE_SIZE + 1])
    more = len(page) > PAGE_SIZE
    page = page[:PAGE_SIZE]
    return page, ((page[-1].closed_on, page[-1].case_id) if more else None)


def drill_cursor(key: Key) -> str:
    day, case_id = key
    return cursor_encode(day.toordinal(), case_id)


def drill_after(token: str) -> Key:
    """The key a cursor of ``drill_cursor`` holds; a forged one is a 404."""
    day, case_id = cursor_decode(token, int, int)
    try:
        return date.fromordinal(day), case_id
    except ValueError as exc:
        raise Http404("bad cursor") from exc
