"""COVID-19 screening end to end: REST channel -> Rasa -> action server -> back office."""
from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import create_engine, text

from actions.triage import consent_text, message_text, outcome_text, question_text
from tests.e2e.conversation import Resident

pytestmark = pytest.mark.e2e
STAFF = {"Authorization": "Bearer dev-staff-token"}


def today() -> str:
    return datetime.now(ZoneInfo("America/Mexico_City")).date().isoformat()


def stored_today(stack) -> dict:
    response = requests.get(
        f"{stack.backoffice_url}/staff/api/screenings/stats",
        params={"start": today(), "end": today()},
        headers=STAFF,
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["totals"]


def last_record(stack) -> dict:
    engine = create_engine(stack.database_url, future=True)
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT * FROM screenings ORDER BY id DESC LIMIT 1")).mappings().one()
            return dict(row)
    finally:
        engine.dispose()


def test_symptoms_in_the_first_message_reach_the_outcome_in_five_numbered_replies(stack):
    before = stored_today(stack)
    resident = Resident(stack)
    assert resident.says_text("tengo fiebre y tos desde ayer") == consent_text("es")
    assert resident.says_text("1") == question_text("age", "es")
    assert resident.says_text("34") == question_text("emergency_signs", "es")
    confirm = resident.says_text("2")
    assert confirm.startswith("Anoté: Fiebre, Tos.")  # said in the first message: confirmed, not asked
    assert resident.says_text("1") == question_text("risk_conditions", "es")
    assert resident.says_text("0") == outcome_text("home_care", "es")
    assert len(resident.replies) - 1 <= 6
    assert resident.slot("triage_level") == "home_care"

    after = stored_today(stack)
    assert after["home_care"] == before["home_care"] + 1
    record = last_record(stack)
    assert record["level"] == "home_care"
    assert record["age_band"] == "18-64"
    assert record["channel"] == "rest"
    answers = record["answers"] if isinstance(record["answers"], dict) else json.loads(record["answers"])
    assert answers == {"emergency_signs": False, "symptoms": ["fever", "cough"], "risk_conditions": []}
    assert resident.sender not in repr(record)


def test_answers_in_words_get_urgent(stack):
    before = stored_today(stack)
    resident = Resident(stack)
    assert resident.says_text("creo que tengo covid") == consent_text("es")
    assert resident.says_text("sí, acepto") == question_text("age", "es")
    assert resident.says_text("tengo setenta años") == question_text("emergency_signs", "es")
    assert resident.says_text("no, nada de eso") == question_text("symptoms", "es")
    # 70 years old with symptoms: urgent without asking about conditions.
    assert resident.says_text("tengo tos y me duele la garganta") == outcome_text("urgent", "es")
    assert resident.slot("triage_level") == "urgent"
    assert stored_today(stack)["urgent"] == before["urgent"] + 1
    assert last_record(stack)["age_band"] == "65+"


def test_english_words_without_symptoms_get_no_action(stack):
    resident = Resident(stack)
    assert resident.says_text("I think I have covid") == consent_text("en")
    assert resident.says_text("yes") == question_text("age", "en")
    assert resident.says_text("I'm 29") == question_text("emergency_signs", "en")
    assert resident.says_text("no") == question_text("symptoms", "en")
    assert resident.says_text("none of those") == question_text("exposure", "en")
    assert resident.says_text("no") == question_text("test", "en")
    assert resident.says_text("I didn't take one") == outcome_text("no_action", "en")
    assert resident.slot("triage_level") == "no_action"


def test_an_emergency_sign_gets_911_on_the_very_next_reply(stack):
    resident = Resident(stack)
    resident.says("check my symptoms")
    resident.says("1")
    resident.says("52")
    reply = resident.says_text("1")
    assert reply == outcome_text("emergency", "en")
    assert "911" in reply
    assert resident.slot("triage_level") == "emergency"


@pytest.mark.parametrize("bad", ["abc", "150", "-3"])
def test_bad_ages_and_missing_options_are_asked_again_never_guessed(stack, bad):
    resident = Resident(stack)
    resident.says("creo que tengo covid")
    resident.says("1")
    again = resident.says_text(bad)
    assert again == message_text("not_understood_age", "es") + "\n" + question_text("age", "es")
    assert resident.says_text("40") == question_text("emergency_signs", "es")
    again = resident.says_text("7")
    assert again == message_text("not_understood", "es") + "\n" + question_text("emergency_signs", "es")
    assert resident.slot("triage_level") is None
    assert resident.tracker()["active_loop"].get("name") == "screening_form"


def test_start_over_mid_screening_asks_from_the_first_question(stack):
    resident = Resident(stack)
    resident.says("tengo fiebre y tos desde ayer")
    resident.says("1")
    resident.says("34")
    restarted = resident.says_text("reiniciar")
    assert restarted.endswith(question_text("age", "es"))
    assert "Empecemos de nuevo" in restarted
    resident.says("34")
    # Starting over forgot the first message's symptoms too: now they are asked.
    assert resident.says_text("2") == question_text("symptoms", "es")


def test_a_pothole_mid_screening_switches_cleanly_and_the_screening_comes_back(stack):
    resident = Resident(stack)
    resident.says("creo que tengo covid")
    resident.says("1")
    resident.says("30")
    switched = resident.says_text("mejor quiero reportar un bache")
    assert "Pausé las preguntas de COVID-19" in switched
    assert "¿Dónde está?" in switched  # the 311 form asks for the place
    assert "alcaldía" in resident.says_text("Calle Durango 35, col. Roma Norte").lower()
    assert "¿Lo envío?" in resident.says_text("Cuauhtémoc")
    assert "folio" in resident.says_text("sí")
    assert resident.slot("service_code") == "bache"
    back = resident.says_text("COVID")
    assert back.startswith("Sigamos con las preguntas de COVID-19")
    assert back.endswith(question_text("emergency_signs", "es"))  # the age was kept
    assert resident.says_text("2") == question_text("symptoms", "es")


def test_a_switched_resident_may_simply_drop_the_screening(stack):
    resident = Resident(stack)
    resident.says("creo que tengo covid")
    resident.says("1")
    resident.says("30")
    resident.says("mejor quiero reportar un bache")
    assert "cancelado" in resident.says_text("cancelar").lower()
    assert resident.slot("triage_level") is None


def test_back_office_down_the_resident_still_gets_the_advice(stack):
    resident = Resident(stack)
    resident.says("estuve con alguien que salió positivo")
    for reply in ("1", "28", "2", "0"):
        resident.says(reply)
    stack.stop_backoffice()
    try:
        outcome = resident.says_text("1")
    finally:
        stack.start_backoffice()
    assert outcome == outcome_text("monitor", "es")
    assert resident.slot("triage_level") == "monitor"
    log = (stack.workdir / "actions.log").read_text(errors="replace")
    assert "could not store a screening (level=monitor): BackOfficeUnavailable" in log
    assert resident.sender not in log


def test_a_status_update_mid_screening_does_not_derail_it(stack):
    resident = Resident(stack)
    resident.says("hay un bache enorme en Insurgentes Sur 1700, col. Crédito Constructor")
    resident.says("Benito Juárez")
    folio = next(w.strip(".") for w in resident.says_text("sí").split() if w.startswith("311-"))
    resident.says("creo que tengo covid")
    assert resident.says_text("1") == question_text("age", "es")
    # Staff close the request: the back office pushes the news into this conversation.
    response = requests.post(
        f"{stack.backoffice_url}/staff/api/requests/{folio}/status",
        json={"status": "closed", "note": "Bache tapado"},
        headers=STAFF,
        timeout=30,
    )
    assert response.status_code == 200, response.text
    events = [e.get("text") for e in resident.tracker()["events"] if e.get("event") == "bot"]
    assert any(folio in (t or "") for t in events[-2:]), events[-3:]
    # The screening goes on: the age question was asked again and is answered.
    assert resident.says_text("30") == question_text("emergency_signs", "es")
