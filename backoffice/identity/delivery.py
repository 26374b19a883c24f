"""Sending one-time codes: by SMS (Twilio's Messages API) or e-mail (SMTP);
in development, into the outbox instead (GET /dev/outbox).

channels/twilio_sms.py sends the assistant's replies through the same Twilio
API, but its sender is asynchronous, bound to the channel's store and
swallows failures (a chat reply that fails is logged and dropped). A code
that was not sent must be reported to the resident, so this module has its
own small synchronous sender that raises :class:`DeliveryFailed`.

Nothing here logs a code, a phone number or an e-mail address; only the
channel and a hint such as "...0101".
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from typing import Optional

import httpx
import phonenumbers
from sqlalchemy.orm import Session

from backoffice.models import DevOutboxMessage
from backoffice.timeutil import utcnow
from common import citypack
from common.settings import Settings

log = logging.getLogger(__name__)

SMS = "sms"
EMAIL = "email"
TWILIO_TIMEOUT_S = 10.0
SMTP_TIMEOUT_S = 10.0


class DeliveryFailed(Exception):
    """The message could not be handed to the SMS or e-mail service. The text
    carries no recipient and no message body."""


def destination_hint(via: str, destination: str) -> str:
    """What the resident is told about where the code went: never the whole address."""
    if via == SMS:
        digits = "".join(ch for ch in destination if ch.isdigit())
        return f"…{digits[-4:]}" if len(digits) >= 4 else "…"
    local, _, domain = destination.partition("@")
    return f"{local[:1]}…@{domain}" if domain else "…"


def e164(phone: str) -> str:
    """A phone number as Twilio wants it (+525555550101); national numbers are the city's."""
    region = citypack.city().get("phone_region", "MX")
    try:
        number = phonenumbers.parse(phone, region)
    except phonenumbers.NumberParseException:
        raise DeliveryFailed("sms: the verified phone number cannot be parsed") from None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def send(
    session: Session,
    settings: Settings,
    via: str,
    to: str,
    body: str,
    subject: Optional[str] = None,
) -> None:
    """Send one message, or keep it in the development outbox when DEV_OUTBOX is on."""
    hint = destination_hint(via, to)
    if settings.dev_outbox:
        session.add(DevOutboxMessage(via=via, recipient=to, subject=subject, body=body, created_at=utcnow()))
        session.commit()
        log.info("%s to %s kept in the development outbox (DEV_OUTBOX is on; see /dev/outbox)", via, hint)
        return
    if via == SMS:
        _send_sms(settings, e164(to), body)
    elif via == EMAIL:
        _send_email(settings, to, subject or "", body)
    else:  # pragma: no cover - callers pass one of the two
        raise ValueError(f"unknown delivery channel {via!r}")
    log.info("%s sent to %s", via, hint)


def _send_sms(settings: Settings, to: str, body: str) -> None:
    if not (settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_number):
        raise DeliveryFailed("sms: TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_NUMBER are not all set")
    url = f"{settings.twilio_api_base.rstrip('/')}/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages.json"
    try:
        answer = httpx.post(
            url,
            data={"To": to, "From": settings.twilio_number, "Body": body},
            auth=(settings.twilio_account_sid, settings.twilio_auth_token),
            timeout=TWILIO_TIMEOUT_S,
        )
    except httpx.HTTPError as exc:
        raise DeliveryFailed(f"sms: {type(exc).__name__}") from None
    if answer.status_code >= 400:
        code = None
        try:
            code = answer.json().get("code")
        except ValueError:
            pass
        raise DeliveryFailed(f"sms: HTTP {answer.status_code}, Twilio error {code}")


def _send_email(settings: Settings, to: str, subject: str, body: str) -> None:
    if not settings.smtp_host:
        raise DeliveryFailed("email: SMTP_HOST is not set")
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"email: {type(exc).__name__}") from None
