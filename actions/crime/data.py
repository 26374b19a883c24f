"""Access to the crime part of the city pack (crime_types.yml + city.yml lines)."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from common import citypack

PACK_FILE = "crime_types"


def pack() -> Dict[str, Any]:
    return citypack.load(PACK_FILE)


def line_placeholders() -> Dict[str, str]:
    """{emergency_phone}, {women_name}... from city.yml `lines`."""
    values: Dict[str, str] = {}
    for key, line in (citypack.city().get("lines") or {}).items():
        values[f"{key}_name"] = str(line.get("name", ""))
        values[f"{key}_phone"] = str(line.get("phone", ""))
    return values


class _Keep(dict):
    """Leaves unknown placeholders as they are, for a later format step."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, **params: Any) -> str:
    return text.format_map(_Keep(line_placeholders(), **params))


def localized(entry: Optional[Dict[str, str]], lang: str, **params: Any) -> str:
    """Pick es/en text, falling back to Spanish (the city's language)."""
    if not entry:
        return ""
    return fill(entry.get(lang) or entry.get("es") or "", **params)


def online_type_codes() -> List[str]:
    return list(pack()["online_types"])


def never_online_codes() -> List[str]:
    return list(pack()["never_online"])


def facts_for(crime_type: str) -> List[Dict[str, Any]]:
    """Type-specific facts first, then the common ones (the order to ask them)."""
    return list(pack()["online_types"][crime_type]["facts"]) + list(pack()["common_facts"])


def message(section: str, code: str, lang: str, **params: Any) -> str:
    return localized(pack().get(section, {}).get(code), lang, **params)
