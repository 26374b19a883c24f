"""Telegram, on python-telegram-bot.

Inbound: Telegram posts `Update`s to /webhooks/telegram/webhook with the
secret set by setWebhook in `X-Telegram-Bot-Api-Secret-Token`. Without a
public URL, `python -m channels.telegram_polling` fetches updates with
getUpdates and posts them to the same webhook.

Outbound: PTB's `Bot` against `{TELEGRAM_API_BASE}/bot<token>/<method>`.

What residents send becomes:
- text -> the text;
- an inline button press -> its payload (the press is acknowledged with answerCallbackQuery);
- a shared location (or venue) -> /share_location{"latitude": .., "longitude": ..};
- a photo (or an image sent as a file) -> /share_photo{"media_url": "telegram-file:<file_id>"}
  of the largest size, the caption in metadata["caption"] and the size in metadata["photo"];
  the file id is kept rather than a download URL, because that URL carries the bot token.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Optional, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot, InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.error import TelegramError

from channels.base import (
    OnNewMessage,
    RenderingOutput,
    WebhookInput,
    location_message,
    photo_message,
    pseudonym,
    same_secret,
    typed_text,
)
from channels.dedupe import TTLStore
from channels.render import render_telegram, telegram_aliases
from common.settings import Settings, get_settings

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Keyboards stay on screen; a long payload's alias must outlive them reasonably.
ALIAS_TTL = 30 * 24 * 3600
MEDIA_SCHEME = "telegram-file:"

_MARKUPS = {"inline_keyboard": InlineKeyboardMarkup, "keyboard": ReplyKeyboardMarkup}


def _alias_key(alias: str) -> str:
    return f"telegram:alias:{alias}"


class BotFactory:
    """One PTB `Bot` per event loop: its HTTP connection pool belongs to the loop."""

    def __init__(self, token: str, api_base: str) -> None:
        self.token = token
        self.api_base = api_base.rstrip("/")
        self._bot: Optional[Bot] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def new_bot(self) -> Bot:
        return Bot(self.token, base_url=f"{self.api_base}/bot", base_file_url=f"{self.api_base}/file/bot")

    def get(self) -> Bot:
        loop = asyncio.get_running_loop()
        if self._bot is None or self._loop is not loop:
            self._bot, self._loop = self.new_bot(), loop
        return self._bot


def _snake(method: str) -> str:
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in method)


class TelegramBotOutput(RenderingOutput):
    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(self, bots: BotFactory, store: TTLStore) -> None:
        self.bots = bots
        self.store = store

    async def send_rendered(self, recipient_id: str, message: Dict[str, Any]) -> None:
        if not self.bots.token:
            logger.error("telegram: TELEGRAM_BOT_TOKEN not set, message not sent.")
            return
        for alias, payload in telegram_aliases(message).items():
            await self.store.set(_alias_key(alias), payload, ALIAS_TTL)
        bot = self.bots.get()
        for call in render_telegram(message):
            await self.call(bot, recipient_id, call["method"], dict(call["params"]))

    async def call(self, bot: Bot, chat_id: str, method: str, params: Dict[str, Any]) -> None:
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            if markup.get("remove_keyboard"):
                params["reply_markup"] = ReplyKeyboardRemove()
            else:
                kind = next((k for k in _MARKUPS if k in markup), None)
                if kind:
                    params["reply_markup"] = _MARKUPS[kind].de_json(markup, bot)
        send = getattr(bot, _snake(method), None)
        if send is None:
            logger.error("telegram: unknown Bot API method %s in a response.", method)
            return
        try:
            await send(chat_id=chat_id, **params)
        except TelegramError as exc:
            logger.error("telegram: %s to %s failed (%s).", method, pseudonym(chat_id), type(exc).__name__)


class TelegramBotInput(WebhookInput):
    """Custom Rasa connector: `channels.telegram_bot.TelegramBotInput` in credentials.yml."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    def __init__(
        self,
        access_token: Optional[str] = None,
        secret_token: Optional[str] = None,
        api_base: Optional[str] = None,
        store: Optional[TTLStore] = None,
        settings: Optional[Settings] = None,
    ) -> None:
        settings = settings or get_settings()
        super().__init__(store=store, settings=settings)
        self.secret_token = secret_token or settings.telegram_secret_token
        self.bots = BotFactory(access_token or settings.telegram_bot_token, api_base or settings.telegram_api_base)
        if not self.secret_token:
            logger.warning("telegram: TELEGRAM_SECRET_TOKEN is not set; the webhook refuses every request.")

    def get_output_channel(self) -> TelegramBotOutput:
        return TelegramBotOutput(self.bots, self.store)

    def is_authentic(self, request: Request) -> Optional[int]:
        given = request.headers.get(SECRET_HEADER)
        if given is None:
            return 401
        return None if same_secret(given, self.secret_token) else 403

    async def _payload(self, data: Optional[str]) -> Optional[str]:
        if data and data.startswith("~"):
            return await self.store.get(_alias_key(data))
        return data

    async def to_message(self, update: Update) -> Tuple[Optional[str], Optional[str], Dict[str, Any]]:
        """(sender id, text for Rasa, metadata) for an update; text None if nothing to say."""
        query = update.callback_query
        if query is not None:
            chat = query.message.chat if query.message else None
            sender = str(chat.id if chat else query.from_user.id)
            return sender, await self._payload(query.data), {"language_code": query.from_user.language_code}

        message = update.message
        if message is None:
            return None, None, {}  # edits, channel posts, member updates: nothing to say
        sender = str(message.chat.id)
        metadata: Dict[str, Any] = {
            "language_code": message.from_user.language_code if message.from_user else None,
            "chat_type": message.chat.type,
        }
        location = message.location or (message.venue.location if message.venue else None)
        if location is not None:
            return sender, location_message(location.latitude, location.longitude), metadata
        if message.photo:
            largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
            metadata["photo"] = {
                "file_id": largest.file_id,
                "file_unique_id": largest.file_unique_id,
                "width": largest.width,
                "height": largest.height,
            }
            text, photo = photo_message(MEDIA_SCHEME + largest.file_id, message.caption)
            return sender, text, {**metadata, **photo}
        document = message.document
        if document is not None and (document.mime_type or "").startswith("image/"):
            metadata["photo"] = {"file_id": document.file_id, "file_unique_id": document.file_unique_id}
            text, photo = photo_message(MEDIA_SCHEME + document.file_id, message.caption)
            return sender, text, {**metadata, **photo}
        text = typed_text(message.text)
        return sender, (text or None), metadata

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        hook = self.new_blueprint("cdmx_telegram")

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            refused = self.is_authentic(request)
            if refused:
                logger.warning("telegram: webhook call without the secret token refused (%s).", refused)
                return response.text("invalid secret token", status=refused)
            try:
                update = Update.de_json(request.json, self.bots.get())
            except Exception:
                update = None
            if update is None:
                return response.text("not an update", status=400)

            if not await self.first_time(str(update.update_id)):
                return response.json({"ok": True})
            sender, text, metadata = await self.to_message(update)

            before = None
            query = update.callback_query
            if query is not None:

                async def before() -> None:
                    # Stops the spinner on the pressed button.
                    await self.bots.get().answer_callback_query(query.id)

            messages: List[Any] = []
            if sender and text:
                message_id = str(update.update_id)
                messages.append(self.user_message(text, sender, message_id, metadata))
            await self.deliver(on_new_message, messages, before=before)
            return response.json({"ok": True})

        return hook
