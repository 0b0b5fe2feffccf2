"""Opaque cursors for keyset pagination: the sort key of the last row shown, in a URL.

A cursor we did not make is a 404, never a 500: it arrives in a query string.
"""

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import Http404


def cursor_encode(*parts: int | datetime) -> str:
    text = "|".join(
        p.astimezone(UTC).isoformat() if isinstance(p, datetime) else str(p) for p in parts
    )
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def cursor_decode(token: str, *types: Callable[[str], Any]) -> list[Any]:
    """The parts of ``token``, each parsed by its type (``int`` or ``aware_datetime``)."""
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        parts = text.split("|")
        if len(parts) != len(types):
            raise ValueError("wrong number of parts")
        return [parse(part) for parse, part in zip(types, parts, strict=True)]
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise Http404("bad cursor") from exc


def aware_datetime(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("naive datetime in a cursor")
    return value
