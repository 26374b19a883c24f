"""Logs never carry message text, phone numbers, user ids or secrets in clear,
even at DEBUG level, across a full receive-and-reply round on every channel."""
from __future__ import annotations

import logging
from urllib.parse import urlencode

import httpx

import channel_harness as h
from channels.base import pseudonym
from channels.messenger import MessengerInput
from channels.telegram_bot import TelegramBotInput
from channels.twilio_sms import TwilioSmsInput
from channels.x_dm import XDirectMessageInput

SECRETS = [h.TWILIO_TOKEN, h.TELEGRAM_TOKEN, h.TELEGRAM_SECRET, h.FB_SECRET, h.FB_PAGE_TOKEN, h.X_CONSUMER_SECRET]
IDS = ["525598765432", "5550001111", "6789012345678901", "1500000000000000777"]
TEXTS = ["fiebre", "bache", "camión", "street light", "Confirmas"]


def deliver_everywhere(app: h.RasaApp) -> None:
    pairs = h.twilio_form()
    url = app.url("/webhooks/twilio/webhook")
    httpx.post(
        url,
        content=urlencode(pairs),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": h.twilio_signature(h.TWILIO_TOKEN, url, pairs),
        },
    )
    httpx.post(
        app.url("/webhooks/telegram/webhook"),
        content=h.dump(h.load_json("telegram_text.json")),
        headers={"X-Telegram-Bot-Api-Secret-Token": h.TELEGRAM_SECRET},
    )
    body = h.dump(h.load_json("messenger_text.json"))
    httpx.post(
        app.url("/webhooks/facebook/webhook"),
        content=body,
        headers={"X-Hub-Signature-256": h.messenger_signature(h.FB_SECRET, body)},
    )
    # A retry and a refused call log too.
    httpx.post(
        app.url("/webhooks/facebook/webhook"),
        content=body,
        headers={"X-Hub-Signature-256": h.messenger_signature(h.FB_SECRET, body)},
    )
    httpx.post(app.url("/webhooks/facebook/webhook"), content=body, headers={"X-Hub-Signature-256": "sha256=00"})
    body = h.dump(h.load_json("x_dm_event.json"))
    httpx.post(
        app.url("/webhooks/twitter/webhook"),
        content=body,
        headers={"x-twitter-webhooks-signature": h.x_signature(h.X_CONSUMER_SECRET, body)},
    )
    app.settle()


def test_nothing_personal_or_secret_in_the_logs(serve, recorder, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    app = serve(
        TwilioSmsInput.from_credentials(None),
        TelegramBotInput.from_credentials(None),
        MessengerInput.from_credentials(None),
        XDirectMessageInput.from_credentials(None),
    )
    deliver_everywhere(app)
    # The proof that something was logged at all, and replies were sent.
    assert len(app.messages) == 4
    assert len(recorder.requests) >= 4
    assert any("already handled" in r.getMessage() for r in caplog.records)

    # Failing sends log too: point every API at a closed port.
    for channel in app.input_channels:
        output = channel.get_output_channel()
        for attr in ("api_base", "url"):
            if hasattr(output, attr):
                monkeypatch.setattr(output, attr, "http://127.0.0.1:9")
        if hasattr(output, "bots"):
            output.bots.api_base = "http://127.0.0.1:9"
            output.bots._bot = None
        app.run(output.send_response(IDS[0], {"text": "Tu reporte sigue abierto, fiebre."}))

    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert pseudonym(IDS[0]) in logged  # ids appear only as pseudonyms
    for needle in SECRETS + IDS + TEXTS:
        assert needle not in logged, needle
