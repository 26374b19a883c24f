"""The screening's actions with real rasa-sdk trackers, driven the way Rasa drives a form:
the reply lands in the requested slot (from_text), validate_screening_form reads it and
names the next slot, action_ask_<slot> asks it, action_screening_outcome ends it.

The back office is replaced by a recorder here (tests/e2e covers the real one)."""
from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import backoffice_client, covid
from actions.triage import assess, consent_text, current_protocol, outcome_text, question_text, retry_text
from actions.triage import InvalidAnswer, message_text

ROOT = Path(__file__).resolve().parents[2]
DOMAIN: Dict[str, Any] = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
PROTOCOL = current_protocol()


def run(coro):
    return asyncio.run(coro)


class Conversation:
    """A resident in the screening, with the slots and requested slot Rasa would keep."""

    def __init__(self, first: str = "creo que tengo covid", language: str = "es", channel: str = "twilio",
                 sender: str = "+5215512345678"):
        self.slots: Dict[str, Any] = {"language": language, "requested_slot": None}
        self.channel = channel
        self.sender = sender
        self.active = False
        self.asked: List[str] = []  # slots asked, in order
        self.replies: List[List[dict]] = []
        self.rejected = False
        self.say_start(first)

    # -- the pieces Rasa would run -------------------------------------------

    def tracker(self, text: str, intent: Optional[str], candidates: Dict[str, Any]) -> Tracker:
        message = {"text": text, "intent": {"name": intent, "confidence": 0.95} if intent else {}, "entities": []}
        if intent and intent.startswith("EXTERNAL_"):
            # As Rasa's trigger_intent makes them: no NLU confidence.
            message = {"text": f"EXTERNAL: {intent}", "intent": {"name": intent}, "entities": [],
                       "metadata": {"is_external": True}}
        events = [{"event": "user", "text": text, "input_channel": self.channel, "parse_data": message}]
        events.append({"event": "action", "name": covid.FORM})
        events += [{"event": "slot", "name": k, "value": v} for k, v in candidates.items()]
        return Tracker(
            sender_id=self.sender,
            slots={**self.slots, **candidates},
            latest_message=message,
            events=events,
            paused=False,
            followup_action=None,
            active_loop={"name": covid.FORM} if self.active else {},
            latest_action_name=covid.FORM,
        )

    def apply(self, events: List[dict]) -> None:
        for event in events:
            if event["event"] == "slot":
                self.slots[event["name"]] = event["value"]
            elif event["event"] == "active_loop":
                self.active = event["name"] == covid.FORM
            elif event["event"] == "action_execution_rejected":
                self.rejected = True

    def run_action(self, action, text: str, intent: Optional[str], candidates=None) -> List[dict]:
        dispatcher = CollectingDispatcher()
        events = run(action.run(dispatcher, self.tracker(text, intent, candidates or {}), DOMAIN))
        self.apply(events)
        self.turn.extend(dispatcher.messages)
        return events

    def ask_next_or_finish(self, text: str, intent: Optional[str]) -> None:
        requested = self.slots.get("requested_slot")
        if requested is None:
            self.active = False
            self.run_action(covid.ActionScreeningOutcome(), text, intent)
            return
        self.asked.append(requested)
        asker = next(a for a in ASKERS if a.name() == f"action_ask_{requested}")
        self.run_action(asker, text, intent)

    def validate(self, text: str, intent: Optional[str], candidates: Dict[str, Any]) -> None:
        events = self.run_action(covid.ValidateScreeningForm(), text, intent, candidates)
        if self.rejected:
            return
        if not any(e["event"] == "slot" and e["name"] == "requested_slot" for e in events):
            # The SDK leaves the choice to Rasa when the list equals the domain's: first empty slot.
            required = DOMAIN["forms"][covid.FORM]["required_slots"]
            self.slots["requested_slot"] = next((s for s in required if self.slots.get(s) is None), None)
        self.ask_next_or_finish(text, intent)

    # -- what the resident does ----------------------------------------------

    def say_start(self, text: str) -> List[dict]:
        self.turn: List[dict] = []
        self.rejected = False
        self.run_action(covid.ActionStartScreening(), text, "start_screening")
        self.active = True
        # Form activation: the prefilled slots are validated, then the next slot asked.
        prefilled = {s: self.slots.get(s) for s in covid.form_slots() if self.slots.get(s) is not None}
        self.validate(text, "start_screening", prefilled)
        self.replies.append(self.turn)
        return self.turn

    def says(self, text: str, intent: Optional[str] = None) -> List[dict]:
        assert self.active, "the screening is over"
        self.turn = []
        self.rejected = False
        requested = self.slots["requested_slot"]
        self.validate(text, intent, {requested: text})
        self.replies.append(self.turn)
        return self.turn

    def texts(self, turn: Optional[List[dict]] = None) -> List[str]:
        return [m.get("text") or m.get("response") for m in (self.replies[-1] if turn is None else turn)]


ASKERS = [
    covid.ActionAskScreeningConsent(),
    covid.ActionAskTriageAge(),
    covid.ActionAskTriageEmergencySigns(),
    covid.ActionAskTriageSymptoms(),
    covid.ActionAskTriageRiskConditions(),
    covid.ActionAskTriageExposure(),
    covid.ActionAskTriageTest(),
]


@pytest.fixture(autouse=True)
def recorder(monkeypatch):
    """Stands in for the back office; `fail` makes it unreachable."""

    class Recorder:
        calls: List[dict] = []
        fail: Optional[Exception] = None

    recorder = Recorder()
    recorder.calls = []

    async def record_screening(level, protocol_version, **fields):
        recorder.calls.append({"level": level, "protocol_version": protocol_version, **fields})
        if recorder.fail:
            raise recorder.fail
        return backoffice_client.StoredScreening(id=len(recorder.calls), level=level, replayed=False)

    monkeypatch.setattr(backoffice_client, "record_screening", record_screening)
    return recorder


# --------------------------------------------------------------------------
# The domain and the protocol agree


def test_every_protocol_question_has_a_slot_an_asker_and_a_validator():
    domain_actions = set(DOMAIN["actions"])
    required = DOMAIN["forms"][covid.FORM]["required_slots"]
    assert required == covid.form_slots()
    for slot in covid.form_slots():
        mapping = DOMAIN["slots"][slot]["mappings"][0]
        assert mapping["type"] == "from_text"
        assert mapping["conditions"] == [{"active_loop": covid.FORM, "requested_slot": slot}]
        assert f"action_ask_{slot}" in domain_actions
        assert f"action_ask_{slot}" in {a.name() for a in ASKERS}
        assert callable(getattr(covid.ValidateScreeningForm, f"validate_{slot}"))
    assert "start_screening" in DOMAIN["intents"]
    for name in ("triage_level", "screening"):
        assert name in DOMAIN["slots"]


def test_the_menu_offers_the_screening_in_both_languages():
    for variation in DOMAIN["responses"]["utter_menu"]:
        assert "/start_screening" in [b["payload"] for b in variation["buttons"]]


# --------------------------------------------------------------------------
# For any answers, the level is the protocol's


def reply_with_numbers(question_id: str, value: Any) -> str:
    question = PROTOCOL.require_question(question_id)
    if question.kind == "age":
        return str(value)
    if question.kind == "yes_no":
        return str(next(o.number for o in question.options if o.value is value))
    if question.kind == "multi":
        return ",".join(str(question.option(c).number) for c in value) if value else "0"
    return str(question.option(value).number)


AGES = [0, 1, 2, 17, 34, 64, 65, 90]
GRID = list(itertools.product(
    AGES, [True, False], [[], ["fever"], ["cough", "taste_smell"]], [[], ["diabetes"], ["pregnant", "lung"]],
    ["yes", "no", "unknown"], ["positive", "negative", "pending", "none"],
))


@pytest.mark.parametrize("chunk", range(8))
def test_every_combination_gets_the_protocol_level_with_the_fewest_questions(chunk):
    for age, emergency, symptoms, risks, exposure, test in GRID[chunk::8]:
        truth = {"age": age, "emergency_signs": emergency, "symptoms": symptoms,
                 "risk_conditions": risks, "exposure": exposure, "test": test}
        expected = assess(truth).level
        conversation = Conversation()
        conversation.says("1")  # consent
        for _ in range(len(PROTOCOL.questions)):
            if not conversation.active:
                break
            question_id = covid.question_of(conversation.slots["requested_slot"])
            conversation.says(reply_with_numbers(question_id, truth[question_id]))
        assert not conversation.active
        assert conversation.slots["triage_level"] == expected, truth
        # Asked in the protocol's order, and only until the outcome was certain.
        asked = [covid.question_of(s) for s in conversation.asked[1:]]
        assert asked == [q for q in PROTOCOL.question_ids if q in asked]
        for i in range(len(asked)):
            assert not assess({q: truth[q] for q in asked[:i]}).complete
        assert assess({q: truth[q] for q in asked}).complete
        assert conversation.texts()[0] == outcome_text(expected, "es")


def test_an_emergency_sign_gets_the_911_outcome_on_the_next_reply(recorder):
    conversation = Conversation("tengo covid")
    conversation.says("sí")
    assert conversation.texts() == [question_text("age", "es")]
    conversation.says("34")
    assert conversation.texts() == [question_text("emergency_signs", "es")]
    conversation.says("sí, no puedo respirar")
    assert conversation.texts() == [outcome_text("emergency", "es")]
    assert "911" in conversation.texts()[0]
    assert conversation.slots["triage_level"] == "emergency"
    (call,) = recorder.calls
    assert call["level"] == "emergency"
    assert call["answers"] == {"emergency_signs": True}
    assert call["age_band"] == "18-64"


def test_answers_in_words():
    conversation = Conversation("I think I have covid", language="en")
    conversation.says("yes")
    conversation.says("thirty four")
    conversation.says("no, none of them")
    assert conversation.texts() == [question_text("symptoms", "en")]
    conversation.says("no, nothing like that")
    # Without symptoms the conditions do not change the level: not asked.
    assert conversation.texts() == [question_text("exposure", "en")]
    conversation.says("I don't know")
    assert conversation.slots["triage_level"] == "monitor"
    assert conversation.texts() == [outcome_text("monitor", "en")]


# --------------------------------------------------------------------------
# Symptoms from the first message are confirmed, not asked again


def test_symptoms_in_the_first_message_are_only_confirmed(recorder):
    conversation = Conversation("tengo fiebre y tos desde ayer")
    assert conversation.texts() == [consent_text("es")]
    for reply in ("1", "34", "2"):
        conversation.says(reply)
    confirm = conversation.replies[-1][0]
    assert confirm == {**confirm, "response": "utter_screening_confirm_symptoms", "symptoms": "Fiebre, Tos"}
    conversation.says("sí")
    assert conversation.texts() == [question_text("risk_conditions", "es")]
    conversation.says("0")
    assert conversation.slots["triage_level"] == "home_care"
    # Consent, age, emergency signs, confirmation, conditions: five short replies.
    assert len(conversation.replies) - 1 == 5
    assert recorder.calls[0]["answers"]["symptoms"] == ["fever", "cough"]


def test_a_no_at_the_confirmation_asks_the_full_question():
    conversation = Conversation("me duele la garganta")
    for reply in ("1", "40", "no"):
        conversation.says(reply)
    conversation.says("no")
    assert conversation.texts() == [question_text("symptoms", "es")]
    conversation.says("0")
    assert conversation.slots["triage_symptoms"] == []
    assert conversation.texts() == [question_text("exposure", "es")]


def test_a_correction_or_more_symptoms_at_the_confirmation():
    corrected = Conversation("tengo fiebre y tos")
    for reply in ("1", "40", "no", "no, solo tos"):
        corrected.says(reply)
    assert corrected.slots["triage_symptoms"] == ["cough"]
    added = Conversation("tengo fiebre")
    for reply in ("1", "40", "no", "sí, y también diarrea"):
        added.says(reply)
    assert added.slots["triage_symptoms"] == ["fever", "diarrhea"]


def test_a_first_message_without_symptoms_asks_them():
    conversation = Conversation("estuve con alguien que salió positivo")
    for reply in ("1", "30", "2"):
        conversation.says(reply)
    assert conversation.texts() == [question_text("symptoms", "es")]


# --------------------------------------------------------------------------
# Bad input: asked again with a hint, never an outcome from a guess


@pytest.mark.parametrize("reply", ["abc", "150", "-3", "tengo 34 y mi hijo 5", ""])
def test_unreadable_ages_are_asked_again_with_the_age_hint(reply):
    conversation = Conversation()
    conversation.says("1")
    conversation.says(reply)
    hint = message_text("not_understood_age", "es")
    assert conversation.texts() == [hint, question_text("age", "es")]
    assert conversation.slots["triage_age"] is None
    assert conversation.active and conversation.slots["triage_level"] is None


@pytest.mark.parametrize("question, reply", [
    ("emergency_signs", "3"), ("emergency_signs", "quizá"), ("symptoms", "1,15"), ("symptoms", "0 y 2"),
    ("symptoms", "hola"),
])
def test_options_that_do_not_exist_are_asked_again(question, reply):
    conversation = Conversation()
    for answer in ("1", "30", "2", "1")[: 1 + PROTOCOL.question_ids.index(question)]:
        conversation.says(answer)
    assert conversation.slots["requested_slot"] == covid.answer_slot(question)
    conversation.says(reply)
    texts = conversation.texts()
    assert texts[-1] == question_text(question, "es")
    assert texts[0] in (message_text("not_understood", "es"), message_text("contradiction", "es"))
    assert conversation.slots[covid.answer_slot(question)] is None
    assert conversation.active


def test_the_disclaimer_must_be_answered_and_a_no_ends_it(recorder):
    conversation = Conversation()
    conversation.says("¿qué?")
    assert conversation.texts() == [message_text("not_understood", "es"), consent_text("es")]
    conversation.says("no")
    assert conversation.texts() == [message_text("declined", "es")]
    assert not conversation.active
    assert conversation.slots["triage_level"] is None
    assert recorder.calls == []


# --------------------------------------------------------------------------
# Restart and switching to something else


@pytest.mark.parametrize("reply, intent", [("reiniciar", None), ("start over", None), ("COVID", "start_screening"),
                                          ("volvamos a empezar desde cero", "start_over")])
def test_restart_asks_from_the_first_question(reply, intent):
    conversation = Conversation("tengo fiebre")
    for answer in ("1", "30", "2"):
        conversation.says(answer)
    conversation.says(reply, intent)
    assert conversation.texts() == ["utter_start_over", question_text("age", "es")]
    assert all(conversation.slots[s] is None for s in covid.answer_slots())
    assert conversation.slots["screening_consent"] == "accept"
    for answer in ("30", "2"):
        conversation.says(answer)
    # The first message's symptoms were forgotten with the rest.
    assert conversation.texts() == [question_text("symptoms", "es")]


def test_a_311_report_mid_screening_steps_aside_and_the_screening_can_go_on():
    conversation = Conversation()
    for answer in ("1", "30"):
        conversation.says(answer)
    conversation.says("mejor quiero reportar un bache", "report_bache")
    assert conversation.rejected and conversation.texts() == []
    assert conversation.slots["triage_emergency_signs"] is None  # the words are not an answer
    # The rules run action_pause_screening, then the 311 report.
    pause = CollectingDispatcher()
    events = run(covid.ActionPauseScreening().run(pause, conversation.tracker("x", "report_bache", {}), DOMAIN))
    conversation.apply(events)
    assert pause.messages[0]["response"] == "utter_screening_paused"
    assert not conversation.active
    # Later: "COVID" picks up where it stopped.
    turn = conversation.say_start("COVID")
    assert [m.get("response") or m.get("text") for m in turn] == [
        "utter_screening_resumed", question_text("emergency_signs", "es")
    ]
    assert conversation.slots["triage_age"] == 30
    conversation.says("2")
    conversation.says("0")
    conversation.says("no")
    conversation.says("no")
    assert conversation.slots["triage_level"] == "no_action"


def test_a_screening_paused_long_ago_starts_afresh():
    conversation = Conversation()
    for answer in ("1", "30"):
        conversation.says(answer)
    conversation.says("mejor quiero reportar un bache", "report_bache")
    conversation.apply(run(covid.ActionPauseScreening().run(
        CollectingDispatcher(), conversation.tracker("x", "report_bache", {}), DOMAIN)))
    stale = dict(conversation.slots["screening"], started_at="2020-01-01T00:00:00+00:00")
    conversation.slots["screening"] = stale
    assert conversation.texts(conversation.say_start("COVID")) == [consent_text("es")]
    assert conversation.slots["triage_age"] is None


def test_a_reply_that_reads_as_an_answer_is_one_whatever_nlu_says():
    conversation = Conversation()
    conversation.says("1")
    conversation.says("34", "report_bache")
    assert not conversation.rejected
    assert conversation.slots["triage_age"] == 34


@pytest.mark.parametrize("text, intent", [("cancelar", "cancel"), ("ayuda", "help"),
                                          ("¿cómo va mi folio 311-000042?", "check_status"),
                                          ("EXTERNAL: EXTERNAL_request_status", "EXTERNAL_request_status")])
def test_cancel_help_and_folios_step_aside(text, intent):
    conversation = Conversation()
    conversation.says("1")
    conversation.says(text, intent)
    assert conversation.rejected


def test_cancel_drops_the_screening(recorder):
    conversation = Conversation("tengo fiebre")
    conversation.says("1")
    stop = CollectingDispatcher()
    conversation.apply(run(covid.ActionStopScreening().run(stop, conversation.tracker("cancelar", "cancel", {}), DOMAIN)))
    assert stop.messages[0]["text"] == message_text("declined", "es")
    assert conversation.slots["screening_consent"] is None and conversation.slots["screening"] is None
    assert recorder.calls == []
    # "COVID" later starts afresh, with the disclaimer.
    assert conversation.texts(conversation.say_start("COVID")) == [consent_text("es")]


def test_a_reply_left_unread_by_help_is_not_taken_as_an_answer():
    conversation = Conversation()
    conversation.says("1")
    # Rasa filled the slot with "ayuda" before the form stepped aside; coming back, it is asked again.
    conversation.slots["triage_age"] = "ayuda"
    conversation.turn = []
    conversation.validate("ayuda", "help", {})
    assert conversation.slots["triage_age"] is None
    assert conversation.texts(conversation.turn) == [question_text("age", "es")]


# --------------------------------------------------------------------------
# The record


def test_the_record_has_no_personal_data_and_one_key_per_screening(recorder):
    conversation = Conversation("tengo fiebre, vivo en la alcaldía Iztapalapa", channel="twilio")
    for answer in ("1", "70", "2", "1"):
        conversation.says(answer)
    assert conversation.slots["triage_level"] == "urgent"
    (call,) = recorder.calls
    assert call["level"] == "urgent"
    assert call["protocol_version"] == PROTOCOL.version
    assert call["age_band"] == "65+"
    assert call["alcaldia"] == "Iztapalapa"
    assert call["channel"] == "twilio"
    assert call["answers"] == {"emergency_signs": False, "symptoms": ["fever"]}
    assert call["started_at"] <= call["completed_at"]
    assert len(call["idempotency_key"]) == 32
    flat = repr(call)
    assert conversation.sender not in flat and "vivo" not in flat and "70" not in repr(call["answers"])
    # A second screening is another record.
    conversation.say_start("covid")
    for answer in ("1", "1"):
        conversation.says(answer)
    assert recorder.calls[1]["level"] == "under_2"
    assert recorder.calls[1]["idempotency_key"] != call["idempotency_key"]


@pytest.mark.parametrize("error", [backoffice_client.BackOfficeUnavailable("ConnectError"),
                                   backoffice_client.BackOfficeRejected(422, "answers: +5215512345678")])
def test_a_failing_back_office_never_costs_the_resident_the_advice(recorder, caplog, error):
    recorder.fail = error
    conversation = Conversation("tengo tos")
    caplog.set_level(logging.INFO)
    for answer in ("1", "45", "2", "1", "0"):
        conversation.says(answer)
    assert conversation.texts() == [outcome_text("home_care", "es")]
    assert conversation.slots["triage_level"] == "home_care"
    logged = [r for r in caplog.records if r.name == "actions.covid"]
    assert logged and "could not store a screening" in logged[-1].getMessage()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "+5215512345678" not in text and "45" not in text


def test_english_texts_follow_the_language_slot():
    conversation = Conversation("I have a fever and a cough", language="en")
    assert conversation.texts() == [consent_text("en")]
    for reply in ("yes", "34", "no"):
        conversation.says(reply)
    assert conversation.replies[-1][0]["symptoms"] == "Fever or chills, Cough"



# --------------------------------------------------------------------------
# The glue texts are SMS-sized too


def test_glue_texts_fit_the_sms_budget():
    from common.sms import segment_count

    question = PROTOCOL.require_question("symptoms")
    for name in ("utter_screening_paused", "utter_screening_resumed", "utter_screening_help",
                 "utter_screening_confirm_symptoms"):
        for variation in DOMAIN["responses"][name]:
            language = variation["condition"][0]["value"]
            one = variation["text"].format(symptoms=question.option("fever").label[language])
            every = variation["text"].format(
                symptoms=", ".join(o.label[language] for o in question.options if o.code != "none")
            )
            assert segment_count(one) <= 2, (name, language, one)
            # Even a first message naming all eleven symptoms stays within 3 segments.
            assert segment_count(every) <= 3, (name, language, every)
