"""Staff endpoints: the full record of a request and status changes."""
from __future__ import annotations

import logging
from typing import Any, Dict, Literal, Optional

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice import notifications, queries
from backoffice.catalogue import service_type
from backoffice.deps import app_settings, db_session
from backoffice.models import OutboundNotification, ServiceRequest
from backoffice.staff.auth import require_staff
from backoffice.status import change_status
from backoffice.timeutil import to_local_iso
from common.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/staff/api", tags=["staff"], dependencies=[Depends(require_staff)])


class StatusChangeIn(BaseModel):
    status: Literal["open", "closed"]
    note: str = Field(..., max_length=5000)
    agency: Optional[str] = Field(None, max_length=200)


def _notification_document(item: OutboundNotification, tz: str) -> Dict[str, Any]:
    return {
        "id": item.id,
        "service_request_id": item.request.folio,
        "status": item.status,
        "attempts": item.attempts,
        "last_error": item.last_error,
        "created_datetime": to_local_iso(item.created_at, tz),
        "sent_datetime": to_local_iso(item.sent_at, tz),
    }


def staff_document(request: ServiceRequest, tz: str) -> Dict[str, Any]:
    service = service_type(request.service_code)
    return {
        "service_request_id": request.folio,
        "service_code": request.service_code,
        "service_name": service.name if service else request.service_code,
        "status": request.status,
        "status_notes": request.status_notes,
        "agency_responsible": request.agency_responsible,
        "service_notice": request.service_notice,
        "description": request.description,
        "address": request.address_string,
        "lat": request.lat,
        "long": request.long,
        "alcaldia": request.alcaldia,
        "media_url": request.media_url,
        "requested_datetime": to_local_iso(request.requested_at, tz),
        "updated_datetime": to_local_iso(request.updated_at, tz),
        "duplicate_of": request.parent.folio if request.parent else None,
        "duplicates": [d.folio for d in request.duplicates],
        "contact": {
            "first_name": request.first_name,
            "last_name": request.last_name,
            "email": request.email,
            "phone": request.phone,
        },
        "channel": request.channel,
        "conversation_id": request.conversation_id,
        "history": [
            {
                "status": change.status,
                "note": change.note,
                "agency": change.agency,
                "changed_datetime": to_local_iso(change.changed_at, tz),
            }
            for change in request.history
        ],
        "notifications": [_notification_document(n, tz) for n in request.notifications],
    }


def _found(session: Session, folio: str) -> ServiceRequest:
    request = queries.by_folio(session, folio)
    if request is None:
        raise HTTPException(status_code=404, detail=f"unknown service request {folio}")
    return request


@router.get("/requests/{folio}")
def read_request(
    folio: str, session: Session = Depends(db_session), settings: Settings = Depends(app_settings)
):
    return staff_document(_found(session, folio), settings.timezone)


@router.post("/requests/{folio}/status")
def set_status(
    folio: str,
    body: StatusChangeIn,
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    request = _found(session, folio)
    changes = change_status(session, request, body.status, body.note, body.agency)
    session.commit()
    for changed, change in changes:
        try:
            notifications.notify_status_change(session, changed, change, settings=settings)
        except Exception:  # noqa: BLE001 - the status change is committed; never undo it
            session.rollback()
            log.exception("could not record status notification folio=%s", changed.folio)
    session.refresh(request)
    return staff_document(request, settings.timezone)


@router.get("/notifications")
def list_notifications(
    status: Optional[Literal["pending", "sent", "failed"]] = None,
    limit: int = Query(100, ge=1, le=500),
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    query = select(OutboundNotification).order_by(OutboundNotification.id.desc()).limit(limit)
    if status:
        query = query.where(OutboundNotification.status == status)
    items = session.execute(query).scalars().all()
    return [_notification_document(item, settings.timezone) for item in items]


@router.post("/notifications/retry")
def retry_notifications(
    session: Session = Depends(db_session), settings: Settings = Depends(app_settings)
):
    attempted = notifications.retry_failed(session, settings)
    return [_notification_document(item, settings.timezone) for item in attempted]
