"""Pick the resident's language and the catalogue's words in it.

The sentences themselves live in domain.yml; this module only chooses the
city-pack labels (service names, status labels) that fill their blanks.
"""
from __future__ import annotations

from typing import Optional

from rasa_sdk import Tracker

from common import citypack

LANGUAGES = ("es", "en")
MAX_SHOWN_CHARS = 200


def language_of(tracker: Tracker) -> str:
    language = tracker.get_slot("language")
    return language if language in LANGUAGES else "es"


def service_name(code: Optional[str], language: str) -> str:
    service = citypack.service(code or "")
    if not service:
        return code or ""
    return service["name"][language]


def agency_of(code: Optional[str]) -> str:
    service = citypack.service(code or "")
    return service["agency"] if service else ""


def status_label(status: str, language: str) -> str:
    labels = citypack.load("catalogue")["status_labels"]
    return labels.get(status, {}).get(language, status)


def note_text(note: Optional[str], language: str) -> str:
    if not note:
        return ""
    return citypack.load("catalogue")["note_prefix"][language] + note


def alcaldia_label(alcaldia: Optional[str], language: str) -> str:
    from actions.places import ALCALDIA_UNKNOWN

    if not alcaldia or alcaldia == ALCALDIA_UNKNOWN:
        return citypack.load("catalogue")["alcaldia_unknown_label"][language]
    return alcaldia


def shorten(text: Optional[str], limit: int = MAX_SHOWN_CHARS) -> str:
    """A long description is stored whole but shown cut, so a summary stays readable."""
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
