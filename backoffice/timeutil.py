"""Times: stored in UTC, shown in the city's time zone with an offset."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_local_iso(value: datetime | None, tz_name: str) -> str | None:
    """ISO 8601 with the offset, e.g. 2024-05-01T10:15:00-06:00 (Open311 wants the offset)."""
    if value is None:
        return None
    return value.astimezone(ZoneInfo(tz_name)).isoformat(timespec="seconds")


def parse_iso(text: str, tz_name: str) -> datetime:
    """Parse an ISO 8601 date or datetime; a time without offset is city time.

    Raises ValueError when the text is not ISO 8601.
    """
    cleaned = text.strip()
    # Python 3.10's fromisoformat does not know the "Z" suffix the W3C profile allows.
    if cleaned.endswith(("Z", "z")):
        cleaned = cleaned[:-1] + "+00:00"
    value = datetime.fromisoformat(cleaned)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz_name))
    return value.astimezone(timezone.utc)
