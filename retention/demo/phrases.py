"""What the demo cases and their history say, stored as phrases (a code and its parameters,
said in the reader's language; subscribers.phrases)."""

import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings


def names(row: Any) -> dict[str, str]:
    """A reason's or offer's name in each language, for a phrase."""
    found = {"en": row.name_en, "lv": row.name_lv, "ru": row.name_ru}
    return {language: name for language, name in found.items() if name}


def refusal(at: float, channel: str, why: str) -> dict[str, Any]:
    """A refusal as the history keeps it: a phrase with the subscriber's time it names (the
    next morning, or three days on for the frequency cap)."""
    local = datetime.fromtimestamp(at, zoneinfo.ZoneInfo(settings.TIME_ZONE))
    later = (local + timedelta(days=3 if why == "over_cap" else 1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    when = later.isoformat() if why in ("quiet_hours", "over_cap") else ""
    return {
        "code": "history.contact_refused",
        "params": {"channel": channel, "why": {"code": f"refusal.{why}", "params": {"when": when}}},
    }
