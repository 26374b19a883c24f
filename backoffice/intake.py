"""Filing a 311 request: folio, idempotent retries and duplicate linking."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.catalogue import ServiceType
from backoffice.folios import folio_for
from backoffice.geo import bounding_box, haversine_m, normalize_address
from backoffice.models import OPEN, ServiceRequest, StatusChange
from backoffice.timeutil import utcnow

log = logging.getLogger(__name__)

# Told to whoever files a request that joins an existing one (Open311 service_notice).
DUPLICATE_NOTICE = (
    "Ya existe un reporte abierto de este tipo en el mismo lugar ({folio}); "
    "este reporte quedó vinculado a él."
)


@dataclass(frozen=True)
class NewRequest:
    """A validated submission (see open311/submission.py)."""

    service: ServiceType
    description: str
    lat: Optional[float] = None
    long: Optional[float] = None
    address_string: Optional[str] = None
    alcaldia: Optional[str] = None
    media_url: Optional[str] = None
    email: Optional[str] = None
    phone: Optional[str] = None
    first_name: Optional[str] = None
    last_name: Optional[str] = None
    channel: Optional[str] = None
    conversation_id: Optional[str] = None
    idempotency_key: Optional[str] = None
    # Set by the back office from a signed-in conversation, never from the submitted fields.
    verified_subject: Optional[str] = None


@dataclass(frozen=True)
class Filing:
    request: ServiceRequest
    # True when an earlier submission with the same idempotency key is returned.
    replayed: bool


def find_by_idempotency_key(session: Session, key: str) -> Optional[ServiceRequest]:
    return session.execute(
        select(ServiceRequest).where(ServiceRequest.idempotency_key == key)
    ).scalar_one_or_none()


def find_duplicate_parent(
    session: Session,
    service_code: str,
    lat: Optional[float],
    long: Optional[float],
    address_key: Optional[str],
    radius_m: float,
) -> Optional[ServiceRequest]:
    """The oldest open, unlinked request of the same type at the same place, if any."""
    base = select(ServiceRequest).where(
        ServiceRequest.service_code == service_code,
        ServiceRequest.status == OPEN,
        # Link to the original, never to another duplicate: one level keeps the picture simple.
        ServiceRequest.parent_request_id.is_(None),
    )
    candidates: list[ServiceRequest] = []
    if lat is not None and long is not None:
        min_lat, max_lat, min_lon, max_lon = bounding_box(lat, long, radius_m)
        near_box = session.execute(
            base.where(
                ServiceRequest.lat.between(min_lat, max_lat),
                ServiceRequest.long.between(min_lon, max_lon),
            )
        ).scalars()
        candidates.extend(r for r in near_box if haversine_m(lat, long, r.lat, r.long) <= radius_m)
    if address_key:
        candidates.extend(
            session.execute(base.where(ServiceRequest.address_key == address_key)).scalars()
        )
    return min(candidates, key=lambda r: r.id) if candidates else None


def file_request(session: Session, new: NewRequest, radius_m: float) -> Filing:
    """Store a request and commit; a known idempotency key returns the stored one instead."""
    key = new.idempotency_key
    if key:
        existing = find_by_idempotency_key(session, key)
        if existing is not None:
            return Filing(existing, replayed=True)
    try:
        request = _insert(session, new, radius_m)
        session.commit()
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its request.
        session.rollback()
        existing = find_by_idempotency_key(session, key) if key else None
        if existing is None:
            raise
        return Filing(existing, replayed=True)
    log.info(
        "filed service request folio=%s service_code=%s duplicate_of=%s",
        request.folio,
        request.service_code,
        request.parent.folio if request.parent else None,
    )
    return Filing(request, replayed=False)


def _insert(session: Session, new: NewRequest, radius_m: float) -> ServiceRequest:
    now = utcnow()
    address_key = normalize_address(new.address_string)
    parent = find_duplicate_parent(
        session, new.service.code, new.lat, new.long, address_key, radius_m
    )
    request = ServiceRequest(
        service_code=new.service.code,
        status=OPEN,
        agency_responsible=new.service.agency,
        description=new.description,
        lat=new.lat,
        long=new.long,
        address_string=new.address_string,
        address_key=address_key,
        alcaldia=new.alcaldia,
        media_url=new.media_url,
        email=new.email,
        phone=new.phone,
        first_name=new.first_name,
        last_name=new.last_name,
        channel=new.channel,
        conversation_id=new.conversation_id,
        verified_subject=new.verified_subject,
        idempotency_key=new.idempotency_key,
        parent=parent,
        service_notice=DUPLICATE_NOTICE.format(folio=parent.folio) if parent else None,
        requested_at=now,
        updated_at=now,
    )
    session.add(request)
    # The folio comes from the id the database's sequence hands out.
    session.flush()
    request.folio = folio_for(request.id)
    session.add(
        StatusChange(request=request, status=OPEN, agency=request.agency_responsible, changed_at=now)
    )
    session.flush()
    return request
