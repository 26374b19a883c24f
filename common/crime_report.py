"""What a crime report's facts look like, shared by the action server (the
summary the resident confirms) and the back office (checks, the signed PDF).

Facts travel as plain JSON values, normalised by the actions' validators:

- ``when``: {"date": "YYYY-MM-DD", "time": "HH:MM" | null, "part_of_day": ... | null,
  "approximate": bool}
- amounts (``amount``, ``items_value``, ``estimated_cost``): {"value": "3500.00", "currency": "MXN"}
- ``payment_date``: "YYYY-MM-DD"; ``vehicle_year``: int; yes/no facts: bool
- choices: the option's value (or the resident's words where other answers are allowed)
- everything else: the resident's text

Texts come from the city pack (crime_types.yml, crime_report.yml).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, List, Optional

from common import citypack

LANGUAGES = ("es", "en")
COMMON_FIELDS = ("when", "place", "alcaldia", "description")

_MONTHS = {
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
           "octubre", "noviembre", "diciembre"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December"],
}
_WEEKDAYS = {
    "es": ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}


def types_pack() -> Dict[str, Any]:
    return citypack.load("crime_types")


def texts() -> Dict[str, Any]:
    return citypack.load("crime_report")


def _lang(lang: Optional[str]) -> str:
    return lang if lang in LANGUAGES else "es"


class _Keep(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def line_values() -> Dict[str, str]:
    values: Dict[str, str] = {}
    for key, line in (citypack.city().get("lines") or {}).items():
        values[f"{key}_name"] = str(line.get("name", ""))
        values[f"{key}_phone"] = str(line.get("phone", ""))
    return values


def text(entry: Any, lang: Optional[str] = "es", **params: Any) -> str:
    """An es/en entry (or a plain string) with its placeholders filled."""
    if isinstance(entry, dict):
        entry = entry.get(_lang(lang)) or entry.get("es") or ""
    return str(entry or "").format_map(_Keep(line_values(), **params))


def online_types() -> List[str]:
    return list(types_pack()["online_types"])


def type_name(crime_type: Optional[str], lang: Optional[str] = "es") -> str:
    spec = types_pack()["online_types"].get(crime_type or "")
    return text(spec["name"], lang) if spec else (crime_type or "")


def facts_for(crime_type: str) -> List[Dict[str, Any]]:
    """Type-specific facts first, then the common ones: the order they are asked in."""
    pack = types_pack()
    return list(pack["online_types"][crime_type]["facts"]) + list(pack["common_facts"])


def fact_spec(crime_type: str, field: str) -> Optional[Dict[str, Any]]:
    return next((f for f in facts_for(crime_type) if f["field"] == field), None)


def label(field: str, lang: Optional[str] = "es") -> str:
    entry = texts()["fact_labels"].get(field)
    return text(entry, lang) if entry else field


def declaration(lang: Optional[str] = "es") -> str:
    return text(texts()["declaration"], lang)


def declaration_version() -> str:
    return str(texts()["declaration"]["version"])


def _value_text(key: str, lang: Optional[str]) -> str:
    return text(texts()["values"][key], lang)


def date_text(day: dt.date, lang: Optional[str] = "es") -> str:
    lang = _lang(lang)
    weekday = _WEEKDAYS[lang][day.weekday()]
    month = _MONTHS[lang][day.month - 1]
    if lang == "en":
        return f"{weekday}, {month} {day.day}, {day.year}"
    return f"{weekday} {day.day} de {month} de {day.year}"


def when_text(value: Dict[str, Any], lang: Optional[str] = "es") -> str:
    try:
        day = dt.date.fromisoformat(str(value["date"]))
    except (KeyError, ValueError):
        return str(value)
    parts = [date_text(day, lang)]
    if value.get("time"):
        parts.append(str(value["time"]))
    elif value.get("part_of_day"):
        part = texts()["values"]["parts_of_day"].get(value["part_of_day"])
        if part:
            parts.append(text(part, lang))
    shown = ", ".join(parts)
    if value.get("approximate"):
        shown += f" ({_value_text('approximately', lang)})"
    return shown


def amount_text(value: Dict[str, Any]) -> str:
    try:
        number = Decimal(str(value["value"]))
    except (KeyError, InvalidOperation):
        return str(value)
    return f"${number:,.2f} {value.get('currency') or 'MXN'}"


def _option_label(spec: Dict[str, Any], value: Any, lang: Optional[str]) -> Optional[str]:
    for option in spec.get("options") or []:
        if option.get("value") == value:
            return text(option.get("label"), lang)
    return None


def display_value(crime_type: str, field: str, value: Any, lang: Optional[str] = "es") -> str:
    """A fact's value as a resident or a reviewer reads it."""
    if value is None:
        return _value_text("not_given", lang)
    if field == "crime_type":
        return type_name(value, lang)
    if isinstance(value, bool):
        return _value_text("yes" if value else "no", lang)
    if isinstance(value, dict) and "date" in value:
        return when_text(value, lang)
    if isinstance(value, dict) and "value" in value:
        return amount_text(value)
    spec = fact_spec(crime_type, field) if crime_type in types_pack()["online_types"] else None
    if spec and spec.get("validator") == "date":
        try:
            return date_text(dt.date.fromisoformat(str(value)), lang)
        except ValueError:
            return str(value)
    if spec and spec.get("validator") == "choice":
        shown = _option_label(spec, value, lang)
        if shown:
            return shown
    return str(value)


def unknown_text(lang: Optional[str] = "es") -> str:
    return _value_text("unknown", lang)


def summary_lines(
    crime_type: str, facts: Dict[str, Any], unknown: List[str], lang: Optional[str] = "es"
) -> List[tuple]:
    """(field, label, shown value) in the order the facts are asked, type first."""
    lines = [("crime_type", label("crime_type", lang), type_name(crime_type, lang))]
    for spec in facts_for(crime_type):
        field = spec["field"]
        if field in facts and facts[field] is not None:
            shown = display_value(crime_type, field, facts[field], lang)
        elif field in unknown:
            shown = unknown_text(lang)
        else:
            continue
        lines.append((field, label(field, lang), shown))
    return lines
