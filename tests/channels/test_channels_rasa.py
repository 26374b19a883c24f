"""The connectors as Rasa loads them: from credentials.yml, mounted together, and
chosen by `output_channel=latest` for proactive messages (status updates)."""
from __future__ import annotations

import json
from types import SimpleNamespace

import httpx
import pytest

import channel_harness as h
from channels.messenger import MessengerInput, MessengerOutput
from channels.telegram_bot import TelegramBotInput, TelegramBotOutput
from channels.twilio_sms import TwilioSmsInput, TwilioSmsOutput
from channels.x_dm import XDirectMessageInput, XDirectMessageOutput

CREDENTIALS = h.FIXTURES.parents[2] / "credentials.yml"

CHANNELS = {
    "twilio": (TwilioSmsInput, TwilioSmsOutput, "+525598765432"),
    "telegram": (TelegramBotInput, TelegramBotOutput, "5550001111"),
    "facebook": (MessengerInput, MessengerOutput, "6789012345678901"),
    "twitter": (XDirectMessageInput, XDirectMessageOutput, "1500000000000000777"),
}


@pytest.fixture
def from_credentials(channel_env):
    from rasa.core.run import create_http_input_channels

    return create_http_input_channels(None, str(CREDENTIALS))


def test_credentials_yml_loads_the_four_connectors_next_to_rest_and_socketio(from_credentials):
    names = sorted(channel.name() for channel in from_credentials)
    assert names == sorted(["rest", "socketio", "twilio", "telegram", "facebook", "twitter"])
    for name, (input_class, _, _) in CHANNELS.items():
        (channel,) = [c for c in from_credentials if c.name() == name]
        assert type(channel) is input_class


def test_all_channels_mount_on_one_rasa_app_under_webhooks(serve, from_credentials):
    app = serve(*from_credentials)
    for name in CHANNELS:
        assert httpx.get(app.url(f"/webhooks/{name}/")).json() == {"status": "ok"}


def test_connectors_start_without_secrets_and_refuse_calls(serve, monkeypatch):
    for name in ("TWILIO_AUTH_TOKEN", "TELEGRAM_SECRET_TOKEN", "FACEBOOK_APP_SECRET", "X_CONSUMER_SECRET"):
        monkeypatch.setenv(name, "")
    from rasa.core.run import create_http_input_channels

    app = serve(*create_http_input_channels(None, str(CREDENTIALS)))
    for name in CHANNELS:
        # Each platform's proof header is present (so 403, not 401), but no secret can match.
        headers = {
            "X-Twilio-Signature": "x",
            "X-Telegram-Bot-Api-Secret-Token": "",
            "X-Hub-Signature-256": "sha256=00",
            "x-twitter-webhooks-signature": "sha256=AA==",
        }
        answer = httpx.post(app.url(f"/webhooks/{name}/webhook"), content=b"{}", headers=headers)
        assert answer.status_code == 403, name
    assert app.messages == []


@pytest.mark.parametrize("name", list(CHANNELS))
def test_output_channel_latest_sends_back_on_the_residents_channel(serve, recorder, from_credentials, name):
    """What /conversations/<id>/trigger_intent?output_channel=latest does: pick the
    registered input channel named like the tracker's latest input channel."""
    from rasa.server import _get_output_channel
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    app = serve(*from_credentials)
    _, output_class, recipient = CHANNELS[name]
    tracker = DialogueStateTracker.from_events(recipient, [UserUttered("hola", input_channel=name)])
    request = SimpleNamespace(
        args={"output_channel": "latest"}, app=SimpleNamespace(ctx=SimpleNamespace(input_channels=from_credentials))
    )
    output = _get_output_channel(request, tracker)
    assert type(output) is output_class

    app.run(output.send_response(recipient, {"text": "Tu reporte 311-000042 cambió a: atendido."}))
    (sent,) = recorder.wait_for(1)
    assert RECIPIENT_AND_TEXT[name](sent) == (recipient, "Tu reporte 311-000042 cambió a: atendido.")


RECIPIENT_AND_TEXT = {
    "twilio": lambda r: (r.form()["To"], r.form()["Body"]),
    "telegram": lambda r: (str(r.params()["chat_id"]), r.params()["text"]),
    "facebook": lambda r: (r.json()["recipient"]["id"], r.json()["message"]["text"]),
    "twitter": lambda r: (
        r.json()["event"]["message_create"]["target"]["recipient_id"],
        r.json()["event"]["message_create"]["message_data"]["text"],
    ),
}


@pytest.mark.parametrize(
    "text",
    [
        '/share_location{"latitude": 19.37152, "longitude": -99.17843}',
        '/share_photo{"media_url": "telegram-file:AgACAgEAAxkBAAIBQ2large"}',
    ],
)
def test_location_and_photo_messages_fit_the_projects_domain(text, recwarn):
    """Rasa drops entities the domain does not declare (and logs the whole message
    while doing so): every entity the connectors send must be in domain.yml."""
    from channels.base import location_message, photo_message
    from rasa.nlu.classifiers.regex_message_handler import RegexMessageHandler
    from rasa.shared.core.domain import Domain
    from rasa.shared.nlu.training_data.message import Message

    assert text in (location_message(19.37152, -99.17843), photo_message("telegram-file:AgACAgEAAxkBAAIBQ2large")[0])
    domain = Domain.load(str(CREDENTIALS.with_name("domain.yml")))
    (parsed,) = RegexMessageHandler().process([Message(data={"text": text})], domain)
    sent = json.loads(text[text.index("{"):])
    assert parsed.get("intent")["name"] in domain.intents
    assert {e["entity"]: e["value"] for e in parsed.get("entities", [])} == sent
    assert not [w for w in recwarn if "Failed to parse arguments" in str(w.message)]
