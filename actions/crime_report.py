"""Actions of guided crime reporting ("Denuncia Digital", crime-report.md).

Thin wiring of actions/crime/ (safety, classification, the questionnaire in
draft.py) and the back-office client into Rasa:

- Safety first: `action_safety_instructions` answers the `safety_alert`
  intent that components/crime_safety.py sets on any message that suggests
  danger or a crime never taken online, and leaves whatever form was active.
  Dangers that only show in an answer ("¿hubo violencia?" "sí") end the form
  the same way from the validation.
- `action_start_crime_report` starts a draft from the first message (slot
  `crime_draft`), keeping every fact it already gives.
- `crime_report_form` asks, in order: the type while undecided
  (`crime_type`), each missing fact (`crime_fact`, one question at a time),
  the sign-in if the conversation is not verified (`crime_signin`), the
  summary where any fact can be corrected (`crime_confirm`), the legal
  declaration (`crime_declaration`) and a one-time code (`crime_code`).
  `ValidateCrimeReportForm.required_slots` derives that order from the draft.
- `action_file_crime_report` files it; the folio goes to `report_folio`.
- The prosecutor's office reaches the resident through external events:
  `action_crime_report_accepted` (with the signed PDF's download link) and
  `action_crime_info_requested` + `crime_info_form` + `action_send_crime_info`
  (the answer is attached to the report).

Logs carry folios, types and error classes only: never the resident's words.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import backoffice_client
from actions.crime import draft as questionnaire
from actions.crime.draft import Draft, Outcome
from actions.crime.safety import SafetyResult, check_safety, never_online_result
from actions.crime.validators import parse_yes_no
from actions.identity import code_from, identity_events, send_sign_in_link, signed_out_events
from actions.texts import language_of, shorten
from common import crime_report

logger = logging.getLogger(__name__)

FORM = "crime_report_form"
INFO_FORM = "crime_info_form"
REQUESTED_SLOT = "requested_slot"
DRAFT = "crime_draft"
TYPE = "crime_type"
FACT = "crime_fact"
SIGNIN = "crime_signin"
CONFIRM = "crime_confirm"
DECLARATION = "crime_declaration"
CODE = "crime_code"
FOLIO = "report_folio"
FILING_PENDING = "crime_filing_pending"
INFO_FOLIO = "crime_info_folio"
INFO_ANSWER = "crime_info_answer"
DOWNLOAD_FOLIO = "crime_download_folio"
PENDING_FLOW = "pending_flow"
FLOW = "crime_report"
DOWNLOAD_FLOW = "crime_download"
STEP_SLOTS = (TYPE, FACT, SIGNIN, CONFIRM, DECLARATION, CODE)
YES, ACCEPTED, VERIFIED = "yes", "accepted", "verified"
CODE_SENT = "sent"
SAFETY_ENTITY = "safety_category"
# Replies that leave the form, when NLU is sure of them ("ya" alone is not a cancel).
LEAVE_INTENTS = frozenset({"cancel", "start_over"})
LEAVE_CONFIDENCE = 0.8
# Words that ask for another one-time code ("nuevo código", "resend").
NEW_CODE_WORDS = ("nuevo", "otro", "reenvia", "reenviar", "manda", "new", "another", "resend")


# ----------------------------------------------------------------- helpers


def _text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def _intent(tracker: Tracker) -> Tuple[Optional[str], float]:
    intent = (tracker.latest_message or {}).get("intent") or {}
    return intent.get("name"), float(intent.get("confidence") or 0.0)


def _draft(tracker: Tracker) -> Optional[Draft]:
    return Draft.from_slot(tracker.get_slot(DRAFT))


def _buttons(pairs: List[Tuple[str, str]]) -> List[Dict[str, str]]:
    return [{"title": title, "payload": payload} for title, payload in pairs]


def _clear_draft() -> Dict[str, Any]:
    """Slot values that drop the draft under way (the type of the last report stays)."""
    return {DRAFT: None, FACT: None, SIGNIN: None, CONFIRM: None, DECLARATION: None, CODE: None,
            FILING_PENDING: False}


def _pending_flow_cleared(tracker: Tracker) -> Dict[str, Any]:
    return {PENDING_FLOW: None} if tracker.get_slot(PENDING_FLOW) == FLOW else {}


def say_safety(dispatcher: CollectingDispatcher, result: SafetyResult, language: str) -> None:
    dispatcher.utter_message(text=result.instruction(language))


def _categories(tracker: Tracker) -> List[str]:
    entities = (tracker.latest_message or {}).get("entities") or []
    return [e.get("value") for e in entities if e.get("entity") == SAFETY_ENTITY and e.get("value")]


def _is_yes(tracker: Tracker, text: str) -> Optional[bool]:
    intent, confidence = _intent(tracker)
    said = parse_yes_no(text)
    if said is None and confidence >= 0.8 and intent in ("affirm", "deny"):
        said = intent == "affirm"
    return said


# ------------------------------------------------------------------ safety


class ActionSafetyInstructions(Action):
    """Tell where to go (911, the prosecutor's office, the women's line); never collect the story."""

    def name(self) -> Text:
        return "action_safety_instructions"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        categories = _categories(tracker)
        result = never_online_result(categories[0]) if categories else check_safety(_text(tracker))
        if result is None:  # the intent without its entity (e.g. a payload): the most urgent advice
            result = never_online_result("danger_now")
        say_safety(dispatcher, result, language)
        logger.info("safety instructions given (%s)", result.category)
        events: List[EventType] = [SlotSet(slot, value) for slot, value in {**_clear_draft(), **_pending_flow_cleared(tracker)}.items()]
        if tracker.active_loop_name:
            events += [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)]
        return events


# ------------------------------------------------------------------ starting


class ActionStartCrimeReport(Action):
    """A new draft from the first message; facts it gives are kept, not asked."""

    def name(self) -> Text:
        return "action_start_crime_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        outcome = questionnaire.start(_text(tracker))
        reset = {**_clear_draft(), TYPE: None, FOLIO: None}
        if outcome.safety is not None:
            say_safety(dispatcher, outcome.safety, language)
            return [SlotSet(slot, value) for slot, value in reset.items()]
        dispatcher.utter_message(response="utter_crime_start", emergency=crime_report.line_values()["emergency_phone"])
        draft = outcome.draft
        logger.info("crime report draft started (%s)", draft.crime_type or "type to ask")
        return [SlotSet(slot, value) for slot, value in {**reset, DRAFT: draft.to_slot(), TYPE: draft.crime_type}.items()]


# ------------------------------------------------------------------ the form


class ValidateCrimeReportForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_crime_report_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        draft = _draft(tracker)
        if draft is None:
            return []  # nothing under way (cancelled, safety exit): the form ends
        if draft.crime_type is None:
            return [TYPE]
        if questionnaire.next_step(draft) is not None:
            return [FACT]
        if tracker.get_slot("identity_verified") is not True and tracker.get_slot(SIGNIN) != VERIFIED:
            return [SIGNIN]
        return [CONFIRM, DECLARATION, CODE]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent, confidence = _intent(tracker)
        requested = tracker.get_slot(REQUESTED_SLOT)
        if (
            intent in LEAVE_INTENTS and confidence >= LEAVE_CONFIDENCE and requested in STEP_SLOTS
            and tracker.slots_to_validate().get(requested) is not None
        ):
            # "cancelar", "empezar de nuevo": not an answer; the rules take over.
            return [SlotSet(requested, None), ActionExecutionRejected(FORM)]
        extra: List[EventType] = []
        draft = _draft(tracker)
        waiting_for_sign_in = (
            draft is not None and draft.crime_type is not None and questionnaire.next_step(draft) is None
            and tracker.get_slot("identity_verified") is not True
            # The external event goes through its rule (action_identity_verified says so first).
            and intent != "EXTERNAL_identity_verified"
        )
        if waiting_for_sign_in:
            # Signed in already (earlier, or the external event was missed): no link needed.
            try:
                identity = await backoffice_client.get_identity(tracker.sender_id)
            except backoffice_client.BackOfficeError as error:
                logger.warning("could not read the identity: %s", type(error).__name__)
                identity = None
            if identity is not None:
                extra = identity_events(identity) + [SlotSet(SIGNIN, VERIFIED)]
                for event in extra:
                    tracker.slots[event["name"]] = event["value"]
        return extra + await super().run(dispatcher, tracker, domain)

    # -- one reply at a time ----------------------------------------------

    def _apply(self, outcome: Outcome, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> Dict[Text, Any]:
        language = language_of(tracker)
        if outcome.safety is not None:
            say_safety(dispatcher, outcome.safety, language)
            logger.info("crime report stopped: safety (%s)", outcome.safety.category)
            return {**_clear_draft(), TYPE: None, **_pending_flow_cleared(tracker)}
        if outcome.note:
            dispatcher.utter_message(text=outcome.note)
            logger.info("crime report stopped: not a crime")
            return {**_clear_draft(), TYPE: None, **_pending_flow_cleared(tracker)}
        if outcome.hint:
            dispatcher.utter_message(text=outcome.hint)
        values: Dict[Text, Any] = {DRAFT: outcome.draft.to_slot(), TYPE: outcome.draft.crime_type}
        if slot != TYPE:
            values[slot] = None
        return values

    async def validate_crime_type(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        draft = _draft(tracker)
        if draft is None:
            return {TYPE: None}
        if draft.crime_type is not None and value == draft.crime_type:
            return {TYPE: value}
        step = questionnaire.next_step(draft)
        if step is None or step.kind != questionnaire.TYPE:
            return {TYPE: draft.crime_type}
        outcome = questionnaire.answer(draft, step, str(value or ""), language_of(tracker))
        return self._apply(outcome, dispatcher, tracker, TYPE)

    async def validate_crime_fact(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        draft = _draft(tracker)
        step = questionnaire.next_step(draft) if draft else None
        if step is None or value is None:
            return {FACT: None}
        language = language_of(tracker)
        intent, confidence = _intent(tracker)
        if intent == "help" and confidence >= 0.9 and len(str(value).split()) <= 4 and not questionnaire.is_unknown_answer(str(value)):
            # "ayuda" is not a brand or a place: say where to find the detail, and how to leave.
            spec = crime_report.fact_spec(draft.crime_type, step.field) if step.kind == questionnaire.FACT else None
            if spec and spec.get("help"):
                dispatcher.utter_message(text=crime_report.text(spec["help"], language))
            dispatcher.utter_message(response="utter_crime_help")
            return {FACT: None}
        outcome = questionnaire.answer(draft, step, str(value), language)
        return self._apply(outcome, dispatcher, tracker, FACT)

    async def validate_crime_signin(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        # run() already looked the identity up: still not signed in.
        if tracker.get_slot("identity_verified") is True:
            return {SIGNIN: VERIFIED}
        dispatcher.utter_message(response="utter_crime_sign_in_waiting")
        return {SIGNIN: None}

    async def validate_crime_confirm(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        draft = _draft(tracker)
        if draft is None:
            return {CONFIRM: None}
        text = str(value or "")
        chosen = questionnaire.correction_field(draft, text)
        if chosen is not None:
            draft = questionnaire.clear(draft, chosen)
            draft.correcting = False
            return {CONFIRM: None, DRAFT: draft.to_slot(), TYPE: draft.crime_type}
        said = None if draft.correcting else _is_yes(tracker, text)
        if said is True:
            return {CONFIRM: YES}
        if said is False or _wants_correction(text):
            draft.correcting = True
            return {CONFIRM: None, DRAFT: draft.to_slot()}
        dispatcher.utter_message(response="utter_crime_correction_hint" if draft.correcting else "utter_crime_confirm_hint")
        return {CONFIRM: None}

    async def validate_crime_declaration(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        said = _is_yes(tracker, str(value or ""))
        if said is True:
            return {DECLARATION: ACCEPTED}
        if said is False:
            dispatcher.utter_message(response="utter_crime_declaration_declined")
            logger.info("crime report dropped: declaration declined")
            return {**_clear_draft(), **_pending_flow_cleared(tracker)}
        dispatcher.utter_message(response="utter_crime_confirm_hint")
        return {DECLARATION: None}

    async def validate_crime_code(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        draft = _draft(tracker)
        if draft is None:
            return {CODE: None}
        text = str(value or "")
        intent, _ = _intent(tracker)
        code = code_from(text)
        if code is None:
            if intent == "new_code" or any(word in text.lower() for word in NEW_CODE_WORDS):
                draft.code_state = None  # the question sends a new one
                return {CODE: None, DRAFT: draft.to_slot()}
            dispatcher.utter_message(response="utter_code_format")
            return {CODE: None}
        try:
            result = await backoffice_client.check_verification_code(tracker.sender_id, code)
        except backoffice_client.BackOfficeError as error:
            logger.warning("could not check a one-time code: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_status_unavailable")
            return {CODE: None}
        if result.ok:
            dispatcher.utter_message(response="utter_code_ok")
            return {CODE: VERIFIED, "code_verified": True}
        if result.reason == "wrong_code" and result.attempts_left > 0:
            dispatcher.utter_message(response="utter_code_wrong", attempts_left=result.attempts_left)
            return {CODE: None}
        logger.info("one-time code for a crime report not accepted: %s", result.reason)
        dispatcher.utter_message(response="utter_crime_code_again")
        draft.code_state = None
        return {CODE: None, DRAFT: draft.to_slot(), "code_verified": False}


def _wants_correction(text: str) -> bool:
    words = text.lower()
    return any(w in words for w in ("corregir", "corrige", "cambiar", "cambia", "correct", "change", "fix", "edit"))


# ------------------------------------------------------------------ asking


class ActionAskCrimeType(Action):
    def name(self) -> Text:
        return "action_ask_crime_type"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        draft = _draft(tracker)
        step = questionnaire.next_step(draft) if draft else None
        if step is None:
            return []
        text, buttons = questionnaire.question(draft, step, language_of(tracker))
        dispatcher.utter_message(text=text, buttons=_buttons(buttons))
        return []


class ActionAskCrimeFact(ActionAskCrimeType):
    def name(self) -> Text:
        return "action_ask_crime_fact"


class ActionAskCrimeSignin(Action):
    def name(self) -> Text:
        return "action_ask_crime_signin"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_crime_sign_in_needed")
        events = await send_sign_in_link(dispatcher, tracker, pending_flow=FLOW)
        if tracker.get_slot(PENDING_FLOW) not in (None, FLOW):
            events.append(SlotSet(PENDING_FLOW, FLOW))  # this flow asked last
        return events


class ActionAskCrimeConfirm(Action):
    """The plain summary (with who declares it), or the list of facts to correct."""

    def name(self) -> Text:
        return "action_ask_crime_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        draft = _draft(tracker)
        if draft is None:
            return []
        language = language_of(tracker)
        lines = questionnaire.summary(draft, language)
        if draft.correcting:
            numbered = "\n".join(f"{i}. {label}" for i, (_f, label, _v) in enumerate(lines, start=1))
            dispatcher.utter_message(response="utter_crime_which_correction", facts=numbered)
            return []
        shown = "\n".join(
            f"• {label}: {shorten(value, 600) if field == 'description' else value}" for field, label, value in lines
        )
        dispatcher.utter_message(
            response="utter_crime_summary",
            facts=shown,
            name=tracker.get_slot("verified_name") or "—",
            curp=tracker.get_slot("verified_curp") or "—",
        )
        return []


class ActionAskCrimeDeclaration(Action):
    def name(self) -> Text:
        return "action_ask_crime_declaration"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_crime_declaration", declaration=crime_report.declaration(language_of(tracker)))
        return []


class ActionAskCrimeCode(Action):
    """Send a one-time code (once; again only when asked or when it stopped working)."""

    def name(self) -> Text:
        return "action_ask_crime_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        draft = _draft(tracker)
        if draft is None:
            return []
        if draft.code_state == CODE_SENT:
            dispatcher.utter_message(response="utter_ask_verification_code")
            return []
        language = language_of(tracker)
        try:
            sent = await backoffice_client.send_verification_code(tracker.sender_id, language=language)
        except backoffice_client.NotSignedIn:
            # The sign-in expired meanwhile: the form asks for it again on the next reply.
            dispatcher.utter_message(response="utter_sign_in_first")
            return signed_out_events() + [SlotSet(SIGNIN, None)] + await send_sign_in_link(dispatcher, tracker, pending_flow=FLOW)
        except backoffice_client.CodeRateLimited as limited:
            dispatcher.utter_message(response="utter_code_rate_limited", minutes=max(1, -(-limited.retry_after // 60)))
            return []
        except backoffice_client.NoVerifiedContact:
            from actions.identity import provider_name

            dispatcher.utter_message(response="utter_code_no_contact", provider=provider_name())
            return []
        except backoffice_client.BackOfficeError as error:
            logger.warning("no one-time code sent for a crime report: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_code_not_sent")
            return []
        response = "utter_code_sent_sms" if sent.via == "sms" else "utter_code_sent_email"
        dispatcher.utter_message(response="utter_crime_code_needed")
        dispatcher.utter_message(response=response, hint=sent.destination_hint)
        dispatcher.utter_message(response="utter_ask_verification_code")
        draft.code_state = CODE_SENT
        return [SlotSet(DRAFT, draft.to_slot()), SlotSet("code_verified", False)]


# ------------------------------------------------------------------ filing


class ActionFileCrimeReport(Action):
    """File the confirmed, declared and code-checked draft; a retry never files twice."""

    def name(self) -> Text:
        return "action_file_crime_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        draft = _draft(tracker)
        ready = (
            draft is not None and draft.crime_type and tracker.get_slot(CONFIRM) == YES
            and tracker.get_slot(DECLARATION) == ACCEPTED and tracker.get_slot(CODE) == VERIFIED
        )
        if not ready:
            return []
        facts, unknown = draft.filing_facts()
        try:
            filed = await backoffice_client.file_crime_report(
                draft.crime_type,
                facts,
                unknown_facts=unknown,
                conversation_id=tracker.sender_id,
                channel=tracker.get_latest_input_channel(),
                language=language_of(tracker),
                declaration_version=crime_report.declaration_version(),
                idempotency_key=draft.id,
            )
        except (backoffice_client.SecondFactorRequired, backoffice_client.NotSignedIn) as error:
            logger.info("crime report not filed yet: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_crime_code_again")
            draft.code_state = None
            events = [SlotSet(DRAFT, draft.to_slot()), SlotSet(CODE, None), SlotSet("code_verified", False)]
            if isinstance(error, backoffice_client.NotSignedIn):
                events += signed_out_events() + [SlotSet(SIGNIN, None)]
            return events + [FollowupAction(FORM)]
        except backoffice_client.BackOfficeError as error:
            log = logger.error if isinstance(error, backoffice_client.BackOfficeRejected) else logger.warning
            log("could not file a crime report (%s): %s", draft.crime_type, type(error).__name__)
            dispatcher.utter_message(response="utter_crime_report_unavailable")
            return [SlotSet(FILING_PENDING, True)]
        dispatcher.utter_message(response="utter_crime_report_filed", folio=filed.folio)
        slots = {**_clear_draft(), **_pending_flow_cleared(tracker), FOLIO: filed.folio, TYPE: filed.crime_type,
                 "code_verified": False}
        return [SlotSet(slot, value) for slot, value in slots.items()]


class ActionCancelCrimeReport(Action):
    def name(self) -> Text:
        return "action_cancel_crime_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_cancelled")
        slots = {**_clear_draft(), **_pending_flow_cleared(tracker), TYPE: None, INFO_FOLIO: None, INFO_ANSWER: None}
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None)] + [SlotSet(k, v) for k, v in slots.items()]


# ------------------------------------------------------- the prosecutor's office


def _folio_entity(tracker: Tracker) -> Optional[str]:
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == "folio" and entity.get("value"):
            return str(entity["value"])
    return None


class ActionCrimeReportAccepted(Action):
    """EXTERNAL_crime_report_accepted: tell the resident and give the signed PDF's link."""

    def name(self) -> Text:
        return "action_crime_report_accepted"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        folio = _folio_entity(tracker) or tracker.get_slot(DOWNLOAD_FOLIO)
        if not folio:
            return []
        return await give_download_link(dispatcher, tracker, folio, announce=True)


class ActionCrimeReportDownload(Action):
    """After signing in to download: the link for the folio waiting for it."""

    def name(self) -> Text:
        return "action_crime_report_download"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        folio = tracker.get_slot(DOWNLOAD_FOLIO)
        if not folio:
            return []
        return await give_download_link(dispatcher, tracker, folio, announce=False)


async def give_download_link(dispatcher: CollectingDispatcher, tracker: Tracker, folio: str, *, announce: bool) -> List[EventType]:
    try:
        link = await backoffice_client.crime_report_download_link(folio, tracker.sender_id)
    except backoffice_client.NotSignedIn:
        dispatcher.utter_message(response="utter_crime_report_accepted_sign_in", folio=folio)
        return [SlotSet(DOWNLOAD_FOLIO, folio)] + await send_sign_in_link(dispatcher, tracker, pending_flow=DOWNLOAD_FLOW)
    except backoffice_client.BackOfficeError as error:
        logger.warning("no download link for %s: %s", folio, type(error).__name__)
        if announce:
            dispatcher.utter_message(response="utter_crime_report_accepted_no_link", folio=folio)
        else:
            dispatcher.utter_message(response="utter_status_unavailable")
        return []
    if link is None:
        return []
    dispatcher.utter_message(response="utter_crime_report_accepted", folio=folio, url=link.url)
    events: List[EventType] = [SlotSet(DOWNLOAD_FOLIO, None)]
    if tracker.get_slot(PENDING_FLOW) == DOWNLOAD_FLOW:
        events.append(SlotSet(PENDING_FLOW, None))
    return events


class ActionCrimeInfoRequested(Action):
    """EXTERNAL_crime_info_requested: show the prosecutor's office's question; the reply is the answer."""

    def name(self) -> Text:
        return "action_crime_info_requested"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        folio = _folio_entity(tracker)
        if not folio:
            return [SlotSet(INFO_FOLIO, None)]
        try:
            status = await backoffice_client.get_crime_report_status(folio, tracker.sender_id)
        except backoffice_client.BackOfficeError as error:
            logger.warning("could not read the question for %s: %s", folio, type(error).__name__)
            status = None
        if status is None or not status.pending_question:
            return [SlotSet(INFO_FOLIO, None)]
        dispatcher.utter_message(response="utter_crime_info_requested", folio=folio, question=status.pending_question)
        return [SlotSet(INFO_FOLIO, folio), SlotSet(INFO_ANSWER, None)]


class ValidateCrimeInfoForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_crime_info_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        return [INFO_ANSWER] if tracker.get_slot(INFO_FOLIO) else []

    async def validate_crime_info_answer(self, value: Any, dispatcher, tracker: Tracker, domain) -> Dict[Text, Any]:
        text = str(value or "").strip()
        if len(text) < 2 or text.startswith("/"):
            dispatcher.utter_message(response="utter_crime_info_empty")
            return {INFO_ANSWER: None}
        return {INFO_ANSWER: text[:2000]}


class ActionSendCrimeInfo(Action):
    def name(self) -> Text:
        return "action_send_crime_info"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        folio, answer = tracker.get_slot(INFO_FOLIO), tracker.get_slot(INFO_ANSWER)
        if not folio or not answer:
            return []
        try:
            await backoffice_client.add_crime_report_info(folio, tracker.sender_id, answer)
        except backoffice_client.BackOfficeError as error:
            logger.warning("could not attach an answer to %s: %s", folio, type(error).__name__)
            dispatcher.utter_message(response="utter_crime_info_unavailable")
            return [SlotSet(INFO_ANSWER, None)]
        dispatcher.utter_message(response="utter_crime_info_sent", folio=folio)
        logger.info("answer attached to crime report %s", folio)
        return [SlotSet(INFO_FOLIO, None), SlotSet(INFO_ANSWER, None)]
