"""The GeoReport v2 methods under /open311/v2/, plus discovery."""
from __future__ import annotations

import dataclasses
import hmac
from typing import List, Optional

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from backoffice import queries
from backoffice.catalogue import service_type, service_types
from backoffice.deps import app_settings, db_session
from backoffice.identity import store as identity_store
from backoffice.intake import file_request
from backoffice.models import STATUSES
from backoffice.open311.errors import Open311Error
from backoffice.open311.render import (
    FORMATS,
    documents,
    filing_document,
    public_request_document,
    respond,
    service_definition_document,
    service_document,
)
from backoffice.open311.submission import parse_submission, read_fields
from backoffice.timeutil import parse_iso
from common import citypack
from common.settings import Settings

router = APIRouter(prefix="/open311", tags=["open311"])

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# Date of the last change to this API (discovery's changeset).
CHANGESET = "2024-06-01T00:00:00-06:00"


def _fmt(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, f"unknown format: {fmt} (use json or xml)")
    return fmt


@router.get("/discovery.json")
def discovery(request: Request):
    locatel = (citypack.city().get("lines") or {}).get("locatel") or {}
    contact = " ".join(part for part in (locatel.get("name"), locatel.get("phone")) if part)
    base = str(request.base_url).rstrip("/")
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": "Ask the back office operators for an api_key.",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{base}/open311/v2",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }


@router.get("/v2/services.{fmt}")
def list_services(fmt: str):
    return respond(_fmt(fmt), "services", [service_document(s) for s in service_types()])


@router.get("/v2/services/{service_code}.{fmt}")
def service_definition(service_code: str, fmt: str):
    fmt = _fmt(fmt)
    service = service_type(service_code)
    if service is None:
        raise Open311Error(404, f"unknown service_code: {service_code}")
    return respond(fmt, "service_definition", service_definition_document(service))


@router.post("/v2/requests.{fmt}")
def post_request(
    fmt: str,
    request: Request,
    fields: dict = Depends(read_fields),
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    fmt = _fmt(fmt)
    api_key = fields.get("api_key", "")
    if not hmac.compare_digest(api_key.encode("utf-8"), settings.backoffice_api_key.encode("utf-8")):
        raise Open311Error(403, "invalid or missing api_key")
    new = parse_submission(fields, request.headers.get("idempotency-key"))
    # Filed from a signed-in conversation: the request carries the verified person ("my requests").
    new = dataclasses.replace(new, verified_subject=identity_store.subject_for(session, new.conversation_id))
    filing = file_request(session, new, settings.duplicate_radius_m)
    headers = {"Idempotent-Replayed": "true"} if filing.replayed else None
    # 201 for a new request; a replayed key answers 200 with the request it created.
    return respond(
        fmt,
        "service_requests",
        [filing_document(filing.request)],
        status_code=200 if filing.replayed else 201,
        headers=headers,
    )


def _list_param(text: Optional[str]) -> Optional[List[str]]:
    if text is None:
        return None
    items = [part.strip() for part in text.split(",") if part.strip()]
    return items or None


def _date_param(name: str, text: Optional[str], tz_name: str):
    if text is None or not text.strip():
        return None
    try:
        return parse_iso(text, tz_name)
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 date or datetime") from None


@router.get("/v2/requests.{fmt}")
def list_requests(
    fmt: str,
    service_request_id: Optional[str] = None,
    service_code: Optional[str] = None,
    start_date: Optional[str] = None,
    end_date: Optional[str] = None,
    status: Optional[str] = None,
    page: int = Query(1, ge=1),
    page_size: int = Query(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE),
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    fmt = _fmt(fmt)
    statuses = _list_param(status)
    unknown = [s for s in statuses or () if s not in STATUSES]
    if unknown:
        raise Open311Error(400, f"status must be open or closed, not {', '.join(unknown)}")
    start = _date_param("start_date", start_date, settings.timezone)
    end = _date_param("end_date", end_date, settings.timezone)
    if start is not None and end is not None and start > end:
        raise Open311Error(400, "start_date is after end_date")
    criteria = queries.RequestSearch(
        folios=_list_param(service_request_id),
        service_codes=_list_param(service_code),
        statuses=statuses,
        start=start,
        end=end,
        page=page,
        page_size=page_size,
    )
    items, total = queries.search(session, criteria)
    # Paging extension: the body stays the spec's plain list; counts travel in headers.
    headers = {"X-Total-Count": str(total), "X-Page": str(page), "X-Page-Size": str(page_size)}
    return respond(fmt, "service_requests", documents(items, settings.timezone), headers=headers)


@router.get("/v2/requests/{service_request_id}.{fmt}")
def get_request(
    service_request_id: str,
    fmt: str,
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    fmt = _fmt(fmt)
    found = queries.by_folio(session, service_request_id)
    if found is None:
        raise Open311Error(404, f"unknown service_request_id: {service_request_id}")
    return respond(fmt, "service_requests", [public_request_document(found, settings.timezone)])
