"""X (Twitter) direct messages, on the Account Activity webhook.

Inbound: GET ?crc_token= is the challenge-response check, answered with
{"response_token": "sha256=" + base64(HMAC-SHA256(consumer secret, crc_token))};
POSTs carry `direct_message_events`, signed the same way over the raw body in
`x-twitter-webhooks-signature`. The account's own DMs (sender == for_user_id
or X_ACCOUNT_ID) are echoes and are ignored. What residents send becomes:
- text -> the text; a quick reply option -> its metadata (the payload);
- a location attachment with shared coordinates -> /share_location{"latitude": .., "longitude": ..};
- an attached photo -> /share_photo{"media_url": ..}, its text in metadata["caption"].

Outbound: POST {X_API_BASE}/1.1/direct_messages/events/new.json, JSON body,
signed with OAuth 1.0a (HMAC-SHA1) with the app's and the account's keys.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Tuple

import httpx
from oauthlib.oauth1 import Client as OAuth1Client
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.base import (
    OnNewMessage,
    RenderingOutput,
    WebhookInput,
    hmac_sha256_base64,
    location_message,
    photo_message,
    pseudonym,
    same_secret,
    typed_text,
)
from channels.dedupe import TTLStore
from channels.render import render_x
from common.settings import Settings, get_settings

logger = logging.getLogger(__name__)

CHANNEL = "twitter"
SIGNATURE_HEADER = "x-twitter-webhooks-signature"
SEND_PATH = "/1.1/direct_messages/events/new.json"


def _shared_point(attachment: Dict[str, Any]) -> Optional[Tuple[float, float]]:
    """(latitude, longitude) of a location attachment with shared coordinates. The
    coordinates are a GeoJSON Point, longitude first; a shared place (an id only) has none."""
    if attachment.get("type") != "location":
        return None
    location = attachment.get("location") or {}
    point = ((location.get("shared_coordinate") or {}).get("coordinates") or {}).get("coordinates")
    try:
        longitude, latitude = float(point[0]), float(point[1])
    except (TypeError, ValueError, IndexError):
        return None
    return latitude, longitude


def crc_response_token(consumer_secret: str, crc_token: str) -> str:
    return "sha256=" + hmac_sha256_base64(consumer_secret, crc_token.encode("utf-8"))


class XDirectMessageOutput(RenderingOutput):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(
        self, consumer_key: str, consumer_secret: str, access_token: str, access_token_secret: str, api_base: str
    ) -> None:
        self.keys = (consumer_key, consumer_secret, access_token, access_token_secret)
        self.url = api_base.rstrip("/") + SEND_PATH

    def signed(self, body: str) -> Dict[str, str]:
        """Headers of an OAuth 1.0a-signed POST of a JSON body (the body is not a
        signature parameter; oauthlib adds its oauth_body_hash)."""
        consumer_key, consumer_secret, access_token, access_token_secret = self.keys
        client = OAuth1Client(
            consumer_key,
            client_secret=consumer_secret,
            resource_owner_key=access_token,
            resource_owner_secret=access_token_secret,
        )
        _, headers, _ = client.sign(
            self.url, http_method="POST", body=body, headers={"Content-Type": "application/json"}
        )
        return headers

    async def send_rendered(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if not all(self.keys):
            logger.error("twitter: X_CONSUMER_KEY/SECRET and X_ACCESS_TOKEN/SECRET not all set, DM not sent.")
            return
        async with httpx.AsyncClient(timeout=10.0) as client:
            for message_data in render_x(message):
                event = {
                    "event": {
                        "type": "message_create",
                        "message_create": {"target": {"recipient_id": recipient_id}, "message_data": message_data},
                    }
                }
                body = json.dumps(event, ensure_ascii=False)
                try:
                    answer = await client.post(self.url, content=body.encode("utf-8"), headers=self.signed(body))
                except httpx.HTTPError as exc:
                    logger.error("twitter: DM to %s failed (%s).", pseudonym(recipient_id), type(exc).__name__)
                    continue
                if answer.status_code >= 400:
                    logger.error("twitter: DM to %s refused, HTTP %s.", pseudonym(recipient_id), answer.status_code)


class XDirectMessageInput(WebhookInput):
    """Custom Rasa connector: `channels.x_dm.XDirectMessageInput` in credentials.yml."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(
        self,
        consumer_key: Optional[str] = None,
        consumer_secret: Optional[str] = None,
        access_token: Optional[str] = None,
        access_token_secret: Optional[str] = None,
        account_id: Optional[str] = None,
        api_base: Optional[str] = None,
        store: Optional[TTLStore] = None,
        settings: Optional[Settings] = None,
    ) -> None:
        settings = settings or get_settings()
        super().__init__(store=store, settings=settings)
        self.consumer_key = consumer_key or settings.x_consumer_key
        self.consumer_secret = consumer_secret or settings.x_consumer_secret
        self.access_token = access_token or settings.x_access_token
        self.access_token_secret = access_token_secret or settings.x_access_token_secret
        self.account_id = str(account_id or settings.x_account_id)
        self.api_base = api_base or settings.x_api_base
        if not self.consumer_secret:
            logger.warning("twitter: X_CONSUMER_SECRET is not set; the webhook refuses every request.")

    def get_output_channel(self) -> XDirectMessageOutput:
        return XDirectMessageOutput(
            self.consumer_key, self.consumer_secret, self.access_token, self.access_token_secret, self.api_base
        )

    def is_authentic(self, request: Request) -> Optional[int]:
        given = request.headers.get(SIGNATURE_HEADER)
        if not given:
            return 401
        if not self.consumer_secret:
            return 403
        expected = "sha256=" + hmac_sha256_base64(self.consumer_secret, request.body)
        return None if same_secret(given, expected) else 403

    def to_messages(self, payload: Dict[str, Any]) -> List[Tuple[str, str, str, Dict[str, Any]]]:
        """(event id, sender id, text for Rasa, metadata) of each resident's DM."""
        own_ids = {str(payload.get("for_user_id") or ""), self.account_id} - {""}
        out = []
        for event in payload.get("direct_message_events") or []:
            if event.get("type") != "message_create":
                continue
            create = event.get("message_create") or {}
            sender = str(create.get("sender_id") or "")
            if not sender or sender in own_ids:
                continue  # our own outgoing DM, echoed back
            data = create.get("message_data") or {}
            quick_reply = data.get("quick_reply_response") or {}
            attachment = data.get("attachment") or {}
            media = attachment.get("media") or {}
            point = _shared_point(attachment)
            if quick_reply.get("metadata"):
                text, metadata = quick_reply["metadata"], {"quick_reply": True}
            elif point is not None:
                text, metadata = location_message(*point), {}
            elif media.get("type") == "photo" and media.get("media_url_https"):
                # The text ends with the media's t.co link; the rest is the caption.
                caption = (data.get("text") or "").replace(media.get("url") or "\0", "").strip()
                text, metadata = photo_message(media["media_url_https"], caption)
            else:
                text, metadata = typed_text(data.get("text")), {}
            if text:
                out.append((str(event.get("id") or ""), sender, text, metadata))
        return out

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = self.new_blueprint("cdmx_x_dm")

        @hook.route("/webhook", methods=["GET"])
        async def crc(request: Request) -> HTTPResponse:
            token = request.args.get("crc_token")
            if not token:
                return response.json({"error": "crc_token missing"}, status=400)
            if not self.consumer_secret:
                return response.json({"error": "not configured"}, status=403)
            return response.json({"response_token": crc_response_token(self.consumer_secret, token)})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refused = self.is_authentic(request)
            if refused:
                logger.warning("twitter: webhook call without a valid signature refused (%s).", refused)
                return response.text("invalid signature", status=refused)
            messages = []
            payload = request.json if isinstance(request.json, dict) else {}
            for event_id, sender, text, metadata in self.to_messages(payload):
                if await self.first_time(event_id):
                    messages.append(self.user_message(text, sender, event_id, metadata))
            await self.deliver(on_new_message, messages)
            return response.json({"ok": True})

        return hook
