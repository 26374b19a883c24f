"""X direct messages: CRC challenge, x-twitter-webhooks-signature, Account
Activity events, DM replies signed with OAuth 1.0a (recorder as api.twitter.com)."""
from __future__ import annotations

import base64
import copy
import hashlib
import hmac

import httpx
import pytest

import channel_harness as h
from channels.x_dm import XDirectMessageInput

PATH = "/webhooks/twitter/webhook"
RESIDENT = "1500000000000000777"


def post_events(app: h.RasaApp, payload: dict, signature: str = "sign") -> httpx.Response:
    body = h.dump(payload)
    headers = {"Content-Type": "application/json"}
    if signature == "sign":
        signature = h.x_signature(h.X_CONSUMER_SECRET, body)
    if signature is not None:
        headers["x-twitter-webhooks-signature"] = signature
    return httpx.post(app.url(PATH), content=body, headers=headers)


@pytest.fixture
def x(serve):
    return serve(XDirectMessageInput.from_credentials(None))


def test_crc_challenge_is_answered_with_the_hmac_of_the_token(x):
    answer = httpx.get(x.url(PATH), params={"crc_token": "9f3f1a2b-crc"})
    assert answer.status_code == 200
    expected = base64.b64encode(
        hmac.new(h.X_CONSUMER_SECRET.encode(), b"9f3f1a2b-crc", hashlib.sha256).digest()
    ).decode()
    assert answer.json() == {"response_token": "sha256=" + expected}


def test_crc_without_token_is_a_bad_request(x):
    assert httpx.get(x.url(PATH)).status_code == 400


def test_signed_dm_reaches_the_dialogue_and_reply_is_a_signed_dm_event(x, recorder):
    answer = post_events(x, h.load_json("x_dm_event.json"))

    assert answer.status_code == 200
    (message,) = x.messages
    assert message.text == "the street light on my corner has been out for days"
    assert message.sender_id == RESIDENT
    assert message.input_channel == "twitter"
    assert message.metadata["channel"] == "twitter"
    assert message.message_id == "1800000000000000123"

    (sent,) = recorder.wait_for(1)
    assert sent.method == "POST"
    assert sent.path == "/1.1/direct_messages/events/new.json"
    assert sent.headers["content-type"] == "application/json"
    assert sent.json() == {
        "event": {
            "type": "message_create",
            "message_create": {
                "target": {"recipient_id": RESIDENT},
                "message_data": {
                    "text": "¿Confirmas el reporte?",
                    "quick_reply": {
                        "type": "options",
                        "options": [{"label": "Sí", "metadata": "/affirm"}, {"label": "No", "metadata": "/deny"}],
                    },
                },
            },
        }
    }
    assert h.oauth1_signature_is_valid(
        sent,
        f"{recorder.url}/1.1/direct_messages/events/new.json",
        h.X_CONSUMER_KEY,
        h.X_CONSUMER_SECRET,
        h.X_ACCESS_TOKEN,
        h.X_ACCESS_SECRET,
    )
    # The check itself rejects a wrong secret.
    assert not h.oauth1_signature_is_valid(
        sent, f"{recorder.url}/1.1/direct_messages/events/new.json",
        h.X_CONSUMER_KEY, "other", h.X_ACCESS_TOKEN, h.X_ACCESS_SECRET,
    )


@pytest.mark.parametrize("case", ["unsigned", "tampered", "other secret", "hex instead of base64"])
def test_unauthentic_events_are_refused_before_the_dialogue(x, recorder, case):
    payload = h.load_json("x_dm_event.json")
    body = h.dump(payload)
    if case == "unsigned":
        assert post_events(x, payload, signature=None).status_code == 401
    else:
        if case == "tampered":
            signature = h.x_signature(h.X_CONSUMER_SECRET, body)
            payload = copy.deepcopy(payload)
            payload["direct_message_events"][0]["message_create"]["message_data"]["text"] = "otra cosa"
        elif case == "other secret":
            signature = h.x_signature("other", body)
        else:
            signature = "sha256=" + hmac.new(h.X_CONSUMER_SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert post_events(x, payload, signature=signature).status_code == 403
    x.settle()
    assert x.messages == []
    assert recorder.requests == []


def test_the_accounts_own_dms_are_ignored(x, recorder):
    payload = h.load_json("x_dm_event.json")
    event = payload["direct_message_events"][0]
    event["message_create"]["sender_id"] = payload["for_user_id"]
    event["message_create"]["target"]["recipient_id"] = RESIDENT
    assert post_events(x, payload).status_code == 200
    x.settle()
    assert x.messages == []
    assert recorder.requests == []


def test_the_same_event_twice_is_handled_once(x, recorder):
    post_events(x, h.load_json("x_dm_event.json"))
    post_events(x, h.load_json("x_dm_event.json"))
    x.settle()
    assert len(x.messages) == 1
    assert len(recorder.requests) == 1


def test_quick_reply_response_sends_its_metadata(x):
    payload = h.load_json("x_dm_event.json")
    data = payload["direct_message_events"][0]["message_create"]["message_data"]
    data["text"] = "Sí"
    data["quick_reply_response"] = {"type": "options", "metadata": "/affirm"}
    post_events(x, payload)
    (message,) = x.messages
    assert message.text == "/affirm"


def test_attached_photo_becomes_share_photo_without_the_tco_link(x):
    payload = h.load_json("x_dm_event.json")
    data = payload["direct_message_events"][0]["message_create"]["message_data"]
    data["text"] = "look at this https://t.co/AbC123"
    data["attachment"] = {
        "type": "media",
        "media": {"type": "photo", "url": "https://t.co/AbC123", "media_url_https": "https://ton.twitter.com/i/1.jpg"},
    }
    post_events(x, payload)
    (message,) = x.messages
    assert message.text == '/share_photo{"media_url": "https://ton.twitter.com/i/1.jpg"}'
    assert message.metadata["caption"] == "look at this"


@pytest.mark.parametrize(
    "location, expected",
    [
        # GeoJSON order: longitude first.
        (
            {"type": "shared_coordinate", "shared_coordinate": {"coordinates": {"type": "Point", "coordinates": [-99.16542, 19.41203]}}},
            '/share_location{"latitude": 19.41203, "longitude": -99.16542}',
        ),
        # A shared place is an id without coordinates: the text goes through NLU.
        ({"type": "shared_place", "shared_place": {"place": {"id": "25530ba03b7d90c6"}}}, "Aquí estoy"),
    ],
)
def test_location_attachment_with_coordinates_becomes_share_location(x, location, expected):
    payload = h.load_json("x_dm_event.json")
    data = payload["direct_message_events"][0]["message_create"]["message_data"]
    data["text"] = "Aquí estoy"
    data["attachment"] = {"type": "location", "location": location}
    post_events(x, payload)
    (message,) = x.messages
    assert message.text == expected


@pytest.mark.parametrize("body", [b"[1, 2]", b"not json"])
def test_signed_garbage_is_not_a_server_error(x, body):
    answer = httpx.post(
        x.url(PATH), content=body, headers={"x-twitter-webhooks-signature": h.x_signature(h.X_CONSUMER_SECRET, body)}
    )
    assert answer.status_code in (200, 400)
    assert x.messages == []
