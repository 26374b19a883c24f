"""Run the Telegram channel without a public URL.

    python -m channels.telegram_polling [--forward-url URL]

Removes the bot's webhook (Telegram refuses getUpdates while one is set),
long-polls getUpdates and posts each update, with the secret token, to the
Rasa server's Telegram webhook (default {RASA_URL}/webhooks/telegram/webhook),
so updates go through exactly the same checks and handling as in production.
Needs TELEGRAM_BOT_TOKEN and TELEGRAM_SECRET_TOKEN (any value: the runner
and the webhook share it).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import Optional

import httpx
from telegram import Bot
from telegram.error import TelegramError

from channels.telegram_bot import SECRET_HEADER, BotFactory
from common.settings import get_settings

logger = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]


async def poll_once(
    bot: Bot, client: httpx.AsyncClient, forward_url: str, secret: str, offset: Optional[int], timeout: int = 30
) -> Optional[int]:
    """Fetch one batch and forward it in order; returns the next offset.

    An update is confirmed to Telegram (offset moves past it) only once the
    webhook accepted it, so nothing is lost while Rasa is down.
    """
    updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=ALLOWED_UPDATES)
    for update in updates:
        answer = await client.post(forward_url, json=update.to_dict(), headers={SECRET_HEADER: secret})
        if answer.status_code >= 400:
            raise RuntimeError(f"webhook answered HTTP {answer.status_code}")
        offset = update.update_id + 1
    return offset


async def run(forward_url: str, timeout: int = 30) -> None:
    settings = get_settings()
    if not (settings.telegram_bot_token and settings.telegram_secret_token):
        sys.exit("Set TELEGRAM_BOT_TOKEN and TELEGRAM_SECRET_TOKEN (the Rasa server needs the same secret).")
    bot = BotFactory(settings.telegram_bot_token, settings.telegram_api_base).new_bot()
    offset: Optional[int] = None
    backoff = 1.0
    async with bot, httpx.AsyncClient(timeout=30.0) as client:
        await bot.delete_webhook(drop_pending_updates=False)
        logger.info("Polling Telegram, forwarding to %s.", forward_url)
        while True:
            try:
                offset = await poll_once(bot, client, forward_url, settings.telegram_secret_token, offset, timeout)
                backoff = 1.0
            except (TelegramError, httpx.HTTPError, RuntimeError) as exc:
                logger.warning("Polling failed (%s: %s); retrying in %.0f s.", type(exc).__name__, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 60.0)


def main(argv: Optional[list] = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forward-url", default=f"{settings.rasa_url.rstrip('/')}/webhooks/telegram/webhook")
    parser.add_argument("--timeout", type=int, default=30, help="long-polling timeout in seconds")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        asyncio.run(run(args.forward_url, args.timeout))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
