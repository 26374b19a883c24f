"""Crime report actions with real rasa-sdk trackers and dispatchers: the order the
form asks things in, corrections and the declaration at the summary, safety exits
from an answer, the safety instructions, and filing only when everything is done.
(The whole flow against the real back office and Rasa is tests/e2e/test_crime_e2e.py.)"""
from __future__ import annotations

import asyncio
from typing import Any, Dict, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import crime_report as cr
from actions.crime import draft as d

DOMAIN: Dict[str, Any] = {"forms": {cr.FORM: {"required_slots": list(cr.STEP_SLOTS)}}, "slots": {}}
METRO = "me robaron el celular en el metro Pino Suárez ayer como a las 7"


def tracker(text: str = "", intent: Optional[str] = None, slots: Optional[dict] = None, requested: Optional[str] = None,
            entities: Optional[list] = None, confidence: float = 0.99) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": confidence} if intent else {},
               "entities": entities or []}
    all_slots = {"language": "es", "identity_verified": False, "requested_slot": requested, **(slots or {})}
    return Tracker(
        sender_id="c-1", slots=all_slots, latest_message=message,
        events=[{"event": "user", "text": text, "parse_data": message, "input_channel": "rest"}],
        paused=False, followup_action=None, active_loop={"name": cr.FORM} if requested else {},
        latest_action_name="action_listen",
    )


def run(coro):
    return asyncio.run(coro)


def slots_of(events) -> dict:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def texts(dispatcher: CollectingDispatcher) -> str:
    return "\n".join(m.get("text") or m.get("response") or "" for m in dispatcher.messages)


def complete_draft(**overrides) -> d.Draft:
    draft = d.start(METRO).draft
    draft.facts.update(phone_brand="Samsung", phone_model="Galaxy A54", phone_number="+525512345678",
                       carrier="telcel", alcaldia="Cuauhtémoc",
                       when={"date": "2026-12-02", "time": "19:00", "part_of_day": None, "approximate": True})
    draft.when_pending = None
    draft.unknown.append("imei")
    for key, value in overrides.items():
        setattr(draft, key, value)
    return draft


def required(slots: dict) -> list:
    return run(cr.ValidateCrimeReportForm().required_slots([], CollectingDispatcher(), tracker(slots=slots), DOMAIN))


def test_the_form_asks_type_then_facts_then_identity_then_the_end():
    assert required({}) == []  # no draft: nothing to ask
    undecided = d.start("me robaron").draft
    assert required({cr.DRAFT: undecided.to_slot()}) == [cr.TYPE]
    assert required({cr.DRAFT: d.start(METRO).draft.to_slot()}) == [cr.FACT]
    done = complete_draft().to_slot()
    assert required({cr.DRAFT: done}) == [cr.SIGNIN]
    assert required({cr.DRAFT: done, "identity_verified": True}) == [cr.CONFIRM, cr.DECLARATION, cr.CODE]


def test_start_keeps_the_facts_of_the_first_message():
    dispatcher = CollectingDispatcher()
    events = run(cr.ActionStartCrimeReport().run(dispatcher, tracker(METRO, "report_crime"), DOMAIN))
    slots = slots_of(events)
    assert slots[cr.TYPE] == "robo_celular" and slots[cr.FOLIO] is None
    draft = d.Draft.from_slot(slots[cr.DRAFT])
    assert draft.facts["place"] == "metro Pino Suárez" and draft.facts["description"] == METRO
    assert dispatcher.messages[0]["response"] == "utter_crime_start" and dispatcher.messages[0]["emergency"] == "911"


def test_start_with_danger_gives_the_instructions_and_no_draft():
    dispatcher = CollectingDispatcher()
    events = run(cr.ActionStartCrimeReport().run(dispatcher, tracker("me asaltaron con pistola", "report_crime"), DOMAIN))
    assert slots_of(events)[cr.DRAFT] is None
    assert "911" in texts(dispatcher)


def test_an_answer_that_tells_violence_ends_the_form():
    draft = d.start("me quitaron el celular en la calle").draft
    dispatcher = CollectingDispatcher()
    t = tracker("sí", "affirm", {cr.DRAFT: draft.to_slot()}, requested=cr.TYPE)
    result = run(cr.ValidateCrimeReportForm().validate_crime_type("sí", dispatcher, t, DOMAIN))
    assert result[cr.DRAFT] is None and result[cr.TYPE] is None
    assert "911" in texts(dispatcher) and "Fiscalía" in texts(dispatcher)


def test_a_wrong_imei_is_explained_and_asked_again():
    draft = complete_draft()
    draft.unknown.remove("imei")
    dispatcher = CollectingDispatcher()
    t = tracker("490154203237519", None, {cr.DRAFT: draft.to_slot()}, requested=cr.FACT)
    result = run(cr.ValidateCrimeReportForm().validate_crime_fact("490154203237519", dispatcher, t, DOMAIN))
    assert result[cr.FACT] is None and "imei" not in d.Draft.from_slot(result[cr.DRAFT]).facts
    assert "no es válido" in texts(dispatcher)


def test_help_is_not_taken_for_an_answer():
    draft = complete_draft()
    draft.unknown.remove("imei")
    dispatcher = CollectingDispatcher()
    t = tracker("ayuda", "help", {cr.DRAFT: draft.to_slot()}, requested=cr.FACT)
    result = run(cr.ValidateCrimeReportForm().validate_crime_fact("ayuda", dispatcher, t, DOMAIN))
    assert result == {cr.FACT: None}
    assert "*#06#" in texts(dispatcher)


@pytest.mark.parametrize("answer", ["la hora está mal", "3"])
def test_a_correction_at_the_summary_clears_that_fact(answer):
    draft = complete_draft()
    t = tracker(answer, None, {cr.DRAFT: draft.to_slot(), "identity_verified": True}, requested=cr.CONFIRM)
    result = run(cr.ValidateCrimeReportForm().validate_crime_confirm(answer, CollectingDispatcher(), t, DOMAIN))
    cleared = d.Draft.from_slot(result[cr.DRAFT])
    field = "when" if answer != "3" else d.fields_to_correct(draft)[2]
    assert field not in cleared.facts and result[cr.CONFIRM] is None
    assert d.next_step(cleared).field == field


def test_no_at_the_summary_lists_the_facts_to_correct():
    draft = complete_draft()
    t = tracker("no", "deny", {cr.DRAFT: draft.to_slot()}, requested=cr.CONFIRM)
    result = run(cr.ValidateCrimeReportForm().validate_crime_confirm("no", CollectingDispatcher(), t, DOMAIN))
    assert d.Draft.from_slot(result[cr.DRAFT]).correcting is True
    dispatcher = CollectingDispatcher()
    run(cr.ActionAskCrimeConfirm().run(dispatcher, tracker(slots={cr.DRAFT: result[cr.DRAFT]}), DOMAIN))
    message = dispatcher.messages[0]
    assert message["response"] == "utter_crime_which_correction" and "1. Tipo de denuncia" in message["facts"]


def test_yes_at_the_summary_and_the_declaration():
    t = tracker("sí", "affirm", {cr.DRAFT: complete_draft().to_slot()}, requested=cr.CONFIRM)
    assert run(cr.ValidateCrimeReportForm().validate_crime_confirm("sí", CollectingDispatcher(), t, DOMAIN)) == {cr.CONFIRM: "yes"}
    assert run(cr.ValidateCrimeReportForm().validate_crime_declaration("sí", CollectingDispatcher(), t, DOMAIN)) == {cr.DECLARATION: "accepted"}


def test_declining_the_declaration_files_nothing():
    dispatcher = CollectingDispatcher()
    t = tracker("no", "deny", {cr.DRAFT: complete_draft().to_slot(), "pending_flow": "crime_report"}, requested=cr.DECLARATION)
    result = run(cr.ValidateCrimeReportForm().validate_crime_declaration("no", dispatcher, t, DOMAIN))
    assert result[cr.DRAFT] is None and result["pending_flow"] is None
    assert dispatcher.messages[0]["response"] == "utter_crime_declaration_declined"


def test_the_summary_shows_the_facts_and_who_declares():
    dispatcher = CollectingDispatcher()
    slots = {cr.DRAFT: complete_draft().to_slot(), "verified_name": "María", "verified_curp": "HELG880315MDFRPD06"}
    run(cr.ActionAskCrimeConfirm().run(dispatcher, tracker(slots=slots), DOMAIN))
    message = dispatcher.messages[0]
    assert message["response"] == "utter_crime_summary"
    assert "metro Pino Suárez" in message["facts"] and "miércoles 2 de diciembre de 2026, 19:00" in message["facts"]
    assert message["name"] == "María" and message["curp"] == "HELG880315MDFRPD06"


def test_nothing_is_filed_before_the_code_is_verified():
    slots = {cr.DRAFT: complete_draft().to_slot(), cr.CONFIRM: "yes", cr.DECLARATION: "accepted", cr.CODE: None}
    # No back office is running: filing would fail loudly if it were attempted.
    assert run(cr.ActionFileCrimeReport().run(CollectingDispatcher(), tracker(slots=slots), DOMAIN)) == []


def test_safety_instructions_leave_the_form_and_drop_the_draft():
    dispatcher = CollectingDispatcher()
    entities = [{"entity": "safety_category", "value": "family_violence"}, {"entity": "safety_category", "value": "violence"}]
    t = tracker("mi pareja me golpeó", "safety_alert", {cr.DRAFT: complete_draft().to_slot(), "pending_flow": "crime_report"},
                requested=cr.FACT, entities=entities)
    events = run(cr.ActionSafetyInstructions().run(dispatcher, t, DOMAIN))
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    slots = slots_of(events)
    assert slots[cr.DRAFT] is None and slots["pending_flow"] is None
    said = texts(dispatcher)
    assert "Línea Mujeres" in said and "*765" in said and "911" in said


def test_safety_instructions_in_english():
    dispatcher = CollectingDispatcher()
    t = tracker("someone is breaking into my house", "safety_alert", {"language": "en"},
                entities=[{"entity": "safety_category", "value": "danger_now"}])
    run(cr.ActionSafetyInstructions().run(dispatcher, t, DOMAIN))
    assert "call 911 right away" in texts(dispatcher)


@pytest.mark.parametrize("text, steps_aside", [("me están golpeando", True), ("35", False)])
def test_danger_in_the_covid_screening_steps_aside_unless_it_is_an_answer(text, steps_aside):
    from actions.covid import wants_something_else

    message = {"text": text, "intent": {"name": "safety_alert", "confidence": 1.0}, "entities": []}
    t = Tracker(
        sender_id="c-2", slots={"language": "es", "requested_slot": "triage_age", "screening_consent": "accept",
                                "triage_age": text},
        latest_message=message,
        events=[{"event": "user", "text": text, "parse_data": message},
                {"event": "slot", "name": "triage_age", "value": text}],
        paused=False, followup_action=None, active_loop={"name": "screening_form"}, latest_action_name="action_listen",
    )
    assert wants_something_else(t) is steps_aside


def _form_tracker(text: str, intent: str, confidence: float, requested: str, slots: dict) -> Tracker:
    message = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": []}
    return Tracker(
        sender_id="c-3", slots={"language": "es", "requested_slot": requested, "identity_verified": False, **slots,
                                requested: text},
        latest_message=message,
        events=[{"event": "user", "text": text, "parse_data": message},
                {"event": "slot", "name": requested, "value": text}],
        paused=False, followup_action=None, active_loop={"name": cr.FORM}, latest_action_name="action_listen",
    )


def test_a_sure_cancel_leaves_the_form_but_a_doubtful_one_is_an_answer():
    draft = complete_draft().to_slot()
    sure = _form_tracker("cancelar", "cancel", 0.99, cr.CONFIRM, {cr.DRAFT: draft})
    events = run(cr.ValidateCrimeReportForm().run(CollectingDispatcher(), sure, DOMAIN))
    assert any(e.get("event") == "action_execution_rejected" for e in events)
    # "ya" (done) at the sign-in step reads as a weak cancel: it is taken as the reply.
    doubtful = _form_tracker("ya", "cancel", 0.49, cr.SIGNIN, {cr.DRAFT: draft})
    dispatcher = CollectingDispatcher()
    events = run(cr.ValidateCrimeReportForm().run(dispatcher, doubtful, DOMAIN))
    assert not any(e.get("event") == "action_execution_rejected" for e in events)
