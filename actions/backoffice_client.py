"""The action server's one client for the back office.

Only this module knows the back office's URLs and the shape of its API
(Open311 GeoReport v2 plus a few non-standard fields, and the COVID-19
screenings API). Actions get small dataclasses back and one exception to
handle: BackOfficeUnavailable, for
"tell the resident to try again later" (connection errors, timeouts, 5xx).
"""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Optional, Union
from urllib.parse import quote

import httpx

from common.settings import Settings, get_settings

logger = logging.getLogger(__name__)

Number = Union[float, int, str]


class BackOfficeError(Exception):
    """Anything that kept a call from giving an answer."""


class BackOfficeUnavailable(BackOfficeError):
    """Not reachable, too slow, or failing on its side: worth retrying later."""


class BackOfficeRejected(BackOfficeError):
    """The back office refused the call (4xx): a bug or a configuration error, not worth retrying."""

    def __init__(self, status_code: int, description: str):
        super().__init__(f"{status_code}: {description}")
        self.status_code = status_code
        self.description = description


@dataclass(frozen=True)
class FiledRequest:
    folio: str
    status: str
    # Folio of the open request this one was linked to, when it reports the same problem.
    duplicate_of: Optional[str]
    service_notice: Optional[str]


@dataclass(frozen=True)
class StoredScreening:
    id: int
    level: str
    # True when the back office already had this screening (a retry with the same key).
    replayed: bool


@dataclass(frozen=True)
class ServiceRequestInfo:
    folio: str
    service_code: str
    service_name: str
    status: str
    status_notes: Optional[str]
    agency_responsible: Optional[str]
    requested_datetime: Optional[datetime]
    updated_datetime: Optional[datetime]
    duplicate_of: Optional[str]


def _base_url(settings: Settings) -> str:
    return f"{settings.backoffice_url.rstrip('/')}/open311/v2"


async def _send(settings: Settings, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        async with httpx.AsyncClient(timeout=settings.backoffice_timeout) as client:
            response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        # Connection refused, timeouts, broken responses: all "try again later".
        raise BackOfficeUnavailable(type(exc).__name__) from exc
    if response.status_code >= 500:
        raise BackOfficeUnavailable(f"HTTP {response.status_code}")
    return response


def _error_description(response: httpx.Response) -> str:
    # Open311 errors are a list of {code, description}; the other APIs answer {"detail": ...}.
    try:
        errors = response.json()
        if isinstance(errors, dict):
            return str(errors.get("detail"))
        return "; ".join(str(e.get("description")) for e in errors)
    except Exception:  # noqa: BLE001 - any body that is not the spec's error list
        return response.reason_phrase or "rejected"


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise BackOfficeUnavailable("the back office answered with something that is not JSON") from exc


def _datetime(text: Optional[str]) -> Optional[datetime]:
    return datetime.fromisoformat(text) if text else None


async def file_service_request(
    service_code: str,
    description: Optional[str],
    *,
    lat: Optional[Number] = None,
    long: Optional[Number] = None,
    address_string: Optional[str] = None,
    alcaldia: Optional[str] = None,
    media_url: Optional[str] = None,
    email: Optional[str] = None,
    phone: Optional[str] = None,
    first_name: Optional[str] = None,
    last_name: Optional[str] = None,
    channel: Optional[str] = None,
    conversation_id: Optional[str] = None,
    idempotency_key: Optional[str] = None,
    settings: Optional[Settings] = None,
) -> FiledRequest:
    """File a 311 request. Pass the same idempotency_key when retrying the same report:
    the back office then answers with the request it already filed."""
    settings = settings or get_settings()
    fields: Dict[str, Any] = {
        "api_key": settings.backoffice_api_key,
        "service_code": service_code,
        "description": description or "",
        "lat": lat,
        "long": long,
        "address_string": address_string,
        "alcaldia": alcaldia,
        "media_url": media_url,
        "email": email,
        "phone": phone,
        "first_name": first_name,
        "last_name": last_name,
        "channel": channel,
        "conversation_id": conversation_id,
    }
    form = {name: str(value) for name, value in fields.items() if value is not None}
    key = idempotency_key or str(uuid.uuid4())
    response = await _send(
        settings,
        "POST",
        f"{_base_url(settings)}/requests.json",
        data=form,
        headers={"Idempotency-Key": key},
    )
    if response.status_code >= 400:
        raise BackOfficeRejected(response.status_code, _error_description(response))
    body = _json(response)
    try:
        item = body[0]
        filed = FiledRequest(
            folio=item["service_request_id"],
            status=item.get("status") or "open",
            duplicate_of=item.get("duplicate_of"),
            service_notice=item.get("service_notice"),
        )
    except (IndexError, KeyError, TypeError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST requests") from exc
    logger.info("filed folio=%s service_code=%s", filed.folio, service_code)
    return filed


async def get_service_request(
    folio: str, *, settings: Optional[Settings] = None
) -> Optional[ServiceRequestInfo]:
    """The request's current state, or None when the back office does not know the folio."""
    settings = settings or get_settings()
    url = f"{_base_url(settings)}/requests/{quote(folio, safe='')}.json"
    response = await _send(settings, "GET", url)
    if response.status_code == 404:
        return None
    if response.status_code >= 400:
        raise BackOfficeRejected(response.status_code, _error_description(response))
    body = _json(response)
    try:
        item = body[0]
        return ServiceRequestInfo(
            folio=item["service_request_id"],
            service_code=item["service_code"],
            service_name=item.get("service_name") or item["service_code"],
            status=item["status"],
            status_notes=item.get("status_notes"),
            agency_responsible=item.get("agency_responsible"),
            requested_datetime=_datetime(item.get("requested_datetime")),
            updated_datetime=_datetime(item.get("updated_datetime")),
            duplicate_of=item.get("duplicate_of"),
        )
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        raise BackOfficeUnavailable("unexpected answer to GET requests") from exc


async def record_screening(
    level: str,
    protocol_version: str,
    *,
    answers: Dict[str, Any],
    age_band: Optional[str] = None,
    alcaldia: Optional[str] = None,
    channel: Optional[str] = None,
    started_at: Optional[datetime] = None,
    completed_at: Optional[datetime] = None,
    idempotency_key: Optional[str] = None,
    settings: Optional[Settings] = None,
) -> StoredScreening:
    """Store a completed COVID-19 screening. Never pass a name, phone, conversation id or
    exact age: the back office refuses them. Pass the same idempotency_key when retrying
    the same screening: the back office then answers with the one it already stored."""
    settings = settings or get_settings()
    payload: Dict[str, Any] = {
        "api_key": settings.backoffice_api_key,
        "level": level,
        "protocol_version": protocol_version,
        "answers": answers,
        "age_band": age_band,
        "alcaldia": alcaldia,
        "channel": channel,
        "started_at": started_at.isoformat() if started_at else None,
        "completed_at": completed_at.isoformat() if completed_at else None,
    }
    body = {name: value for name, value in payload.items() if value is not None}
    key = idempotency_key or str(uuid.uuid4())
    response = await _send(
        settings,
        "POST",
        f"{settings.backoffice_url.rstrip('/')}/api/v1/screenings",
        json=body,
        headers={"Idempotency-Key": key},
    )
    if response.status_code >= 400:
        raise BackOfficeRejected(response.status_code, _error_description(response))
    item = _json(response)
    try:
        stored = StoredScreening(id=int(item["id"]), level=item["level"], replayed=response.status_code == 200)
    except (KeyError, TypeError, ValueError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST screenings") from exc
    logger.info("stored screening id=%s level=%s", stored.id, stored.level)
    return stored
