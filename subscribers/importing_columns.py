"""The columns of a subscriber import file (subscribers/importing.py), and how each cell is read."""

import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db.models import TextChoices

from subscribers.models import Subscriber
from subscribers.text import has_nul

# A parser takes a cell as read and returns the value to store, or raises ValueError with a
# message that completes "<column>: …". They run millions of times, so the common case (a clean
# cell) comes first; stray spaces and explanations of bad values take the slower path.
Parser = Callable[[str], Any]

_DECIMAL_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
# The everyday shape of an address; anything else goes to Django's validator, so the accepted set
# is exactly the model form's, and the common case skips its slow checks (~8 µs per address).
_SIMPLE_EMAIL_RE = re.compile(
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_validate_email = EmailValidator()
_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def text_parser(max_length: int, *, required: bool) -> Parser:
    def parse(raw: str) -> str:
        value = raw.strip()
        if not value:
            if required:
                raise ValueError("is required")
            return value
        if len(value) > max_length:
            raise ValueError(f"is longer than {max_length} characters")
        if has_nul(value):  # PostgreSQL refuses it (subscribers/text.py)
            raise ValueError("contains a NUL character")
        return value

    return parse


def _choice(choices: type[TextChoices]) -> Parser:
    allowed = frozenset(choices.values)
    listed = ", ".join(choices.values)

    def parse(raw: str) -> str:
        if raw in allowed:
            return raw
        if (value := raw.strip()) != raw:
            return parse(value)
        raise ValueError(f"{raw!r} is not one of {listed}")

    return parse


def _date(*, required: bool) -> Parser:
    def parse(raw: str) -> date | None:
        # fromisoformat alone would also take 20240131 and week dates; the format is fixed.
        if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
            try:
                return date.fromisoformat(raw)
            except ValueError:
                raise ValueError(f"{raw!r} is not a valid date") from None
        if (value := raw.strip()) != raw:
            return parse(value)
        if not value:
            if required:
                raise ValueError("is required")
            return None
        raise ValueError(f"{raw!r} is not a date in the form YYYY-MM-DD")

    return parse


def decimal_parser(
    max_digits: int, *, negative: bool, places: int = 2, maximum: Decimal | None = None
) -> Parser:
    """A number with a dot and at most ``places`` decimals, below 10 ** (max_digits - places)
    (or at most ``maximum``), passed on as text for the database to parse."""
    whole_digits = max_digits - places
    # Plain numbers within the column's range match this and are passed on as they are (the
    # database parses them); anything else gets the full check below.
    plain = re.compile(
        ("-?" if negative else "") + rf"[0-9]{{1,{whole_digits}}}(?:\.[0-9]{{1,{places}}})?"
    )
    limit = Decimal(10) ** whole_digits
    example = "29.99" if places == 2 else "12.5"

    def parse(raw: str) -> str:
        if plain.fullmatch(raw) and (maximum is None or Decimal(raw) <= maximum):
            return raw
        if (stripped := raw.strip()) != raw:
            return parse(stripped)
        if not raw:
            raise ValueError("is required")
        if "," in raw:
            raise ValueError(f"{raw!r}: use a dot as the decimal separator")
        if not _DECIMAL_RE.fullmatch(raw):
            raise ValueError(f"{raw!r} is not a number like {example}")
        value = Decimal(raw)
        if value.as_tuple().exponent < -places:  # type: ignore[operator]  # finite, so an int
            raise ValueError(f"{raw} has more than {places} decimal place{'s' * (places != 1)}")
        if abs(value) >= limit:
            raise ValueError(f"{raw} must be less than {limit}")
        if maximum is not None and value > maximum:
            raise ValueError(f"{raw} must be at most {maximum}")
        if value < 0 and not negative:
            raise ValueError(f"{raw} must not be negative")
        return str(value)  # leading zeros, or a negative zero

    return parse


def integer_parser(minimum: int, maximum: int, *, default: int | None = None) -> Parser:
    """A whole number from ``minimum`` to ``maximum``; an empty cell is ``default`` if given."""

    def parse(raw: str) -> int:
        if raw.isascii() and raw.isdigit() and minimum <= (value := int(raw)) <= maximum:
            return value
        if (stripped := raw.strip()) != raw:
            return parse(stripped)
        if not raw:
            if default is None:
                raise ValueError("is required")
            return default
        if not re.fullmatch(r"-?[0-9]+", raw):
            raise ValueError(f"{raw!r} is not a whole number")
        if int(raw) < minimum:
            raise ValueError(f"{raw} must be at least {minimum}")
        raise ValueError(f"{raw} must be at most {maximum}")

    return parse


def _boolean(raw: str) -> bool:
    try:
        return _BOOLEANS[raw]
    except KeyError:
        if (value := raw.strip().lower()) != raw:
            return _boolean(value)
        raise ValueError(f"{raw!r} is not one of true, false, 1, 0, yes, no") from None


def _email(raw: str) -> str:
    value = raw.strip()
    if not value or (len(value) <= 254 and _SIMPLE_EMAIL_RE.fullmatch(value)):
        return value
    if len(value) > 254:
        raise ValueError("is longer than 254 characters")
    try:
        _validate_email(value)
    except ValidationError:
        raise ValueError(f"{value!r} is not a valid e-mail address") from None
    return value


# Names found valid so far. A file repeats a handful of zones, and a set lookup is much cheaper
# than lru_cache; invalid names are not kept, so junk in a file cannot grow it.
_known_time_zones: set[str] = set()


def _is_time_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _time_zone(raw: str) -> str:
    if raw in _known_time_zones:
        return raw
    if (value := raw.strip()) != raw:
        return _time_zone(value)
    if value and len(value) <= 64 and _is_time_zone(value):
        _known_time_zones.add(value)
        return value
    raise ValueError(f"{raw!r} is not a time zone name such as Europe/Riga")


@dataclass(frozen=True)
class Column:
    name: str  # in the CSV header
    field: str  # Subscriber field it fills
    required: bool
    parse: Parser
    help: str  # for README and the admin upload page


_S = Subscriber
COLUMNS: tuple[Column, ...] = (
    Column(
        "account_number",
        "account_number",
        True,
        text_parser(32, required=True),
        "Billing account number, up to 32 characters. Rows are matched on it.",
    ),
    Column("name", "name", True, text_parser(200, required=True), "Up to 200 characters."),
    # The parser here only documents the shape; each import looks codes up in the plans it read.
    Column(
        "plan_code",
        "plan",
        True,
        text_parser(40, required=True),
        "Code of an existing plan (Plan.code).",
    ),
    Column(
        "monthly_price",
        "monthly_price",
        True,
        decimal_parser(8, negative=False),
        "Current monthly price, e.g. 29.99: dot separator, at most 2 decimals, 0 to 999999.99.",
    ),
    Column("signup_date", "signup_date", True, _date(required=True), "YYYY-MM-DD."),
    Column("region", "region", True, text_parser(64, required=True), "Up to 64 characters."),
    Column(
        "phone",
        "phone",
        False,
        text_parser(32, required=False),
        "Up to 32 characters; may be empty.",
    ),
    Column("email", "email", False, _email, "A valid address; may be empty."),
    Column("language", "language", False, _choice(_S.Language), "lv, ru or en. Default lv."),
    Column(
        "time_zone",
        "time_zone",
        False,
        _time_zone,
        "IANA time zone name, e.g. Europe/Riga (the default).",
    ),
    Column(
        "segment",
        "segment",
        False,
        _choice(_S.Segment),
        "residential (default), small_business or corporate.",
    ),
    Column(
        "status",
        "status",
        False,
        _choice(_S.Status),
        "active (default), suspended, cancelling or cancelled.",
    ),
    Column(
        "promo_ends_on",
        "promo_ends_on",
        False,
        _date(required=False),
        "YYYY-MM-DD; empty for no promotion.",
    ),
    Column(
        "balance",
        "balance",
        False,
        decimal_parser(10, negative=True),
        "Amount owed now, e.g. 12.50 (at most 2 decimals); negative means in credit. Default 0.",
    ),
    Column(
        "arrears",
        "arrears",
        False,
        decimal_parser(10, negative=False),
        "Overdue part of the balance, e.g. 4.99; not negative. Default 0.",
    ),
    Column(
        "payment_method",
        "payment_method",
        False,
        _choice(_S.PaymentMethod),
        "direct_debit (default), card, bank_transfer or cash.",
    ),
    Column(
        "do_not_call",
        "do_not_call",
        False,
        _boolean,
        "true/false, 1/0 or yes/no (any case). Default false.",
    ),
    Column(
        "do_not_email",
        "do_not_email",
        False,
        _boolean,
        "true/false, 1/0 or yes/no (any case). Default false.",
    ),
    Column(
        "do_not_sms",
        "do_not_sms",
        False,
        _boolean,
        "true/false, 1/0 or yes/no (any case). Default false.",
    ),
)
COLUMNS_BY_NAME = {column.name: column for column in COLUMNS}
REQUIRED_COLUMNS = tuple(column.name for column in COLUMNS if column.required)
OPTIONAL_COLUMNS = tuple(column.name for column in COLUMNS if not column.required)


def plan_parser(plans: dict[str, int]) -> Parser:
    """The parser of plan_code for one import: the id of the plan with that code, among the
    ``plans`` (id by code) the import read before its rows."""

    def parse(raw: str) -> int:
        try:
            return plans[raw]
        except KeyError:
            if (value := raw.strip()) != raw:
                return parse(value)
            if not raw:
                raise ValueError("is required") from None
            raise ValueError(f"no plan has the code {raw!r}") from None

    return parse
