"""POST /api/v1/cancellations: billing asks to cancel, or forwards a competitor's port-out notice.

An operation of the ingestion API in subscribers/api.py, so it shares its token authentication,
its error responses and its OpenAPI schema: importing this module registers it there, and
retention/urls.py imports it before it asks that API for its URLs. The work is done by
``retention.cases.intake.cancellations_ingest``.
"""

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import WithJsonSchema

from retention.cases.intake import (
    CaseIn,
    CaseItemStatus,
    IntakeResult,
    cancellations_ingest,
)
from subscribers.api import ErrorOut, FieldErrorOut, api, batch_answer
from subscribers.batches import within_batch_limit
from subscribers.models import ApiToken

router = Router(tags=["cancellations"])


# --- Schemas ----------------------------------------------------------------------------------


class CaseBatchIn(Schema):
    # Validated one by one against CaseIn in cancellations_ingest, as events are (see
    # EventBatchIn): each bad request is reported by its index, and can be skipped.
    cancellations: Annotated[
        list[Annotated[Any, WithJsonSchema(CaseIn.model_json_schema())]],
        within_batch_limit("cancellation requests"),
    ] = Field(
        min_length=1, description="1 to API_BATCH_LIMIT (default 1,000) cancellation requests."
    )


class CaseItemOut(Schema):
    index: int = Field(description="Position of the request in the batch, from 0.")
    external_id: str | None
    status: CaseItemStatus = Field(
        description="created, duplicate (id seen before), merged (a port-out bound to the "
        "open case), already_open (the open case holds the request); rejected: invalid, "
        "unknown_subscriber, subscriber_cancelled."
    )
    case: int | None = Field(
        description="Id of the case that holds the request; null when it was rejected."
    )
    errors: list[FieldErrorOut]


class CaseIntakeOut(Schema):
    created: int
    duplicates: int
    rejected: int = Field(description="Rejected requests; only with skip_invalid.")
    items: list[CaseItemOut] = Field(description="Every request of the batch, in the order sent.")


class CaseBatchErrorOut(ErrorOut):
    errors: list[FieldErrorOut] = Field(
        default_factory=list, description="Problems with the request as a whole."
    )
    items: list[CaseItemOut] = Field(
        default_factory=list, description="Every rejected cancellation request."
    )


# --- Operations -------------------------------------------------------------------------------


@router.post(
    "",
    response={200: CaseIntakeOut, 400: CaseBatchErrorOut, 401: ErrorOut, 413: ErrorOut},
    url_name="cancellations",
    summary="Ask to cancel subscriptions",
)
def cancellations_post(
    request: HttpRequest, payload: CaseBatchIn, skip_invalid: bool = False
) -> Status[IntakeResult | dict[str, Any]]:
    """Open a cancellation case per request, once per `external_id` and token source.

    Each case gets its deadlines at once, counted from `requested_at`. If any request is
    invalid, names an unknown account number or a subscriber who has already left, no case is
    opened and the response is a 400 listing each such request by index. With
    `?skip_invalid=true` the other requests are opened and the rejected ones reported with a
    200. A request already received is a `duplicate`; a port-out notice for a subscriber with
    an open case is `merged` into it; another request for such a subscriber is `already_open`.
    """
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    return batch_answer(
        lambda: cancellations_ingest(
            source=token.source, items=payload.cancellations, skip_invalid=skip_invalid
        )
    )


api.add_router("/cancellations", router)
