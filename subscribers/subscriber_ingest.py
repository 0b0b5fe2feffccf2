"""Subscribers pushed by billing (``POST /api/v1/subscribers``): the API's way in beside the CSV
import (subscribers/importing.py), with the import's columns and cell parsers.

An item is a row of the import file as a JSON object: its keys are the import's column names
(subscribers/importing_columns.py), the required columns are required in every item, and each
value is read by its column's parser, so that the two ways in accept and refuse the same values
with the same messages. JSON adds types: a text or a date is a string, an amount a string or a
number, a flag a boolean (or one of the import's words); null is an empty cell.

Semantics of a batch (``subscribers_ingest``), beyond the rules every batch follows
(subscribers/batches.py: each item validated on its own, NUL checks, all or nothing unless
``skip_invalid``):

- Upsert by account number, as the import: a new account is ``created`` (the columns an item
  leaves out get the model defaults), a known one ``updated`` with the columns the item carries
  (the others keep their value), or ``unchanged`` when they hold what is stored already (nothing
  is written). An account number twice in one batch is ``invalid`` from its second item on (the
  batch contradicts itself about that subscriber), even when the first item is invalid itself.
- A field the desk holds for billing (``FieldHold``) keeps the desk's value: a different value
  sent for it is a ``FieldConflict``, listed on the item, as the import lists it.
- The cost does not grow in queries with the batch: one for the plans, one for the subscribers
  stored (locked), one for their holds, one upsert, one insert of the conflicts.
- When subscribers were created, the churn-risk scorer is asked for after commit (scored on
  arrival, subscribers/importing_load.py).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from django.db import models, transaction
from django.utils import timezone
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationInfo,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from subscribers.batches import (
    BatchRejected,
    BatchResult,
    ItemResult,
    all_or_nothing,
    items_validate,
)
from subscribers.importing_columns import COLUMNS, Column, plan_parser
from subscribers.importing_load import HELD, arrivals_score_after_commit, subscriber_field
from subscribers.models import FieldConflict, FieldHold, Plan, Subscriber
from subscribers.text import NUL_MESSAGE, FieldError, has_nul

# Rows per upsert statement: keeps it well under PostgreSQL's 65,535 parameters (about 30 a
# subscriber) even if API_BATCH_LIMIT is raised. The default batch (1,000) is one statement.
UPSERT_CHUNK = 1000
ACCOUNT_MAX_LENGTH = 32  # Subscriber.account_number
PLAN_CODE_MAX_LENGTH = Plan._meta.get_field("code").max_length

# --- The schema of one subscriber: the import's columns ----------------------------------------


def _cell(value: Any, model_field: models.Field) -> str:
    """A JSON value as the cell of a CSV row: what the column's parser reads."""
    if value is None:
        return ""  # an empty cell: the parser says whether the column may be empty
    if isinstance(value, str):
        return value
    if isinstance(model_field, models.BooleanField):
        if isinstance(value, bool):
            return "true" if value else "false"
        raise PydanticCustomError("bool_type", "Input should be a boolean")
    if isinstance(model_field, models.DecimalField):
        # true is an int to Python; a sender that sends a boolean for an amount has a bug.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)  # the shortest text of a float: 29.99, not 29.989999...
        raise PydanticCustomError("number_type", "Input should be a number or a string")
    raise PydanticCustomError("string_type", "Input should be a string")


def _validator(column: Column, model_field: models.Field) -> PlainValidator:
    def validate(value: Any, info: ValidationInfo) -> Any:
        # A column may have a parser for this batch in the context (plan_code: the plans read).
        parse = (info.context or {}).get(column.name, column.parse)
        cell = _cell(value, model_field)
        if has_nul(cell):
            # In the batch's words (subscribers/batches.py found it first), not the parser's:
            # the item then lists it once.
            raise PydanticCustomError("nul", NUL_MESSAGE)
        try:
            return parse(cell)
        except ValueError as exc:
            # The import's own message, which completes the column's name ("is required").
            raise PydanticCustomError("cell", "{message}", {"message": str(exc)}) from None

    return PlainValidator(validate)


def _json_schema(column: Column, model_field: models.Field) -> dict[str, Any]:
    """The column as the OpenAPI document shows it (the parser is what enforces it)."""
    schema: dict[str, Any]
    if isinstance(model_field, models.BooleanField):
        schema = {"type": "boolean"}
    elif isinstance(model_field, models.DecimalField):
        schema = {"type": ["number", "string"], "examples": ["29.99"]}
    elif isinstance(model_field, models.DateField):
        schema = {"type": "string", "format": "date"}
    elif isinstance(model_field, models.ForeignKey):  # the plan, by its code
        schema = {"type": "string", "maxLength": PLAN_CODE_MAX_LENGTH}
    elif model_field.choices:
        schema = {"type": "string", "enum": [value for value, _ in model_field.flatchoices]}
    else:
        schema = {"type": "string", "maxLength": model_field.max_length}
        if isinstance(model_field, models.EmailField):
            schema["format"] = "email"
    if column.required and "maxLength" in schema:
        schema["minLength"] = 1
    if not column.required:
        schema = {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "description": column.help}


def _subscriber_schema() -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for column in COLUMNS:
        model_field = subscriber_field(column.field)
        annotation = Annotated[
            Any,
            _validator(column, model_field),
            WithJsonSchema(_json_schema(column, model_field)),
        ]
        # Optional columns left out are not set (model_fields_set): the default is never read.
        fields[column.name] = (annotation, Field() if column.required else Field(default=None))
    return create_model(
        "SubscriberIn",
        # A misspelt column ("phnoe") is an error, not data silently dropped.
        __config__=ConfigDict(extra="forbid"),
        __doc__="One subscriber as billing sends it: a row of the import file, as JSON.",
        **fields,
    )


SubscriberIn = _subscriber_schema()
# Each column's Subscriber field, and the attribute its value is set on (plan_id for plan).
_FIELDS = {column.name: subscriber_field(column.field) for column in COLUMNS}


# --- Results -----------------------------------------------------------------------------------


class SubscriberStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    INVALID = "invalid"


@dataclass(frozen=True)
class SubscriberResult(ItemResult[SubscriberStatus]):
    """A subscriber is known by its account number (null when the item has no usable one)."""

    REJECTED: ClassVar[frozenset[str]] = frozenset({SubscriberStatus.INVALID})

    account_number: str | None = None
    # Columns the item would have changed but the desk holds for billing: their value is kept.
    conflicts: tuple[str, ...] = ()


class SubscriberIngestResult(BatchResult[SubscriberResult]):
    """What happened to every subscriber of a batch, in the order they were sent."""

    @property
    def updated(self) -> int:
        return self._count(SubscriberStatus.UPDATED)

    @property
    def unchanged(self) -> int:
        return self._count(SubscriberStatus.UNCHANGED)


class SubscriberBatchRejected(BatchRejected[SubscriberResult]):
    """Some subscribers are invalid, so nothing was stored."""

    noun = "subscribers"
    undone = "nothing was stored"
    verb = "store"


def _raw_account(raw: Any) -> str | None:
    """The account number of an invalid item, to help the sender find it, when usable."""
    value = raw.get("account_number") if isinstance(raw, dict) else None
    if not isinstance(value, str) or has_nul(value):
        return None
    value = value.strip()
    return value if 0 < len(value) <= ACCOUNT_MAX_LENGTH else None


# --- The service -------------------------------------------------------------------------------


@dataclass
class _Sent:
    """A valid item: its index, and the values of the columns it carries, by column name."""

    index: int
    values: dict[str, Any]


def subscribers_ingest(
    *, source: str, items: Sequence[Any], skip_invalid: bool
) -> SubscriberIngestResult:
    """Create or update a batch of subscribers pushed by ``source`` (see the module docstring).

    ``items`` are the subscribers as decoded from JSON, not yet validated. Raises
    ``SubscriberBatchRejected`` when an item is invalid and ``skip_invalid`` is false.
    """
    plans = dict(Plan.objects.values_list("code", "id"))
    valid, invalid = items_validate(items, SubscriberIn, context={"plan_code": plan_parser(plans)})
    # A NUL is found by the batch's check and by the column's validator, in the same words.
    errors = {bad.index: list(dict.fromkeys(bad.errors)) for bad in invalid}
    parsed = {
        index: _Sent(index, {name: getattr(item, name) for name in item.model_fields_set})
        for index, item in valid
    }

    # Every item claims its account number, a bad one too, as a row of the import does.
    claimed: dict[str, int] = {}
    for index, raw in enumerate(items):
        account = parsed[index].values["account_number"] if index in parsed else _raw_account(raw)
        if account is None:
            continue
        first = claimed.setdefault(account, index)
        if first != index:
            error = FieldError("account_number", f"{account} is already item {first}")
            errors.setdefault(index, []).append(error)
            parsed.pop(index, None)

    results = {
        index: SubscriberResult(
            index, None, SubscriberStatus.INVALID, tuple(found), _raw_account(items[index])
        )
        for index, found in errors.items()
    }
    all_or_nothing(
        results.values(),
        total=len(items),
        skip_invalid=skip_invalid,
        refusal=SubscriberBatchRejected,
    )

    by_account = {sent.values["account_number"]: sent for sent in parsed.values()}
    with transaction.atomic():
        stored = subscribers_store(
            sent={account: sent.values for account, sent in by_account.items()},
            plan_codes={pk: code for code, pk in plans.items()},
            source=source,
        )
        if any(status == SubscriberStatus.CREATED for status, _ in stored.values()):
            arrivals_score_after_commit()
    for account, sent in by_account.items():
        status, conflicts = stored[account]
        results[sent.index] = SubscriberResult(
            sent.index, None, status, (), account, conflicts=conflicts
        )
    return SubscriberIngestResult(items=[results[index] for index in range(len(items))])


def subscribers_store(
    *, sent: dict[str, dict[str, Any]], plan_codes: dict[int, str], source: str
) -> dict[str, tuple[SubscriberStatus, tuple[str, ...]]]:
    """Upsert the subscribers ``sent`` (each one's column values by column name, parsed, by
    account number); say what became of each, and which of its columns a hold kept. Call inside
    a transaction.

    The subscribers already stored are read locked, so that the status told is the one written;
    one that a concurrent batch or import creates meanwhile is taken by the upsert's conflict
    clause (the values sent replace its own, as a later report would), reported ``created``.
    """
    if not sent:
        return {}
    stored = {
        subscriber.account_number: subscriber
        for subscriber in Subscriber.objects.filter(account_number__in=sent)
        .order_by("account_number")
        .select_for_update()
    }
    held_sent = {_FIELDS[name].name for values in sent.values() for name in values} & HELD
    holds = (
        {
            (hold.subscriber_id, hold.field): hold
            for hold in FieldHold.objects.filter(
                subscriber_id__in=[subscriber.pk for subscriber in stored.values()],
                field__in=held_sent,
                released_at__isnull=True,
            )
        }
        if stored and held_sent
        else {}
    )
    outcome: dict[str, tuple[SubscriberStatus, tuple[str, ...]]] = {}
    writes: list[Subscriber] = []
    recorded: list[FieldConflict] = []
    now = timezone.now()
    # Sorted, so that two batches lock and insert the same subscribers in the same order.
    for account in sorted(sent):
        values = {name: _FIELDS[name].to_python(value) for name, value in sent[account].items()}
        current = stored.get(account)
        if current is None:
            writes.append(
                Subscriber(**{_FIELDS[name].attname: value for name, value in values.items()})
            )
            outcome[account] = (SubscriberStatus.CREATED, ())
            continue
        changed, kept = False, []
        for name, value in values.items():
            model_field = _FIELDS[name]
            before = getattr(current, model_field.attname)
            if value == before:
                continue
            hold = holds.get((current.pk, model_field.name))
            if hold is not None:
                kept.append(name)
                recorded.append(
                    FieldConflict(
                        subscriber=current,
                        field=model_field.name,
                        incoming=_text(model_field, value, plan_codes),
                        kept=_text(model_field, before, plan_codes),
                        hold=hold,
                        source=source,
                        where=account,
                        at=now,
                    )
                )
                continue
            setattr(current, model_field.attname, value)
            changed = True
        status = SubscriberStatus.UPDATED if changed else SubscriberStatus.UNCHANGED
        outcome[account] = (status, tuple(kept))
        if changed:
            writes.append(_unsaved(current))
    if writes:
        columns = {_FIELDS[name].name for values in sent.values() for name in values}
        Subscriber.objects.bulk_create(
            writes,
            batch_size=UPSERT_CHUNK,
            update_conflicts=True,
            unique_fields=["account_number"],
            # Only the columns sent: a stored subscriber's others are written as they are.
            update_fields=sorted(columns - {"account_number"} | {"updated_at"}),
        )
    if recorded:
        FieldConflict.objects.bulk_create(recorded)
    return outcome


def _unsaved(subscriber: Subscriber) -> Subscriber:
    """A stored subscriber as a new object: every object of the upsert then goes into one
    INSERT ... ON CONFLICT statement (bulk_create writes objects with a primary key apart)."""
    return Subscriber(
        **{
            model_field.attname: getattr(subscriber, model_field.attname)
            for model_field in Subscriber._meta.concrete_fields
            if not model_field.primary_key
        }
    )


def _text(model_field: models.Field, value: Any, plan_codes: dict[int, str]) -> Any:
    """A value of a held field as a conflict records it: as text, the plan by its code (the
    import's way, subscribers/importing_load.py)."""
    if value is None:
        return None
    if isinstance(model_field, models.ForeignKey):
        return plan_codes.get(value, str(value))
    if isinstance(value, Decimal) and isinstance(model_field, models.DecimalField):
        return f"{value:.{model_field.decimal_places}f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
