"""The ingestion API for billing and network systems (token-authenticated, idempotent).

    POST /api/v1/events         push 1..API_BATCH_LIMIT timeline events (subscribers/ingestion.py)
    POST /api/v1/usage          push 1..API_BATCH_LIMIT usage months (subscribers/usage_ingest.py)
    POST /api/v1/subscribers    push 1..API_BATCH_LIMIT subscribers, upserted by account number
                                (subscribers/subscriber_ingest.py; the import file's columns)
    GET  /api/v1/openapi.json   the schema; open to anyone

Calls authenticate with ``Authorization: Bearer <token>`` (tokens are made in the admin), not a
session cookie, so there is no CSRF check and no login redirect: see ``api_urls``. Every error
response has a ``detail``; a 400 also lists what was wrong (``errors`` for the request as a
whole, ``items`` for each rejected item) and means nothing was stored. (POST /api/v1/cancellations
is registered by retention/cases/api.py.)
"""

from collections.abc import Callable
from typing import Annotated, Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import HttpBearer
from pydantic import WithJsonSchema

from subscribers.batches import BatchRejected, BatchResult, within_batch_limit
from subscribers.ingestion import (
    EventIn,
    IngestResult,
    ItemStatus,
    api_token_authenticate,
    events_ingest,
)
from subscribers.models import ApiToken
from subscribers.outbound import openapi_webhooks
from subscribers.subscriber_ingest import (
    SubscriberIn,
    SubscriberIngestResult,
    SubscriberStatus,
    subscribers_ingest,
)
from subscribers.usage_ingest import UsageIn, UsageIngestResult, UsageStatus, usage_ingest


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        return api_token_authenticate(raw=token)


class DeskAPI(NinjaAPI):
    """The API, whose document also lists the events the desk sends (OpenAPI webhooks)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        schema["webhooks"] = openapi_webhooks(components)
        return schema


api = DeskAPI(
    title="Retention Desk ingestion API",
    version="1.0.0",
    urls_namespace="api-1.0.0",
    docs_url=None,  # the OpenAPI schema is served at /api/v1/openapi.json
    auth=BearerToken(),  # every operation, unless it says otherwise
)


def api_urls() -> tuple[list[URLPattern | URLResolver], str, str]:
    """``api.urls`` for retention/urls.py, with every view open to LoginRequiredMiddleware.

    The operations authenticate each call with a token instead of a session, and the OpenAPI
    schema is public; a login redirect would only get in the way of the systems calling us.
    """
    patterns, app_name, namespace = api.urls
    _mark_login_not_required(patterns)
    return patterns, app_name, namespace


def _mark_login_not_required(patterns: list[URLPattern | URLResolver]) -> None:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _mark_login_not_required(pattern.url_patterns)
        else:
            login_not_required(pattern.callback)


# --- Schemas ----------------------------------------------------------------------------------


class EventBatchIn(Schema):
    # The events are validated one by one against EventIn in events_ingest, not here: so that
    # each bad event is reported by its index (and can be skipped with ?skip_invalid=true)
    # instead of failing the whole request. The OpenAPI schema still documents EventIn.
    events: Annotated[
        list[Annotated[Any, WithJsonSchema(EventIn.model_json_schema())]],
        within_batch_limit("events"),
    ] = Field(min_length=1, description="1 to API_BATCH_LIMIT (default 1,000) events.")


class FieldErrorOut(Schema):
    field: str | None = Field(
        description="Dotted path of the field; null when the event as a whole is wrong."
    )
    message: str


class ItemOut(Schema):
    index: int = Field(description="Position of the event in the batch, from 0.")
    external_id: str | None
    status: ItemStatus
    errors: list[FieldErrorOut]
    conflicts: list[str] = Field(
        default_factory=list,
        description="Subscriber fields this event would have set but that a desk decision "
        "holds until billing confirms it: the event is stored, the field kept.",
    )


class IngestOut(Schema):
    created: int
    duplicates: int
    rejected: int = Field(description="Invalid or unknown subscriber; only with skip_invalid.")
    items: list[ItemOut] = Field(description="Every event of the batch, in the order sent.")


class ErrorOut(Schema):
    detail: str


class BatchErrorOut(ErrorOut):
    errors: list[FieldErrorOut] = Field(
        default_factory=list, description="Problems with the request as a whole."
    )
    items: list[ItemOut] = Field(default_factory=list, description="Every rejected event.")


class UsageBatchIn(Schema):
    # Validated one by one against UsageIn in usage_ingest, as events are (see EventBatchIn).
    usage: Annotated[
        list[Annotated[Any, WithJsonSchema(UsageIn.model_json_schema())]],
        within_batch_limit("usage months"),
    ] = Field(min_length=1, description="1 to API_BATCH_LIMIT (default 1,000) usage months.")


class UsageItemOut(Schema):
    index: int = Field(description="Position of the month in the batch, from 0.")
    account_number: str | None = Field(description="As sent; null when not usable.")
    period: str | None = Field(description="As sent (YYYY-MM); null when not usable.")
    status: UsageStatus = Field(
        description="created, updated (other figures replaced the stored ones), unchanged (the "
        "same figures as stored); rejected: invalid, unknown_subscriber."
    )
    errors: list[FieldErrorOut]


class UsageIngestOut(Schema):
    created: int
    updated: int
    unchanged: int
    rejected: int = Field(description="Invalid or unknown subscriber; only with skip_invalid.")
    items: list[UsageItemOut] = Field(description="Every month of the batch, in the order sent.")


class UsageBatchErrorOut(ErrorOut):
    errors: list[FieldErrorOut] = Field(
        default_factory=list, description="Problems with the request as a whole."
    )
    items: list[UsageItemOut] = Field(default_factory=list, description="Every rejected month.")


class SubscriberBatchIn(Schema):
    # Validated one by one against SubscriberIn in subscribers_ingest, as events are.
    subscribers: Annotated[
        list[Annotated[Any, WithJsonSchema(SubscriberIn.model_json_schema())]],
        within_batch_limit("subscribers"),
    ] = Field(min_length=1, description="1 to API_BATCH_LIMIT (default 1,000) subscribers.")


class SubscriberItemOut(Schema):
    index: int = Field(description="Position of the subscriber in the batch, from 0.")
    account_number: str | None = Field(description="As sent; null when not usable.")
    status: SubscriberStatus = Field(
        description="created, updated (a value sent differs from the stored one), unchanged "
        "(every value sent is the stored one, nothing written); rejected: invalid."
    )
    errors: list[FieldErrorOut]
    conflicts: list[str] = Field(
        default_factory=list,
        description="Fields sent with another value than the stored one that a desk decision "
        "holds until billing confirms it: the stored value is kept, the conflict recorded.",
    )


class SubscriberIngestOut(Schema):
    created: int
    updated: int
    unchanged: int
    rejected: int = Field(description="Invalid; only with skip_invalid.")
    items: list[SubscriberItemOut] = Field(
        description="Every subscriber of the batch, in the order sent."
    )


class SubscriberBatchErrorOut(ErrorOut):
    errors: list[FieldErrorOut] = Field(
        default_factory=list, description="Problems with the request as a whole."
    )
    items: list[SubscriberItemOut] = Field(
        default_factory=list, description="Every rejected subscriber."
    )


# --- Errors -----------------------------------------------------------------------------------


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = "Missing, unknown or inactive API token: send 'Authorization: Bearer <token>'."
    response = api.create_response(request, {"detail": detail}, status=401)
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    # Django's own answer would be an HTML page; the sender needs to know to split the batch.
    detail = (
        f"The request body is over {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes, so nothing "
        "was stored: send fewer events per batch."
    )
    return api.create_response(request, {"detail": detail}, status=413)


@api.exception_handler(ValidationError)
def _invalid_request(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    """Ninja's 422 for a malformed request, as our 400 with the same shape as rejected events."""
    errors = [{"field": _field_path(error["loc"]), "message": error["msg"]} for error in exc.errors]
    body = {
        "detail": "The request is invalid, so nothing was stored.",
        "errors": errors,
        "items": [],
    }
    return api.create_response(request, body, status=400)


def _field_path(loc: list[str | int] | tuple[str | int, ...]) -> str | None:
    # ("body", "payload", "events") -> "events"; ("query", "skip_invalid") -> "skip_invalid"
    parts = [str(part) for part in loc if part not in ("body", "query", "payload")]
    return ".".join(parts) or None


def batch_answer[R: BatchResult[Any]](ingest: Callable[[], R]) -> Status[R | dict[str, Any]]:
    """The answer to a batch (subscribers/batches.py): 200 with what happened to every item, or
    400 listing the rejected items when they rejected the batch, so that nothing was changed."""
    try:
        result = ingest()
    except BatchRejected as exc:
        return Status(400, {"detail": str(exc), "errors": [], "items": exc.items})
    return Status(200, result)


# --- Operations -------------------------------------------------------------------------------


@api.post(
    "/events",
    response={200: IngestOut, 400: BatchErrorOut, 401: ErrorOut, 413: ErrorOut},
    url_name="events",
    summary="Push timeline events",
)
def events_post(
    request: HttpRequest, payload: EventBatchIn, skip_invalid: bool = False
) -> Status[IngestResult | dict[str, Any]]:
    """Store events on subscribers' timelines, once per `external_id` and token source.

    If any event is invalid or names an unknown account number, nothing is stored and the
    response is a 400 listing each such event by index. With `?skip_invalid=true` the other
    events are stored and the rejected ones reported with a 200. Events already stored, or
    repeated in the batch, are reported as `duplicate` and left unchanged.
    """
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    return batch_answer(
        lambda: events_ingest(source=token.source, items=payload.events, skip_invalid=skip_invalid)
    )


@api.post(
    "/usage",
    response={200: UsageIngestOut, 400: UsageBatchErrorOut, 401: ErrorOut, 413: ErrorOut},
    url_name="usage",
    summary="Push usage months",
)
def usage_post(
    request: HttpRequest, payload: UsageBatchIn, skip_invalid: bool = False
) -> Status[UsageIngestResult | dict[str, Any]]:
    """Store subscribers' usage, one row per account number and month (`period`, YYYY-MM).

    A month sent again replaces the stored figures (`updated`), or changes nothing when they
    are the same (`unchanged`). If any month is invalid or names an unknown account number,
    nothing is stored and the response is a 400 listing each such month by index. With
    `?skip_invalid=true` the other months are stored and the rejected ones reported with a 200.
    The tariff fit of every subscriber whose usage changed is recomputed at once.
    """
    return batch_answer(lambda: usage_ingest(items=payload.usage, skip_invalid=skip_invalid))


@api.post(
    "/subscribers",
    response={
        200: SubscriberIngestOut,
        400: SubscriberBatchErrorOut,
        401: ErrorOut,
        413: ErrorOut,
    },
    url_name="subscribers",
    summary="Push subscribers",
)
def subscribers_post(
    request: HttpRequest, payload: SubscriberBatchIn, skip_invalid: bool = False
) -> Status[SubscriberIngestResult | dict[str, Any]]:
    """Create or update subscribers, matched on `account_number`: each item is a row of the
    subscriber import file as JSON, with the same columns, rules and messages.

    The columns `account_number`, `name`, `plan_code`, `monthly_price`, `signup_date` and
    `region` are required; the others may be left out (the default for a new subscriber, the
    stored value for a known one) and null is an empty cell. A known subscriber whose values
    sent are all stored already is `unchanged`, so sending a batch again is safe. A field that
    a desk decision holds until billing confirms it keeps the desk's value; the item lists it
    in `conflicts`. If any item is invalid, nothing is stored and the response is a 400
    listing each such item by index; with `?skip_invalid=true` the others are stored and the
    invalid ones reported with a 200. New subscribers get their churn risk scored shortly after.
    """
    token: ApiToken = request.auth  # type: ignore[attr-defined]
    return batch_answer(
        lambda: subscribers_ingest(
            source=token.source, items=payload.subscribers, skip_invalid=skip_invalid
        )
    )
