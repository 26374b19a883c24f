"""What the four connectors share: signatures, pseudonyms for logs, the messages
that stand for a shared location or photo, and answering the platform fast.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import re
import secrets
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Set, Tuple

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.dedupe import Deduplicator, TTLStore, make_store
from common.settings import Settings, get_settings

logger = logging.getLogger(__name__)

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]

# Intents the connectors produce for what is not text (Rasa's "/intent{entities}" syntax).
SHARE_LOCATION_INTENT = "share_location"
SHARE_PHOTO_INTENT = "share_photo"

_PROCESS_LOG_KEY = secrets.token_bytes(32)


# --- privacy -------------------------------------------------------------------------


def pseudonym(value: Any) -> str:
    """A short keyed hash that stands for a phone number or user id in logs."""
    configured = get_settings().log_hash_key
    key = configured.encode("utf-8") if configured else _PROCESS_LOG_KEY
    return hmac.new(key, str(value).encode("utf-8"), hashlib.sha256).hexdigest()[:12]


def store_key(value: Any) -> str:
    """Stable hash of a sender id for store keys: the same on every replica, no number in clear."""
    return hashlib.sha256(f"cdmx-channels:{value}".encode("utf-8")).hexdigest()[:32]


class _RedactSecrets(logging.Filter):
    """HTTP client logs print request URLs; Telegram's carries the bot token and the
    Graph API's the page token. Mask them wherever such a record is logged."""

    _PATTERNS = (
        (re.compile(r"/bot\d+:[A-Za-z0-9_-]+"), "/bot<token>"),
        (re.compile(r"(access_token=)[^&\s\"']+"), r"\1<token>"),
    )

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            return True
        redacted = message
        for pattern, replacement in self._PATTERNS:
            redacted = pattern.sub(replacement, redacted)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


# A filter only sees records of the logger it is on, not of its children: list the emitters.
for _name in ("httpx", "telegram", "telegram.Bot", "telegram.BaseRequest", "telegram.HTTPXRequest"):
    logging.getLogger(_name).addFilter(_RedactSecrets())
# python-telegram-bot logs every call's parameters (message text, chat ids) at DEBUG;
# `rasa run --debug` would print them. Its INFO and above still show.
if logging.getLogger("telegram").level == logging.NOTSET:
    logging.getLogger("telegram").setLevel(logging.INFO)


# --- signatures ----------------------------------------------------------------------


def hmac_digest(secret: str, payload: bytes, algorithm=hashlib.sha256) -> bytes:
    return hmac.new(secret.encode("utf-8"), payload, algorithm).digest()


def hmac_sha256_base64(secret: str, payload: bytes) -> str:
    return base64.b64encode(hmac_digest(secret, payload)).decode("ascii")


def same_secret(given: Optional[str], expected: Optional[str]) -> bool:
    """Constant-time comparison; an unset expected secret never matches."""
    if not expected or given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


# --- what residents send -------------------------------------------------------------


def intent_message(intent: str, entities: Dict[str, Any]) -> str:
    """Rasa's intent-with-entities syntax: /intent{"entity": value}."""
    return f"/{intent}{json.dumps(entities, ensure_ascii=False)}"


def location_message(latitude: float, longitude: float) -> str:
    return intent_message(SHARE_LOCATION_INTENT, {"latitude": latitude, "longitude": longitude})


def photo_message(media_url: str, caption: Optional[str] = None) -> Tuple[str, Dict[str, Any]]:
    """The message for a photo, and the metadata that carries its caption.

    The caption is not an entity: Rasa drops entities the domain does not list,
    with a warning that quotes the whole message (the resident's words) in the log.
    Actions read it from the user event's metadata.
    """
    metadata: Dict[str, Any] = {"media_url": media_url}
    if caption and caption.strip():
        metadata["caption"] = caption.strip()
    return intent_message(SHARE_PHOTO_INTENT, {"media_url": media_url}), metadata


def typed_text(text: Optional[str]) -> str:
    """Text a resident typed. A leading "/" is dropped: typed text must go through
    NLU, not Rasa's "/intent{entities}" shortcut, or anyone could set slots by
    typing JSON. Payloads of buttons we offered do not go through here."""
    return (text or "").strip().lstrip("/").strip()


# --- connectors ----------------------------------------------------------------------


class WebhookInput(InputChannel):
    """Base of the four connectors: duplicate filter and a quick answer to the platform.

    The dialogue runs in a task; the webhook waits for it at most `ack_seconds`
    and then answers anyway, because platforms retry slow webhooks.
    """

    def __init__(self, store: Optional[TTLStore] = None, settings: Optional[Settings] = None) -> None:
        settings = settings or get_settings()
        self.store = store if store is not None else make_store(settings.redis_url)
        self.dedupe = Deduplicator(self.store, settings.channel_dedupe_ttl)
        self.ack_seconds = settings.channel_ack_seconds
        self._tasks: Set["asyncio.Task[None]"] = set()

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> "WebhookInput":
        # Secrets come from the environment (common/settings.py); keys written in
        # the channel's credentials.yml section override them.
        given = {k: v for k, v in (credentials or {}).items() if v not in (None, "")}
        return cls(**given)

    def url_prefix(self) -> str:
        return self.name()

    def new_blueprint(self, name: str) -> Blueprint:
        """A blueprint with the health route and, at shutdown, a wait for running dialogue tasks."""
        hook = Blueprint(name, __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.listener("before_server_stop")
        async def finish(*_: Any) -> None:
            await self.drain(timeout=10)

        return hook

    async def first_time(self, message_id: Optional[str]) -> bool:
        if not message_id:
            return True
        if await self.dedupe.first_time(self.name(), str(message_id)):
            return True
        logger.info("%s: message %s already handled, ignoring the retry.", self.name(), message_id)
        return False

    def user_message(
        self, text: str, sender_id: str, message_id: Optional[str], metadata: Optional[Dict[str, Any]] = None
    ) -> UserMessage:
        return UserMessage(
            text=text,
            output_channel=self.get_output_channel(),
            sender_id=sender_id,
            input_channel=self.name(),
            message_id=message_id,
            metadata={"channel": self.name(), "message_id": message_id, **(metadata or {})},
        )

    async def deliver(
        self,
        on_new_message: OnNewMessage,
        messages: Iterable[UserMessage],
        before: Optional[Callable[[], Awaitable[Any]]] = None,
    ) -> None:
        """Hand messages to the dialogue, in order, answering the platform in time."""
        messages = list(messages)
        if not messages and before is None:
            return

        async def work() -> None:
            if before is not None:
                try:
                    await before()
                except Exception as exc:
                    logger.warning("%s: preliminary call failed (%s).", self.name(), type(exc).__name__)
            for message in messages:
                try:
                    await on_new_message(message)
                except Exception:
                    logger.exception(
                        "%s: the dialogue failed on a message from %s.", self.name(), pseudonym(message.sender_id)
                    )

        task = asyncio.create_task(work())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        await asyncio.wait({task}, timeout=self.ack_seconds)

    async def drain(self, timeout: Optional[float] = None) -> None:
        """Wait for dialogue tasks still running (server shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)


class RenderingOutput(OutputChannel):
    """Output channel that renders each bot message once (channels/render.py) and
    sends the platform payloads; Rasa's per-kind hooks all come through here."""

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        await self.send_rendered(recipient_id, message)

    async def send_rendered(self, recipient_id: str, message: Dict[str, Any]) -> None:
        raise NotImplementedError

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_rendered(recipient_id, {"text": text})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: List[Dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_rendered(recipient_id, {"text": text, "buttons": buttons})

    async def send_image_url(self, recipient_id: str, image: str, **kwargs: Any) -> None:
        await self.send_rendered(recipient_id, {"image": image})

    async def send_custom_json(self, recipient_id: str, json_message: Dict[str, Any], **kwargs: Any) -> None:
        await self.send_rendered(recipient_id, {"custom": json_message})
