"""Storing a phrase (a code and its parameters as JSON) and saying it in the reader's language."""

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils import translation
from django.utils.functional import Promise

from subscribers.phrases.catalogue import PHRASES, Params
from subscribers.phrases.events import event_phrase
from subscribers.phrases.formatting import names


def phrase(code: str, **params: Any) -> dict[str, Any]:
    """A phrase as JSON: to nest in another's parameters, or for a list of them (risk
    reasons). Amounts, dates and times become text; the phrase's parameters say how to show
    them."""
    if code not in PHRASES:
        raise KeyError(f"unknown phrase {code!r}")
    return {"code": code, "params": as_params(params)}


def as_params(params: Mapping[str, Any]) -> Params:
    """Values JSON can hold: Decimal as "29.99", dates and times as ISO text."""
    return {name: _json(value) for name, value in params.items()}


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Promise):
        return str(value)
    return value


class _Values(dict[str, Any]):
    """A missing parameter is shown empty rather than breaking the whole line."""

    def __missing__(self, key: str) -> str:
        return ""


def render(
    code: str, params: Mapping[str, Any] | None = None, *, language: str | None = None
) -> str:
    """The phrase in the active language, or in ``language`` (e-mail to a recipient); empty
    for a code this version does not know."""
    with ExitStack() as stack:
        if language:
            stack.enter_context(translation.override(language))
        return _render(code, params or {})


def _render(code: str, params: Mapping[str, Any]) -> str:
    found = PHRASES.get(code)
    if found is None:
        return ""
    values = _Values()
    for name, value in params.items():
        values[name] = _shown(value, found.shown.get(name))
    try:
        return str(found.message % values)
    except (KeyError, TypeError, ValueError):
        return ""  # parameters this version cannot read: nothing rather than a broken line


def _shown(value: Any, how: Callable[[Any], str] | None) -> Any:
    if value is None:
        return ""
    if how is not None:
        return how(value)
    if isinstance(value, dict):
        if "code" in value:
            return _render(str(value["code"]), value.get("params") or {})
        return names(value)
    # Numbers stay numbers: a plural phrase picks its form by one of them.
    return value


def said(value: Any) -> str:
    """What to show for a stored thing: a phrase ({code, params}), an object with ``code`` and
    ``params`` (timeline event, history row, notification), or plain text. An object without a
    code says its own text: a note somebody wrote, or what a billing system sent."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return _render(str(value.get("code", "")), value.get("params") or {})
    if isinstance(value, str):
        return value
    code = getattr(value, "code", "")
    if code:
        text = _render(code, getattr(value, "params", None) or {})
        if text:
            return text
    kind = getattr(value, "kind", None)
    if kind is not None and hasattr(value, "summary"):
        found = event_phrase(kind, getattr(value, "data", None) or {})
        if found is not None:
            return _render(*found)
        return str(value.summary)
    for name in ("note", "text"):
        if hasattr(value, name):
            return str(getattr(value, name))
    return str(value)


# How each field of a history's ``changes`` is named, and how its values are shown (None: as
# they are), in the order they are said.
FieldsSaid = Mapping[str, tuple[Any, Callable[[Any], str] | None]]


def changes_said(changes: Mapping[str, Any], fields: FieldsSaid) -> str:
    """What a history row's ``changes`` ({field: [old, new]}) say, in the active language:
    "most per month €20.00 → €30.00; rank 10 → 20". A value that was not there is "—"; a field
    ``fields`` does not name is said by its own name."""
    if not isinstance(changes, Mapping):
        return ""
    ordered = [name for name in fields if name in changes]
    ordered += [name for name in changes if name not in fields]
    parts = []
    for name in ordered:
        pair = changes[name]
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            continue
        label, how = fields.get(name, (name, None))
        old, new = (_change_value(value, how) for value in pair)
        parts.append(f"{label} {old} → {new}")
    return "; ".join(parts)


def _change_value(value: Any, how: Callable[[Any], str] | None) -> str:
    if value is None or value == "":
        return "—"
    return how(value) if how is not None else str(value)
