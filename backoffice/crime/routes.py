"""HTTP routes of crime reports.

The assistant's API, under ``/api/v1/crime-reports`` (``Authorization: Bearer
<BACKOFFICE_API_KEY>``, JSON bodies, conversation ids never in URLs):

- ``POST ""`` (``Idempotency-Key`` header) {crime_type, facts, unknown_facts,
  language, channel, conversation_id, declaration_accepted, declaration_version}
  -> 201 {folio, status, crime_type, filed_datetime} (200 when the key replays)
- ``POST status`` {conversation_id, folio} -> {folio, status, crime_type, pending_question}
- ``POST info`` {conversation_id, folio, text} -> {folio, status}
- ``POST download-link`` {conversation_id, folio} -> {url, expires_at}

Refusals answer {"detail", "reason"}: 409 not_signed_in / second_factor_required /
declaration_outdated / not_accepted / no_question_pending, 422 for facts, 404 for
a folio the conversation may not see (the same answer as for an unknown one).

The prosecutor's office, under ``/staff/api/crime-reports`` (``Authorization:
Bearer <PROSECUTOR_TOKEN>``; the 311 staff token does not open these):
``GET ?status=``, ``GET {folio}``, ``POST {folio}/accept`` {note},
``POST {folio}/request-info`` {question}, ``GET {folio}/pdf``.

Public: ``GET /crime/download/{token}`` (the author's link), ``GET
/crime/signing-key``, ``POST /crime/verify`` (body: a PDF).
"""
from __future__ import annotations

import hmac
import logging
from datetime import datetime, timezone
from typing import Any, Dict, List, Literal, Optional, Union

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, StrictBool, StrictInt, StrictStr, constr
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice.crime import service, signing
from backoffice.crime.models import ACCEPTED, STATUSES, CrimeReport
from backoffice.deps import app_settings, db_session
from backoffice.identity.routes import require_assistant
from backoffice.timeutil import to_local_iso
from common.settings import Settings

log = logging.getLogger(__name__)

_bearer = HTTPBearer(auto_error=False)
# Download links carry their token in the path: access logs must not show it.
DOWNLOAD_PREFIX = "/crime/download/"
MAX_PDF_UPLOAD = 5 * 1024 * 1024


def require_prosecutor(
    credentials: Optional[HTTPAuthorizationCredentials] = Depends(_bearer),
    settings: Settings = Depends(app_settings),
) -> None:
    token = credentials.credentials if credentials else ""
    if not token or not hmac.compare_digest(token.encode("utf-8"), settings.prosecutor_token.encode("utf-8")):
        raise HTTPException(
            status_code=401,
            detail="the prosecutor's office bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )


api = APIRouter(prefix="/api/v1/crime-reports", tags=["crime reports"], dependencies=[Depends(require_assistant)])
staff = APIRouter(prefix="/staff/api/crime-reports", tags=["staff"], dependencies=[Depends(require_prosecutor)])
public = APIRouter(prefix="/crime", tags=["crime reports"])

ConversationId = constr(min_length=1, max_length=255)
Folio = constr(regex=r"^DEN-\d{6}$")
FactValue = Union[StrictBool, StrictInt, StrictStr, Dict[str, Union[StrictBool, StrictStr, None]]]


class _Body(BaseModel):
    class Config:
        extra = "forbid"


class ReportIn(_Body):
    crime_type: StrictStr
    facts: Dict[StrictStr, FactValue]
    unknown_facts: List[StrictStr] = []
    language: constr(regex=r"^(es|en)$") = "es"
    channel: Optional[constr(max_length=50)] = None
    conversation_id: ConversationId
    declaration_accepted: StrictBool
    declaration_version: StrictStr


class ReportRef(_Body):
    conversation_id: ConversationId
    folio: Folio


class InfoIn(ReportRef):
    text: constr(min_length=1, max_length=service.MAX_TEXT)


class AcceptIn(_Body):
    note: Optional[constr(max_length=2000)] = None


class QuestionIn(_Body):
    question: constr(min_length=3, max_length=2000)


def refusal(error: service.Refused) -> JSONResponse:
    return JSONResponse({"detail": error.detail, "reason": error.reason}, status_code=error.status_code)


def _not_found() -> JSONResponse:
    return JSONResponse({"detail": "no such report for this conversation", "reason": "not_found"}, status_code=404)


def _residents_report(session: Session, ref: ReportRef, *, signed_in: bool) -> Optional[CrimeReport]:
    report = service.by_folio(session, ref.folio)
    if report is None or not service.resident_may_read(session, report, ref.conversation_id, signed_in=signed_in):
        return None
    return report


# ------------------------------------------------------------- the assistant's API


@api.post("", status_code=201)
def file_report(
    body: ReportIn,
    idempotency_key: Optional[str] = Header(None, max_length=255),
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    if not body.declaration_accepted:
        return refusal(service.Refused(409, "declaration_required", "the resident did not accept the declaration"))
    try:
        report, replayed = service.file_report(
            session,
            service.NewReport(
                crime_type=body.crime_type,
                facts=dict(body.facts),
                unknown_facts=list(body.unknown_facts),
                language=body.language,
                channel=body.channel,
                conversation_id=body.conversation_id,
                declaration_version=body.declaration_version,
                idempotency_key=idempotency_key or None,
            ),
        )
    except service.Refused as error:
        log.info("crime report refused: %s", error.reason)
        return refusal(error)
    return JSONResponse(
        {
            "folio": report.folio,
            "status": report.status,
            "crime_type": report.crime_type,
            "filed_datetime": to_local_iso(report.filed_at, settings.timezone),
        },
        status_code=200 if replayed else 201,
        headers={"Idempotent-Replayed": "true"} if replayed else None,
    )


@api.post("/status")
def report_status(body: ReportRef, session: Session = Depends(db_session)):
    report = _residents_report(session, body, signed_in=False)
    if report is None:
        return _not_found()
    return {
        "folio": report.folio,
        "status": report.status,
        "crime_type": report.crime_type,
        "pending_question": service.pending_question(report),
    }


@api.post("/info")
def add_info(body: InfoIn, session: Session = Depends(db_session)):
    report = _residents_report(session, body, signed_in=False)
    if report is None:
        return _not_found()
    try:
        service.add_info(session, report, body.text)
    except service.Refused as error:
        return refusal(error)
    return {"folio": report.folio, "status": report.status}


@api.post("/download-link")
def download_link(body: ReportRef, session: Session = Depends(db_session), settings: Settings = Depends(app_settings)):
    report = service.by_folio(session, body.folio)
    if report is None or not service.resident_may_read(session, report, body.conversation_id, signed_in=False):
        return _not_found()
    # Reading the signed report itself needs the author signed in, not just the chat it was filed from.
    if not service.resident_may_read(session, report, body.conversation_id, signed_in=True):
        return refusal(service.Refused(409, "not_signed_in", "sign in as the report's author to download it"))
    if report.status != ACCEPTED or report.pdf is None:
        return refusal(service.Refused(409, "not_accepted", "the report has not been accepted yet"))
    token, expires = signing.download_token(settings, report.folio, settings.crime_download_ttl)
    url = f"{settings.backoffice_public_url.rstrip('/')}{DOWNLOAD_PREFIX}{token}"
    expires_at = datetime.fromtimestamp(expires, tz=timezone.utc)
    return {"url": url, "expires_at": to_local_iso(expires_at, settings.timezone)}


# -------------------------------------------------------- the prosecutor's office


def _found(session: Session, folio: str) -> CrimeReport:
    report = service.by_folio(session, folio)
    if report is None:
        raise HTTPException(status_code=404, detail=f"unknown crime report {folio}")
    return report


@staff.get("")
def list_reports(
    status: Optional[Literal[STATUSES]] = None,  # type: ignore[valid-type]
    limit: int = Query(100, ge=1, le=500),
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    query = select(CrimeReport).order_by(CrimeReport.id.desc()).limit(limit)
    if status:
        query = query.where(CrimeReport.status == status)
    return [service.summary_document(r, settings.timezone) for r in session.execute(query).scalars()]


@staff.get("/{folio}")
def read_report(folio: str, session: Session = Depends(db_session), settings: Settings = Depends(app_settings)):
    return service.staff_document(_found(session, folio), settings.timezone)


@staff.post("/{folio}/accept")
def accept_report(
    folio: str,
    body: AcceptIn = AcceptIn(),
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    report = service.accept(session, settings, _found(session, folio), body.note)
    session.refresh(report)
    return service.staff_document(report, settings.timezone)


@staff.post("/{folio}/request-info")
def request_info(
    folio: str, body: QuestionIn, session: Session = Depends(db_session), settings: Settings = Depends(app_settings)
):
    try:
        report = service.request_info(session, settings, _found(session, folio), body.question)
    except service.Refused as error:
        return refusal(error)
    session.refresh(report)
    return service.staff_document(report, settings.timezone)


def _pdf_response(report: CrimeReport) -> Response:
    return Response(
        report.pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="denuncia-{report.folio}.pdf"',
            "Cache-Control": "no-store",
            "X-Signature-Algorithm": signing.ALGORITHM,
            "X-Signature-Key-Id": report.signing_key_id or "",
            "X-Signature": report.pdf_signature or "",
        },
    )


@staff.get("/{folio}/pdf")
def staff_pdf(folio: str, session: Session = Depends(db_session)):
    report = _found(session, folio)
    if report.pdf is None:
        raise HTTPException(status_code=409, detail="the report has not been accepted yet")
    return _pdf_response(report)


# ------------------------------------------------------------------------ public


@public.get("/download/{token}")
def download(token: str, session: Session = Depends(db_session), settings: Settings = Depends(app_settings)):
    folio = signing.folio_of_token(settings, token)
    report = service.by_folio(session, folio) if folio else None
    if report is None or report.pdf is None:
        # Expired, forged and unknown links get the same answer.
        raise HTTPException(status_code=404, detail="this download link is not valid (it may have expired)")
    log.info("crime report %s downloaded with a link", report.folio)
    return _pdf_response(report)


@public.get("/signing-key")
def signing_key(settings: Settings = Depends(app_settings)):
    signer = signing.signer(settings)
    return {
        "algorithm": signing.ALGORITHM,
        "key_id": signer.key_id,
        "public_key_pem": signer.public_pem(),
        "development_key": signer.development,
    }


@public.post("/verify")
async def verify(
    request: Request,
    x_signature: Optional[str] = Header(None, max_length=200),
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
) -> Dict[str, Any]:
    """Is this PDF one the prosecutor's office signed? Checks the signature sent in
    X-Signature if any, else the one stored for a document with these exact bytes."""
    content = await request.body()
    if not content or len(content) > MAX_PDF_UPLOAD:
        raise HTTPException(status_code=400, detail="send the PDF's bytes as the request body (up to 5 MB)")
    digest = signing.sha256_hex(content)
    signer = signing.signer(settings)
    report = session.execute(select(CrimeReport).where(CrimeReport.pdf_sha256 == digest)).scalar_one_or_none()
    signature = x_signature or (report.pdf_signature if report else None)
    valid = bool(signature) and signer.verify(content, signature)
    if report is not None and report.signing_key_id != signer.key_id:
        valid = False  # signed with a key this back office no longer holds
    return {
        "valid": valid,
        "sha256": digest,
        "key_id": signer.key_id,
        "folio": report.folio if (valid and report) else None,
        "accepted_datetime": to_local_iso(report.accepted_at, settings.timezone) if (valid and report) else None,
    }


# ------------------------------------------------------------------- installing


class RedactDownloadTokens(logging.Filter):
    """uvicorn logs each request's path: keep download tokens out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and args[2].startswith(DOWNLOAD_PREFIX):
            record.args = args[:2] + (DOWNLOAD_PREFIX + "…",) + args[3:]
        return True


_filter = RedactDownloadTokens()


def install(app) -> None:
    app.include_router(api)
    app.include_router(staff)
    app.include_router(public)
    access = logging.getLogger("uvicorn.access")
    if _filter not in access.filters:
        access.addFilter(_filter)
    signing.signer(app.state.settings)  # a bad CRIME_SIGNING_KEY stops the start, not the first acceptance
