"""End to end over real HTTP: a phone theft told in one sentence on the REST
channel, only the missing facts asked, sign-in through the development
identity provider in a browser-like client, a one-time code read from the dev
outbox, the report filed; the prosecutor's office asks for a missing fact
(asked and answered in the same conversation), accepts it, and the resident
downloads the signed PDF from the link the assistant sends."""
from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
import pytz
import requests
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from tests.crime.pdf_text import pdf_text
from tests.e2e.conversation import Resident
from tests.e2e.test_identity_e2e import MARIA, MARIA_CURP, MARIA_NAME, bot_texts, link_in, outbox, sign_in_in_browser

pytestmark = pytest.mark.e2e

SENTENCE = "me robaron el celular en el metro Pino Suárez ayer como a las 7"
FOLIO = re.compile(r"DEN-\d{6}")
DOWNLOAD = re.compile(r"https?://\S+/crime/download/[A-Za-z0-9_\-.]+")
PROSECUTOR = {"Authorization": "Bearer dev-prosecutor-token"}  # the development default (settings.py)
CODE = re.compile(r"\b(\d{6})\b")


def staff(stack, method: str, path: str, **kwargs) -> requests.Response:
    response = requests.request(method, f"{stack.backoffice_url}/staff/api/crime-reports{path}",
                                headers=PROSECUTOR, timeout=30, **kwargs)
    assert response.status_code == 200, response.text
    return response


def test_phone_theft_from_one_sentence_to_the_signed_pdf(stack):
    city = pytz.timezone("America/Mexico_City")
    yesterday = {(dt.datetime.now(city) - dt.timedelta(days=1)).date().isoformat()}
    resident = Resident(stack)

    # 1. Only what the sentence does not say is asked, one question at a time.
    first = resident.says_text(SENTENCE)
    assert "911" in first  # the reminder that danger now is not for the chat
    assert "¿De qué marca es el celular?" in first
    dialogue = [
        ("Samsung", "¿Qué modelo es?"),
        ("Galaxy A54", "IMEI"),
        ("no lo tengo", "¿Cuál era el número de ese celular?"),
        ("55 1234 5678", "¿De qué compañía es la línea?"),
        ("Telcel", "¿Las 7 de la mañana o de la noche?"),
        ("de la noche", "¿En qué alcaldía fue?"),
        ("Cuauhtémoc", "necesito verificar tu identidad"),
    ]
    replies = [first]
    for answer, next_question in dialogue:
        replies.append(resident.says_text(answer))
        assert next_question in replies[-1], (answer, replies[-1])
    asked = "\n".join(replies)
    # The place, the day and the hour came from the sentence: never asked (only morning or evening).
    assert "¿Cuándo pasó?" not in asked and "¿Dónde pasó?" not in asked and "Cuéntanos" not in asked
    assert resident.slot("crime_type") == "robo_celular"

    # 2. Sign-in: a link, a browser, and the conversation goes on by itself to the summary.
    done = sign_in_in_browser(link_in(replies[-1]), MARIA)
    assert done.status_code == 200
    texts = bot_texts(resident)
    assert any(t.startswith(f"Listo, ya verifiqué tu identidad, {MARIA_NAME}") for t in texts)
    summary = next(t for t in reversed(texts) if t.startswith("Esta es tu denuncia"))
    for shown in ("Robo de celular (sin violencia)", "metro Pino Suárez", "19:00", "Samsung", "Galaxy A54",
                  "+525512345678", "Telcel", "Cuauhtémoc", "No lo sé", SENTENCE, MARIA_NAME, MARIA_CURP):
        assert shown in summary, shown

    # 3. Confirm, declare, one-time code from the outbox, filed.
    declaration = resident.says_text("sí")
    assert "bajo protesta de decir verdad" in declaration
    code_sent = resident.says_text("sí")
    assert "código de 6 dígitos" in code_sent and "0101" in code_sent
    code = CODE.search(outbox(stack)[0]["body"]).group(1)
    filed = resident.says_text(code)
    folio = FOLIO.search(filed).group(0)
    assert resident.slot("report_folio") == folio and resident.slot("crime_type") == "robo_celular"
    assert resident.slot("crime_draft") is None and not resident.tracker()["active_loop"]

    # 4. What the back office stored: date, time and place from the sentence.
    report = staff(stack, "GET", f"/{folio}").json()
    assert report["crime_type"] == "robo_celular" and report["status"] == "submitted"
    assert report["occurred"]["date"] in yesterday and report["occurred"]["time"] == "19:00"
    assert report["place"] == "metro Pino Suárez" and report["alcaldia"] == "Cuauhtémoc"
    assert report["description"] == SENTENCE
    assert report["facts"]["phone_brand"] == "Samsung" and report["facts"]["phone_model"] == "Galaxy A54"
    assert report["facts"]["phone_number"] == "+525512345678" and report["facts"]["carrier"] == "telcel"
    assert report["unknown_facts"] == ["imei"]
    assert report["declarant"]["name"] == MARIA_NAME and report["declarant"]["subject"] == MARIA
    assert report["channel"] == "rest"

    # 5. The prosecutor's office asks for a missing fact: asked in the same conversation, answered there.
    staff(stack, "POST", f"/{folio}/request-info", json={"question": "¿De qué color era el celular?"})
    assert any("¿De qué color era el celular?" in t for t in bot_texts(resident))
    thanks = resident.says_text("negro con funda roja")
    assert folio in thanks
    report = staff(stack, "GET", f"/{folio}").json()
    assert report["additional_information"][-1]["answer"] == "negro con funda roja"
    assert report["status"] == "submitted"

    # 6. Accepted: the resident is told on their channel, with a link to the signed PDF.
    staff(stack, "POST", f"/{folio}/accept", json={"note": "Procede"})
    accepted = next(t for t in reversed(bot_texts(resident)) if "aceptó tu denuncia" in t)
    assert folio in accepted
    url = DOWNLOAD.search(accepted).group(0)
    assert url.startswith(stack.backoffice_url)
    pdf = requests.get(url, timeout=30)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    text = " ".join(pdf_text(pdf.content).split())
    for shown in (folio, MARIA_NAME, "metro Pino Suárez", "19:00", "negro con funda roja"):
        assert shown in text, shown

    # 7. Signed: the published key verifies it, and so does the endpoint; a changed byte does not.
    key = requests.get(f"{stack.backoffice_url}/crime/signing-key", timeout=10).json()
    load_pem_public_key(key["public_key_pem"].encode()).verify(base64.b64decode(pdf.headers["X-Signature"]), pdf.content)
    verdict = requests.post(f"{stack.backoffice_url}/crime/verify", data=pdf.content, timeout=30).json()
    assert verdict == {**verdict, "valid": True, "folio": folio}
    forged = pdf.content.replace(b"Procede", b"Procedo") if b"Procede" in pdf.content else pdf.content + b" "
    assert requests.post(f"{stack.backoffice_url}/crime/verify", data=forged, timeout=30).json()["valid"] is False

    # Nobody else gets it: a stranger's conversation cannot ask for a link.
    stranger = requests.post(
        f"{stack.backoffice_url}/api/v1/crime-reports/download-link",
        json={"conversation_id": "someone-else", "folio": folio},
        headers={"Authorization": "Bearer dev-assistant-key"},
        timeout=10,
    )
    assert stranger.status_code == 404


@pytest.mark.parametrize(
    "message, expected",
    [
        ("me asaltaron con pistola", "911"),
        ("mi pareja me golpeó", "Línea Mujeres"),
        ("someone is following me home right now", "911"),
    ],
)
def test_danger_gets_the_instructions_and_no_form(stack, message, expected):
    resident = Resident(stack)
    answer = resident.says_text(message)
    assert expected in answer
    tracker = resident.tracker()
    assert not tracker["active_loop"] and tracker["slots"]["crime_draft"] is None


def test_danger_told_in_the_middle_of_the_report_ends_it(stack):
    resident = Resident(stack)
    assert "¿De qué marca" in resident.says_text("me robaron el celular en el metro Hidalgo")
    answer = resident.says_text("me golpearon para quitármelo y estoy sangrando")
    assert "911" in answer
    tracker = resident.tracker()
    assert not tracker["active_loop"] and tracker["slots"]["crime_draft"] is None
    # The story was not collected: nothing was filed.
    listed = requests.get(f"{stack.backoffice_url}/staff/api/crime-reports", headers=PROSECUTOR, timeout=10).json()
    assert all(r["folio"] != resident.slot("report_folio") for r in listed if resident.slot("report_folio"))
