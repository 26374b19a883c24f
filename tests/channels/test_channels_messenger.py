"""Messenger connector: handshake, X-Hub-Signature-256, events in the Messenger
Platform's format, replies through the Send API (recorder as graph.facebook.com)."""
from __future__ import annotations

import copy
import hashlib
import hmac

import httpx
import pytest

import channel_harness as h
from channels.messenger import MessengerInput

PATH = "/webhooks/facebook/webhook"
PSID = "6789012345678901"


def post_event(app: h.RasaApp, payload: dict, signature: str = "sign") -> httpx.Response:
    body = h.dump(payload)
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        signature = h.messenger_signature(h.FB_SECRET, body)
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    return httpx.post(app.url(PATH), content=body, headers=headers)


@pytest.fixture
def messenger(serve):
    return serve(MessengerInput.from_credentials(None))


def test_handshake_echoes_the_challenge_for_the_right_token(messenger):
    ok = httpx.get(
        messenger.url(PATH),
        params={"hub.mode": "subscribe", "hub.verify_token": h.FB_VERIFY, "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200
    assert ok.text == "1158201444"


@pytest.mark.parametrize("token", ["wrong", ""])
def test_handshake_refuses_a_wrong_token(messenger, token):
    answer = httpx.get(
        messenger.url(PATH), params={"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1"}
    )
    assert answer.status_code == 403
    assert answer.text != "1"


def test_signed_text_reaches_the_dialogue_and_reply_has_quick_replies(messenger, recorder):
    answer = post_event(messenger, h.load_json("messenger_text.json"))

    assert answer.status_code == 200
    (message,) = messenger.messages
    assert message.text == "no pasa el camión de la basura desde hace una semana"
    assert message.sender_id == PSID
    assert message.input_channel == "facebook"
    assert message.metadata["channel"] == "facebook"
    assert message.message_id == "m_AbCdEf0123456789"

    (sent,) = recorder.wait_for(1)
    assert sent.method == "POST"
    assert sent.path == "/v18.0/me/messages"
    assert sent.query["access_token"] == [h.FB_PAGE_TOKEN]
    assert sent.json() == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "¿Confirmas el reporte?",
            "quick_replies": [
                {"content_type": "text", "title": "Sí", "payload": "/affirm"},
                {"content_type": "text", "title": "No", "payload": "/deny"},
            ],
        },
    }


@pytest.mark.parametrize("case", ["unsigned", "tampered", "other secret", "old sha1 header only"])
def test_unauthentic_events_are_refused_before_the_dialogue(messenger, recorder, case):
    payload = h.load_json("messenger_text.json")
    body = h.dump(payload)
    if case == "unsigned":
        answer = post_event(messenger, payload, signature=None)
        assert answer.status_code == 401
    elif case == "old sha1 header only":
        sha1 = "sha1=" + hmac.new(h.FB_SECRET.encode(), body, hashlib.sha1).hexdigest()
        answer = httpx.post(messenger.url(PATH), content=body, headers={"X-Hub-Signature": sha1})
        assert answer.status_code == 401
    else:
        signature = h.messenger_signature(h.FB_SECRET if case == "tampered" else "other", body)
        tampered = copy.deepcopy(payload)
        if case == "tampered":
            tampered["entry"][0]["messaging"][0]["message"]["text"] = "otra cosa"
        answer = post_event(messenger, tampered, signature=signature)
        assert answer.status_code == 403
    messenger.settle()
    assert messenger.messages == []
    assert recorder.requests == []


def test_quick_reply_sends_its_payload(messenger):
    post_event(messenger, h.load_json("messenger_quick_reply.json"))
    (message,) = messenger.messages
    assert message.text == "/affirm"


def test_shared_location_becomes_share_location(messenger):
    post_event(messenger, h.load_json("messenger_location.json"))
    (message,) = messenger.messages
    assert message.text == '/share_location{"latitude": 19.43261, "longitude": -99.13321}'


def test_image_attachment_becomes_share_photo(messenger):
    payload = h.load_json("messenger_location.json")
    payload["entry"][0]["messaging"][0]["message"] = {
        "mid": "m_photo1",
        "text": "así está",
        "attachments": [{"type": "image", "payload": {"url": "https://scontent.example/bache.jpg"}}],
    }
    post_event(messenger, payload)
    (message,) = messenger.messages
    assert message.text == '/share_photo{"media_url": "https://scontent.example/bache.jpg"}'
    assert message.metadata["caption"] == "así está"


def test_echoes_deliveries_and_reads_are_ignored(messenger, recorder):
    payload = h.load_json("messenger_text.json")
    entry = payload["entry"][0]
    base = {"sender": {"id": PSID}, "recipient": {"id": entry["id"]}, "timestamp": 1764771400000}
    entry["messaging"] = [
        # The page's own message echoed back: sender is the page.
        {
            "sender": {"id": entry["id"]},
            "recipient": {"id": PSID},
            "timestamp": 1764771400000,
            "message": {"mid": "m_echo", "is_echo": True, "app_id": 1, "text": "¿Confirmas el reporte?"},
        },
        {**base, "delivery": {"mids": ["m_echo"], "watermark": 1764771400000}},
        {**base, "read": {"watermark": 1764771400000}},
    ]
    assert post_event(messenger, payload).status_code == 200
    messenger.settle()
    assert messenger.messages == []
    assert recorder.requests == []


def test_the_same_mid_twice_is_handled_once(messenger, recorder):
    post_event(messenger, h.load_json("messenger_text.json"))
    post_event(messenger, h.load_json("messenger_text.json"))
    messenger.settle()
    assert len(messenger.messages) == 1
    assert len(recorder.requests) == 1


def test_many_or_link_buttons_become_button_templates(messenger, recorder):
    messenger.agent.answer = lambda message: [
        {
            "text": "Elige el tipo de reporte",
            "buttons": [{"title": f"Opción número {i}", "payload": f"/choose{{\"n\": {i}}}"} for i in range(1, 15)],
        }
    ]
    post_event(messenger, h.load_json("messenger_text.json"))
    messenger.settle()
    templates = [r.json()["message"]["attachment"]["payload"] for r in recorder.requests]
    assert len(templates) == 5  # 14 choices, three per template
    assert templates[0]["text"] == "Elige el tipo de reporte"
    assert all(t["template_type"] == "button" for t in templates)
    buttons = [b for t in templates for b in t["buttons"]]
    assert [b["payload"] for b in buttons] == [f'/choose{{"n": {i}}}' for i in range(1, 15)]
    assert all(len(b["title"]) <= 20 for b in buttons)


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json"])
def test_signed_garbage_is_not_a_server_error(messenger, body):
    answer = httpx.post(
        messenger.url(PATH), content=body, headers={"X-Hub-Signature-256": h.messenger_signature(h.FB_SECRET, body)}
    )
    assert answer.status_code in (200, 400)
    assert messenger.messages == []
