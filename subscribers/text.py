"""Checks on text from outside (API calls, import files) that every app's intake shares.

PostgreSQL stores no NUL character (U+0000): not in text columns, not in JSON, not even as a
query parameter. Input that holds one must be rejected as bad input, by the field it is in,
before it reaches a query; otherwise the database refuses it and the caller gets a server
error for the whole batch. Django's forms already refuse it (ProhibitNullCharactersValidator
on every CharField); this is the same rule for input that does not pass through a form.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

NUL = "\x00"
NUL_MESSAGE = "Must not contain the NUL character (\\u0000)"
NUL_KEY_MESSAGE = "This key must not contain the NUL character (\\u0000)"


@dataclass(frozen=True)
class FieldError:
    field: str | None  # dotted path; None when the item as a whole is wrong (e.g. not an object)
    message: str


def has_nul(value: str) -> bool:
    return NUL in value


def visible(value: str) -> str:
    """``value`` with each NUL written as ``\\u0000``: safe to show, store or log."""
    return value.replace(NUL, "\\u0000")


def nul_errors(value: Any) -> list[FieldError]:
    """One error per string in ``value`` that holds a NUL, however deeply nested in objects
    and lists (as decoded from JSON, or a row read from a file), dictionary keys included.

    The field is the dotted path to the string (``data.lines.1.memo``), with a NUL in a key
    written as ``\\u0000``. Empty for clean input.
    """
    return [
        FieldError(path or None, NUL_KEY_MESSAGE if is_key else NUL_MESSAGE)
        for path, is_key in _nul_paths(value, "")
    ]


def _nul_paths(value: Any, path: str) -> Iterator[tuple[str, bool]]:
    if isinstance(value, str):
        if NUL in value:
            yield path, False
    elif isinstance(value, dict):
        for key, item in value.items():
            name = visible(str(key))
            inner = f"{path}.{name}" if path else name
            if isinstance(key, str) and NUL in key:
                yield inner, True
            yield from _nul_paths(item, inner)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _nul_paths(item, f"{path}.{index}" if path else str(index))
