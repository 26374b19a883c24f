"""Actions of the COVID-19 screening ("SMS COVID-19"): start, ask, read the
replies, tell the outcome, store it.

Thin by design. The protocol (questions, options, rules, outcome texts) is
citypack/<pack>/triage.yml; actions/triage.py evaluates it and
actions/triage_answers.py reads replies. This module only wires them into a
Rasa form:

- `screening_form` asks `screening_consent`, then one slot per protocol
  question (`triage_<question id>`). Which question comes next is the
  protocol's `next_question()`: `ValidateScreeningForm.required_slots` lists
  the slots answered so far plus that one, so the form stops as soon as the
  outcome is certain (an emergency sign ends it on the same turn).
- Every reply reaches the form as text (`from_text` mappings) and is read by
  the parsers, never by NLU. A reply that cannot be read is asked again with
  the protocol's hint; "reiniciar"/"start over"/"COVID" starts the questions
  over. Only when a reply is not an answer AND NLU is sure the resident
  wants something else (a 311 report, a folio, cancel, help) does the form
  step aside (the rules in data/rules/covid.yml take over). A 311 report or
  a folio question pauses the screening: "COVID" within RESUME_WITHIN goes
  on where it stopped; later, or after "cancelar", it starts afresh.
- Symptoms the first message already named are not asked again: when the
  symptoms question comes, the resident only confirms them.
- `action_screening_outcome` tells the outcome, sets `triage_level` and
  stores the screening through the back-office client. If the back office
  fails, the resident still has the advice; the log says only the level and
  the error class.
"""
from __future__ import annotations

import logging
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import backoffice_client
from actions.places import alcaldia_in_location
from actions.texts import language_of
from actions.triage import (
    InvalidAnswer,
    TriageResult,
    assess,
    consent_text,
    current_protocol,
    message_text,
    outcome_text,
    question_text,
    restart_text,
    retry_text,
    validate_answer,
)
from actions.triage_answers import is_restart, parse_answer, parse_consent, symptoms_from_text
from common.screening import age_band

logger = logging.getLogger(__name__)

FORM = "screening_form"
REQUESTED_SLOT = "requested_slot"
CONSENT_SLOT = "screening_consent"
# What the conversation knows about the screening under way:
# {"id": idempotency key, "started_at": ISO time, "alcaldia": named in the first
#  message or None, "said": symptom codes from the first message, to confirm}.
SCREENING_SLOT = "screening"
LEVEL_SLOT = "triage_level"
ACCEPT, DECLINE = "accept", "decline"
SLOT_PREFIX = "triage_"

# When a reply is not an answer, these intents mean "I want something else now".
# EXTERNAL_* are events other systems push into the conversation (a 311 status
# update): never answers, they go to their own rules.
# safety_alert (components/crime_safety.py: violence, weapons, danger now...) steps
# aside the same way, to the safety rule; a reply the protocol can read (an
# emergency sign such as "no respira") stays an answer and gets its own 911 outcome.
SWITCH_INTENTS = frozenset({"check_status", "share_location", "share_photo", "cancel", "help", "safety_alert"})
SWITCH_PREFIXES = ("report_", "EXTERNAL_")
RESTART_INTENTS = frozenset({"start_over", "restart"})
# Below this NLU confidence an unreadable reply is just asked again.
MIN_SWITCH_CONFIDENCE = 0.6
# A paused screening older than this starts afresh: its answers are about another day.
RESUME_WITHIN = timedelta(hours=24)


def answer_slot(question_id: str) -> str:
    return f"{SLOT_PREFIX}{question_id}"


def question_of(slot: Optional[str]) -> Optional[str]:
    if not slot or not slot.startswith(SLOT_PREFIX) or slot == LEVEL_SLOT:
        return None
    question_id = slot[len(SLOT_PREFIX):]
    return question_id if current_protocol().question(question_id) else None


def answer_slots() -> List[str]:
    return [answer_slot(q) for q in current_protocol().question_ids]


def form_slots() -> List[str]:
    return [CONSENT_SLOT] + answer_slots()


# --------------------------------------------------------------------------
# Reading the tracker


def _text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def _intent(tracker: Tracker) -> Tuple[Optional[str], float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def _is_payload(text: str) -> bool:
    return text.strip().startswith("/")


def _valid(question_id: str, value: Any) -> Tuple[bool, Any]:
    if value is None:
        return False, None
    try:
        return True, validate_answer(question_id, value)
    except InvalidAnswer:
        return False, None


def collected_answers(tracker: Tracker) -> Dict[str, Any]:
    """The answers given so far, as the protocol's values; unread text is left out."""
    answers: Dict[str, Any] = {}
    for question_id in current_protocol().question_ids:
        ok, value = _valid(question_id, tracker.get_slot(answer_slot(question_id)))
        if ok:
            answers[question_id] = value
    return answers


def _screening(tracker: Tracker) -> Dict[str, Any]:
    value = tracker.get_slot(SCREENING_SLOT)
    return dict(value) if isinstance(value, dict) else {}


def _said_symptoms(tracker: Tracker) -> List[str]:
    """Symptoms from the first message, while they still wait for confirmation."""
    if _valid("symptoms", tracker.get_slot(answer_slot("symptoms")))[0]:
        return []
    return list(_screening(tracker).get("said") or [])


def _cleared_answers() -> Dict[str, Any]:
    return {slot: None for slot in answer_slots()}


# --------------------------------------------------------------------------
# Reading one reply


@dataclass
class Reading:
    """What a reply to the requested slot means."""

    slots: Dict[str, Any] = field(default_factory=dict)
    error: Optional[InvalidAnswer] = None
    restart: bool = False
    # The symptoms of the first message were wrong: ask the full question.
    forget_said: bool = False


def _confirm_said(said: List[str], text: str) -> Reading:
    """The reply to "I noted: fever, cough. Is that right? 1 Yes 2 No"."""
    slot = answer_slot("symptoms")
    order = current_protocol().require_question("symptoms").codes
    mentioned = symptoms_from_text(text)
    try:
        agreed: Optional[bool] = parse_consent(text)
    except InvalidAnswer:
        agreed = None
    if agreed is False:
        if mentioned:  # "no, solo tos": the resident corrected the list
            return Reading({slot: mentioned})
        return Reading({slot: None}, forget_said=True)
    if agreed is True or mentioned:  # "sí", or more symptoms: add them
        return Reading({slot: [c for c in order if c in set(said) | set(mentioned)]})
    return Reading({slot: None}, error=InvalidAnswer("symptoms", f"could not read {text!r}", "not_understood", text))


def read_reply(slot: str, text: str, tracker: Tracker) -> Reading:
    """Interpret the resident's reply to `slot` with the protocol's parsers (never NLU)."""
    if is_restart(text):
        return Reading(restart=True)
    try:
        if slot == CONSENT_SLOT:
            return Reading({slot: ACCEPT if parse_consent(text) else DECLINE})
        question_id = question_of(slot)
        said = _said_symptoms(tracker) if question_id == "symptoms" else []
        if said:
            reading = _confirm_said(said, text)
            if reading.error is None:
                return reading
            raise reading.error
        return Reading({slot: parse_answer(question_id, text)})
    except InvalidAnswer as error:
        intent, confidence = _intent(tracker)
        if intent in RESTART_INTENTS and confidence >= MIN_SWITCH_CONFIDENCE:
            return Reading(restart=True)
        return Reading({slot: None}, error=error)


def wants_something_else(tracker: Tracker) -> bool:
    """True when the reply to the requested question is not an answer and NLU is
    sure the resident asks for something else (a 311 report, a folio, help...)."""
    slot = tracker.get_slot(REQUESTED_SLOT)
    if slot not in form_slots() or tracker.slots_to_validate().get(slot) is None:
        return False
    intent, confidence = _intent(tracker)
    if not intent or intent not in SWITCH_INTENTS and not intent.startswith(SWITCH_PREFIXES):
        return False
    # External events carry no NLU confidence: they are what they say.
    if confidence < MIN_SWITCH_CONFIDENCE and not intent.startswith("EXTERNAL_"):
        return False
    reading = read_reply(slot, _text(tracker), tracker)
    return reading.error is not None


# --------------------------------------------------------------------------
# The form


class ValidateScreeningForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_screening_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        if wants_something_else(tracker):
            # Not an answer: let the rules switch to what the resident asked for.
            return [SlotSet(requested, None), ActionExecutionRejected(FORM)]
        # Text left in a slot by a reply that was never read (e.g. before help) is not an answer.
        fresh = tracker.slots_to_validate()
        stale = [
            slot for slot in form_slots()
            if slot not in fresh and tracker.get_slot(slot) is not None and not self._stored_value_ok(slot, tracker)
        ]
        for slot in stale:
            tracker.slots[slot] = None
        events = await super().run(dispatcher, tracker, domain)
        return [SlotSet(slot, None) for slot in stale] + events

    @staticmethod
    def _stored_value_ok(slot: str, tracker: Tracker) -> bool:
        value = tracker.get_slot(slot)
        if slot == CONSENT_SLOT:
            return value in (ACCEPT, DECLINE)
        return _valid(question_of(slot), value)[0]

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        """Consent, then the questions answered so far plus the protocol's next one."""
        if tracker.get_slot(CONSENT_SLOT) != ACCEPT:
            return [CONSENT_SLOT]  # still to ask, just replied, or declined (filled: the form ends)
        slots = [CONSENT_SLOT] + [s for s in answer_slots() if tracker.get_slot(s) is not None]
        following = assess(collected_answers(tracker)).next_question
        if following and answer_slot(following) not in slots:
            slots.append(answer_slot(following))
        return slots

    async def _validate(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> Dict[Text, Any]:
        text = _text(tracker)
        replied = tracker.get_slot(REQUESTED_SLOT) == slot and isinstance(value, str) and value == text
        if not replied:
            # A value already read (e.g. when coming back to a paused screening).
            return {slot: value if self._stored_value_ok(slot, tracker) else None}
        reading = read_reply(slot, text, tracker)
        language = language_of(tracker)
        if reading.restart:
            dispatcher.utter_message(response="utter_start_over")
            screening = {**_screening(tracker), "said": []}
            kept = {CONSENT_SLOT: tracker.get_slot(CONSENT_SLOT) if slot != CONSENT_SLOT else None}
            return {**_cleared_answers(), **kept, SCREENING_SLOT: screening}
        if reading.error is not None:
            dispatcher.utter_message(text=retry_text(reading.error, language))
        slots = dict(reading.slots)
        if reading.forget_said:
            slots[SCREENING_SLOT] = {**_screening(tracker), "said": []}
        return slots

    async def validate_screening_consent(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return await self._validate(CONSENT_SLOT, value, dispatcher, tracker)

    async def validate_triage_age(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return await self._validate(answer_slot("age"), value, dispatcher, tracker)

    async def validate_triage_emergency_signs(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return await self._validate(answer_slot("emergency_signs"), value, dispatcher, tracker)

    async def validate_triage_symptoms(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return await self._validate(answer_slot("symptoms"), value, dispatcher, tracker)

    async def validate_triage_risk_conditions(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return await self._validate(answer_slot("risk_conditions"), value, dispatcher, tracker)

    async def validate_triage_exposure(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return await self._validate(answer_slot("exposure"), value, dispatcher, tracker)

    async def validate_triage_test(self, value, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return await self._validate(answer_slot("test"), value, dispatcher, tracker)


# --------------------------------------------------------------------------
# Asking: the consent and the questions come from the protocol file


class ActionAskScreeningConsent(Action):
    def name(self) -> Text:
        return f"action_ask_{CONSENT_SLOT}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=consent_text(language_of(tracker)))
        return []


class AskTriageQuestion(Action, ABC):
    """`action_ask_triage_<question id>`: the protocol's question, numbered options included."""

    @property
    @abstractmethod
    def question_id(self) -> str:
        """The protocol question this action asks."""

    def name(self) -> Text:
        return f"action_ask_{answer_slot(self.question_id)}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=question_text(self.question_id, language_of(tracker)))
        return []


class ActionAskTriageAge(AskTriageQuestion):
    question_id = "age"


class ActionAskTriageEmergencySigns(AskTriageQuestion):
    question_id = "emergency_signs"


class ActionAskTriageSymptoms(AskTriageQuestion):
    question_id = "symptoms"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        said = _said_symptoms(tracker)
        if not said:
            return await super().run(dispatcher, tracker, domain)
        # Named in the first message: only confirm them.
        language = current_protocol().lang(language_of(tracker))
        question = current_protocol().require_question("symptoms")
        labels = [question.option(code).label[language] for code in said if question.option(code)]
        dispatcher.utter_message(response="utter_screening_confirm_symptoms", symptoms=", ".join(labels))
        return []


class ActionAskTriageRiskConditions(AskTriageQuestion):
    question_id = "risk_conditions"


class ActionAskTriageExposure(AskTriageQuestion):
    question_id = "exposure"


class ActionAskTriageTest(AskTriageQuestion):
    question_id = "test"


# --------------------------------------------------------------------------
# Starting, pausing, stopping, ending


def _reset_events() -> List[EventType]:
    return [SlotSet(CONSENT_SLOT, None), SlotSet(SCREENING_SLOT, None)] + [
        SlotSet(slot, None) for slot in answer_slots()
    ]


def _in_progress(tracker: Tracker) -> bool:
    """A screening was paused (consent given, no outcome yet) recently enough to go on with."""
    started = _screening(tracker).get("started_at")
    if tracker.get_slot(CONSENT_SLOT) != ACCEPT or not started:
        return False
    try:
        return datetime.now(timezone.utc) - datetime.fromisoformat(started) < RESUME_WITHIN
    except (TypeError, ValueError):
        return False


class ActionStartScreening(Action):
    """Start a screening (or come back to the one paused), keeping symptoms the message names."""

    def name(self) -> Text:
        return "action_start_screening"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if _in_progress(tracker):
            dispatcher.utter_message(response="utter_screening_resumed")
            return [SlotSet(REQUESTED_SLOT, None)]
        text = "" if _is_payload(_text(tracker)) else _text(tracker)
        screening = {
            "id": uuid.uuid4().hex,
            "started_at": datetime.now(timezone.utc).isoformat(),
            "alcaldia": alcaldia_in_location(text),
            "said": symptoms_from_text(text),
        }
        return _reset_events() + [
            SlotSet(SCREENING_SLOT, screening),
            SlotSet(LEVEL_SLOT, None),
            SlotSet(REQUESTED_SLOT, None),
        ]


class ActionPauseScreening(Action):
    """The resident asked for something else mid-screening: keep the answers for later."""

    def name(self) -> Text:
        return "action_pause_screening"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_screening_paused")
        events: List[EventType] = [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested in form_slots() and not ValidateScreeningForm._stored_value_ok(requested, tracker):
            events.append(SlotSet(requested, None))  # the words that asked for something else
        return events


class ActionStopScreening(Action):
    """Drop the screening under way; nothing is stored."""

    def name(self) -> Text:
        return "action_stop_screening"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(text=message_text("declined", language_of(tracker)))
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)] + _reset_events()


class ActionScreeningOutcome(Action):
    """Tell the outcome (or respect a "no" to the disclaimer), set triage_level, store the screening."""

    def name(self) -> Text:
        return "action_screening_outcome"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        if tracker.get_slot(CONSENT_SLOT) == DECLINE:
            dispatcher.utter_message(text=message_text("declined", language))
            return _reset_events()
        if tracker.get_slot(CONSENT_SLOT) != ACCEPT:
            return []
        result = assess(collected_answers(tracker))
        if not result.complete:
            # The form only ends when the outcome is certain; never guess one.
            logger.error("screening ended without a certain outcome (next question: %s)", result.next_question)
            dispatcher.utter_message(text=restart_text(language))
            return _reset_events()
        dispatcher.utter_message(text=outcome_text(result.level, language))
        await self._store(tracker, result)
        return _reset_events() + [SlotSet(LEVEL_SLOT, result.level)]

    @staticmethod
    async def _store(tracker: Tracker, result: TriageResult) -> None:
        screening = _screening(tracker)
        started = screening.get("started_at")
        try:
            await backoffice_client.record_screening(
                result.level,
                result.protocol_version,
                # The exact age stays here; the back office gets its band.
                answers={k: v for k, v in result.answers.items() if k != "age"},
                age_band=age_band(result.answers.get("age")),
                alcaldia=screening.get("alcaldia"),
                channel=tracker.get_latest_input_channel(),
                started_at=datetime.fromisoformat(started) if started else None,
                completed_at=datetime.now(timezone.utc),
                idempotency_key=screening.get("id") or uuid.uuid4().hex,
            )
        except backoffice_client.BackOfficeError as error:
            # The resident already has the advice. Log the level and the error class only.
            log = logger.error if isinstance(error, backoffice_client.BackOfficeRejected) else logger.warning
            log("could not store a screening (level=%s): %s", result.level, type(error).__name__)
