"""The text a PDF shows, for tests: reportlab writes it as (string) Tj operators
inside Flate-compressed (and ASCII85-wrapped) page streams, in WinAnsi (cp1252). No PDF library is
needed for that much, and this reads only what the page would show."""
from __future__ import annotations

import base64
import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\n?endstream", re.S)
_STRING = re.compile(rb"\(((?:\\.|[^\\)])*)\)\s*Tj")


def _unescape(raw: bytes) -> str:
    out = bytearray()
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == 0x5C and i + 1 < len(raw):  # backslash
            nxt = raw[i + 1]
            if 0x30 <= nxt <= 0x37:
                digits = re.match(rb"[0-7]{1,3}", raw[i + 1:i + 4]).group(0)
                out.append(int(digits, 8))
                i += 1 + len(digits)
                continue
            out.append({ord("n"): 10, ord("r"): 13, ord("t"): 9}.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return out.decode("cp1252", errors="replace")


def pdf_text(content: bytes) -> str:
    """All shown strings, one per line, in page order."""
    lines = []
    for stream in _STREAM.findall(content):
        raw = stream.strip()
        if raw.endswith(b"~>"):  # reportlab wraps Flate data in ASCII85
            raw = base64.a85decode(raw[:-2].replace(b"\n", b""))
        try:
            data = zlib.decompress(raw)
        except zlib.error:
            continue
        lines += [_unescape(s) for s in _STRING.findall(data)]
    return "\n".join(lines)
