"""POST /api/v1/events/confirmations: billing says it applied an event, or refused it.

An operation of the ingestion API in subscribers/api.py (its token authentication, error
answers and OpenAPI document), registered there when retention/urls.py imports this module.
The work is done by ``retention.billing.confirmations.confirmations_record``.
"""

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import WithJsonSchema

from retention.billing.confirmations import (
    ConfirmationIn,
    ConfirmationResult,
    ConfirmationStatus,
    confirmations_record,
)
from subscribers.api import ErrorOut, FieldErrorOut, api, batch_answer
from subscribers.batches import within_batch_limit
from subscribers.models import ApiToken

router = Router(tags=["events"])


class ConfirmationBatchIn(Schema):
    # Validated one by one in confirmations_record, so each bad answer is reported by index.
    confirmations: Annotated[
        list[Annotated[Any, WithJsonSchema(ConfirmationIn.model_json_schema())]],
        within_batch_limit("confirmations"),
    ] = Field(min_length=1, description="1 to API_BATCH_LIMIT (default 1,000) answers.")


class ConfirmationItemOut(Schema):
    index: int = Field(description="Position of the answer in the batch, from 0.")
    external_id: str | None = Field(description="The event's id, when it was readable.")
    status: ConfirmationStatus = Field(
        description="recorded; duplicate (this answer was given before: nothing changed); "
        "rejected: invalid, unknown_event, conflict (the event was answered differently)."
    )
    errors: list[FieldErrorOut]


class ConfirmationsOut(Schema):
    recorded: int
    duplicates: int
    rejected: int = Field(description="Rejected answers; only with skip_invalid.")
    items: list[ConfirmationItemOut] = Field(description="Every answer, in the order sent.")


class ConfirmationBatchErrorOut(ErrorOut):
    errors: list[FieldErrorOut] = Field(default_factory=list)
    items: list[ConfirmationItemOut] = Field(
        default_factory=list, description="Every rejected answer."
    )


@router.post(
    "/confirmations",
    response={200: ConfirmationsOut, 400: ConfirmationBatchErrorOut, 401: ErrorOut, 413: ErrorOut},
    url_name="event_confirmations",
    summary="Confirm or refuse events the desk sent",
)
def confirmations_post(
    request: HttpRequest, payload: ConfirmationBatchIn, skip_invalid: bool = False
) -> Status[ConfirmationResult | dict[str, Any]]:
    """Answer events delivered by webhook: `applied` once billing reflects one, or `refused`
    with a `reason`. An event takes one answer; sending the same answer again is a
    `duplicate` and changes nothing, a different one is a `conflict`. If any answer is invalid,
    names an unknown event or conflicts, none is recorded and the response is a 400 listing each
    by index; with `?skip_invalid=true` the others are recorded.
    """
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    return batch_answer(
        lambda: confirmations_record(
            source=token.source, items=payload.confirmations, skip_invalid=skip_invalid
        )
    )


api.add_router("/events", router)
