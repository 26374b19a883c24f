"""Sign-in links, the OIDC sign-in they start, and conversations linked to a
verified person (identity.md).

A sign-in goes through three single-use steps, each refused when replayed:

1. ``create_link``: the assistant asks for a link for (channel, conversation);
   only a hash of the link's token is kept, valid ``SIGN_IN_LINK_TTL``
   seconds. A newer link replaces the older ones not yet opened.
2. ``follow_link``: the resident presses "Continue" on the link's page. The
   relying party (oidc.py) makes the authorization request; the ``state``
   (hashed), nonce and PKCE verifier are stored on the link's row, and the
   browser gets a cookie whose hash is stored too (the callback must come
   back to the browser that started it).
3. ``complete``: the provider's callback. The ``state`` names the row (and so
   the conversation); the row is closed *before* the code is exchanged, so a
   replayed callback finds it closed. Only when the ID token passes every
   check is the conversation linked; on any refusal nothing is stored but the
   row's outcome.

Tokens, states, codes and claims never go to the log; log lines name the
sign-in's row id and the outcome.
"""
from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from backoffice import oidc
from backoffice.models import IdentityLink, SignIn, VerificationCode
from backoffice.timeutil import utcnow
from common.settings import Settings

log = logging.getLogger(__name__)

LANGUAGES = ("es", "en")
LINKED = "linked"
REPLACED = "replaced"
SIGNED_OUT = "signed_out"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


class SignInRefused(Exception):
    """A step of the sign-in that is refused; ``kind`` names the page to show."""

    def __init__(self, kind: str, status_code: int, language: Optional[str] = None, reason: Optional[str] = None):
        super().__init__(kind)
        self.kind = kind
        self.status_code = status_code
        self.language = language
        # The relying party's refusal reason (bad_signature, wrong_nonce, ...), when there is one.
        self.reason = reason


@dataclass(frozen=True)
class LinkCreated:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkFollowed:
    authorization_url: str
    browser_token: str
    expires_at: datetime
    language: str


@dataclass(frozen=True)
class SignInCompleted:
    link: IdentityLink
    language: str


def _language(value: Optional[str]) -> str:
    return value if value in LANGUAGES else "es"


# ----------------------------------------------------------------- 1. the link


def create_link(
    session: Session,
    settings: Settings,
    rp: oidc.RelyingParty,
    channel: Optional[str],
    conversation_id: str,
    language: Optional[str],
) -> LinkCreated:
    """A new single-use sign-in link for the conversation.

    The provider's discovery document is fetched first (it is cached), so a
    provider that is down is reported now, in the chat, rather than after the
    resident opened the link. Raises :class:`oidc.IdentityError`.
    """
    rp.metadata()
    now = utcnow()
    token = new_token()
    # Links sent earlier and not opened yet stop working: only the latest one counts.
    session.execute(
        update(SignIn)
        .where(
            SignIn.conversation_id == conversation_id,
            SignIn.followed_at.is_(None),
            SignIn.completed_at.is_(None),
        )
        .values(completed_at=now, outcome=REPLACED)
    )
    row = SignIn(
        link_hash=digest(token),
        channel=channel,
        conversation_id=conversation_id,
        language=_language(language),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.sign_in_link_ttl),
    )
    session.add(row)
    session.commit()
    log.info("sign-in link %s created for channel %s", row.id, channel)
    url = f"{settings.backoffice_public_url.rstrip('/')}/identity/sign-in/{token}"
    return LinkCreated(url=url, expires_at=row.expires_at)


def find_link(session: Session, token: str) -> SignIn:
    """The link's row when it can still be followed; refuses otherwise."""
    row = session.execute(select(SignIn).where(SignIn.link_hash == digest(token))).scalar_one_or_none()
    if row is None:
        raise SignInRefused("link_unknown", 404)
    if row.followed_at is not None or row.completed_at is not None:
        raise SignInRefused("link_used", 410, row.language)
    if utcnow() >= row.expires_at:
        raise SignInRefused("link_expired", 410, row.language)
    return row


# ------------------------------------------------------------ 2. following it


def follow_link(session: Session, settings: Settings, rp: oidc.RelyingParty, token: str) -> LinkFollowed:
    """Start the OIDC authorization for the link's conversation (once)."""
    row = find_link(session, token)
    try:
        request = rp.start_authorization(row.channel or "", row.conversation_id)
    except oidc.IdentityError as error:
        # The link is not used up: the resident can try again when the provider is back.
        log.warning("sign-in %s could not start: %s", row.id, error.reason)
        raise SignInRefused("provider_down", 503, row.language, error.reason) from None
    browser_token = new_token()
    now = utcnow()
    expires_at = now + timedelta(seconds=settings.sign_in_link_ttl)
    # Only one follower wins, even when two requests race with the same link.
    result = session.execute(
        update(SignIn)
        .where(SignIn.id == row.id, SignIn.followed_at.is_(None), SignIn.completed_at.is_(None))
        .values(
            followed_at=now,
            expires_at=expires_at,
            state_hash=digest(request.state),
            browser_hash=digest(browser_token),
            nonce=request.nonce,
            code_verifier=request.code_verifier,
        )
    )
    session.commit()
    if result.rowcount != 1:
        raise SignInRefused("link_used", 410, row.language)
    log.info("sign-in %s sent to the identity provider", row.id)
    return LinkFollowed(request.authorization_url, browser_token, expires_at, row.language)


# -------------------------------------------------------------- 3. the callback


def _close(session: Session, row_id: int, outcome: str) -> bool:
    """Close an open sign-in and forget its secrets; False when it was already closed."""
    result = session.execute(
        update(SignIn)
        .where(SignIn.id == row_id, SignIn.completed_at.is_(None))
        .values(completed_at=utcnow(), outcome=outcome, nonce=None, code_verifier=None)
    )
    session.commit()
    return result.rowcount == 1


def complete(
    session: Session,
    settings: Settings,
    rp: oidc.RelyingParty,
    *,
    state: Optional[str],
    code: Optional[str],
    error: Optional[str],
    browser_token: Optional[str],
) -> SignInCompleted:
    """Check the callback, exchange the code, verify the ID token and link the
    conversation. Raises :class:`SignInRefused`; then nothing is linked."""
    if not state:
        raise SignInRefused("state_invalid", 400, reason="missing_state")
    row = session.execute(select(SignIn).where(SignIn.state_hash == digest(state))).scalar_one_or_none()
    if row is None:
        log.warning("sign-in callback with an unknown state refused")
        raise SignInRefused("state_invalid", 400, reason="unknown_state")
    language = row.language
    if row.completed_at is not None:
        log.warning("sign-in %s: callback replayed (already %s), refused", row.id, row.outcome)
        raise SignInRefused("state_invalid", 400, language, "replayed")
    if not browser_token or not secrets.compare_digest(digest(browser_token), row.browser_hash or ""):
        # Not closed: the browser that started the sign-in can still finish it.
        log.warning("sign-in %s: callback from another browser refused", row.id)
        raise SignInRefused("other_browser", 400, language, "other_browser")
    nonce, code_verifier = row.nonce, row.code_verifier
    if utcnow() >= row.expires_at:
        _close(session, row.id, "expired")
        log.warning("sign-in %s: callback after the sign-in expired, refused", row.id)
        raise SignInRefused("link_expired", 410, language, "expired")
    if error or not code:
        outcome = "provider_error" if error else "missing_code"
        _close(session, row.id, outcome)
        log.info("sign-in %s ended without a code (%s)", row.id, outcome)
        raise SignInRefused("cancelled", 400, language, outcome)
    # Closed before the exchange: a second callback with this state is a replay from here on.
    if not _close(session, row.id, "exchanging"):
        raise SignInRefused("state_invalid", 400, language, "replayed")
    try:
        profile = rp.finish_authorization(code, code_verifier or "", nonce or "")
    except oidc.IdentityError as refusal:
        session.execute(update(SignIn).where(SignIn.id == row.id).values(outcome=refusal.reason))
        session.commit()
        log.warning("sign-in %s refused: %s", row.id, refusal.reason)
        kind = "provider_down" if isinstance(refusal, oidc.ProviderUnreachable) else "refused"
        raise SignInRefused(kind, 503 if kind == "provider_down" else 400, language, refusal.reason) from None
    link = _link(session, settings, row, profile)
    log.info("sign-in %s: conversation linked to a verified person", row.id)
    return SignInCompleted(link=link, language=language)


def _link(session: Session, settings: Settings, row: SignIn, profile: oidc.VerifiedProfile) -> IdentityLink:
    """Replace whatever the conversation was linked to with this person, in one transaction."""
    now = utcnow()
    conversation_id = row.conversation_id
    session.execute(delete(IdentityLink).where(IdentityLink.conversation_id == conversation_id))
    _close_codes(session, conversation_id, REPLACED)
    link = IdentityLink(
        conversation_id=conversation_id,
        channel=row.channel,
        issuer=profile.issuer,
        subject=profile.subject,
        name=profile.name or " ".join(p for p in (profile.given_name, profile.family_name) if p) or None,
        curp=profile.curp,
        email=profile.verified_email,
        phone=profile.verified_phone,
        verified_at=now,
        expires_at=now + timedelta(seconds=settings.identity_session_ttl),
    )
    session.add(link)
    session.execute(update(SignIn).where(SignIn.id == row.id).values(outcome=LINKED))
    session.commit()
    return link


# ------------------------------------------------------------- linked people


def active_link(session: Session, conversation_id: Optional[str]) -> Optional[IdentityLink]:
    """The person the conversation is linked to, unless the link expired."""
    if not conversation_id:
        return None
    link = session.execute(
        select(IdentityLink).where(IdentityLink.conversation_id == conversation_id)
    ).scalar_one_or_none()
    if link is None or utcnow() >= link.expires_at:
        return None
    return link


def subject_for(session: Session, conversation_id: Optional[str]) -> Optional[str]:
    """The verified subject of a signed-in conversation (what filed requests carry)."""
    link = active_link(session, conversation_id)
    return link.subject if link else None


def _close_codes(session: Session, conversation_id: str, reason: str) -> None:
    session.execute(
        update(VerificationCode)
        .where(VerificationCode.conversation_id == conversation_id, VerificationCode.closed_at.is_(None))
        .values(closed_at=utcnow(), closed_reason=reason)
    )


def sign_out(session: Session, conversation_id: str) -> bool:
    """Unlink the conversation, drop its open codes and any sign-in under way.
    True when it was linked."""
    removed = session.execute(delete(IdentityLink).where(IdentityLink.conversation_id == conversation_id))
    _close_codes(session, conversation_id, SIGNED_OUT)
    session.execute(
        update(SignIn)
        .where(SignIn.conversation_id == conversation_id, SignIn.completed_at.is_(None))
        .values(completed_at=utcnow(), outcome=SIGNED_OUT, nonce=None, code_verifier=None)
    )
    session.commit()
    return removed.rowcount > 0
