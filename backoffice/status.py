"""Status changes made by staff, with history."""
from __future__ import annotations

import logging
from typing import List, Optional, Tuple

from sqlalchemy.orm import Session

from backoffice.models import CLOSED, STATUSES, ServiceRequest, StatusChange
from backoffice.timeutil import utcnow

log = logging.getLogger(__name__)


def change_status(
    session: Session,
    request: ServiceRequest,
    status: str,
    note: Optional[str],
    agency: Optional[str] = None,
) -> List[Tuple[ServiceRequest, StatusChange]]:
    """Apply a status change and record it; closing also closes the open duplicates.

    Returns every (request, change) made, the given request first. The caller commits.
    """
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    now = utcnow()
    changes = [(request, _apply(session, request, status, note, agency, now))]
    if status == CLOSED:
        # A desk that merges duplicates closes them with the original: their residents hear it too.
        for duplicate in request.duplicates:
            if duplicate.status != CLOSED:
                changes.append((duplicate, _apply(session, duplicate, status, note, agency, now)))
    for changed, _ in changes:
        log.info(
            "status changed folio=%s service_code=%s status=%s",
            changed.folio,
            changed.service_code,
            status,
        )
    return changes


def _apply(session, request, status, note, agency, now) -> StatusChange:
    request.status = status
    request.status_notes = note
    if agency:
        # Staff may hand the request to another agency.
        request.agency_responsible = agency
    request.updated_at = now
    change = StatusChange(
        request=request,
        status=status,
        note=note,
        agency=request.agency_responsible,
        changed_at=now,
    )
    session.add(change)
    return change
