"""Crime reports in the back office: filing only for a signed-in conversation that
passed a one-time code, the prosecutor's office review (accept, ask for missing
facts), the resident's answers and signed PDF, and what stays out of logs.

Real databases (SQLite and PostgreSQL), the real identity package for links and
codes (the link row stands for a finished sign-in; tests/e2e signs in through
the provider), a recorder standing in for Rasa's HTTP API.
"""
from __future__ import annotations

import base64
import logging
import re
import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from fastapi.testclient import TestClient
from sqlalchemy import update

from backoffice.crime import signing
from backoffice.crime.routes import RedactDownloadTokens
from backoffice.models import IdentityLink, VerificationCode
from backoffice.timeutil import utcnow
from backoffice_helpers import API_KEY, STAFF_HEADERS
from common import crime_report
from tests.crime.pdf_text import pdf_text

PROSECUTOR_TOKEN = "test-prosecutor-token"
PROSECUTOR = {"Authorization": f"Bearer {PROSECUTOR_TOKEN}"}
ASSISTANT = {"Authorization": f"Bearer {API_KEY}"}
FOLIO = re.compile(r"^DEN-\d{6}$")
DESCRIPTION = "me robaron el celular en el metro Pino Suárez ayer como a las 7 SECRETO-RELATO"
PHONE_FACTS = {
    "phone_brand": "Samsung",
    "phone_model": "Galaxy A54",
    "phone_number": "+525512345678",
    "carrier": "telcel",
    "when": {"date": "2026-12-02", "time": "19:00", "part_of_day": None, "approximate": True},
    "place": "metro Pino Suárez",
    "alcaldia": "Cuauhtémoc",
    "description": DESCRIPTION,
}
RESIDENT = dict(issuer="http://idp.test", subject="maria.hernandez", name="María Guadalupe Hernández López",
                curp="HELG880315MDFRPD06", email="maria.hernandez@example.org", phone="+525555550101")


@pytest.fixture
def crime_app(app_factory, database_url, rasa_recorder):
    return app_factory(database_url, rasa_url=rasa_recorder.url, prosecutor_token=PROSECUTOR_TOKEN)


@pytest.fixture
def client(crime_app) -> TestClient:
    return TestClient(crime_app)


def sign_in(app, conversation_id: str, **overrides) -> None:
    """What a finished sign-in leaves behind: the conversation linked to the verified person."""
    now = utcnow()
    with app.state.sessionmaker() as session:
        session.add(IdentityLink(conversation_id=conversation_id, channel="rest", verified_at=now,
                                 expires_at=now + timedelta(hours=8), **{**RESIDENT, **overrides}))
        session.commit()


def pass_second_factor(client: TestClient, conversation_id: str) -> None:
    """Ask for a one-time code through the identity API, read it in the dev outbox, send it back."""
    sent = client.post("/api/v1/identity/codes", json={"conversation_id": conversation_id, "language": "es"},
                       headers=ASSISTANT)
    assert sent.status_code == 201, sent.text
    code = re.search(r"\b\d{6}\b", client.get("/dev/outbox.json").json()[0]["body"]).group(0)
    checked = client.post("/api/v1/identity/codes/check", json={"conversation_id": conversation_id, "code": code},
                          headers=ASSISTANT)
    assert checked.json()["ok"] is True, checked.text


def report_body(conversation_id: str, **overrides) -> dict:
    body = {
        "crime_type": "robo_celular",
        "facts": dict(PHONE_FACTS),
        "unknown_facts": ["imei"],
        "language": "es",
        "channel": "rest",
        "conversation_id": conversation_id,
        "declaration_accepted": True,
        "declaration_version": crime_report.declaration_version(),
    }
    body.update(overrides)
    return body


def file(client: TestClient, conversation_id: str, key: str | None = None, **overrides):
    return client.post("/api/v1/crime-reports", json=report_body(conversation_id, **overrides),
                       headers={**ASSISTANT, "Idempotency-Key": key or uuid.uuid4().hex})


def ready(app, client) -> str:
    conversation = f"conv-{uuid.uuid4().hex[:8]}"
    sign_in(app, conversation)
    pass_second_factor(client, conversation)
    return conversation


def filed_folio(app, client) -> tuple[str, str]:
    conversation = ready(app, client)
    response = file(client, conversation)
    assert response.status_code == 201, response.text
    return response.json()["folio"], conversation


# ------------------------------------------------------------------ filing


def test_filing_needs_the_assistants_key(client):
    response = client.post("/api/v1/crime-reports", json=report_body("c1"))
    assert response.status_code == 401
    response = client.post("/api/v1/crime-reports", json=report_body("c1"), headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_filing_needs_a_signed_in_conversation(client):
    response = file(client, "not-signed-in")
    assert response.status_code == 409
    assert response.json()["reason"] == "not_signed_in"


def test_filing_needs_a_one_time_code(crime_app, client):
    sign_in(crime_app, "no-code")
    response = file(client, "no-code")
    assert response.status_code == 409
    assert response.json()["reason"] == "second_factor_required"


def test_a_filed_report_gets_a_folio_and_the_verified_author(crime_app, client, rasa_recorder):
    conversation = ready(crime_app, client)
    response = file(client, conversation)
    assert response.status_code == 201, response.text
    body = response.json()
    assert FOLIO.match(body["folio"]) and body["status"] == "submitted" and body["crime_type"] == "robo_celular"

    report = client.get(f"/staff/api/crime-reports/{body['folio']}", headers=PROSECUTOR).json()
    # The author comes from the identity link, never from the assistant's body.
    assert report["declarant"]["name"] == RESIDENT["name"] and report["declarant"]["curp"] == RESIDENT["curp"]
    assert report["declarant"]["subject"] == "maria.hernandez"
    assert report["description"] == DESCRIPTION
    assert report["occurred"] == {"date": "2026-12-02", "time": "19:00"}
    assert report["place"] == "metro Pino Suárez" and report["alcaldia"] == "Cuauhtémoc"
    assert report["unknown_facts"] == ["imei"]
    assert report["declaration"]["text"] == crime_report.declaration("es")
    assert [h["kind"] for h in report["history"]] == ["filed"]
    assert rasa_recorder.calls == []  # filing tells the resident in the chat, not through Rasa's API


def test_the_body_cannot_name_the_author(crime_app, client):
    conversation = ready(crime_app, client)
    response = file(client, conversation, author_name="Alguien Más")
    assert response.status_code == 422


def test_one_code_authorises_one_filing_and_a_retry_returns_the_same_folio(crime_app, client):
    conversation = ready(crime_app, client)
    first = file(client, conversation, key="draft-1")
    assert first.status_code == 201
    again = file(client, conversation, key="draft-1")
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["folio"] == first.json()["folio"]
    other = file(client, conversation, key="draft-2")
    assert other.status_code == 409 and other.json()["reason"] == "second_factor_required"


def test_an_old_code_does_not_authorise(crime_app, client):
    conversation = ready(crime_app, client)
    with crime_app.state.sessionmaker() as session:
        session.execute(update(VerificationCode).where(VerificationCode.conversation_id == conversation)
                        .values(closed_at=utcnow() - timedelta(minutes=30)))
        session.commit()
    assert file(client, conversation).json()["reason"] == "second_factor_required"


def test_a_code_of_another_person_does_not_authorise(crime_app, client):
    conversation = ready(crime_app, client)
    with crime_app.state.sessionmaker() as session:
        session.execute(update(IdentityLink).where(IdentityLink.conversation_id == conversation)
                        .values(subject="someone.else"))
        session.commit()
    assert file(client, conversation).json()["reason"] == "second_factor_required"


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({"crime_type": "homicide"}, "unknown_crime_type"),
        ({"crime_type": "violence"}, "unknown_crime_type"),
        ({"facts": {**PHONE_FACTS, "plate": "ABC-123-D"}}, "unknown_fact"),
        ({"facts": {k: v for k, v in PHONE_FACTS.items() if k != "phone_brand"}}, "missing_fact"),
        ({"facts": {k: v for k, v in PHONE_FACTS.items() if k != "description"}}, "missing_fact"),
        # phone_number may not be "unknown": only facts marked if_unknown: allow
        ({"facts": {k: v for k, v in PHONE_FACTS.items() if k != "phone_number"}, "unknown_facts": ["imei", "phone_number"]},
         "missing_fact"),
        ({"facts": {**PHONE_FACTS, "when": {"date": "2999-01-01", "time": None}}}, "invalid_fact"),
        ({"declaration_version": "1999-01"}, "declaration_outdated"),
        ({"declaration_accepted": False}, "declaration_required"),
    ],
)
def test_refused_reports(crime_app, client, overrides, reason):
    conversation = ready(crime_app, client)
    response = file(client, conversation, **overrides)
    assert response.status_code in (409, 422), response.text
    assert response.json()["reason"] == reason


# ------------------------------------------------------------- staff access


def test_only_the_prosecutors_office_reads_reports(crime_app, client):
    folio, _ = filed_folio(crime_app, client)
    assert client.get(f"/staff/api/crime-reports/{folio}").status_code == 401
    # The 311 staff token opens 311 requests, not crime reports.
    assert client.get(f"/staff/api/crime-reports/{folio}", headers=STAFF_HEADERS).status_code == 401
    assert client.get("/staff/api/crime-reports", headers=STAFF_HEADERS).status_code == 401
    listed = client.get("/staff/api/crime-reports?status=submitted", headers=PROSECUTOR).json()
    assert folio in [r["folio"] for r in listed]
    # The queue shows no content.
    assert "description" not in listed[0] and "facts" not in listed[0] and "declarant" not in listed[0]


def test_the_resident_sees_status_only_from_the_authors_conversations(crime_app, client):
    folio, conversation = filed_folio(crime_app, client)
    mine = client.post("/api/v1/crime-reports/status", json={"conversation_id": conversation, "folio": folio},
                       headers=ASSISTANT)
    assert mine.status_code == 200 and mine.json()["status"] == "submitted"
    stranger = client.post("/api/v1/crime-reports/status", json={"conversation_id": "stranger", "folio": folio},
                           headers=ASSISTANT)
    assert stranger.status_code == 404
    # Another conversation signed in as the same person is the author too.
    sign_in(crime_app, "maria-on-telegram")
    assert client.post("/api/v1/crime-reports/status", json={"conversation_id": "maria-on-telegram", "folio": folio},
                       headers=ASSISTANT).status_code == 200


# ----------------------------------------------------- review and the resident


def test_asking_for_missing_facts_reaches_the_resident_and_the_answer_is_attached(crime_app, client, rasa_recorder):
    folio, conversation = filed_folio(crime_app, client)
    question = "¿De qué color era la funda del celular?"
    asked = client.post(f"/staff/api/crime-reports/{folio}/request-info", json={"question": question}, headers=PROSECUTOR)
    assert asked.status_code == 200 and asked.json()["status"] == "info_requested"

    call = rasa_recorder.calls[-1]
    assert call.path.startswith(f"/conversations/{conversation}/trigger_intent?")
    assert "output_channel=latest" in call.path
    # Only the folio travels through Rasa's API; the question is read back by the action.
    assert call.body == {"name": "EXTERNAL_crime_info_requested", "entities": {"folio": folio}}

    status = client.post("/api/v1/crime-reports/status", json={"conversation_id": conversation, "folio": folio},
                         headers=ASSISTANT).json()
    assert status["pending_question"] == question
    answered = client.post("/api/v1/crime-reports/info",
                           json={"conversation_id": conversation, "folio": folio, "text": "Era azul marino"},
                           headers=ASSISTANT)
    assert answered.status_code == 200 and answered.json()["status"] == "submitted"
    again = client.post("/api/v1/crime-reports/info",
                        json={"conversation_id": conversation, "folio": folio, "text": "otra cosa"}, headers=ASSISTANT)
    assert again.status_code == 409 and again.json()["reason"] == "no_question_pending"

    report = client.get(f"/staff/api/crime-reports/{folio}", headers=PROSECUTOR).json()
    assert report["additional_information"][0]["question"] == question
    assert report["additional_information"][0]["answer"] == "Era azul marino"
    assert [h["kind"] for h in report["history"]] == ["filed", "info_requested", "info_added"]
    assert report["history"][1]["notification_status"] == "sent"


def test_a_stranger_cannot_answer_for_the_author(crime_app, client):
    folio, _ = filed_folio(crime_app, client)
    client.post(f"/staff/api/crime-reports/{folio}/request-info", json={"question": "¿Color?"}, headers=PROSECUTOR)
    response = client.post("/api/v1/crime-reports/info", json={"conversation_id": "x", "folio": folio, "text": "rojo"},
                           headers=ASSISTANT)
    assert response.status_code == 404


def test_acceptance_signs_the_pdf_notifies_and_the_author_downloads_it(crime_app, client, rasa_recorder):
    folio, conversation = filed_folio(crime_app, client)
    client.post(f"/staff/api/crime-reports/{folio}/request-info", json={"question": "¿Color?"}, headers=PROSECUTOR)
    client.post("/api/v1/crime-reports/info", json={"conversation_id": conversation, "folio": folio, "text": "Negro"},
                headers=ASSISTANT)
    accepted = client.post(f"/staff/api/crime-reports/{folio}/accept", json={"note": "Procede"}, headers=PROSECUTOR)
    assert accepted.status_code == 200, accepted.text
    report = accepted.json()
    assert report["status"] == "accepted" and report["accepted_datetime"]
    assert rasa_recorder.calls[-1].body == {"name": "EXTERNAL_crime_report_accepted", "entities": {"folio": folio}}
    # Accepting again changes nothing and tells nobody twice.
    calls = len(rasa_recorder.calls)
    assert client.post(f"/staff/api/crime-reports/{folio}/accept", headers=PROSECUTOR).json()["accepted_datetime"] == report["accepted_datetime"]
    assert len(rasa_recorder.calls) == calls
    assert client.post(f"/staff/api/crime-reports/{folio}/request-info", json={"question": "¿Algo más?"},
                       headers=PROSECUTOR).status_code == 409

    # The author's link.
    link = client.post("/api/v1/crime-reports/download-link", json={"conversation_id": conversation, "folio": folio},
                       headers=ASSISTANT)
    assert link.status_code == 200, link.text
    url = link.json()["url"]
    path = url.split("://", 1)[1].split("/", 1)[1]
    downloaded = client.get("/" + path)
    assert downloaded.status_code == 200
    assert downloaded.headers["content-type"] == "application/pdf"
    content = downloaded.content
    assert content.startswith(b"%PDF")
    assert downloaded.headers["cache-control"] == "no-store"

    # The signature verifies with the published public key, and the endpoint agrees.
    published = client.get("/crime/signing-key").json()
    key = load_pem_public_key(published["public_key_pem"].encode())
    key.verify(base64.b64decode(downloaded.headers["X-Signature"]), content)  # raises if invalid
    assert downloaded.headers["X-Signature-Key-Id"] == published["key_id"] == report["signature"]["key_id"]
    verdict = client.post("/crime/verify", content=content, headers={"Content-Type": "application/pdf"}).json()
    assert verdict["valid"] is True and verdict["folio"] == folio
    tampered = content.replace(b"Procede", b"Procedx") if b"Procede" in content else content[:-10] + b"0000000000"
    assert client.post("/crime/verify", content=tampered).json()["valid"] is False
    # The seal of the report's data is printed in the document and checks out too.
    data_signature = report["signature"]["data_signature"]
    assert report["signature"]["data_sha256"] and data_signature
    staff_pdf = client.get(f"/staff/api/crime-reports/{folio}/pdf", headers=PROSECUTOR)
    assert staff_pdf.content == content


def test_the_pdf_says_what_was_declared(crime_app, client):
    folio, conversation = filed_folio(crime_app, client)
    client.post(f"/staff/api/crime-reports/{folio}/request-info", json={"question": "¿De qué color era?"},
                headers=PROSECUTOR)
    client.post("/api/v1/crime-reports/info", json={"conversation_id": conversation, "folio": folio, "text": "Negro"},
                headers=ASSISTANT)
    report = client.post(f"/staff/api/crime-reports/{folio}/accept", headers=PROSECUTOR).json()
    text = pdf_text(client.get(f"/staff/api/crime-reports/{folio}/pdf", headers=PROSECUTOR).content)
    joined = " ".join(text.split())
    for expected in (folio, "Robo de celular (sin violencia)", RESIDENT["name"], RESIDENT["curp"], "Samsung",
                     "Galaxy A54", "+525512345678", "Telcel", "metro Pino Suárez", "Cuauhtémoc",
                     "miércoles 2 de diciembre de 2026, 19:00", "No lo sé", "SECRETO-RELATO", "¿De qué color era?",
                     "Negro", "bajo protesta de decir verdad", report["signature"]["data_sha256"],
                     report["signature"]["key_id"]):
        assert expected in joined, expected


def test_download_links_only_for_the_author_and_only_while_valid(crime_app, client):
    folio, conversation = filed_folio(crime_app, client)
    early = client.post("/api/v1/crime-reports/download-link", json={"conversation_id": conversation, "folio": folio},
                        headers=ASSISTANT)
    assert early.status_code == 409 and early.json()["reason"] == "not_accepted"
    client.post(f"/staff/api/crime-reports/{folio}/accept", headers=PROSECUTOR)
    stranger = client.post("/api/v1/crime-reports/download-link", json={"conversation_id": "stranger", "folio": folio},
                           headers=ASSISTANT)
    assert stranger.status_code == 404
    # The chat it was filed from, no longer signed in: sign in again first.
    with crime_app.state.sessionmaker() as session:
        session.execute(update(IdentityLink).where(IdentityLink.conversation_id == conversation)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    signed_out = client.post("/api/v1/crime-reports/download-link", json={"conversation_id": conversation, "folio": folio},
                             headers=ASSISTANT)
    assert signed_out.status_code == 409 and signed_out.json()["reason"] == "not_signed_in"

    settings = crime_app.state.settings
    token, _ = signing.download_token(settings, folio, 60)
    assert client.get(f"/crime/download/{token}").status_code == 200
    expired, _ = signing.download_token(settings, folio, -1)
    assert client.get(f"/crime/download/{expired}").status_code == 404
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.get(f"/crime/download/{forged}").status_code == 404
    other, _ = signing.download_token(settings, "DEN-999999", 60)
    assert client.get(f"/crime/download/{other}").status_code == 404


# ------------------------------------------------------------------- privacy


def test_nothing_of_the_reports_content_goes_to_the_logs(crime_app, client, caplog):
    caplog.set_level(logging.DEBUG)
    folio, conversation = filed_folio(crime_app, client)
    client.post(f"/staff/api/crime-reports/{folio}/request-info", json={"question": "¿PREGUNTA-SECRETA?"},
                headers=PROSECUTOR)
    client.post("/api/v1/crime-reports/info",
                json={"conversation_id": conversation, "folio": folio, "text": "RESPUESTA-SECRETA"}, headers=ASSISTANT)
    client.post(f"/staff/api/crime-reports/{folio}/accept", headers=PROSECUTOR)
    link = client.post("/api/v1/crime-reports/download-link", json={"conversation_id": conversation, "folio": folio},
                       headers=ASSISTANT).json()["url"]
    client.get("/" + link.split("://", 1)[1].split("/", 1)[1])
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert folio in logged  # the log does say what happened to which folio
    for secret in ("SECRETO-RELATO", "PREGUNTA-SECRETA", "RESPUESTA-SECRETA", "Galaxy A54", "+525512345678",
                   RESIDENT["curp"], RESIDENT["name"], "Pino Suárez", conversation, link.rsplit("/", 1)[1]):
        assert secret not in logged, secret


def test_access_log_lines_hide_download_tokens():
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", "/crime/download/abc.def", "1.1", 200), None)
    RedactDownloadTokens().filter(record)
    assert "abc.def" not in record.getMessage() and "/crime/download/" in record.getMessage()
