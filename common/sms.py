"""How many SMS segments a text costs (3GPP TS 23.038 / 23.040).

A text made only of characters of the GSM 7-bit default alphabet (basic
table, plus the extension table whose characters take two septets: an
escape and the character) is sent as GSM-7: 160 septets in one segment,
153 per segment once it has to be split (the other 7 carry the
concatenation header). Any other character (for Spanish: á í ó ú, but NOT
é ñ ¿ ¡ ü, which are in the basic table) forces the whole text to UCS-2:
70 UTF-16 code units in one segment, 67 per segment when split.

Splitting never cuts an escape pair or a surrogate pair in two, as phones
and gateways do, so a segment may hold one unit less than the maximum.
National language shift tables (e.g. the Spanish one) are not assumed:
Mexican carriers do not reliably support them.

No maintained PyPI package counts segments (the `gsm0338` codec encodes but
does not count or split), so this is a small pure function.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import List

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# Basic table, in code order (0x1B, the escape, is left out on purpose).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
) - {"\x1b"}
# Extension table: each costs an escape septet plus itself.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SINGLE_LIMIT = {GSM7: 160, UCS2: 70}
CONCAT_LIMIT = {GSM7: 153, UCS2: 67}


@dataclass(frozen=True)
class SmsInfo:
    encoding: str  # GSM7 or UCS2
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm7(text: str) -> bool:
    """True if every character is in the GSM-7 basic or extension table."""
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _units(text: str, encoding: str) -> List[int]:
    """Cost of each character, in septets or UTF-16 code units."""
    if encoding == GSM7:
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def split(text: str) -> List[str]:
    """The parts a phone would send, without cutting a character in two."""
    encoding = GSM7 if is_gsm7(text) else UCS2
    costs = _units(text, encoding)
    if sum(costs) <= SINGLE_LIMIT[encoding]:
        return [text] if text else []
    limit = CONCAT_LIMIT[encoding]
    parts: List[str] = []
    start, used = 0, 0
    for index, cost in enumerate(costs):
        if used + cost > limit:
            parts.append(text[start:index])
            start, used = index, 0
        used += cost
    parts.append(text[start:])
    return parts


def sms_info(text: str) -> SmsInfo:
    encoding = GSM7 if is_gsm7(text) else UCS2
    return SmsInfo(encoding=encoding, units=sum(_units(text, encoding)), segments=len(split(text)))


def segment_count(text: str) -> int:
    """Number of SMS segments the text costs (0 for an empty text)."""
    return len(split(text))
