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
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, List, Optional, Union
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


def _raise_if_rejected(response: httpx.Response) -> None:
    """A 4xx answer: the back office refused the call (5xx was handled by _send)."""
    if response.status_code >= 400:
        raise BackOfficeRejected(response.status_code, _error_description(response))


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
    _raise_if_rejected(response)
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
    _raise_if_rejected(response)
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
    _raise_if_rejected(response)
    item = _json(response)
    try:
        stored = StoredScreening(id=int(item["id"]), level=item["level"], replayed=response.status_code == 200)
    except (KeyError, TypeError, ValueError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST screenings") from exc
    logger.info("stored screening id=%s level=%s", stored.id, stored.level)
    return stored


# --- Identity (backoffice/identity/): sign-in links, the verified profile,
# one-time codes, "my requests". The back office's identity API takes the
# assistant's key as a bearer token and conversation ids in JSON bodies.


class NotSignedIn(BackOfficeError):
    """The conversation is not linked to a verified person (or the link expired)."""


class IdentityProviderUnavailable(BackOfficeUnavailable):
    """The city's identity provider is not answering: no sign-in link can be made now."""


class CodeRateLimited(BackOfficeError):
    """Too many one-time codes asked for; ``retry_after`` seconds until the next is allowed."""

    def __init__(self, retry_after: int):
        super().__init__(f"rate-limited; retry in {retry_after}s")
        self.retry_after = retry_after


class NoVerifiedContact(BackOfficeError):
    """The identity provider verified neither a phone nor an e-mail: a code cannot be sent."""


class CodeNotDelivered(BackOfficeUnavailable):
    """The SMS or e-mail service refused or did not answer: worth retrying later."""


@dataclass(frozen=True)
class SignInLink:
    url: str = field(repr=False)  # single-use: keep it out of logs
    expires_at: datetime


@dataclass(frozen=True)
class VerifiedIdentity:
    """The person a conversation is signed in as. Only the subject shows in repr (logs)."""

    subject: str
    name: Optional[str] = field(default=None, repr=False)
    curp: Optional[str] = field(default=None, repr=False)
    email: Optional[str] = field(default=None, repr=False)
    phone: Optional[str] = field(default=None, repr=False)


@dataclass(frozen=True)
class CodeSent:
    via: str  # "sms" | "email"
    destination_hint: str  # "…0101", "m…@example.org"


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    # None when ok; else wrong_code, used, expired, too_many_attempts, no_code, not_signed_in.
    reason: Optional[str]
    attempts_left: int


@dataclass(frozen=True)
class MyRequest:
    kind: str  # "service_request" (311) for now
    folio: str
    service_code: str
    service_name: str
    status: str
    status_notes: Optional[str]
    requested_datetime: Optional[datetime]
    updated_datetime: Optional[datetime]


def _identity_url(settings: Settings, path: str) -> str:
    return f"{settings.backoffice_url.rstrip('/')}/api/v1/identity/{path}"


def _reason(response: httpx.Response) -> Optional[str]:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("reason") if isinstance(body, dict) else None


async def _identity_call(settings: Settings, path: str, body: Dict[str, Any]) -> httpx.Response:
    try:
        async with httpx.AsyncClient(timeout=settings.backoffice_timeout) as client:
            response = await client.post(
                _identity_url(settings, path),
                json=body,
                headers={"Authorization": f"Bearer {settings.backoffice_api_key}"},
            )
    except httpx.HTTPError as exc:
        raise BackOfficeUnavailable(type(exc).__name__) from exc
    reason = _reason(response) if response.status_code >= 400 else None
    # The back office says why it refused; the 5xx ones are still "try again later".
    if reason == "provider_unreachable":
        raise IdentityProviderUnavailable("the identity provider is not answering")
    if reason == "delivery_failed":
        raise CodeNotDelivered("the code could not be sent")
    if response.status_code >= 500:
        raise BackOfficeUnavailable(f"HTTP {response.status_code}")
    if response.status_code == 409 and reason == "not_signed_in":
        raise NotSignedIn("the conversation is not signed in")
    return response


async def _identity_json(settings: Settings, path: str, body: Dict[str, Any]) -> Any:
    response = await _identity_call(settings, path, body)
    _raise_if_rejected(response)
    return _json(response)


async def request_sign_in_link(
    channel: Optional[str],
    conversation_id: str,
    *,
    language: Optional[str] = None,
    settings: Optional[Settings] = None,
) -> SignInLink:
    """A single-use, short-lived sign-in link for this conversation, to send to the resident.
    Raises IdentityProviderUnavailable when the identity provider is down."""
    settings = settings or get_settings()
    item = await _identity_json(
        settings,
        "sign-in-links",
        {"channel": channel, "conversation_id": conversation_id, "language": language},
    )
    try:
        return SignInLink(url=item["url"], expires_at=datetime.fromisoformat(item["expires_at"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST sign-in-links") from exc


async def get_identity(conversation_id: str, *, settings: Optional[Settings] = None) -> Optional[VerifiedIdentity]:
    """The verified person the conversation is signed in as, or None."""
    settings = settings or get_settings()
    response = await _identity_call(settings, "lookup", {"conversation_id": conversation_id})
    if response.status_code == 404:
        return None
    _raise_if_rejected(response)
    item = _json(response)
    try:
        return VerifiedIdentity(
            subject=item["subject"],
            name=item.get("name"),
            curp=item.get("curp"),
            email=item.get("email"),
            phone=item.get("phone"),
        )
    except (KeyError, TypeError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST lookup") from exc


async def sign_out(conversation_id: str, *, settings: Optional[Settings] = None) -> None:
    """Unlink the conversation from the verified person (no error when it was not linked)."""
    settings = settings or get_settings()
    await _identity_json(settings, "sign-out", {"conversation_id": conversation_id})


async def send_verification_code(
    conversation_id: str, *, language: Optional[str] = None, settings: Optional[Settings] = None
) -> CodeSent:
    """Send a new 6-digit code to the signed-in resident's verified phone (else e-mail).
    Raises NotSignedIn, NoVerifiedContact, CodeRateLimited, CodeNotDelivered."""
    settings = settings or get_settings()
    response = await _identity_call(settings, "codes", {"conversation_id": conversation_id, "language": language})
    reason = _reason(response) if response.status_code >= 400 else None
    if response.status_code == 429 or reason == "rate_limited":
        try:
            retry_after = int(response.headers.get("retry-after") or response.json().get("retry_after") or 60)
        except (TypeError, ValueError):
            retry_after = 60
        raise CodeRateLimited(retry_after)
    if reason == "no_verified_contact":
        raise NoVerifiedContact("no verified phone or e-mail")
    _raise_if_rejected(response)
    item = _json(response)
    try:
        return CodeSent(via=item["via"], destination_hint=item["destination_hint"])
    except (KeyError, TypeError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST codes") from exc


async def check_verification_code(
    conversation_id: str, code: str, *, settings: Optional[Settings] = None
) -> CodeCheck:
    """One attempt at the conversation's latest code. ``code`` must be 6 digits
    (anything else is refused here, without costing an attempt)."""
    settings = settings or get_settings()
    code = (code or "").strip()
    if len(code) != 6 or not code.isdigit():
        return CodeCheck(ok=False, reason="malformed", attempts_left=-1)
    item = await _identity_json(settings, "codes/check", {"conversation_id": conversation_id, "code": code})
    try:
        return CodeCheck(ok=bool(item["ok"]), reason=item.get("reason"), attempts_left=int(item["attempts_left"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST codes/check") from exc


async def list_my_requests(conversation_id: str, *, settings: Optional[Settings] = None) -> List[MyRequest]:
    """The signed-in resident's own requests, newest first. Raises NotSignedIn."""
    settings = settings or get_settings()
    item = await _identity_json(settings, "my-requests", {"conversation_id": conversation_id})
    try:
        return [
            MyRequest(
                kind=entry["kind"],
                folio=entry["folio"],
                service_code=entry["service_code"],
                service_name=entry.get("service_name") or entry["service_code"],
                status=entry["status"],
                status_notes=entry.get("status_notes"),
                requested_datetime=_datetime(entry.get("requested_datetime")),
                updated_datetime=_datetime(entry.get("updated_datetime")),
            )
            for entry in item["requests"]
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST my-requests") from exc


# --- Crime reports (backoffice/crime/): filing, status, answers to the
# prosecutor's office, the signed PDF's download link. Same API style as
# identity: the assistant's key as a bearer token, conversation ids in bodies.


class SecondFactorRequired(BackOfficeError):
    """The back office found no fresh, unused one-time code accepted in this conversation."""


class CrimeReportNotAccepted(BackOfficeError):
    """The prosecutor's office has not accepted the report yet: there is no signed PDF."""


@dataclass(frozen=True)
class FiledCrimeReport:
    folio: str
    status: str
    crime_type: str
    # True when the back office already had this report (a retry with the same key).
    replayed: bool


@dataclass(frozen=True)
class CrimeReportStatus:
    folio: str
    status: str  # submitted | info_requested | accepted
    crime_type: str
    pending_question: Optional[str] = field(default=None, repr=False)


@dataclass(frozen=True)
class DownloadLink:
    url: str = field(repr=False)  # a bearer link: keep it out of logs
    expires_at: Optional[datetime] = None


async def _crime_call(settings: Settings, path: str, body: Dict[str, Any], headers: Optional[Dict[str, str]] = None) -> httpx.Response:
    url = f"{settings.backoffice_url.rstrip('/')}/api/v1/crime-reports{('/' + path) if path else ''}"
    response = await _send(
        settings,
        "POST",
        url,
        json=body,
        headers={"Authorization": f"Bearer {settings.backoffice_api_key}", **(headers or {})},
    )
    reason = _reason(response) if response.status_code >= 400 else None
    if reason == "not_signed_in":
        raise NotSignedIn("the conversation is not signed in")
    if reason == "second_factor_required":
        raise SecondFactorRequired("no fresh one-time code for this filing")
    if reason == "not_accepted":
        raise CrimeReportNotAccepted("the report has not been accepted yet")
    return response


async def file_crime_report(
    crime_type: str,
    facts: Dict[str, Any],
    *,
    unknown_facts: Optional[List[str]] = None,
    conversation_id: str,
    channel: Optional[str] = None,
    language: str = "es",
    declaration_version: str,
    idempotency_key: Optional[str] = None,
    settings: Optional[Settings] = None,
) -> FiledCrimeReport:
    """File a crime report for the person the conversation is signed in as (the back
    office reads who that is; the caller cannot say). Pass the same idempotency_key when
    retrying the same draft. Raises NotSignedIn, SecondFactorRequired, BackOfficeRejected
    (facts the back office refuses), BackOfficeUnavailable."""
    settings = settings or get_settings()
    body = {
        "crime_type": crime_type,
        "facts": facts,
        "unknown_facts": list(unknown_facts or []),
        "language": language if language in ("es", "en") else "es",
        "channel": channel,
        "conversation_id": conversation_id,
        "declaration_accepted": True,
        "declaration_version": declaration_version,
    }
    key = idempotency_key or str(uuid.uuid4())
    response = await _crime_call(settings, "", body, headers={"Idempotency-Key": key})
    _raise_if_rejected(response)
    item = _json(response)
    try:
        filed = FiledCrimeReport(
            folio=item["folio"], status=item["status"], crime_type=item["crime_type"],
            replayed=response.status_code == 200,
        )
    except (KeyError, TypeError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST crime-reports") from exc
    logger.info("filed crime report folio=%s crime_type=%s", filed.folio, filed.crime_type)
    return filed


async def get_crime_report_status(
    folio: str, conversation_id: str, *, settings: Optional[Settings] = None
) -> Optional[CrimeReportStatus]:
    """The report's state and any question the prosecutor's office is waiting on; None
    when the folio is unknown or not this resident's."""
    settings = settings or get_settings()
    response = await _crime_call(settings, "status", {"conversation_id": conversation_id, "folio": folio})
    if response.status_code in (404, 422):
        return None
    _raise_if_rejected(response)
    item = _json(response)
    try:
        return CrimeReportStatus(
            folio=item["folio"], status=item["status"], crime_type=item["crime_type"],
            pending_question=item.get("pending_question"),
        )
    except (KeyError, TypeError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST crime-reports/status") from exc


async def add_crime_report_info(
    folio: str, conversation_id: str, text: str, *, settings: Optional[Settings] = None
) -> str:
    """Attach the resident's answer to the prosecutor's office's question; returns the new status.
    Raises BackOfficeRejected (404: not this resident's; 409: no question pending)."""
    settings = settings or get_settings()
    response = await _crime_call(settings, "info", {"conversation_id": conversation_id, "folio": folio, "text": text})
    _raise_if_rejected(response)
    item = _json(response)
    try:
        return str(item["status"])
    except (KeyError, TypeError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST crime-reports/info") from exc


async def crime_report_download_link(
    folio: str, conversation_id: str, *, settings: Optional[Settings] = None
) -> Optional[DownloadLink]:
    """A short-lived link to the signed PDF, for the report's author; None when the folio is
    unknown or not this resident's. Raises NotSignedIn (sign in first) and
    CrimeReportNotAccepted."""
    settings = settings or get_settings()
    response = await _crime_call(settings, "download-link", {"conversation_id": conversation_id, "folio": folio})
    if response.status_code in (404, 422):
        return None
    _raise_if_rejected(response)
    item = _json(response)
    try:
        return DownloadLink(url=item["url"], expires_at=_datetime(item.get("expires_at")))
    except (KeyError, TypeError, ValueError) as exc:
        raise BackOfficeUnavailable("unexpected answer to POST crime-reports/download-link") from exc
