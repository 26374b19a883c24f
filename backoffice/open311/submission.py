"""Reading and validating a POST requests body (form-encoded or JSON)."""
from __future__ import annotations

import json
import math
from typing import Dict, Optional
from urllib.parse import parse_qsl, urlsplit

from fastapi import Request

from backoffice.catalogue import service_type
from backoffice.intake import NewRequest
from backoffice.open311.errors import Open311Error

MAX_DESCRIPTION = 10_000
# Ten thousand characters percent-encoded as four-byte UTF-8 still fit.
MAX_BODY_BYTES = 256 * 1024

# Optional text fields and their longest accepted length (the database columns').
_LIMITS = {
    "address_string": 500,
    "alcaldia": 100,
    "media_url": 2000,
    "email": 254,
    "phone": 50,
    "first_name": 100,
    "last_name": 100,
    "channel": 50,
    "conversation_id": 255,
    "idempotency_key": 255,
}


async def read_fields(request: Request) -> Dict[str, str]:
    """The submitted fields as strings; the first value wins when a form repeats a name."""
    body = await _read_limited(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        return _json_fields(body)
    if content_type in ("application/x-www-form-urlencoded", ""):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Open311Error(400, "the body is not valid UTF-8") from None
        fields: Dict[str, str] = {}
        for name, value in parse_qsl(text, keep_blank_values=True):
            fields.setdefault(name, value)
        return fields
    raise Open311Error(
        415, "unsupported content type: send application/x-www-form-urlencoded or application/json"
    )


async def _read_limited(request: Request) -> bytes:
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise Open311Error(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _json_fields(body: bytes) -> Dict[str, str]:
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise Open311Error(400, "the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise Open311Error(400, "the JSON body must be an object")
    fields: Dict[str, str] = {}
    for name, value in data.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise Open311Error(400, f"{name} must be a string or a number")
        fields[name] = value if isinstance(value, str) else repr(value)
    return fields


def parse_submission(fields: Dict[str, str], idempotency_header: Optional[str]) -> NewRequest:
    """Validate the fields into a NewRequest; raises Open311Error(400) with a clear message."""
    code = fields.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required")
    service = service_type(code)
    if service is None:
        raise Open311Error(400, f"unknown service_code: {code}")

    lat = _coordinate(fields, "lat", 90.0)
    long = _coordinate(fields, "long", 180.0)
    if (lat is None) != (long is None):
        raise Open311Error(400, "lat and long must be given together")
    address = _optional(fields, "address_string")
    if lat is None and address is None:
        raise Open311Error(400, "a location is required: lat and long, or address_string")

    # Kept verbatim: the resident's own words, whitespace included.
    description = fields.get("description", "")
    _check_characters("description", description)
    if len(description) > MAX_DESCRIPTION:
        raise Open311Error(
            400,
            f"description is too long: {len(description)} characters, the maximum is {MAX_DESCRIPTION}",
        )

    media_url = _optional(fields, "media_url")
    if media_url is not None:
        parts = urlsplit(media_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Open311Error(400, "media_url must be an http or https URL")
    email = _optional(fields, "email")
    if email is not None and ("@" not in email or any(ch.isspace() for ch in email)):
        raise Open311Error(400, "email is not an e-mail address")

    key = _idempotency_key(fields, idempotency_header)
    return NewRequest(
        service=service,
        description=description,
        lat=lat,
        long=long,
        address_string=address,
        alcaldia=_optional(fields, "alcaldia"),
        media_url=media_url,
        email=email,
        phone=_optional(fields, "phone"),
        first_name=_optional(fields, "first_name"),
        last_name=_optional(fields, "last_name"),
        channel=_optional(fields, "channel"),
        conversation_id=_optional(fields, "conversation_id"),
        idempotency_key=key,
    )


def _idempotency_key(fields: Dict[str, str], header: Optional[str]) -> Optional[str]:
    from_field = _optional(fields, "idempotency_key")
    from_header = header.strip() if header and header.strip() else None
    if from_field and from_header and from_field != from_header:
        raise Open311Error(400, "the Idempotency-Key header and the idempotency_key field differ")
    key = from_header or from_field
    if key is not None:
        _check_length("idempotency_key", key)
        _check_characters("idempotency_key", key)
    return key


def _optional(fields: Dict[str, str], name: str) -> Optional[str]:
    value = fields.get(name, "").strip()
    if not value:
        return None
    _check_length(name, value)
    _check_characters(name, value)
    return value


def _check_length(name: str, value: str) -> None:
    limit = _LIMITS[name]
    if len(value) > limit:
        raise Open311Error(400, f"{name} is too long: at most {limit} characters")


def _check_characters(name: str, value: str) -> None:
    # NUL cannot be stored in PostgreSQL text; lone surrogates (from JSON escapes) cannot be encoded.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Open311Error(400, f"{name} contains characters that cannot be stored") from None
    if "\x00" in value:
        raise Open311Error(400, f"{name} contains characters that cannot be stored")


def _coordinate(fields: Dict[str, str], name: str, bound: float) -> Optional[float]:
    text = fields.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number") from None
    if not math.isfinite(value) or abs(value) > bound:
        raise Open311Error(400, f"{name} must be between -{bound:g} and {bound:g}")
    return value
