"""HTTP routes of the identity package.

The assistant's API, under ``/api/v1/identity/`` (JSON bodies, never ids in
URLs, since URLs end up in access logs; ``Authorization: Bearer
<BACKOFFICE_API_KEY>``):

- ``POST sign-in-links`` {channel, conversation_id, language} -> 201 {url, expires_at}
- ``POST lookup`` {conversation_id} -> 200 the verified profile | 404
- ``POST sign-out`` {conversation_id} -> 200 {signed_out}
- ``POST codes`` {conversation_id, language} -> 201 {via, destination_hint, expires_at}
- ``POST codes/check`` {conversation_id, code} -> 200 {ok, reason, attempts_left}
- ``POST my-requests`` {conversation_id} -> 200 {requests: [...]}

Refusals answer {"detail": ..., "reason": ...}: 409 not_signed_in /
no_verified_contact, 429 rate_limited (with Retry-After), 503
provider_unreachable / delivery_failed.

The resident's browser:

- ``GET /identity/sign-in/{token}``: a page with one button (link previews
  that messaging apps fetch must not use up the single-use link);
- ``POST /identity/sign-in/{token}``: sets the browser cookie and redirects
  to the identity provider;
- ``GET /identity/callback``: where the provider sends the browser back.

Development only (DEV_OUTBOX on): ``GET /dev/outbox`` (page) and
``GET /dev/outbox.json``, the SMS and e-mails that were not sent.
"""
from __future__ import annotations

import hmac
import logging
from typing import Any, Dict, Optional

from fastapi import APIRouter, Cookie, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from html import escape
from pydantic import BaseModel, constr
from sqlalchemy import select
from sqlalchemy.orm import Session

from backoffice import oidc
from backoffice.catalogue import service_type
from backoffice.deps import app_settings, db_session
from backoffice.identity import codes, pages, store
from backoffice.identity.rasa import notify_identity_verified
from backoffice.models import DevOutboxMessage, IdentityLink, ServiceRequest
from backoffice.timeutil import to_local_iso
from common.settings import Settings

log = logging.getLogger(__name__)

BROWSER_COOKIE = "identity_sign_in"
MY_REQUESTS_LIMIT = 20
_bearer = HTTPBearer(auto_error=False)


def require_assistant(
    credentials: Optional[HTTPAuthorizationCredentials] = Depends(_bearer),
    settings: Settings = Depends(app_settings),
) -> None:
    token = credentials.credentials if credentials else ""
    if not token or not hmac.compare_digest(token.encode("utf-8"), settings.backoffice_api_key.encode("utf-8")):
        raise HTTPException(
            status_code=401,
            detail="the assistant's api key is required (Authorization: Bearer ...)",
            headers={"WWW-Authenticate": "Bearer"},
        )


api = APIRouter(prefix="/api/v1/identity", tags=["identity"], dependencies=[Depends(require_assistant)])
browser = APIRouter(prefix="/identity", tags=["identity"], include_in_schema=False)
dev = APIRouter(prefix="/dev", tags=["development"], include_in_schema=False)

ConversationId = constr(min_length=1, max_length=255)
Language = constr(regex=r"^(es|en)$")


class _Body(BaseModel):
    class Config:
        extra = "forbid"


class ConversationIn(_Body):
    conversation_id: ConversationId


class SignInLinkIn(ConversationIn):
    channel: Optional[constr(max_length=50)] = None
    language: Optional[Language] = None


class CodeIn(ConversationIn):
    language: Optional[Language] = None


class CodeCheckIn(ConversationIn):
    code: constr(regex=r"^\d{6}$")


def refusal(status_code: int, reason: str, detail: str, headers: Optional[Dict[str, str]] = None) -> JSONResponse:
    return JSONResponse({"detail": detail, "reason": reason}, status_code=status_code, headers=headers)


def relying_party(settings: Settings) -> oidc.RelyingParty:
    return oidc.RelyingParty.from_settings(settings)


def identity_document(link: IdentityLink, tz: str) -> Dict[str, Any]:
    return {
        "subject": link.subject,
        "name": link.name,
        "curp": link.curp,
        "email": link.email,
        "phone": link.phone,
        "verified_at": to_local_iso(link.verified_at, tz),
        "expires_at": to_local_iso(link.expires_at, tz),
    }


# ------------------------------------------------------------ the assistant's API


@api.post("/sign-in-links", status_code=201)
def create_sign_in_link(
    body: SignInLinkIn, session: Session = Depends(db_session), settings: Settings = Depends(app_settings)
):
    try:
        created = store.create_link(
            session, settings, relying_party(settings), body.channel, body.conversation_id, body.language
        )
    except oidc.IdentityError as error:
        log.warning("no sign-in link: the identity provider is unavailable (%s)", error.reason)
        return refusal(503, "provider_unreachable", "the identity provider is not answering; try again later")
    return {"url": created.url, "expires_at": to_local_iso(created.expires_at, settings.timezone)}


@api.post("/lookup")
def lookup(body: ConversationIn, session: Session = Depends(db_session), settings: Settings = Depends(app_settings)):
    link = store.active_link(session, body.conversation_id)
    if link is None:
        return refusal(404, "not_signed_in", "the conversation is not signed in")
    return identity_document(link, settings.timezone)


@api.post("/sign-out")
def sign_out(body: ConversationIn, session: Session = Depends(db_session)):
    signed_out = store.sign_out(session, body.conversation_id)
    log.info("sign-out (%s)", "was signed in" if signed_out else "was not signed in")
    return {"signed_out": signed_out}


_CODE_STATUS = {"not_signed_in": 409, "no_verified_contact": 409, "rate_limited": 429, "delivery_failed": 503}


@api.post("/codes", status_code=201)
def send_code(
    body: CodeIn,
    request: Request,
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    try:
        sent = codes.send_code(session, settings, request.app.state.code_limiter, body.conversation_id, body.language)
    except codes.CodeRefused as refused:
        content: Dict[str, Any] = {"detail": refused.detail, "reason": refused.reason}
        headers = None
        if refused.retry_after:
            content["retry_after"] = refused.retry_after
            headers = {"Retry-After": str(refused.retry_after)}
        return JSONResponse(content, status_code=_CODE_STATUS[refused.reason], headers=headers)
    return {
        "via": sent.via,
        "destination_hint": sent.destination_hint,
        "expires_at": to_local_iso(sent.expires_at, settings.timezone),
    }


@api.post("/codes/check")
def check_code(body: CodeCheckIn, session: Session = Depends(db_session), settings: Settings = Depends(app_settings)):
    result = codes.check_code(session, settings, body.conversation_id, body.code)
    return {"ok": result.ok, "reason": result.reason, "attempts_left": result.attempts_left}


@api.post("/my-requests")
def my_requests(body: ConversationIn, session: Session = Depends(db_session), settings: Settings = Depends(app_settings)):
    """The signed-in resident's own requests, newest first (311 today; other
    record types join here with their own ``kind``)."""
    link = store.active_link(session, body.conversation_id)
    if link is None:
        return refusal(409, "not_signed_in", "the conversation is not signed in")
    rows = session.execute(
        select(ServiceRequest)
        .where(ServiceRequest.verified_subject == link.subject)
        .order_by(ServiceRequest.requested_at.desc(), ServiceRequest.id.desc())
        .limit(MY_REQUESTS_LIMIT)
    ).scalars()
    items = []
    for row in rows:
        service = service_type(row.service_code)
        items.append(
            {
                "kind": "service_request",
                "folio": row.folio,
                "service_code": row.service_code,
                "service_name": service.name if service else row.service_code,
                "status": row.status,
                "status_notes": row.status_notes,
                "requested_datetime": to_local_iso(row.requested_at, settings.timezone),
                "updated_datetime": to_local_iso(row.updated_at, settings.timezone),
            }
        )
    return {"requests": items}


# ------------------------------------------------------------------- the browser


@browser.get("/sign-in/{token}", response_class=HTMLResponse)
def sign_in_page(token: str, session: Session = Depends(db_session)):
    try:
        row = store.find_link(session, token)
    except store.SignInRefused as refused:
        return pages.page(refused.kind, refused.language, refused.status_code)
    return pages.page("start", row.language, form_action=f"/identity/sign-in/{token}")


@browser.post("/sign-in/{token}")
def follow_sign_in_link(token: str, session: Session = Depends(db_session), settings: Settings = Depends(app_settings)):
    try:
        followed = store.follow_link(session, settings, relying_party(settings), token)
    except store.SignInRefused as refused:
        return pages.page(refused.kind, refused.language, refused.status_code)
    response = RedirectResponse(followed.authorization_url, status_code=303, headers=dict(pages.HEADERS))
    response.set_cookie(
        BROWSER_COOKIE,
        followed.browser_token,
        max_age=settings.sign_in_link_ttl,
        path="/identity/",
        httponly=True,
        secure=settings.backoffice_public_url.startswith("https://"),
        samesite="lax",
    )
    return response


@browser.get("/callback", response_class=HTMLResponse)
def callback(
    state: Optional[str] = None,
    code: Optional[str] = None,
    error: Optional[str] = None,
    browser_token: Optional[str] = Cookie(None, alias=BROWSER_COOKIE),
    session: Session = Depends(db_session),
    settings: Settings = Depends(app_settings),
):
    try:
        completed = store.complete(
            session, settings, relying_party(settings),
            state=state, code=code, error=error, browser_token=browser_token,
        )
    except store.SignInRefused as refused:
        return pages.page(refused.kind, refused.language, refused.status_code)
    link = completed.link
    problem = notify_identity_verified(settings, link.conversation_id)
    if problem:
        # The link stands; "sign in" in the chat picks it up (the action finds the conversation signed in).
        log.warning("signed in, but the conversation could not be told: %s", problem)
    response = pages.page(
        "linked_chat_not_told" if problem else "linked", completed.language, name=link.name or ""
    )
    response.delete_cookie(BROWSER_COOKIE, path="/identity/")
    return response


# ------------------------------------------------------------ development outbox


def _require_dev_outbox(request: Request) -> None:
    settings: Settings = request.app.state.settings
    client = request.client.host if request.client else ""
    # Development only, and only to this machine: the outbox shows one-time codes.
    if not settings.dev_outbox or client not in ("127.0.0.1", "::1", "localhost", "testclient"):
        raise HTTPException(status_code=404, detail="Not Found")


def _outbox(session: Session, limit: int = 100):
    return session.execute(select(DevOutboxMessage).order_by(DevOutboxMessage.id.desc()).limit(limit)).scalars().all()


@dev.get("/outbox.json", dependencies=[Depends(_require_dev_outbox)])
def outbox_json(session: Session = Depends(db_session), settings: Settings = Depends(app_settings)):
    return [
        {
            "id": m.id,
            "via": m.via,
            "to": m.recipient,
            "subject": m.subject,
            "body": m.body,
            "created_at": to_local_iso(m.created_at, settings.timezone),
        }
        for m in _outbox(session)
    ]


@dev.get("/outbox", response_class=HTMLResponse, dependencies=[Depends(_require_dev_outbox)])
def outbox_page(session: Session = Depends(db_session), settings: Settings = Depends(app_settings)):
    rows = "".join(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>".format(
            escape(to_local_iso(m.created_at, settings.timezone) or ""),
            escape(m.via),
            escape(m.recipient),
            escape(m.subject or ""),
            escape(m.body),
        )
        for m in _outbox(session)
    )
    html = (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Development outbox</title>"
        "<style>body{font-family:system-ui,sans-serif;margin:2rem}td,th{border-bottom:1px solid #ccc;"
        "padding:.4rem;text-align:left;vertical-align:top}pre{margin:0;white-space:pre-wrap}</style></head><body>"
        "<h1>Development outbox</h1><p>SMS and e-mails the back office would have sent (DEV_OUTBOX is on), "
        "newest first. Nothing here left this machine.</p>"
        "<table><tr><th>when</th><th>via</th><th>to</th><th>subject</th><th>message</th></tr>"
        f"{rows}</table></body></html>"
    )
    return HTMLResponse(html, headers={"Cache-Control": "no-store"})
