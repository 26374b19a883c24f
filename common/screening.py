"""What a stored COVID-19 screening may say about a resident, shared by the
action server (which computes it) and the back office (which checks it).

A screening record never carries a name, phone number, conversation id or
exact age: only the age band below, the level, the protocol version, the
alcaldía if the resident named one, the channel, times, and the coded
answers (option codes, never the resident's words).
"""
from __future__ import annotations

import re
from typing import Optional, Tuple

# (label, lowest age in the band); bands follow the protocol's thresholds
# (under 2 is its own pathway, 65+ is a risk factor by itself).
AGE_BANDS: Tuple[Tuple[str, int], ...] = (("0-1", 0), ("2-17", 2), ("18-64", 18), ("65+", 65))
AGE_BAND_LABELS: Tuple[str, ...] = tuple(label for label, _ in AGE_BANDS)

# Option codes in the protocol file look like this; anything else (free text) is refused.
ANSWER_CODE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def age_band(age: Optional[int]) -> Optional[str]:
    """The band of a whole-years age, or None when the age is not known."""
    if age is None or isinstance(age, bool) or age < 0:
        return None
    label = AGE_BANDS[0][0]
    for name, lowest in AGE_BANDS:
        if age >= lowest:
            label = name
    return label
