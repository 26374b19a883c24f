"""Folios residents quote to ask about their requests."""
from __future__ import annotations

import re
from typing import Optional

# "311-000042", "311 42", "311-42": residents drop zeros and dashes.
_FOLIO = re.compile(r"\b311(?:\s*-\s*|\s+)(\d{1,6})\b|\b311(\d{6})\b")


def find_folio(text: Optional[str]) -> Optional[str]:
    """The 311 folio in a message, normalised to 311-NNNNNN; None if absent."""
    if not text:
        return None
    match = _FOLIO.search(text)
    if not match:
        return None
    number = int(match.group(1) or match.group(2))
    return f"311-{number:06d}" if number > 0 else None
