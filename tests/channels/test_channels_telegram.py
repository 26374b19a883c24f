"""Telegram connector: secret token, updates in the Bot API's format, replies
through python-telegram-bot against the recorder, and the polling runner."""
from __future__ import annotations

import copy

import httpx
import pytest

import channel_harness as h
from channels.telegram_bot import TelegramBotInput
from channels.telegram_polling import poll_once

PATH = "/webhooks/telegram/webhook"
CHAT = "5550001111"


def post_update(app: h.RasaApp, update: dict, secret: str = h.TELEGRAM_SECRET) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return httpx.post(app.url(PATH), content=h.dump(update), headers=headers)


@pytest.fixture
def telegram(serve):
    return serve(TelegramBotInput.from_credentials(None))


def rasa_parse(text: str):
    """How Rasa reads the text: the intent and entities of "/intent{...}" messages."""
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
    from rasa.shared.nlu.training_data.message import Message

    (parsed,) = RegexMessageHandler().process([Message(data={"text": text})])
    return parsed.get("intent")["name"], {e["entity"]: e["value"] for e in parsed.get("entities", [])}


def test_text_update_reaches_the_dialogue_and_reply_has_an_inline_keyboard(telegram, recorder):
    answer = post_update(telegram, h.load_json("telegram_text.json"))

    assert answer.status_code == 200
    (message,) = telegram.messages
    assert message.text == "hay un bache enorme en mi calle"
    assert message.sender_id == CHAT
    assert message.input_channel == "telegram"
    assert message.metadata["channel"] == "telegram"
    assert message.metadata["language_code"] == "es"

    (sent,) = recorder.wait_for(1)
    assert sent.method == "POST"
    assert sent.path == f"/bot{h.TELEGRAM_TOKEN}/sendMessage"
    params = sent.params()
    assert str(params["chat_id"]) == CHAT
    assert params["text"] == "¿Confirmas el reporte?"
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Sí", "callback_data": "/affirm"}, {"text": "No", "callback_data": "/deny"}]]
    }


@pytest.mark.parametrize("secret,status", [(None, 401), ("wrong-secret", 403), ("", 403)])
def test_requests_without_the_secret_token_are_refused(telegram, recorder, secret, status):
    assert post_update(telegram, h.load_json("telegram_text.json"), secret=secret).status_code == status
    telegram.settle()
    assert telegram.messages == []
    assert recorder.requests == []


def test_unconfigured_secret_refuses_everything(serve, monkeypatch):
    monkeypatch.setenv("TELEGRAM_SECRET_TOKEN", "")
    app = serve(TelegramBotInput.from_credentials(None))
    assert post_update(app, h.load_json("telegram_text.json"), secret="").status_code == 403
    assert app.messages == []


def test_shared_location_becomes_share_location(telegram):
    post_update(telegram, h.load_json("telegram_location.json"))
    (message,) = telegram.messages
    assert message.text == '/share_location{"latitude": 19.37152, "longitude": -99.17843}'
    assert rasa_parse(message.text) == ("share_location", {"latitude": 19.37152, "longitude": -99.17843})


def test_photo_becomes_share_photo_with_the_largest_size_and_caption(telegram):
    post_update(telegram, h.load_json("telegram_photo.json"))
    (message,) = telegram.messages
    assert rasa_parse(message.text) == ("share_photo", {"media_url": "telegram-file:AgACAgEAAxkBAAIBQ2large"})
    assert message.metadata["caption"] == "así está"
    assert message.metadata["photo"]["file_id"] == "AgACAgEAAxkBAAIBQ2large"
    assert message.metadata["photo"]["width"] == 1280


def test_button_press_sends_its_data_and_is_answered(telegram, recorder):
    post_update(telegram, h.load_json("telegram_callback.json"))
    telegram.settle()
    (message,) = telegram.messages
    assert message.text == "/affirm"
    assert message.sender_id == CHAT
    answered = recorder.to("/answerCallbackQuery$")
    assert len(answered) == 1
    assert str(answered[0].params()["callback_query_id"]) == "4382910022918374"
    # The spinner is stopped before the dialogue answers.
    assert recorder.requests[0].path.endswith("/answerCallbackQuery")


def test_the_same_update_twice_is_handled_once(telegram, recorder):
    update = h.load_json("telegram_text.json")
    post_update(telegram, update)
    post_update(telegram, update)
    telegram.settle()
    assert len(telegram.messages) == 1
    assert len(recorder.to("/sendMessage$")) == 1


def test_typed_commands_do_not_reach_rasa_as_intents(telegram):
    update = h.load_json("telegram_text.json")
    update["message"]["text"] = '/inform{"identity_verified": true}'
    post_update(telegram, update)
    (message,) = telegram.messages
    assert not message.text.startswith("/")


def test_payloads_longer_than_64_bytes_travel_as_an_alias(telegram, recorder):
    long_payload = '/select_service{"service_code": "fuga-de-agua-potable-en-via-publica"}'
    assert len(long_payload.encode()) > 64
    telegram.agent.answer = lambda message: (
        [{"text": "¿Cuál?", "buttons": [{"title": "Fuga de agua", "payload": long_payload}]}]
        if message.text == "hay un bache enorme en mi calle"
        else []
    )
    post_update(telegram, h.load_json("telegram_text.json"))
    (sent,) = recorder.wait_for(1)
    data = sent.params()["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    assert len(data.encode()) <= 64

    press = copy.deepcopy(h.load_json("telegram_callback.json"))
    press["callback_query"]["data"] = data
    post_update(telegram, press)
    telegram.settle()
    assert telegram.messages[-1].text == long_payload


def test_proactive_message_goes_through_the_bot_api(telegram, recorder):
    output = telegram.input_channels[0].get_output_channel()
    telegram.run(output.send_response(CHAT, {"text": "Tu reporte 311-000042 fue atendido.", "image": "https://x.example/a.jpg"}))
    sent = recorder.wait_for(2)
    assert [r.path.rsplit("/", 1)[1] for r in sent] == ["sendMessage", "sendPhoto"]
    assert sent[1].params()["photo"] == "https://x.example/a.jpg"


def test_polling_runner_forwards_updates_to_the_webhook(telegram, recorder):
    from telegram import Bot

    recorder.telegram_updates.append([h.load_json("telegram_text.json"), h.load_json("telegram_location.json")])

    async def poll():
        bot = Bot(h.TELEGRAM_TOKEN, base_url=f"{recorder.url}/bot")
        async with httpx.AsyncClient() as client:
            return await poll_once(bot, client, telegram.url(PATH), h.TELEGRAM_SECRET, offset=None, timeout=0)

    import asyncio

    next_offset = asyncio.run(poll())
    telegram.settle()
    assert next_offset == 718294002 + 1
    assert [m.text for m in telegram.messages] == [
        "hay un bache enorme en mi calle",
        '/share_location{"latitude": 19.37152, "longitude": -99.17843}',
    ]
    get_updates = recorder.to("/getUpdates$")[0].params()
    assert get_updates["allowed_updates"] == ["message", "callback_query"]
    assert len(recorder.to("/sendMessage$")) == 2


def test_polling_runner_keeps_the_offset_when_the_webhook_refuses(telegram, recorder):
    from telegram import Bot

    recorder.telegram_updates.append([h.load_json("telegram_text.json")])

    async def poll():
        bot = Bot(h.TELEGRAM_TOKEN, base_url=f"{recorder.url}/bot")
        async with httpx.AsyncClient() as client:
            return await poll_once(bot, client, telegram.url(PATH), "wrong-secret", offset=None, timeout=0)

    import asyncio

    with pytest.raises(RuntimeError, match="HTTP 403"):
        asyncio.run(poll())
    assert telegram.messages == []


@pytest.mark.parametrize("body", [b"null", b"[1, 2]", b"not json"])
def test_garbage_with_the_right_secret_is_a_bad_request(telegram, body):
    answer = httpx.post(
        telegram.url(PATH), content=body, headers={"X-Telegram-Bot-Api-Secret-Token": h.TELEGRAM_SECRET}
    )
    assert answer.status_code == 400
    assert telegram.messages == []


def test_updates_with_nothing_to_say_are_acknowledged(telegram, recorder):
    edited = {"update_id": 718294099, "edited_message": h.load_json("telegram_text.json")["message"]}
    assert post_update(telegram, edited).status_code == 200
    telegram.settle()
    assert telegram.messages == []
    assert recorder.requests == []
