"""SMS through Twilio.

Inbound: Twilio posts a form to /webhooks/twilio/webhook signed with
`X-Twilio-Signature` (HMAC-SHA1 of the public URL plus the sorted form fields,
keyed with the auth token). The answer is empty TwiML, except for the carrier
keywords (STOP/ALTO, START, HELP/AYUDA), answered in the TwiML itself.

Outbound: Twilio's Messages API, `{TWILIO_API_BASE}/2010-04-01/Accounts/{sid}/Messages.json`.

Buttons become numbered options; the options last offered to a number are
remembered so that the reply "2" sends option 2's payload.
"""
from __future__ import annotations

import json
import logging
import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs

import httpx
import yaml
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse

from channels.base import (
    OnNewMessage,
    RenderingOutput,
    WebhookInput,
    location_message,
    photo_message,
    pseudonym,
    store_key,
    typed_text,
)
from channels.dedupe import TTLStore
from channels.render import Option, render_sms
from common.settings import Settings, get_settings

logger = logging.getLogger(__name__)

CHANNEL = "twilio"
# Numbered options older than this no longer stand for anything.
OPTIONS_TTL = 24 * 3600
KEYWORDS_FILE = Path(__file__).with_name("sms_keywords.yml")
OPT_OUT, OPT_IN, HELP = "opt_out", "opt_in", "help"
_NUMBER_REPLY = re.compile(r"^\s*(\d{1,2})\s*[).]?\s*$")


def _options_key(phone: str) -> str:
    return f"sms:options:{store_key(phone)}"


def _opt_out_key(phone: str) -> str:
    return f"sms:optout:{store_key(phone)}"


def _fold(text: str) -> str:
    """Upper case, no accents, no punctuation: how keywords and option titles compare."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"[^\w ]+", "", text).strip().upper()


@lru_cache(maxsize=1)
def _keywords() -> Dict[str, Any]:
    with open(KEYWORDS_FILE, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def keyword_of(body: str) -> Optional[Tuple[str, str]]:
    """(kind, language) when the whole SMS is a carrier keyword."""
    word = _fold(body)
    for kind in (OPT_OUT, OPT_IN, HELP):
        language = _keywords()[kind].get(word)
        if language:
            return kind, language
    return None


def keyword_reply(kind: str, language: str) -> str:
    from common.citypack import load

    city = load("city")
    lines = city.get("lines", {})
    return _keywords()["replies"][language][kind].format(
        city=city.get("name", ""),
        emergency=lines.get("emergency", {}).get("phone", ""),
        locatel=lines.get("locatel", {}).get("phone", ""),
    )


def _twiml(text: Optional[str] = None) -> HTTPResponse:
    twiml = MessagingResponse()
    if text:
        twiml.message(text)
    return response.text(str(twiml), content_type="text/xml")


class _FormParams(dict):
    """Form fields with every value of a repeated name; RequestValidator reads `getlist`."""

    def getlist(self, name: str) -> List[str]:
        return self[name]


class TwilioSmsOutput(RenderingOutput):
    """Sends SMS through the Messages API; remembers the options offered; never
    writes to a number that opted out."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        twilio_number: str,
        api_base: str,
        store: TTLStore,
        max_segments: int,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.twilio_number = twilio_number
        self.api_base = api_base.rstrip("/")
        self.store = store
        self.max_segments = max_segments

    async def send_rendered(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if await self.store.get(_opt_out_key(recipient_id)):
            logger.info("twilio: %s opted out, message not sent.", pseudonym(recipient_id))
            return
        reply = render_sms(message, self.max_segments)
        if reply.options:
            await self.store.set(
                _options_key(recipient_id),
                json.dumps([{"title": o.title, "payload": o.payload} for o in reply.options]),
                OPTIONS_TTL,
            )
        for body in reply.bodies:
            await self.send_sms(recipient_id, body)

    async def send_sms(self, to: str, body: str) -> None:
        if not (self.account_sid and self.auth_token and self.twilio_number):
            logger.error("twilio: TWILIO_ACCOUNT_SID/AUTH_TOKEN/NUMBER not set, SMS not sent.")
            return
        url = f"{self.api_base}/2010-04-01/Accounts/{self.account_sid}/Messages.json"
        async with httpx.AsyncClient(timeout=10.0) as client:
            try:
                answer = await client.post(
                    url,
                    data={"To": to, "From": self.twilio_number, "Body": body},
                    auth=(self.account_sid, self.auth_token),
                )
            except httpx.HTTPError as exc:
                logger.error("twilio: sending to %s failed (%s).", pseudonym(to), type(exc).__name__)
                return
        if answer.status_code >= 400:
            code = None
            try:
                code = answer.json().get("code")
            except ValueError:
                pass
            logger.error(
                "twilio: sending to %s refused, HTTP %s, Twilio error %s.", pseudonym(to), answer.status_code, code
            )


class TwilioSmsInput(WebhookInput):
    """Custom Rasa connector: `channels.twilio_sms.TwilioSmsInput` in credentials.yml."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(
        self,
        account_sid: Optional[str] = None,
        auth_token: Optional[str] = None,
        twilio_number: Optional[str] = None,
        api_base: Optional[str] = None,
        webhook_url: Optional[str] = None,
        max_segments: Optional[int] = None,
        store: Optional[TTLStore] = None,
        settings: Optional[Settings] = None,
    ) -> None:
        settings = settings or get_settings()
        super().__init__(store=store, settings=settings)
        self.account_sid = account_sid or settings.twilio_account_sid
        self.auth_token = auth_token or settings.twilio_auth_token
        self.twilio_number = twilio_number or settings.twilio_number
        self.api_base = api_base or settings.twilio_api_base
        self.webhook_url = webhook_url or settings.twilio_webhook_url
        self.max_segments = int(max_segments or settings.sms_max_segments)
        if not self.auth_token:
            logger.warning("twilio: TWILIO_AUTH_TOKEN is not set; the SMS webhook refuses every request.")

    def get_output_channel(self) -> TwilioSmsOutput:
        return TwilioSmsOutput(
            self.account_sid, self.auth_token, self.twilio_number, self.api_base, self.store, self.max_segments
        )

    # --- inbound ---------------------------------------------------------------------

    def _signed_url(self, request: Request) -> str:
        # Twilio signs the URL it was configured with; behind a proxy that is not request.url.
        return self.webhook_url or request.url

    def is_authentic(self, request: Request, form: _FormParams) -> Optional[int]:
        """None if Twilio signed this request, else the HTTP status to refuse it with."""
        signature = request.headers.get("X-Twilio-Signature")
        if not signature:
            return 401
        if not self.auth_token:
            return 403
        if not RequestValidator(self.auth_token).validate(self._signed_url(request), form, signature):
            return 403
        return None

    async def _selected_option(self, phone: str, body: str) -> Optional[Tuple[int, str]]:
        """(number, payload) when the SMS picks one of the options last offered."""
        stored = await self.store.get(_options_key(phone))
        if not stored:
            return None
        options = [Option(**item) for item in json.loads(stored)]
        match = _NUMBER_REPLY.match(body)
        if match:
            number = int(match.group(1))
            if 1 <= number <= len(options):
                return number, options[number - 1].payload
            return None
        folded = _fold(body)
        for number, option in enumerate(options, start=1):
            if folded and folded == _fold(option.title):
                return number, option.payload
        return None

    async def _to_text(self, phone: str, form: Dict[str, List[str]]) -> Tuple[Optional[str], Dict[str, Any]]:
        def field(name: str) -> str:
            return (form.get(name) or [""])[0]

        body = field("Body")
        metadata: Dict[str, Any] = {}
        latitude, longitude = field("Latitude"), field("Longitude")
        if latitude and longitude:
            return location_message(float(latitude), float(longitude)), metadata
        if int(field("NumMedia") or 0) > 0 and field("MediaContentType0").startswith("image/"):
            text, photo = photo_message(field("MediaUrl0"), body)
            return text, {**photo, "media_content_type": field("MediaContentType0")}
        selected = await self._selected_option(phone, body)
        # Options answer one question only: whatever the resident sends next consumes them.
        await self.store.delete(_options_key(phone))
        if selected:
            number, payload = selected
            metadata["selected_option"] = number
            return payload, metadata
        text = typed_text(body)
        return (text or None), metadata

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = self.new_blueprint("cdmx_twilio_sms")

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            # Parsed here, not with request.form: Sanic drops empty fields, which Twilio signs.
            form = _FormParams(parse_qs(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))
            refused = self.is_authentic(request, form)
            if refused:
                logger.warning("twilio: webhook call without a valid signature refused (%s).", refused)
                return response.text("invalid signature", status=refused)

            phone = (form.get("From") or [""])[0]
            message_id = (form.get("MessageSid") or form.get("SmsSid") or [""])[0]
            if not phone or not await self.first_time(message_id):
                return _twiml()

            body = (form.get("Body") or [""])[0]
            keyword = keyword_of(body)
            if keyword:
                kind, language = keyword
                logger.info("twilio: keyword %s from %s.", kind, pseudonym(phone))
                if kind == OPT_OUT:
                    await self.store.set(_opt_out_key(phone), "1", None)
                    await self.store.delete(_options_key(phone))
                elif kind == OPT_IN:
                    await self.store.delete(_opt_out_key(phone))
                # HELP is answered even after an opt-out, as carriers require.
                return _twiml(keyword_reply(kind, language))

            if await self.store.get(_opt_out_key(phone)):
                # Carriers expect silence until START; the dialogue is not involved.
                logger.info("twilio: message from %s, who opted out, ignored.", pseudonym(phone))
                return _twiml()

            text, metadata = await self._to_text(phone, form)
            if text:
                metadata["to"] = (form.get("To") or [""])[0]
                await self.deliver(on_new_message, [self.user_message(text, phone, message_id, metadata)])
            return _twiml()

        return hook
