"""Recognise a 311 service type in free text when NLU gave no report intent.

Used when the form asked "¿Qué quieres reportar?" and the answer was not
classified as a report_* intent (e.g. a one-word answer like "luminaria").
Keywords come from the city pack's catalogue.
"""
from __future__ import annotations

import re
from typing import Optional

from actions.places import fold
from common import citypack

REPORT_INTENT_PREFIX = "report_"


def service_from_intent(intent: Optional[str]) -> Optional[str]:
    """report_bache -> bache, when that code is in the catalogue."""
    if not intent or not intent.startswith(REPORT_INTENT_PREFIX):
        return None
    code = intent[len(REPORT_INTENT_PREFIX):]
    return code if code in citypack.service_codes() else None


def service_from_text(text: Optional[str]) -> Optional[str]:
    """The single service whose keywords or names appear in the text, else None."""
    if not text:
        return None
    folded = f" {fold(text)} "
    found = set()
    for service in citypack.services():
        terms = list(service.get("keywords") or []) + list(service["name"].values())
        for term in terms:
            term = fold(term).strip()
            if term and re.search(rf"(?<![a-z]){re.escape(term)}(?![a-z])", folded):
                found.add(service["code"])
    return found.pop() if len(found) == 1 else None
