"""Facebook Messenger.

Rasa's own connector checks the old SHA-1 `X-Hub-Signature` and sends through
the `fbmessenger` library, whose Graph URL is fixed; this one checks
`X-Hub-Signature-256` and sends to `{FACEBOOK_API_BASE}/v18.0/me/messages`.

Inbound: GET is the subscription handshake (hub.mode, hub.verify_token,
hub.challenge); POST carries `messaging` events. What residents send becomes:
- text -> the text; a quick reply or a postback -> its payload;
- a location attachment -> /share_location{"latitude": .., "longitude": ..};
- an image attachment -> /share_photo{"media_url": <attachment URL>}, its text in metadata["caption"];
echoes of the page's own messages, deliveries and reads are ignored.
"""
from __future__ import annotations

import hashlib
import logging
from typing import Any, Dict, List, Optional, Tuple

import httpx
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import (
    OnNewMessage,
    RenderingOutput,
    WebhookInput,
    hmac_digest,
    location_message,
    photo_message,
    pseudonym,
    same_secret,
    typed_text,
)
from channels.dedupe import TTLStore
from channels.render import render_messenger
from common.settings import Settings, get_settings

logger = logging.getLogger(__name__)

CHANNEL = "facebook"
GRAPH_VERSION = "v18.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"


def expected_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac_digest(app_secret, body, hashlib.sha256).hex()


class MessengerOutput(RenderingOutput):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, page_access_token: str, api_base: str) -> None:
        self.page_access_token = page_access_token
        self.url = f"{api_base.rstrip('/')}/{GRAPH_VERSION}/me/messages"

    async def send_rendered(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if not self.page_access_token:
            logger.error("facebook: FACEBOOK_PAGE_ACCESS_TOKEN not set, message not sent.")
            return
        async with httpx.AsyncClient(timeout=10.0) as client:
            for payload in render_messenger(message):
                await self._send(client, recipient_id, payload)

    async def _send(self, client: httpx.AsyncClient, recipient_id: str, payload: Dict[str, Any]) -> None:
        body = {"recipient": {"id": recipient_id}, "messaging_type": "RESPONSE", "message": payload}
        try:
            answer = await client.post(self.url, params={"access_token": self.page_access_token}, json=body)
        except httpx.HTTPError as exc:
            logger.error("facebook: sending to %s failed (%s).", pseudonym(recipient_id), type(exc).__name__)
            return
        if answer.status_code >= 400:
            code = None
            try:
                code = answer.json().get("error", {}).get("code")
            except ValueError:
                pass
            logger.error(
                "facebook: sending to %s refused, HTTP %s, Graph error %s.",
                pseudonym(recipient_id),
                answer.status_code,
                code,
            )


class MessengerInput(WebhookInput):
    """Custom Rasa connector: `channels.messenger.MessengerInput` in credentials.yml."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(
        self,
        verify_token: Optional[str] = None,
        app_secret: Optional[str] = None,
        page_access_token: Optional[str] = None,
        api_base: Optional[str] = None,
        store: Optional[TTLStore] = None,
        settings: Optional[Settings] = None,
    ) -> None:
        settings = settings or get_settings()
        super().__init__(store=store, settings=settings)
        self.verify_token = verify_token or settings.facebook_verify_token
        self.app_secret = app_secret or settings.facebook_app_secret
        self.page_access_token = page_access_token or settings.facebook_page_access_token
        self.api_base = api_base or settings.facebook_api_base
        if not (self.app_secret and self.verify_token):
            logger.warning(
                "facebook: FACEBOOK_APP_SECRET/FACEBOOK_VERIFY_TOKEN not set; the webhook refuses every request."
            )

    def get_output_channel(self) -> MessengerOutput:
        return MessengerOutput(self.page_access_token, self.api_base)

    def is_authentic(self, request: Request) -> Optional[int]:
        given = request.headers.get(SIGNATURE_HEADER)
        if not given:
            return 401
        if not self.app_secret:
            return 403
        return None if same_secret(given, expected_signature(self.app_secret, request.body)) else 403

    @staticmethod
    def to_message(event: Dict[str, Any]) -> Tuple[Optional[str], Optional[str], Dict[str, Any]]:
        """(platform message id, text for Rasa, metadata) of one messaging event."""
        postback = event.get("postback")
        if postback:
            # Older postbacks carry no mid; sender and time identify a retry as well.
            mid = postback.get("mid") or f"postback:{event.get('sender', {}).get('id')}:{event.get('timestamp')}"
            return mid, postback.get("payload") or postback.get("title"), {"postback": True}
        message = event.get("message")
        if not message or message.get("is_echo"):
            return None, None, {}
        mid = message.get("mid")
        quick_reply = message.get("quick_reply")
        if quick_reply and quick_reply.get("payload"):
            return mid, quick_reply["payload"], {"quick_reply": True}
        for attachment in message.get("attachments") or []:
            kind, payload = attachment.get("type"), attachment.get("payload") or {}
            if kind == "location" and payload.get("coordinates"):
                coordinates = payload["coordinates"]
                return mid, location_message(coordinates["lat"], coordinates["long"]), {}
            if kind == "image" and payload.get("url") and not payload.get("sticker_id"):
                return (mid, *photo_message(payload["url"], message.get("text")))
        text = typed_text(message.get("text"))
        return mid, (text or None), {}

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = self.new_blueprint("cdmx_messenger")

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if request.args.get("hub.mode") == "subscribe" and same_secret(
                request.args.get("hub.verify_token"), self.verify_token
            ):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("facebook: subscription handshake with a wrong verify token refused.")
            return response.text("verification failed", status=403)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refused = self.is_authentic(request)
            if refused:
                logger.warning("facebook: webhook call without a valid signature refused (%s).", refused)
                return response.text("invalid signature", status=refused)
            payload = request.json if isinstance(request.json, dict) else {}
            if payload.get("object") != "page":
                return response.text("success")

            messages: List[Any] = []
            for entry in payload.get("entry") or []:
                for event in entry.get("messaging") or []:
                    sender = (event.get("sender") or {}).get("id")
                    if not sender or sender == entry.get("id"):
                        continue  # the page itself
                    mid, text, metadata = self.to_message(event)
                    if text and await self.first_time(mid):
                        messages.append(self.user_message(text, sender, mid, metadata))
            await self.deliver(on_new_message, messages)
            return response.text("success")

        return hook
