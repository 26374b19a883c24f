"""Status changes reach the resident through Rasa's trigger_intent; every attempt is recorded."""
from __future__ import annotations

import logging
from urllib.parse import parse_qs, unquote, urlsplit

from backoffice_helpers import RASA_TOKEN, STAFF_HEADERS, filed_folio, post_request
from fastapi.testclient import TestClient

CONVERSATION = "+5215512345678"  # an SMS sender id is a phone number


def close(client, folio, note="Bache reparado"):
    response = client.post(
        f"/staff/api/requests/{folio}/status", json={"status": "closed", "note": note}, headers=STAFF_HEADERS
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_status_change_is_sent_to_rasa_and_recorded(app_factory, database_url, rasa_recorder):
    client = TestClient(app_factory(database_url, rasa_url=rasa_recorder.url))
    folio = filed_folio(post_request(client, conversation_id=CONVERSATION, channel="twilio"))

    body = close(client, folio)

    (call,) = rasa_recorder.calls
    parts = urlsplit(call.path)
    # Raw, not unquoted: Rasa (Sanic 21.12) does not decode %2B, so the "+" must travel as is.
    assert parts.path == f"/conversations/{CONVERSATION}/trigger_intent"
    assert parse_qs(parts.query) == {"output_channel": ["latest"], "token": [RASA_TOKEN]}
    assert call.body == {
        "name": "EXTERNAL_request_status",
        "entities": {"folio": folio, "status": "closed", "note": "Bache reparado"},
    }
    (notification,) = body["notifications"]
    assert notification["status"] == "sent"
    assert notification["attempts"] == 1
    assert notification["last_error"] is None
    assert notification["sent_datetime"] is not None


def test_requests_without_a_conversation_get_no_notification(app_factory, database_url, rasa_recorder):
    client = TestClient(app_factory(database_url, rasa_url=rasa_recorder.url))
    folio = filed_folio(post_request(client))
    body = close(client, folio)
    assert rasa_recorder.calls == []
    assert body["notifications"] == []


def test_unreachable_rasa_never_breaks_the_status_change(app_factory, database_url, closed_port, rasa_recorder):
    client = TestClient(app_factory(database_url, rasa_url=f"http://127.0.0.1:{closed_port}"))
    folio = filed_folio(post_request(client, conversation_id=CONVERSATION))

    body = close(client, folio)

    assert body["status"] == "closed"
    (notification,) = body["notifications"]
    assert notification["status"] == "failed"
    assert notification["attempts"] == 1
    assert notification["last_error"] == "ConnectError"
    failed = client.get("/staff/api/notifications?status=failed", headers=STAFF_HEADERS).json()
    assert [n["id"] for n in failed] == [notification["id"]]

    # Once Rasa is back, a retry delivers it.
    staff = TestClient(app_factory(database_url, rasa_url=rasa_recorder.url))
    retried = staff.post("/staff/api/notifications/retry", headers=STAFF_HEADERS).json()
    assert [(n["id"], n["status"], n["attempts"]) for n in retried] == [(notification["id"], "sent", 2)]
    assert len(rasa_recorder.calls) == 1
    assert rasa_recorder.calls[0].body["entities"]["folio"] == folio
    assert staff.post("/staff/api/notifications/retry", headers=STAFF_HEADERS).json() == []


def test_rasa_error_status_is_recorded_as_failed(app_factory, database_url, rasa_recorder):
    rasa_recorder.status = 500
    client = TestClient(app_factory(database_url, rasa_url=rasa_recorder.url))
    folio = filed_folio(post_request(client, conversation_id="web-1"))
    (notification,) = close(client, folio)["notifications"]
    assert notification["status"] == "failed"
    assert notification["last_error"] == "HTTP 500"


def test_closing_an_original_notifies_the_residents_of_its_duplicates(app_factory, database_url, rasa_recorder):
    client = TestClient(app_factory(database_url, rasa_url=rasa_recorder.url))
    original = filed_folio(post_request(client, conversation_id="conv-a"))
    duplicate = filed_folio(post_request(client, conversation_id="conv-b"))
    close(client, original)
    sent = {(unquote(urlsplit(c.path).path), c.body["entities"]["folio"]) for c in rasa_recorder.calls}
    assert sent == {
        ("/conversations/conv-a/trigger_intent", original),
        ("/conversations/conv-b/trigger_intent", duplicate),
    }


def test_logs_carry_no_personal_data_nor_the_rasa_token(app_factory, database_url, rasa_recorder, caplog):
    caplog.set_level(logging.DEBUG)
    client = TestClient(app_factory(database_url, rasa_url=rasa_recorder.url))
    secret_description = "Vivo en Calle Secreta 123, mi nombre es Rosa"
    folio = filed_folio(
        post_request(
            client,
            description=secret_description,
            email="rosa@example.org",
            phone="5598765432",
            first_name="Rosa",
            last_name="Luna",
            lat="19.123456",
            long="-99.654321",
            conversation_id=CONVERSATION,
        )
    )
    close(client, folio, note="Listo")
    assert rasa_recorder.calls  # the notification did go out
    text = caplog.text
    assert folio in text and "bache" in text
    for private in (secret_description, "Calle Secreta", "rosa@example.org", "5598765432", "Luna",
                    "19.123456", "99.654321", CONVERSATION, "5215512345678", RASA_TOKEN):
        assert private not in text
