"""Finding requests: by folio, and the Open311 GET requests search with paging."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import List, Optional, Sequence, Tuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from backoffice.models import ServiceRequest
from backoffice.timeutil import utcnow

# GeoReport v2: without a date range, the last 90 days.
DEFAULT_WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class RequestSearch:
    folios: Optional[Sequence[str]] = None
    service_codes: Optional[Sequence[str]] = None
    statuses: Optional[Sequence[str]] = None
    start: Optional[datetime] = None
    end: Optional[datetime] = None
    page: int = 1
    page_size: int = 50


def by_folio(session: Session, folio: str) -> Optional[ServiceRequest]:
    return session.execute(
        select(ServiceRequest)
        .options(selectinload(ServiceRequest.parent))
        .where(ServiceRequest.folio == folio)
    ).scalar_one_or_none()


def search(session: Session, criteria: RequestSearch) -> Tuple[List[ServiceRequest], int]:
    """One page of matching requests, newest first, and the total count."""
    conditions = []
    if criteria.folios:
        # The spec: a list of ids overrides every other filter.
        conditions.append(ServiceRequest.folio.in_(list(criteria.folios)))
    else:
        start = criteria.start
        if start is None and criteria.end is None:
            start = utcnow() - DEFAULT_WINDOW
        if start is not None:
            conditions.append(ServiceRequest.requested_at >= start)
        if criteria.end is not None:
            conditions.append(ServiceRequest.requested_at <= criteria.end)
        if criteria.service_codes:
            conditions.append(ServiceRequest.service_code.in_(list(criteria.service_codes)))
        if criteria.statuses:
            conditions.append(ServiceRequest.status.in_(list(criteria.statuses)))

    total = session.execute(
        select(func.count()).select_from(ServiceRequest).where(*conditions)
    ).scalar_one()
    items = session.execute(
        select(ServiceRequest)
        .options(selectinload(ServiceRequest.parent))
        .where(*conditions)
        .order_by(ServiceRequest.requested_at.desc(), ServiceRequest.id.desc())
        .offset((criteria.page - 1) * criteria.page_size)
        .limit(criteria.page_size)
    ).scalars().all()
    return list(items), total
