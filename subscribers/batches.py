"""A batch of items from another system, checked item by item: the rules every intake shares.

The events of the ingestion API (subscribers/ingestion.py) and the cancellation requests of
retention/cases/intake.py (API calls and import files) are batches with the same rules:

- An API call holds 1 to API_BATCH_LIMIT items (``within_batch_limit``, on the request schema).
- Every item is validated on its own against its schema (``items_validate``), so that every
  problem in a batch is reported at once, by the item's index and the field. A NUL character
  anywhere in an item (which PostgreSQL cannot store) is such a problem, found before the schema
  is asked: a NUL must not reach a query either (subscribers/text.py).
- All or nothing (``all_or_nothing``): by default a batch with any rejected item changes nothing,
  and ``BatchRejected`` lists the rejected items in batch order (the API answers it with a 400);
  with ``skip_invalid`` the good items are taken and the others reported among the results.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from django.conf import settings
from pydantic import AfterValidator, BaseModel
from pydantic import ValidationError as PydanticValidationError
from pydantic_core import PydanticCustomError

from subscribers.text import FieldError, has_nul, nul_errors

# What every intake's schema allows as an external id (its Field(max_length=…)).
EXTERNAL_ID_MAX_LENGTH = 100


def within_batch_limit(noun: str) -> AfterValidator:
    """For a request schema's list of items: at most API_BATCH_LIMIT of them (``noun`` names
    them in the error, e.g. "events")."""

    def check(items: list[Any]) -> list[Any]:
        # Read at request time rather than as max_length, so that the setting can change.
        limit = settings.API_BATCH_LIMIT
        if len(items) > limit:
            raise PydanticCustomError(
                "batch_too_large",
                f"A batch holds at most {{limit}} {noun}, this one has {{count}}: split it",
                {"limit": limit, "count": len(items)},
            )
        return items

    return AfterValidator(check)


# --- Results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemResult[S: StrEnum]:
    """What happened to one item of a batch. Each intake names its statuses (``S``); those in
    ``REJECTED`` are the items that would have rejected the batch without ``skip_invalid``."""

    REJECTED: ClassVar[frozenset[str]] = frozenset()

    index: int  # position in the batch, from 0
    external_id: str | None
    status: S
    errors: tuple[FieldError, ...] = ()

    @property
    def rejected(self) -> bool:
        return self.status in self.REJECTED


@dataclass(frozen=True)
class BatchResult[R: ItemResult[Any]]:
    """What happened to every item of a batch, in the order they were sent.

    Every intake calls an item taken ``created`` and one seen before ``duplicate``.
    """

    items: list[R]

    def _count(self, *statuses: str) -> int:
        return sum(1 for item in self.items if item.status in statuses)

    @property
    def created(self) -> int:
        return self._count("created")

    @property
    def duplicates(self) -> int:
        return self._count("duplicate")

    @property
    def rejected(self) -> int:
        return sum(1 for item in self.items if item.rejected)


class BatchRejected[R: ItemResult[Any]](Exception):
    """Some items of a batch were rejected, so nothing was changed.

    ``items`` are the rejected items in batch order; ``total`` is the batch's size. Each intake
    words the message for the sender of an API call with the class attributes.
    """

    noun = "items"  # what the batch holds
    undone = "nothing was stored"  # what did not happen
    verb = "store"  # what skip_invalid would do with the others

    def __init__(self, *, items: Sequence[R], total: int) -> None:
        self.items = list(items)
        self.total = total
        super().__init__(
            f"{len(self.items)} of {total} {self.noun} were rejected, so {self.undone}. "
            "Correct them and send the batch again, or send it with ?skip_invalid=true to "
            f"{self.verb} the others."
        )


def all_or_nothing(
    results: Iterable[ItemResult[Any]],
    *,
    total: int,
    skip_invalid: bool,
    refusal: type[BatchRejected[Any]] = BatchRejected,
) -> None:
    """Raise ``refusal`` with the rejected results, in batch order, unless there are none or
    ``skip_invalid`` is set."""
    rejected = sorted((result for result in results if result.rejected), key=_index)
    if rejected and not skip_invalid:
        raise refusal(items=rejected, total=total)


def _index(result: ItemResult[Any]) -> int:
    return result.index


# --- Validating the items ----------------------------------------------------------------------


@dataclass(frozen=True)
class MalformedItem:
    """An item found invalid before its schema is asked (a file's row with too many cells)."""

    external_id: str | None
    errors: tuple[FieldError, ...]


@dataclass(frozen=True)
class InvalidItem:
    index: int
    external_id: str | None  # when the item names a usable one, to help the sender find it
    errors: tuple[FieldError, ...]


def items_validate[M: BaseModel](
    items: Sequence[Any], schema: type[M], *, context: dict[str, Any] | None = None
) -> tuple[list[tuple[int, M]], list[InvalidItem]]:
    """Every item, as decoded from JSON or read from a file, validated against ``schema``
    (with pydantic's validation ``context``: what the schema's validators read once per batch,
    such as the plans by code).

    Returns the valid items parsed, with their index, and the invalid ones with every problem
    found (each NUL, each field the schema refuses), both in batch order.
    """
    valid: list[tuple[int, M]] = []
    invalid: list[InvalidItem] = []
    for index, raw in enumerate(items):
        if isinstance(raw, MalformedItem):
            invalid.append(InvalidItem(index, raw.external_id, raw.errors))
            continue
        # Before the schema: a NUL must not reach a query (the lookups that follow) either.
        errors = nul_errors(raw)
        try:
            item = schema.model_validate(raw, context=context)
        except PydanticValidationError as exc:
            errors += field_errors(exc)
        if errors:
            invalid.append(InvalidItem(index, raw_external_id(raw), tuple(errors)))
        else:
            valid.append((index, item))
    return valid, invalid


def raw_external_id(raw: Any) -> str | None:
    """The external id of an invalid item, to help the sender find it, when it is usable."""
    value = raw.get("external_id") if isinstance(raw, dict) else None
    usable = (
        isinstance(value, str) and 0 < len(value) <= EXTERNAL_ID_MAX_LENGTH and not has_nul(value)
    )
    return value if usable else None


def field_errors(exc: PydanticValidationError) -> list[FieldError]:
    """pydantic's errors by the dotted path of their field (None: the item as a whole)."""
    return [
        FieldError(".".join(str(part) for part in error["loc"]) or None, error["msg"])
        for error in exc.errors(include_url=False)
    ]
