"""Writing the demo history's closed cases: each case, then what hangs on its key (the accepted
offer, the contacts, the history rows and the request on the subscriber's timeline)."""

from datetime import datetime
from typing import Any

from django.db import transaction

from offers.models import CounterOffer
from retention.demo.bulk import insert_rows
from retention.demo.clock import at
from retention.demo.history_rules import HISTORY_SOURCE, ClosedCase
from retention.demo.history_state import HistoryState
from retention.demo.phrases import refusal
from retention.models import CancellationCase, CaseHistory, ContactAttempt
from subscribers.models import TimelineEvent

# at, actor, action, from, to, note somebody wrote, what the desk says (a phrase) or None
_Row = tuple[datetime, int | None, str, str, str, str, dict[str, Any] | None]


def write(h: HistoryState) -> None:
    """The closed cases drawn since the last write, and all that goes with them."""
    stories, h.stories = h.stories, []
    if not stories:
        return
    offers, contacts, history, events = [], [], [], []
    with transaction.atomic():
        if "id" in stories[0].case:  # keys drawn as the cases were (an experiment runs)
            insert_rows(CancellationCase, [s.case for s in stories])
            keys = [s.case["id"] for s in stories]
        else:
            keys = insert_rows(CancellationCase, [s.case for s in stories], keys=True)
        for pk, story in zip(keys, stories, strict=True):
            history += _history_rows(pk, story)
            contacts += _contact_rows(pk, story)
            if story.offer is not None:
                offers.append({**story.offer, "case_id": pk})
            if h.timeline:
                events.append(_request_event(pk, story.case))
        insert_rows(CounterOffer, offers)
        insert_rows(ContactAttempt, contacts)
        insert_rows(CaseHistory, history)
        insert_rows(TimelineEvent, events)
    h.created += len(stories)


def _history_rows(pk: int, story: ClosedCase) -> list[dict[str, Any]]:
    """Opened, the refused contacts, and the close."""
    Action, case = CaseHistory.Action, story.case
    owner = case["owner_id"]
    rows: list[_Row] = [(case["opened_at"], None, Action.OPENED, "", "new", "", None)]
    rows += [
        (
            at(when),
            owner,
            Action.CONTACT_REFUSED,
            "in_progress",
            "in_progress",
            "",
            refusal(when, *why),
        )
        for when, why in story.refusals
    ]
    closed, action, before, note, said = story.closing
    closer = None if case["auto_processed"] else owner
    rows.append((at(closed), closer, action, before, case["status"], note, said))
    return [
        {
            "case_id": pk,
            "at": when,
            "actor_id": actor,
            "action": what,
            "from_status": was,
            "to_status": became,
            "note": text,
            "code": phrase["code"] if phrase else "",
            "params": phrase["params"] if phrase else {},
        }
        for when, actor, what, was, became, text, phrase in rows
    ]


def _contact_rows(pk: int, story: ClosedCase) -> list[dict[str, Any]]:
    case = story.case
    return [
        {
            "case_id": pk,
            "subscriber_id": case["subscriber_id"],
            "channel": channel,
            "direction": ContactAttempt.Direction.OUTBOUND,
            "outcome": outcome,
            "at": at(when),
            "actor_id": case["owner_id"],
        }
        for when, channel, outcome in story.contacts
    ]


def _request_event(pk: int, case: dict[str, Any]) -> dict[str, Any]:
    """The request on the subscriber's timeline."""
    port_out = case["channel"] == CancellationCase.Channel.PORT_OUT
    kind = TimelineEvent.Kind.PORT_OUT if port_out else "cancellation_request"
    return {
        "subscriber_id": case["subscriber_id"],
        "kind": kind,
        "occurred_at": case["opened_at"],
        "source": HISTORY_SOURCE,
        "code": "case.requested",
        "params": {"channel": case["channel"]},
        "data": {"case": pk, "channel": case["channel"]},
    }
