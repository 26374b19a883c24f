"""SMS connector: Twilio signatures, numbered options, carrier keywords, replies
through the Messages API (the recorder stands in for api.twilio.com)."""
from __future__ import annotations

from typing import List, Tuple
from urllib.parse import urlencode

import httpx
import pytest

import channel_harness as h
from channels.twilio_sms import TwilioSmsInput
from common.sms import segment_count

PATH = "/webhooks/twilio/webhook"
PUBLIC_URL = "https://sms.cdmx.example/webhooks/twilio/webhook"
RESIDENT = "+525598765432"


def post_sms(app: h.RasaApp, pairs: List[Tuple[str, str]], signed_url: str = None, signature: str = None):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signature is None and signed_url is not None:
        signature = h.twilio_signature(h.TWILIO_TOKEN, signed_url, pairs)
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return httpx.post(app.url(PATH), content=urlencode(pairs), headers=headers)


@pytest.fixture
def sms(serve, monkeypatch):
    """Connector behind a proxy: Twilio signs the public URL, not the local one."""
    monkeypatch.setenv("TWILIO_WEBHOOK_URL", PUBLIC_URL)
    return serve(TwilioSmsInput.from_credentials(None))


def say(app: h.RasaApp, body: str, sid: str) -> httpx.Response:
    pairs = h.twilio_form(Body=body, MessageSid=sid, SmsMessageSid=sid, SmsSid=sid)
    return post_sms(app, pairs, signed_url=PUBLIC_URL)


def test_signed_sms_reaches_the_dialogue_and_reply_has_numbered_options(sms, recorder):
    pairs = h.twilio_form()
    answer = post_sms(sms, pairs, signed_url=PUBLIC_URL)

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/xml")
    assert answer.text == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    (message,) = sms.messages
    assert message.text == "Tengo fiebre y tos desde el martes"
    assert message.sender_id == RESIDENT
    assert message.input_channel == "twilio"
    assert message.metadata["channel"] == "twilio"
    assert message.message_id == "SM4f1d2c3b4a5968778695a4b3c2d1e0f9"

    (sent,) = recorder.wait_for(1)
    assert sent.method == "POST"
    assert sent.path == f"/2010-04-01/Accounts/{h.TWILIO_SID}/Messages.json"
    assert sent.form() == {"To": RESIDENT, "From": h.TWILIO_NUMBER, "Body": "¿Confirmas el reporte?\n1) Sí 2) No"}
    assert sent.headers["authorization"] == "Basic " + __import__("base64").b64encode(
        f"{h.TWILIO_SID}:{h.TWILIO_TOKEN}".encode()
    ).decode()


def test_empty_fields_are_part_of_the_signature(sms):
    # The sample has ToCity=, FromZip=, ToZip=: Twilio signs them, so dropping
    # empty fields (as Sanic's request.form does) would refuse genuine SMS.
    pairs = h.twilio_form()
    assert any(value == "" for _, value in pairs)
    assert post_sms(sms, pairs, signed_url=PUBLIC_URL).status_code == 200


@pytest.mark.parametrize(
    "case",
    ["unsigned", "tampered body", "signed for another URL", "signed with another token"],
)
def test_unauthentic_requests_are_refused_before_the_dialogue(sms, recorder, case):
    pairs = h.twilio_form()
    if case == "unsigned":
        answer = post_sms(sms, pairs)
        assert answer.status_code == 401
    else:
        if case == "tampered body":
            signature = h.twilio_signature(h.TWILIO_TOKEN, PUBLIC_URL, pairs)
            pairs = h.twilio_form(Body="Tengo fiebre y tos desde el lunes")
        elif case == "signed for another URL":
            signature = h.twilio_signature(h.TWILIO_TOKEN, sms.url(PATH), pairs)
        else:
            signature = h.twilio_signature("another-token", PUBLIC_URL, pairs)
        answer = post_sms(sms, pairs, signature=signature)
        assert answer.status_code == 403
    sms.settle()
    assert sms.messages == []
    assert recorder.requests == []


def test_without_a_public_url_the_request_url_is_signed(serve, recorder):
    app = serve(TwilioSmsInput.from_credentials(None))
    pairs = h.twilio_form()
    assert post_sms(app, pairs, signed_url=app.url(PATH)).status_code == 200
    assert len(app.messages) == 1


def test_unconfigured_channel_refuses_everything(serve, monkeypatch, recorder):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "")
    app = serve(TwilioSmsInput.from_credentials(None))
    pairs = h.twilio_form()
    # Even a request "signed" with an empty key is refused.
    assert post_sms(app, pairs, signature=h.twilio_signature("", app.url(PATH), pairs)).status_code == 403
    assert app.messages == []


def test_the_same_message_sid_twice_is_handled_once(sms, recorder):
    first = say(sms, "hay un bache", "SM" + "1" * 32)
    retry = say(sms, "hay un bache", "SM" + "1" * 32)
    assert first.status_code == retry.status_code == 200
    sms.settle()
    assert len(sms.messages) == 1
    assert len(recorder.requests) == 1


def test_a_number_picks_the_option_last_offered(sms, recorder):
    answers = iter(
        [
            [{"text": "¿Confirmas?", "buttons": [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]}],
            [{"text": "¿Cuántos días lleva así?"}],
            [{"text": "Gracias."}],
        ]
    )
    sms.agent.answer = lambda message: next(answers)

    say(sms, "hay un bache", "SM" + "a" * 32)
    say(sms, " 2) ", "SM" + "b" * 32)
    # No options were offered with the last question: "2" is just a number now.
    say(sms, "2", "SM" + "c" * 32)
    sms.settle()

    texts = [m.text for m in sms.messages]
    assert texts == ["hay un bache", "/deny", "2"]
    assert sms.messages[1].metadata["selected_option"] == 2
    assert "selected_option" not in sms.messages[2].metadata


def test_an_option_title_also_picks_it(sms):
    sms.agent.answer = lambda message: [
        {"text": "¿Qué pasa?", "buttons": [{"title": "Fuga de agua", "payload": "/report{\"type\": \"fuga\"}"}]}
    ]
    say(sms, "hola", "SM" + "d" * 32)
    say(sms, "fuga de AGUA", "SM" + "e" * 32)
    sms.settle()
    assert sms.messages[1].text == '/report{"type": "fuga"}'


def test_a_number_out_of_range_goes_through_as_text(sms):
    say(sms, "hola", "SM" + "f" * 32)
    say(sms, "7", "SM" + "0" * 31 + "1")
    sms.settle()
    assert sms.messages[1].text == "7"


def test_stop_silences_the_number_until_start(sms, recorder):
    stop = say(sms, "Alto", "SM" + "2" * 32)
    assert "<Message>No recibirás más mensajes" in stop.text

    ignored = say(sms, "hay un bache", "SM" + "3" * 32)
    assert ignored.text == '<?xml version="1.0" encoding="UTF-8"?><Response />'
    sms.settle()
    assert sms.messages == []

    # A status update for that resident is not sent either.
    output = sms.input_channels[0].get_output_channel()
    sms.run(output.send_response(RESIDENT, {"text": "Tu reporte 311-000042 fue atendido."}))
    assert recorder.requests == []

    start = say(sms, "START", "SM" + "4" * 32)
    assert "<Message>Done, you will receive messages again." in start.text
    say(sms, "hay un bache", "SM" + "5" * 32)
    sms.settle()
    assert [m.text for m in sms.messages] == ["hay un bache"]
    assert len(recorder.wait_for(1)) == 1


@pytest.mark.parametrize("word,expected", [("AYUDA", "Locatel 55 5658 1111"), ("help", "Emergencies 911")])
def test_help_keywords_answer_in_the_keywords_language(sms, word, expected):
    answer = say(sms, word, "SM" + "6" * 31 + str(len(word)))
    assert expected in answer.text
    sms.settle()
    assert sms.messages == []


def test_long_replies_are_split_on_sentences_with_options_last(sms, recorder):
    long_text = " ".join(
        f"Paso {i}: revisa que la dirección y la colonia sean correctas antes de enviar." for i in range(1, 7)
    )
    sms.agent.answer = lambda message: [
        {"text": long_text, "buttons": [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]}
    ]
    say(sms, "hola", "SM" + "7" * 32)
    sms.settle()
    bodies = [r.form()["Body"] for r in recorder.requests]
    assert len(bodies) > 1
    assert all(segment_count(body) <= 3 for body in bodies)
    assert all(body.endswith(".") for body in bodies[:-1])  # whole sentences
    assert bodies[-1].endswith("1) Sí 2) No")
    assert " ".join(b.replace("\n1) Sí 2) No", "") for b in bodies) == long_text


def test_photo_mms_becomes_share_photo(sms):
    pairs = h.twilio_form(
        NumMedia="1",
        MediaUrl0="https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1",
        MediaContentType0="image/jpeg",
        Body="así está la coladera",
    )
    assert post_sms(sms, pairs, signed_url=PUBLIC_URL).status_code == 200
    sms.settle()
    (message,) = sms.messages
    assert message.text == (
        '/share_photo{"media_url": "https://api.twilio.com/2010-04-01/Accounts/AC0/Messages/MM1/Media/ME1"}'
    )
    assert message.metadata["caption"] == "así está la coladera"
    assert message.metadata["media_content_type"] == "image/jpeg"
