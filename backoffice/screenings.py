"""COVID-19 screenings: the assistant stores each completed one; staff read daily counts.

- `POST /api/v1/screenings` (the assistant's api_key, like Open311 POST): one
  completed screening. An `Idempotency-Key` header makes a retry answer with
  the screening already stored instead of storing it twice.
- `GET /staff/api/screenings/stats?start=&end=` (staff bearer token): counts
  by level and by day, days being the city's calendar days.

A record carries no name, phone number, conversation id or exact age, and
the body is refused when it tries to: unknown fields are errors, answers
must be option codes of the protocol's questions (never free text), and the
age only arrives as a band (common/screening.py).
"""
from __future__ import annotations

import hmac
import logging
from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Union
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool, StrictStr, validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backoffice.deps import app_settings, db_session
from backoffice.models import Screening
from backoffice.staff.auth import require_staff
from backoffice.timeutil import to_local_iso, utcnow
from common import citypack
from common.screening import AGE_BAND_LABELS, ANSWER_CODE
from common.settings import Settings

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1", tags=["screenings"])
staff_router = APIRouter(prefix="/staff/api/screenings", tags=["staff"], dependencies=[Depends(require_staff)])

# The age is stored as a band, never as a number of years.
EXCLUDED_ANSWERS = frozenset({"age"})
MAX_STATS_DAYS = 366
DEFAULT_STATS_DAYS = 30
# Clocks of the action server and the back office may differ a little.
CLOCK_SKEW = timedelta(minutes=10)

Answer = Union[StrictBool, StrictStr, List[StrictStr], None]


def protocol_levels() -> List[str]:
    """The levels of the city pack's triage protocol, in the protocol's order."""
    return [str(rule["level"]) for rule in citypack.load("triage")["rules"]]


def protocol_questions() -> List[str]:
    return [str(question["id"]) for question in citypack.load("triage")["questions"]]


class ScreeningIn(BaseModel):
    api_key: Optional[str] = None
    level: StrictStr
    protocol_version: StrictStr = Field(..., min_length=1, max_length=64)
    age_band: Optional[StrictStr] = None
    alcaldia: Optional[StrictStr] = Field(None, max_length=100)
    channel: Optional[StrictStr] = Field(None, max_length=50)
    answers: Dict[StrictStr, Answer]
    started_at: Optional[datetime] = None
    completed_at: Optional[datetime] = None

    class Config:
        # A name, phone or conversation id sent by mistake is refused, not silently dropped.
        extra = "forbid"

    @validator("level")
    def _known_level(cls, value: str) -> str:
        if value not in protocol_levels():
            raise ValueError(f"unknown level; known: {', '.join(protocol_levels())}")
        return value

    @validator("age_band")
    def _known_band(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value not in AGE_BAND_LABELS:
            raise ValueError(f"age_band must be one of {', '.join(AGE_BAND_LABELS)}")
        return value

    @validator("answers")
    def _coded_answers(cls, value: Dict[str, Any]) -> Dict[str, Any]:
        allowed = [q for q in protocol_questions() if q not in EXCLUDED_ANSWERS]
        for key, answer in value.items():
            if key not in allowed:
                raise ValueError(f"{key!r} is not a stored answer; allowed: {', '.join(allowed)}")
            codes = answer if isinstance(answer, list) else [answer]
            for code in codes:
                if isinstance(code, str) and not ANSWER_CODE.match(code):
                    raise ValueError(f"answer {key!r} must be option codes, not free text")
        return value


def _aware(value: Optional[datetime], tz_name: str) -> Optional[datetime]:
    """A time without an offset is city time (as elsewhere in the back office)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(tz_name))
    return value.astimezone(timezone.utc)


def screening_document(item: Screening, tz: str) -> Dict[str, Any]:
    return {
        "id": item.id,
        "level": item.level,
        "protocol_version": item.protocol_version,
        "age_band": item.age_band,
        "alcaldia": item.alcaldia,
        "channel": item.channel,
        "answers": item.answers,
        "started_datetime": to_local_iso(item.started_at, tz),
        "completed_datetime": to_local_iso(item.completed_at, tz),
        "received_datetime": to_local_iso(item.received_at, tz),
        "day": item.day.isoformat(),
    }


def _by_key(session: Session, key: str) -> Optional[Screening]:
    return session.execute(select(Screening).where(Screening.idempotency_key == key)).scalar_one_or_none()


def store_screening(session: Session, body: ScreeningIn, key: Optional[str], tz: str) -> tuple[Screening, bool]:
    """Store and commit; (screening, replayed). A known key returns the stored screening."""
    if key:
        existing = _by_key(session, key)
        if existing is not None:
            return existing, True
    now = utcnow()
    completed = _aware(body.completed_at, tz) or now
    started = _aware(body.started_at, tz)
    if completed > now + CLOCK_SKEW:
        raise HTTPException(status_code=400, detail="completed_at is in the future")
    if started is not None and started > completed:
        raise HTTPException(status_code=400, detail="started_at is after completed_at")
    item = Screening(
        level=body.level,
        protocol_version=body.protocol_version,
        age_band=body.age_band,
        alcaldia=body.alcaldia,
        channel=body.channel,
        answers=body.answers,
        started_at=started,
        completed_at=completed,
        received_at=now,
        day=completed.astimezone(ZoneInfo(tz)).date(),
        idempotency_key=key,
    )
    session.add(item)
    try:
        session.commit()
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its screening.
        session.rollback()
        existing = _by_key(session, key) if key else None
        if existing is None:
            raise
        return existing, True
    log.info("stored screening id=%s level=%s protocol=%s", item.id, item.level, item.protocol_version)
    return item, False


@router.post("/screenings")
def post_screening(
    body: ScreeningIn,
    idempotency_key: Optional[str] = Header(None, max_length=255),
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    api_key = body.api_key or ""
    if not hmac.compare_digest(api_key.encode("utf-8"), settings.backoffice_api_key.encode("utf-8")):
        raise HTTPException(status_code=403, detail="invalid or missing api_key")
    item, replayed = store_screening(session, body, idempotency_key or None, settings.timezone)
    # 201 for a new screening; a replayed key answers 200 with the one it stored.
    return JSONResponse(
        screening_document(item, settings.timezone),
        status_code=200 if replayed else 201,
        headers={"Idempotent-Replayed": "true"} if replayed else None,
    )


@staff_router.get("/stats")
def screening_stats(
    start: Optional[date] = Query(None, description="first day (YYYY-MM-DD, city time), inclusive"),
    end: Optional[date] = Query(None, description="last day (YYYY-MM-DD, city time), inclusive"),
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    """Completed screenings by level and by the city's calendar day; every day and level listed, zeros included."""
    today = utcnow().astimezone(ZoneInfo(settings.timezone)).date()
    end = end or today
    start = start or end - timedelta(days=DEFAULT_STATS_DAYS - 1)
    if start > end:
        raise HTTPException(status_code=400, detail="start is after end")
    if (end - start).days + 1 > MAX_STATS_DAYS:
        raise HTTPException(status_code=400, detail=f"at most {MAX_STATS_DAYS} days at a time")
    rows = session.execute(
        select(Screening.day, Screening.level, func.count(Screening.id))
        .where(Screening.day >= start, Screening.day <= end)
        .group_by(Screening.day, Screening.level)
    ).all()
    levels = protocol_levels()
    # Levels of older protocol versions still count.
    levels += sorted({level for _, level, _ in rows} - set(levels))
    counts: Dict[date, Dict[str, int]] = {}
    for day, level, count in rows:
        counts.setdefault(day, {})[level] = int(count)
    days = []
    totals = dict.fromkeys(levels, 0)
    for offset in range((end - start).days + 1):
        day = start + timedelta(days=offset)
        by_level = {level: counts.get(day, {}).get(level, 0) for level in levels}
        for level, count in by_level.items():
            totals[level] += count
        days.append({"date": day.isoformat(), "counts": by_level, "total": sum(by_level.values())})
    return {
        "timezone": settings.timezone,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "levels": levels,
        "days": days,
        "totals": totals,
        "total": sum(totals.values()),
    }
