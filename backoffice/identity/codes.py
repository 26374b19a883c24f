"""One-time codes for high-security steps (identity.md, "Two-factor check").

A code has 6 digits, lasts 5 minutes and allows 5 attempts. Only an HMAC of
it is stored (keyed with IDENTITY_SECRET: six digits are too few for a plain
hash to hide them from whoever reads the table). It goes to the verified phone
by SMS, else to the verified e-mail. Asking for a new code replaces the open
one and is rate-limited per person with the ``limits`` package (in Redis when
REDIS_URL is set, so every replica counts the same requests).

Attempts are counted with one conditional UPDATE, so parallel guesses cannot
get more than 5 tries between them, and a code is accepted at most once.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Optional, Sequence, Tuple

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from backoffice.identity import delivery, store
from backoffice.models import VerificationCode
from backoffice.timeutil import utcnow
from common import citypack
from common.settings import Settings

log = logging.getLogger(__name__)

CODE_DIGITS = 6
CODE_TTL = timedelta(minutes=5)
MAX_ATTEMPTS = 5

USED = "used"
TOO_MANY_ATTEMPTS = "too_many_attempts"
EXPIRED = "expired"
UNDELIVERED = "undelivered"


class CodeRefused(Exception):
    """No code could be sent; ``reason`` is not_signed_in, no_verified_contact,
    rate_limited or delivery_failed."""

    def __init__(self, reason: str, detail: str, retry_after: int = 0):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class CodeSent:
    via: str
    destination_hint: str
    expires_at: datetime


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    reason: Optional[str]
    attempts_left: int


class CodeRateLimiter:
    """How often one person may ask for a code (VERIFICATION_CODE_RATE)."""

    def __init__(self, rate: str, storage_uri: str = "memory://") -> None:
        self.items: Sequence[RateLimitItem] = parse_many(rate)
        # limits' strategies hold their storage by weak reference: keep it alive here.
        self.storage = storage_from_string(storage_uri)
        self.limiter = MovingWindowRateLimiter(self.storage)

    @classmethod
    def from_settings(cls, settings: Settings) -> "CodeRateLimiter":
        return cls(settings.verification_code_rate, settings.redis_url or "memory://")

    def hit(self, key: str) -> int:
        """Count one request; 0 when allowed, else the seconds to wait (nothing counted)."""
        waits = []
        for item in self.items:
            if not self.limiter.test(item, key):
                reset_at, _remaining = self.limiter.get_window_stats(item, key)
                waits.append(max(1, int(reset_at - utcnow().timestamp()) + 1))
        if waits:
            return max(waits)
        for item in self.items:
            self.limiter.hit(item, key)
        return 0


def code_hash(settings: Settings, conversation_id: str, code: str) -> str:
    message = f"{conversation_id}\x00{code}".encode("utf-8")
    return hmac.new(settings.identity_secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


@lru_cache(maxsize=None)
def _texts() -> dict:
    return citypack.load("identity")["code_message"]


def message_texts(code: str, language: str) -> Tuple[str, str, str]:
    """(sms, e-mail subject, e-mail body) in the resident's language."""
    language = language if language in store.LANGUAGES else "es"
    values = {
        "city": citypack.city().get("name", ""),
        "code": code,
        "minutes": int(CODE_TTL.total_seconds() // 60),
    }
    texts = _texts()
    return (
        texts["sms"][language].format(**values),
        texts["email_subject"][language].format(**values),
        texts["email_body"][language].format(**values),
    )


def send_code(
    session: Session,
    settings: Settings,
    limiter: CodeRateLimiter,
    conversation_id: str,
    language: Optional[str],
) -> CodeSent:
    """Replace the conversation's open code with a new one and send it. Raises :class:`CodeRefused`."""
    link = store.active_link(session, conversation_id)
    if link is None:
        raise CodeRefused("not_signed_in", "the conversation is not signed in")
    if link.phone:
        via, destination = delivery.SMS, link.phone
    elif link.email:
        via, destination = delivery.EMAIL, link.email
    else:
        raise CodeRefused("no_verified_contact", "the identity provider verified no phone and no e-mail")
    wait = limiter.hit(f"verification-code:{link.issuer}:{link.subject}")
    if wait:
        log.info("one-time code refused: rate limit (retry in %ss)", wait)
        raise CodeRefused("rate_limited", "too many codes asked for; wait before asking again", wait)

    now = utcnow()
    code = new_code()
    session.execute(
        update(VerificationCode)
        .where(VerificationCode.conversation_id == conversation_id, VerificationCode.closed_at.is_(None))
        .values(closed_at=now, closed_reason=store.REPLACED)
    )
    row = VerificationCode(
        conversation_id=conversation_id,
        subject=link.subject,
        code_hash=code_hash(settings, conversation_id, code),
        via=via,
        created_at=now,
        expires_at=now + CODE_TTL,
        attempts=0,
    )
    session.add(row)
    session.commit()
    sms, subject, body = message_texts(code, language or "es")
    try:
        delivery.send(session, settings, via, destination, sms if via == delivery.SMS else body, subject)
    except delivery.DeliveryFailed as failure:
        session.execute(
            update(VerificationCode)
            .where(VerificationCode.id == row.id)
            .values(closed_at=utcnow(), closed_reason=UNDELIVERED)
        )
        session.commit()
        log.error("one-time code %s not delivered: %s", row.id, failure)
        raise CodeRefused("delivery_failed", f"the code could not be sent by {via}") from None
    log.info("one-time code %s sent by %s", row.id, via)
    return CodeSent(via=via, destination_hint=delivery.destination_hint(via, destination), expires_at=row.expires_at)


def check_code(session: Session, settings: Settings, conversation_id: str, code: str) -> CodeCheck:
    """One attempt at the conversation's latest code."""
    link = store.active_link(session, conversation_id)
    if link is None:
        return CodeCheck(False, "not_signed_in", 0)
    row = session.execute(
        select(VerificationCode)
        .where(VerificationCode.conversation_id == conversation_id)
        .order_by(VerificationCode.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None or row.closed_reason in (store.REPLACED, store.SIGNED_OUT, UNDELIVERED) or row.subject != link.subject:
        return CodeCheck(False, "no_code", 0)
    if row.closed_at is not None:
        return CodeCheck(False, row.closed_reason, 0)
    if utcnow() >= row.expires_at:
        _close(session, row.id, EXPIRED)
        log.info("one-time code %s expired", row.id)
        return CodeCheck(False, EXPIRED, 0)

    counted = session.execute(
        update(VerificationCode)
        .where(
            VerificationCode.id == row.id,
            VerificationCode.closed_at.is_(None),
            VerificationCode.attempts < MAX_ATTEMPTS,
        )
        .values(attempts=VerificationCode.attempts + 1)
    )
    session.commit()
    if counted.rowcount != 1:
        session.refresh(row)
        return CodeCheck(False, row.closed_reason or TOO_MANY_ATTEMPTS, 0)
    session.refresh(row)
    attempts_left = MAX_ATTEMPTS - row.attempts

    if hmac.compare_digest(row.code_hash, code_hash(settings, conversation_id, code)):
        if _close(session, row.id, USED):
            log.info("one-time code %s accepted", row.id)
            return CodeCheck(True, None, attempts_left)
        return CodeCheck(False, USED, 0)
    if attempts_left <= 0:
        _close(session, row.id, TOO_MANY_ATTEMPTS)
        log.warning("one-time code %s: %d wrong attempts, closed", row.id, MAX_ATTEMPTS)
    else:
        log.info("one-time code %s: wrong attempt, %d left", row.id, attempts_left)
    return CodeCheck(False, "wrong_code", attempts_left)


def _close(session: Session, code_id: int, reason: str) -> bool:
    result = session.execute(
        update(VerificationCode)
        .where(VerificationCode.id == code_id, VerificationCode.closed_at.is_(None))
        .values(closed_at=utcnow(), closed_reason=reason)
    )
    session.commit()
    return result.rowcount == 1
