"""Folios residents quote: 311-000042, derived from the row's sequence number."""
from __future__ import annotations

PREFIX = "311-"


def folio_for(sequence_number: int) -> str:
    return f"{PREFIX}{sequence_number:06d}"
