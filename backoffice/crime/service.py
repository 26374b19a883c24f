"""Filing and reviewing crime reports.

Filing trusts nothing the assistant says about who the resident is: the
author is the person the conversation is signed in as (identity links), and
the filing must be authorised by a one-time code that conversation had
accepted in the last few minutes and that no other report used.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Dict, List, Optional, Tuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from backoffice.crime import notify, pdf, signing
from backoffice.crime.models import (
    ACCEPTED,
    ACCEPTED_EVENT,
    FILED,
    INFO_ADDED,
    INFO_ASKED,
    INFO_REQUESTED,
    SUBMITTED,
    CrimeReport,
    CrimeReportEvent,
)
from backoffice.identity import codes, store
from backoffice.models import IdentityLink, VerificationCode
from backoffice.timeutil import to_local_iso, utcnow
from common import crime_report
from common.settings import Settings

log = logging.getLogger(__name__)

FOLIO_PREFIX = "DEN-"
# How recent the accepted one-time code must be when the report is filed.
SECOND_FACTOR_WINDOW = timedelta(minutes=15)
MAX_TEXT = 2000
MAX_DESCRIPTION = 10_000
AMOUNT_FIELDS_VALIDATORS = ("amount",)


class Refused(Exception):
    """A refusal with an HTTP status, a stable reason and a message without content."""

    def __init__(self, status_code: int, reason: str, detail: str):
        super().__init__(detail)
        self.status_code = status_code
        self.reason = reason
        self.detail = detail


def folio_for(report_id: int) -> str:
    return f"{FOLIO_PREFIX}{report_id:06d}"


# ------------------------------------------------------------------ checking facts


def _check_value(crime_type: str, spec: Dict[str, Any], value: Any) -> Any:
    field, validator = spec["field"], spec["validator"]

    def bad(what: str) -> Refused:
        return Refused(422, "invalid_fact", f"fact {field!r}: {what}")

    if field == "when":
        if not isinstance(value, dict) or not isinstance(value.get("date"), str):
            raise bad("expected {date, time, part_of_day, approximate}")
        try:
            day = date.fromisoformat(value["date"])
        except ValueError:
            raise bad("date must be YYYY-MM-DD") from None
        time = value.get("time")
        if time is not None and (not isinstance(time, str) or len(time) != 5 or time[2] != ":"):
            raise bad("time must be HH:MM")
        if day > utcnow().date() + timedelta(days=1):
            raise bad("the date is in the future")
        return {
            "date": day.isoformat(),
            "time": time,
            "part_of_day": value.get("part_of_day") if isinstance(value.get("part_of_day"), str) else None,
            "approximate": bool(value.get("approximate")),
        }
    if validator == "amount":
        if not isinstance(value, dict) or "value" not in value:
            raise bad("expected {value, currency}")
        return {"value": str(value["value"])[:32], "currency": str(value.get("currency") or "MXN")[:3]}
    if validator == "yes_no":
        if not isinstance(value, bool):
            raise bad("expected true or false")
        return value
    if validator == "year":
        if not isinstance(value, int) or isinstance(value, bool) or not 1900 <= value <= 2100:
            raise bad("expected a year")
        return value
    if not isinstance(value, str) or not value.strip():
        raise bad("expected text")
    limit = MAX_DESCRIPTION if field == "description" else MAX_TEXT
    if len(value) > limit:
        raise bad(f"longer than {limit} characters")
    return value


def check_facts(crime_type: str, facts: Dict[str, Any], unknown: List[str]) -> Tuple[Dict[str, Any], List[str]]:
    """The facts as stored, or Refused: only the type's fields, required ones present."""
    if crime_type not in crime_report.online_types():
        raise Refused(422, "unknown_crime_type", "crime_type is not one of the types filed online")
    specs = {spec["field"]: spec for spec in crime_report.facts_for(crime_type)}
    extra = (set(facts) | set(unknown)) - set(specs)
    if extra:
        raise Refused(422, "unknown_fact", f"not facts of {crime_type}: {', '.join(sorted(extra))}")
    if set(facts) & set(unknown):
        raise Refused(422, "invalid_fact", "a fact cannot be both given and unknown")
    checked = {field: _check_value(crime_type, specs[field], value) for field, value in facts.items()}
    for field, spec in specs.items():
        if not spec.get("required") or field in checked:
            continue
        if field in unknown and spec.get("if_unknown") == "allow":
            continue
        raise Refused(422, "missing_fact", f"{crime_type} needs {field!r}")
    return checked, sorted(unknown)


# ------------------------------------------------------------------- filing


@dataclass(frozen=True)
class NewReport:
    crime_type: str
    facts: Dict[str, Any]
    unknown_facts: List[str]
    language: str
    channel: Optional[str]
    conversation_id: str
    declaration_version: str
    idempotency_key: Optional[str]


def by_folio(session: Session, folio: str) -> Optional[CrimeReport]:
    return session.execute(
        select(CrimeReport).options(selectinload(CrimeReport.events)).where(CrimeReport.folio == folio)
    ).scalar_one_or_none()


def _by_key(session: Session, key: str) -> Optional[CrimeReport]:
    return session.execute(select(CrimeReport).where(CrimeReport.idempotency_key == key)).scalar_one_or_none()


def _second_factor(session: Session, link: IdentityLink) -> Optional[VerificationCode]:
    """The conversation's most recent accepted code, if recent, for this person and unused."""
    row = session.execute(
        select(VerificationCode)
        .where(VerificationCode.conversation_id == link.conversation_id)
        .order_by(VerificationCode.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None or row.closed_reason != codes.USED or row.subject != link.subject or row.closed_at is None:
        return None
    if utcnow() - row.closed_at > SECOND_FACTOR_WINDOW:
        return None
    used = session.execute(select(CrimeReport.id).where(CrimeReport.second_factor_id == row.id)).first()
    return None if used else row


def file_report(session: Session, new: NewReport) -> Tuple[CrimeReport, bool]:
    """Store and commit a report; (report, replayed). Raises Refused."""
    if new.idempotency_key:
        existing = _by_key(session, new.idempotency_key)
        if existing is not None:
            if existing.conversation_id != new.conversation_id:
                raise Refused(409, "idempotency_key_reused", "the idempotency key belongs to another conversation")
            return existing, True
    facts, unknown = check_facts(new.crime_type, new.facts, new.unknown_facts)
    if new.declaration_version != crime_report.declaration_version():
        raise Refused(409, "declaration_outdated", "the declaration the resident accepted is not the current one")
    link = store.active_link(session, new.conversation_id)
    if link is None:
        raise Refused(409, "not_signed_in", "the conversation is not signed in")
    second_factor = _second_factor(session, link)
    if second_factor is None:
        raise Refused(409, "second_factor_required", "no recent one-time code was accepted in this conversation")

    now = utcnow()
    when = facts.get("when") or {}
    language = new.language if new.language in crime_report.LANGUAGES else "es"
    report = CrimeReport(
        crime_type=new.crime_type,
        status=SUBMITTED,
        language=language,
        facts=facts,
        unknown_facts=unknown,
        description=facts.get("description") or "",
        occurred_date=date.fromisoformat(when["date"]) if when.get("date") else None,
        occurred_time=when.get("time"),
        place=facts.get("place"),
        alcaldia=facts.get("alcaldia"),
        author_issuer=link.issuer,
        author_subject=link.subject,
        author_name=link.name,
        author_curp=link.curp,
        author_email=link.email,
        author_phone=link.phone,
        channel=new.channel,
        conversation_id=new.conversation_id,
        declaration_text=crime_report.declaration(language),
        declared_at=now,
        second_factor_id=second_factor.id,
        filed_at=now,
        updated_at=now,
        idempotency_key=new.idempotency_key,
    )
    session.add(report)
    try:
        session.flush()
        report.folio = folio_for(report.id)
        session.add(CrimeReportEvent(report=report, kind=FILED, created_at=now))
        session.commit()
    except IntegrityError:
        session.rollback()
        existing = _by_key(session, new.idempotency_key) if new.idempotency_key else None
        if existing is not None and existing.conversation_id == new.conversation_id:
            return existing, True
        # The one-time code was used by a concurrent filing.
        raise Refused(409, "second_factor_required", "the one-time code was already used") from None
    log.info("crime report %s filed (%s)", report.folio, report.crime_type)
    return report, False


# ------------------------------------------------------------------ documents


def pending_question(report: CrimeReport) -> Optional[str]:
    if report.status != INFO_REQUESTED:
        return None
    asked = [e for e in report.events if e.kind == INFO_ASKED]
    return asked[-1].text if asked else None


def additional_information(report: CrimeReport, tz: str) -> List[Dict[str, Any]]:
    """Questions the prosecutor's office asked and the resident's answers, in order."""
    items: List[Dict[str, Any]] = []
    for event in report.events:
        if event.kind == INFO_ASKED:
            items.append({"question": event.text, "asked_datetime": to_local_iso(event.created_at, tz),
                          "answer": None, "answered_datetime": None})
        elif event.kind == INFO_ADDED:
            if items and items[-1]["answer"] is None:
                items[-1].update(answer=event.text, answered_datetime=to_local_iso(event.created_at, tz))
            else:
                items.append({"question": None, "asked_datetime": None, "answer": event.text,
                              "answered_datetime": to_local_iso(event.created_at, tz)})
    return items


def report_document(report: CrimeReport, tz: str) -> Dict[str, Any]:
    """Everything the report says: what staff read, and (once accepted) what is signed."""
    return {
        "folio": report.folio,
        "crime_type": report.crime_type,
        "crime_type_name": crime_report.type_name(report.crime_type, "es"),
        "status": report.status,
        "language": report.language,
        "filed_datetime": to_local_iso(report.filed_at, tz),
        "accepted_datetime": to_local_iso(report.accepted_at, tz),
        "declarant": {
            "issuer": report.author_issuer,
            "subject": report.author_subject,
            "name": report.author_name,
            "curp": report.author_curp,
            "email": report.author_email,
            "phone": report.author_phone,
        },
        "occurred": {"date": report.occurred_date.isoformat() if report.occurred_date else None,
                     "time": report.occurred_time},
        "place": report.place,
        "alcaldia": report.alcaldia,
        "facts": report.facts,
        "unknown_facts": report.unknown_facts,
        "description": report.description,
        "additional_information": additional_information(report, tz),
        "declaration": {"text": report.declaration_text, "accepted_datetime": to_local_iso(report.declared_at, tz)},
    }


def staff_document(report: CrimeReport, tz: str) -> Dict[str, Any]:
    document = report_document(report, tz)
    document.update(
        channel=report.channel,
        pending_question=pending_question(report),
        signature=(
            {
                "algorithm": signing.ALGORITHM,
                "key_id": report.signing_key_id,
                "data_sha256": report.data_sha256,
                "data_signature": report.data_signature,
                "pdf_sha256": report.pdf_sha256,
                "pdf_signature": report.pdf_signature,
            }
            if report.status == ACCEPTED
            else None
        ),
        history=[
            {
                "kind": e.kind,
                "text": e.text,
                "datetime": to_local_iso(e.created_at, tz),
                "notification_status": e.notification_status,
                "notification_error": e.notification_error,
            }
            for e in report.events
        ],
    )
    return document


def summary_document(report: CrimeReport, tz: str) -> Dict[str, Any]:
    """A list entry: no content, only what a queue needs."""
    return {
        "folio": report.folio,
        "crime_type": report.crime_type,
        "status": report.status,
        "alcaldia": report.alcaldia,
        "filed_datetime": to_local_iso(report.filed_at, tz),
        "updated_datetime": to_local_iso(report.updated_at, tz),
    }


# ------------------------------------------------------------------- review


def _notify(session: Session, settings: Settings, report: CrimeReport, event: CrimeReportEvent, intent: str) -> None:
    error = notify.trigger_intent(settings, report.conversation_id, intent, {"folio": report.folio})
    event.notification_status = "failed" if error else "sent"
    event.notification_error = error
    session.commit()
    if error:
        log.warning("crime report %s: the resident could not be told (%s): %s", report.folio, event.kind, error)
    else:
        log.info("crime report %s: resident told (%s)", report.folio, event.kind)


def accept(session: Session, settings: Settings, report: CrimeReport, note: Optional[str]) -> CrimeReport:
    """Accept, sign, store the PDF, tell the resident. Accepting twice changes nothing."""
    if report.status == ACCEPTED:
        return report
    now = utcnow()
    signer = signing.signer(settings)
    report.status = ACCEPTED
    report.accepted_at = now
    report.updated_at = now
    event = CrimeReportEvent(report=report, kind=ACCEPTED_EVENT, text=note, created_at=now)
    session.add(event)
    session.flush()
    document = report_document(report, settings.timezone)
    document["signing_key_id"] = signer.key_id
    data = signing.canonical_json(document)
    report.data_sha256 = signing.sha256_hex(data)
    report.data_signature = signer.sign(data)
    report.signing_key_id = signer.key_id
    content = pdf.render(document, report.data_sha256, report.data_signature, signer.key_id, settings)
    report.pdf = content
    report.pdf_sha256 = signing.sha256_hex(content)
    report.pdf_signature = signer.sign(content)
    session.commit()
    log.info("crime report %s accepted and signed (key %s)", report.folio, signer.key_id)
    _notify(session, settings, report, event, notify.ACCEPTED_INTENT)
    return report


def request_info(session: Session, settings: Settings, report: CrimeReport, question: str) -> CrimeReport:
    if report.status == ACCEPTED:
        raise Refused(409, "already_accepted", "an accepted report is closed")
    now = utcnow()
    report.status = INFO_REQUESTED
    report.updated_at = now
    event = CrimeReportEvent(report=report, kind=INFO_ASKED, text=question, created_at=now)
    session.add(event)
    session.commit()
    log.info("crime report %s: missing facts asked for", report.folio)
    _notify(session, settings, report, event, notify.INFO_REQUESTED_INTENT)
    return report


def add_info(session: Session, report: CrimeReport, answer: str) -> CrimeReport:
    if report.status != INFO_REQUESTED:
        raise Refused(409, "no_question_pending", "the prosecutor's office is not waiting for an answer")
    now = utcnow()
    report.status = SUBMITTED
    report.updated_at = now
    session.add(CrimeReportEvent(report=report, kind=INFO_ADDED, text=answer, created_at=now))
    session.commit()
    log.info("crime report %s: the resident answered", report.folio)
    return report


def resident_may_read(session: Session, report: CrimeReport, conversation_id: str, *, signed_in: bool) -> bool:
    """The author: the conversation it was filed from, or any conversation signed in as its author.
    With `signed_in`, only a conversation signed in as the author counts."""
    link = store.active_link(session, conversation_id)
    if link is not None and link.subject == report.author_subject and link.issuer == report.author_issuer:
        return True
    return not signed_in and conversation_id == report.conversation_id
