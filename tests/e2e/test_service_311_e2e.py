"""End to end over real HTTP: REST channel -> Rasa -> action server -> back office -> Open311."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
import requests

from tests.e2e.conversation import Resident

pytestmark = pytest.mark.e2e
FOLIO = re.compile(r"311-\d{6}")


def open311_requests(stack, **params) -> list:
    response = requests.get(f"{stack.backoffice_url}/open311/v2/requests.json", params=params, timeout=10)
    response.raise_for_status()
    return response.json()


def folio_in(text: str) -> str:
    match = FOLIO.search(text)
    assert match, f"no folio in bot reply: {text!r}"
    return match.group(0)


def test_pothole_in_spanish_is_filed_within_three_turns(stack):
    resident = Resident(stack)
    first = resident.says_text("hay un bache enorme en Insurgentes Sur 1602, col. Crédito Constructor")
    # The type and the address were understood: only the alcaldía is missing.
    assert "alcaldía" in first.lower()
    summary = resident.says_text("Benito Juárez")
    assert "Bache" in summary and "Insurgentes Sur 1602, col. Crédito Constructor" in summary
    assert "¿Lo envío?" in summary
    filed = resident.says_text("sí")
    folio = folio_in(filed)
    assert len(resident.replies) <= 3

    records = open311_requests(stack, service_request_id=folio)
    assert len(records) == 1
    record = records[0]
    assert record["service_code"] == "bache"
    assert record["status"] == "open"
    assert record["address"] == "Insurgentes Sur 1602, col. Crédito Constructor"
    assert record["description"] == "hay un bache enorme en Insurgentes Sur 1602, col. Crédito Constructor"

    # Listed in the public request list too.
    assert folio in [r["service_request_id"] for r in open311_requests(stack, service_code="bache")]
    # The tracker holds what other tools rely on.
    assert resident.slot("service_code") == "bache"
    assert resident.slot("request_id") == folio


def test_pothole_in_english_gets_english_replies(stack):
    resident = Resident(stack)
    first = resident.says_text("there's a pothole on Eje Central 45, col. Centro, alcaldía Cuauhtémoc")
    assert "Shall I send it?" in first
    assert "Pothole" in first
    filed = resident.says_text("yes")
    assert "Done, your request was filed" in filed
    folio = folio_in(filed)
    record = open311_requests(stack, service_request_id=folio)[0]
    assert record["service_code"] == "bache"
    assert resident.slot("language") == "en"


def test_status_by_folio(stack):
    resident = Resident(stack)
    resident.says("se fundió la luminaria de Av. Universidad 1200, col. Xoco, alcaldía Benito Juárez")
    folio = folio_in(resident.says_text("sí"))
    answer = Resident(stack).says_text(f"¿cómo va mi reporte {folio}?")
    assert folio in answer and "abierto" in answer

    # A status change by staff shows up with the agency's note.
    response = requests.post(
        f"{stack.backoffice_url}/staff/api/requests/{folio}/status",
        json={"status": "closed", "note": "Luminaria reemplazada"},
        headers={"Authorization": "Bearer dev-staff-token"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    answer = Resident(stack).says_text(f"qué pasó con mi folio {folio}")
    assert "cerrado" in answer and "Luminaria reemplazada" in answer


def test_unknown_folio_gets_a_clear_answer(stack):
    answer = Resident(stack).says_text("¿cómo va mi reporte 311-987654?")
    assert "No encontré" in answer and "311-987654" in answer


def test_status_question_without_folio_asks_for_it(stack):
    resident = Resident(stack)
    assert "folio" in resident.says_text("¿cómo va mi reporte?").lower()
    assert "No encontré" in resident.says_text("311-555555")


def test_missing_location_is_asked_and_vague_places_refused(stack):
    resident = Resident(stack)
    asked = resident.says_text("hay una fuga de agua enorme en mi calle")
    assert "¿Dónde está?" in asked
    refused = resident.says_text("aquí")
    assert "Necesito una dirección" in refused
    assert "alcaldía" in resident.says_text("Calle Durango 35, col. Roma Norte").lower()
    assert "¿Lo envío?" in resident.says_text("Cuauhtémoc")
    assert resident.slot("service_code") == "fuga_agua"


def test_cancel_files_nothing(stack):
    before = len(open311_requests(stack, service_code="grafiti"))
    resident = Resident(stack)
    resident.says("pintaron grafiti en la barda de Calle Bolívar 20, col. Centro")
    assert "cancelado" in resident.says_text("cancelar").lower()
    assert len(open311_requests(stack, service_code="grafiti")) == before
    assert resident.slot("draft_id") is None


@pytest.mark.parametrize("message", ["hola", "¿qué puedes hacer?", "¿quién va a ganar el clásico?", "😀😀😀"])
def test_greeting_help_and_out_of_scope_get_the_menu_not_a_ticket(stack, message):
    before = len(open311_requests(stack))
    replies = Resident(stack).says(message)
    buttons = [b["payload"] for m in replies for b in m.get("buttons", [])]
    assert "/report_problem" in buttons and "/check_status" in buttons
    assert len(open311_requests(stack)) == before


def test_empty_message_gets_an_answer(stack):
    replies = Resident(stack).says("")
    assert replies and any(m.get("text") for m in replies)


def test_long_message_with_markup_is_stored_verbatim_and_escaped(stack):
    body = (
        "hay un bache en Calle Orizaba 100, col. Roma Norte, alcaldía Cuauhtémoc "
        "<script>alert('x')</script> '; DROP TABLE service_requests; -- "
    )
    # A long complaint as residents write them: a story, not one word repeated.
    story = [
        "El bache está muy profundo y ya se llenó de agua con la lluvia.",
        "Ayer un ciclista se cayó ahí y los coches frenan de golpe.",
        "Los vecinos pusimos una llanta para avisar pero se la llevaron.",
        "Ya van tres semanas así y cada día el hoyo está más grande.",
        "En la noche no se ve porque la calle está oscura.",
    ]
    message = (body + " ".join(story * 40))[:5000]
    # Channels strip surrounding whitespace from what residents send; end on a letter.
    message = message[:-1] + "." if message[-1].isspace() else message
    assert len(message) == 5000
    resident = Resident(stack)
    summary = resident.says_text(message)
    assert "¿Lo envío?" in summary
    folio = folio_in(resident.says_text("sí"))

    record = open311_requests(stack, service_request_id=folio)[0]
    assert record["description"] == message
    xml = requests.get(
        f"{stack.backoffice_url}/open311/v2/requests/{folio}.xml", timeout=10
    ).text
    assert "<script>" not in xml
    assert ET.fromstring(xml).find(".//description").text == message


def test_back_office_down_keeps_the_draft_and_a_retry_files_once(stack):
    resident = Resident(stack)
    description = "el semáforo de Insurgentes y Viaducto está apagado, alcaldía Benito Juárez"
    assert "¿Lo envío?" in resident.says_text(description)
    stack.stop_backoffice()
    try:
        down = resident.says_text("sí")
        assert "No pude registrar" in down
        assert resident.slot("submission_pending") is True
        assert resident.slot("service_code") == "semaforo"
        assert resident.slot("draft_id")
    finally:
        stack.start_backoffice()
    folio = folio_in(resident.says_text("sí"))
    # Resident insists once more: still one request.
    resident.says("sí")
    same = [r for r in open311_requests(stack, service_code="semaforo") if r["description"] == description]
    assert [r["service_request_id"] for r in same] == [folio]
