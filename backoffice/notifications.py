"""Status updates to residents, sent through Rasa's HTTP API.

Rasa's trigger_intent endpoint with output_channel=latest answers on the
channel the resident last wrote from. Every attempt is recorded in
outbound_notifications so that failures are visible and can be retried; a
failure never undoes the status change.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import List, Optional
from urllib.parse import quote

import httpx
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backoffice.models import (
    NOTIFICATION_FAILED,
    NOTIFICATION_PENDING,
    NOTIFICATION_SENT,
    OutboundNotification,
    ServiceRequest,
    StatusChange,
)
from backoffice.timeutil import utcnow
from common.settings import Settings, get_settings

log = logging.getLogger(__name__)

INTENT = "EXTERNAL_request_status"
# Retries stop after this many attempts; staff can still see the failure.
MAX_ATTEMPTS = 5
# A pending row this old was abandoned (process stopped mid-send), not in flight.
STALE_PENDING = timedelta(minutes=5)


def notify_status_change(
    session: Session,
    request: ServiceRequest,
    change: StatusChange,
    settings: Optional[Settings] = None,
) -> Optional[OutboundNotification]:
    """Record and send one status update; None when the request has no conversation."""
    if not request.conversation_id:
        return None
    now = utcnow()
    notification = OutboundNotification(
        request=request,
        status_change=change,
        status=NOTIFICATION_PENDING,
        attempts=0,
        created_at=now,
        updated_at=now,
    )
    session.add(notification)
    # Committed before sending, so a crash mid-send leaves a visible pending row.
    session.commit()
    deliver(session, notification, settings or get_settings())
    return notification


def deliver(session: Session, notification: OutboundNotification, settings: Settings) -> bool:
    """One attempt; updates and commits the row. True when Rasa accepted it."""
    request = notification.request
    change = notification.status_change
    notification.attempts += 1
    error = _post_to_rasa(settings, request.conversation_id, request.folio, change)
    notification.updated_at = utcnow()
    if error is None:
        notification.status = NOTIFICATION_SENT
        notification.sent_at = notification.updated_at
        notification.last_error = None
        log.info("status notification sent folio=%s notification=%s", request.folio, notification.id)
    else:
        notification.status = NOTIFICATION_FAILED
        notification.last_error = error
        log.warning(
            "status notification failed folio=%s notification=%s error=%s",
            request.folio,
            notification.id,
            error,
        )
    session.commit()
    return error is None


def retry_failed(
    session: Session, settings: Optional[Settings] = None, limit: int = 100
) -> List[OutboundNotification]:
    """Try again the failed (and abandoned pending) notifications; returns those attempted."""
    settings = settings or get_settings()
    stale_before = utcnow() - STALE_PENDING
    due = session.execute(
        select(OutboundNotification)
        .where(
            OutboundNotification.attempts < MAX_ATTEMPTS,
            or_(
                OutboundNotification.status == NOTIFICATION_FAILED,
                (OutboundNotification.status == NOTIFICATION_PENDING)
                & (OutboundNotification.updated_at < stale_before),
            ),
        )
        .order_by(OutboundNotification.id)
        .limit(limit)
    ).scalars().all()
    for notification in due:
        deliver(session, notification, settings)
    return list(due)


def _post_to_rasa(
    settings: Settings, conversation_id: str, folio: str, change: StatusChange
) -> Optional[str]:
    """Send the external event; returns None on success, else a short error without personal data."""
    # Sanic 21.12 does not decode %2B in paths: SMS ids like +5255... must keep their '+'
    # (and WhatsApp ids their ':') or Rasa addresses a new, empty conversation.
    url = f"{settings.rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe='+:')}/trigger_intent"
    body = {
        "name": INTENT,
        "entities": {"folio": folio, "status": change.status, "note": change.note},
    }
    try:
        response = httpx.post(
            url,
            params={"output_channel": "latest", "token": settings.rasa_token},
            json=body,
            timeout=settings.notification_timeout,
        )
    except httpx.TimeoutException:
        return "timeout"
    except Exception as exc:  # noqa: BLE001 - whatever goes wrong, the status change stands
        # The class name only: exception texts can carry the URL, with token and conversation id.
        return type(exc).__name__
    if response.is_success:
        return None
    return f"HTTP {response.status_code}"
