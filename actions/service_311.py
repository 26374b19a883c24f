"""Actions of the 311 flow: capture a report, fill the form, file it, read its status.

Thin by design: read slots, call the back-office client, set slots. The
parsing lives in places.py, folio.py and service_types.py.
"""
from __future__ import annotations

import logging
import uuid
from typing import Any, Dict, List, Optional, Text
from urllib.parse import urlsplit

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, AllSlotsReset, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import backoffice_client
from actions.folio import find_folio
from actions.places import (
    ALCALDIA_UNKNOWN,
    alcaldia_in_location,
    alcaldia_named,
    extract_location,
    is_usable_location,
    match_alcaldia,
)
from actions.service_types import service_from_intent, service_from_text
from actions.texts import (
    agency_of,
    alcaldia_label,
    language_of,
    note_text,
    service_name,
    shorten,
    status_label,
)
from common import citypack

logger = logging.getLogger(__name__)

# Longest description we store; the back office accepts up to this.
MAX_DESCRIPTION_CHARS = 10_000
YES = "yes"
MAX_AFFIRM_CHARS = 40
DRAFT_SLOTS = (
    "location", "alcaldia", "description", "latitude", "longitude", "media_url",
    "confirm_request", "draft_id",
)
YES_WORDS = {"si", "sí", "yes", "y", "ok", "va", "sale", "simon", "claro", "dale", "correcto", "1"}
NO_WORDS = {"no", "nel", "n", "nop", "nope", "2"}


def _latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def _latest_intent(tracker: Tracker) -> Optional[str]:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def _is_payload(text: str) -> bool:
    """Button presses arrive as '/intent{...}', not as the resident's words."""
    return text.strip().startswith("/")


def _has_words(text: Optional[str]) -> bool:
    return bool(text) and any(ch.isalnum() for ch in text)


def _description_from(text: str) -> Optional[str]:
    """The resident's words as a description, or None when they say nothing about the problem."""
    if _is_payload(text) or not _has_words(text) or len(text) > MAX_DESCRIPTION_CHARS:
        return None
    if text.strip().lower().strip("!.¡ ") in YES_WORDS | NO_WORDS:
        return None
    return text


class ActionCaptureReport(Action):
    """Start a new draft and keep every fact the first message already gave.

    A shared location or photo sent while a draft is being filled adds to that
    draft instead (the form cannot take a photo as an answer, so it lands here).
    """

    def name(self) -> Text:
        return "action_capture_report"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = _latest_text(tracker)
        intent = _latest_intent(tracker)
        if intent in SHARED_KEEPS and _drafting(tracker):
            return _added_to_draft(tracker, intent)
        # A shared location or photo that starts the report is part of it.
        keep = SHARED_KEEPS.get(intent, ())
        events: List[EventType] = [SlotSet(slot, None) for slot in DRAFT_SLOTS if slot not in keep]
        events += [
            SlotSet("draft_id", uuid.uuid4().hex),
            SlotSet("request_id", None),
            SlotSet("submission_pending", False),
        ]
        if not service_from_intent(intent):
            # The previous report's type must not carry over into a new one.
            events.append(SlotSet("service_code", None))
        if intent == "share_location" and tracker.get_slot("latitude") is not None:
            events.append(SlotSet("location", coordinates_text(tracker)))
        if intent == "share_photo":
            return events + _caption_facts(tracker, missing=set(DRAFT_SLOTS) | {"service_code"})
        if service_from_intent(intent) and _description_from(text):
            events.append(SlotSet("description", text))
        location = extract_location(text) if not _is_payload(text) else None
        if location:
            events.append(SlotSet("location", location))
        alcaldia = alcaldia_in_location(location) or alcaldia_named(text)
        if alcaldia and not _is_payload(text):
            events.append(SlotSet("alcaldia", alcaldia))
        return events


# What a shared location / photo brings to a draft (set by the slots' entity mappings).
SHARED_KEEPS = {"share_location": ("latitude", "longitude"), "share_photo": ("media_url",)}


def _drafting(tracker: Tracker) -> bool:
    return (tracker.active_loop or {}).get("name") == "service_request_form" and bool(tracker.get_slot("draft_id"))


def _added_to_draft(tracker: Tracker, intent: Optional[str]) -> List[EventType]:
    """A location or photo sent during the form: the draft keeps everything it had."""
    if intent == "share_location":
        location = coordinates_text(tracker)
        return [SlotSet("location", location)] if location else []
    missing = {slot for slot in DRAFT_SLOTS + ("service_code",) if not tracker.get_slot(slot)}
    return _caption_facts(tracker, missing)


def _caption(tracker: Tracker) -> str:
    """A photo's caption: the connectors put it in the message metadata (channels/base.py)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    caption = metadata.get("caption")
    return caption.strip() if isinstance(caption, str) else ""


def _caption_facts(tracker: Tracker, missing: set) -> List[EventType]:
    """The type, description and place a photo's caption gives, for the slots still missing."""
    caption = _caption(tracker)
    if not caption:
        return []
    events: List[EventType] = []
    code = service_from_text(caption)
    if code and "service_code" in missing:
        events.append(SlotSet("service_code", code))
    if "description" in missing and _description_from(caption):
        events.append(SlotSet("description", caption))
    location = extract_location(caption)
    if location and "location" in missing:
        events.append(SlotSet("location", location))
        alcaldia = alcaldia_in_location(location)
        if alcaldia and "alcaldia" in missing:
            events.append(SlotSet("alcaldia", alcaldia))
    return events


def coordinates_text(tracker: Tracker) -> Optional[str]:
    latitude, longitude = tracker.get_slot("latitude"), tracker.get_slot("longitude")
    if latitude is None or longitude is None:
        return None
    return f"{float(latitude):.5f}, {float(longitude):.5f}"


class ValidateServiceRequestForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_service_request_form"

    async def extract_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # A location shared at any point of the form answers "where" at once.
        if _latest_intent(tracker) == "share_location" and coordinates_text(tracker):
            return {"location": coordinates_text(tracker)}
        return {}

    async def validate_service_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        codes = citypack.service_codes()
        if value in codes:
            return {"service_code": value}
        text = _latest_text(tracker)
        code = service_from_intent(_latest_intent(tracker)) or service_from_text(text)
        if not code:
            dispatcher.utter_message(response="utter_service_code_unknown")
            return {"service_code": None}
        slots: Dict[Text, Any] = {"service_code": code}
        # "hay una fuga en Eje 5 Sur 100" answers the type and more at once.
        if not tracker.get_slot("description") and _description_from(text) and len(text.split()) >= 3:
            slots["description"] = text
        if not tracker.get_slot("location"):
            location = extract_location(text)
            if location:
                slots["location"] = location
        return slots

    async def validate_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if _latest_intent(tracker) == "share_location":
            location = coordinates_text(tracker)
            if location:
                return {"location": location}
        text = str(value or "")
        location = extract_location(text) or (text.strip() if is_usable_location(text) else None)
        if not location:
            dispatcher.utter_message(response="utter_location_unusable")
            return {"location": None}
        slots: Dict[Text, Any] = {"location": location}
        alcaldia = alcaldia_in_location(location)
        if alcaldia:
            slots["alcaldia"] = alcaldia
        return slots

    async def validate_alcaldia(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value == ALCALDIA_UNKNOWN:
            return {"alcaldia": value}
        alcaldia = match_alcaldia(str(value or ""))
        if not alcaldia:
            dispatcher.utter_message(response="utter_alcaldia_unknown")
            return {"alcaldia": None}
        return {"alcaldia": alcaldia}

    async def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        description = _description_from(str(value or ""))
        if not description:
            dispatcher.utter_message(response="utter_description_empty")
            return {"description": None}
        return {"description": description}

    async def validate_confirm_request(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        intent = _latest_intent(tracker)
        word = str(value or "").strip().lower().strip("!.¡ ")
        # A long message is never a "yes", whatever NLU scored (repeated gibberish
        # can score affirm): filing needs a short, clear answer.
        if (intent == "affirm" and len(word) <= MAX_AFFIRM_CHARS) or word in YES_WORDS:
            return {"confirm_request": YES}
        if service_from_intent(intent):
            # "no, es una fuga": the type was corrected by its slot mapping;
            # show the summary again.
            return {"confirm_request": None}
        if intent == "deny" or word in NO_WORDS:
            dispatcher.utter_message(response="utter_correction")
            return {"confirm_request": None, "location": None, "alcaldia": None, "latitude": None, "longitude": None}
        # A new address or alcaldía instead of yes/no is a correction: take it
        # and show the summary again.
        text = str(value or "")
        alcaldia = match_alcaldia(text)
        if alcaldia and alcaldia != ALCALDIA_UNKNOWN and len(text.split()) <= 4:
            return {"confirm_request": None, "alcaldia": alcaldia}
        location = extract_location(text) or (text.strip() if is_usable_location(text) else None)
        if location:
            return {"confirm_request": None, "location": location, "alcaldia": alcaldia_in_location(location) or tracker.get_slot("alcaldia")}
        dispatcher.utter_message(response="utter_confirm_hint")
        return {"confirm_request": None}


class ActionAskConfirmRequest(Action):
    """Show the resident what will be filed before filing it."""

    def name(self) -> Text:
        return "action_ask_confirm_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        location = tracker.get_slot("location") or coordinates_text(tracker)
        dispatcher.utter_message(
            response="utter_confirm_request",
            service_name=service_name(tracker.get_slot("service_code"), language),
            location_text=shorten(location),
            alcaldia_text=alcaldia_label(tracker.get_slot("alcaldia"), language),
            description_text=shorten(tracker.get_slot("description")),
        )
        return []


def _filable_media_url(value: Optional[str]) -> Optional[str]:
    """The photo's URL when it is one; Open311 media_url takes http(s) URLs only.

    A Telegram photo is a file id ("telegram-file:..."), not a URL: its download
    URL carries the bot token. Until the back office can fetch and keep such
    photos, the request is filed without it rather than refused.
    """
    if not value:
        return None
    scheme = urlsplit(str(value)).scheme.lower()
    if scheme in ("http", "https"):
        return str(value)
    logger.info("photo reference of scheme %r is not a URL; filed without media_url", scheme)
    return None


class ActionSubmitServiceRequest(Action):
    """File the confirmed draft; a retry reuses the draft id, so it never files twice."""

    def name(self) -> Text:
        return "action_submit_service_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("confirm_request") != YES or not tracker.get_slot("draft_id"):
            return []
        code = tracker.get_slot("service_code")
        alcaldia = tracker.get_slot("alcaldia")
        try:
            filed = await backoffice_client.file_service_request(
                service_code=code,
                description=tracker.get_slot("description"),
                address_string=tracker.get_slot("location"),
                lat=tracker.get_slot("latitude"),
                long=tracker.get_slot("longitude"),
                alcaldia=None if alcaldia == ALCALDIA_UNKNOWN else alcaldia,
                media_url=_filable_media_url(tracker.get_slot("media_url")),
                channel=tracker.get_latest_input_channel(),
                conversation_id=tracker.sender_id,
                idempotency_key=tracker.get_slot("draft_id"),
            )
        except backoffice_client.BackOfficeError as error:
            # Unavailable: retry later. Rejected: a configuration error operators must fix;
            # either way the draft is kept and the resident can retry.
            log = logger.error if isinstance(error, backoffice_client.BackOfficeRejected) else logger.warning
            log("could not file a %s request: %s", code, type(error).__name__)
            dispatcher.utter_message(response="utter_backoffice_unavailable")
            return [SlotSet("submission_pending", True)]
        logger.info("filed 311 request %s (%s)", filed.folio, code)
        dispatcher.utter_message(response="utter_request_filed", folio=filed.folio, agency=agency_of(code))
        if filed.duplicate_of:
            dispatcher.utter_message(response="utter_request_duplicate", duplicate_of=filed.duplicate_of)
        return [SlotSet(slot, None) for slot in DRAFT_SLOTS] + [
            SlotSet("request_id", filed.folio),
            SlotSet("submission_pending", False),
        ]


class ValidateStatusForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_status_form"

    async def extract_folio(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # "311000002" or "311 000002" in the question itself: no need to ask for it.
        if tracker.get_slot("folio") is None:
            folio = find_folio(_latest_text(tracker))
            if folio:
                return {"folio": folio}
        return {}

    async def validate_folio(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        folio = find_folio(str(value or "")) or find_folio(_latest_text(tracker))
        if not folio:
            dispatcher.utter_message(response="utter_folio_invalid")
            return {"folio": None}
        return {"folio": folio}


class ActionCheckStatus(Action):
    def name(self) -> Text:
        return "action_check_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        folio = find_folio(tracker.get_slot("folio") or "")
        if not folio:
            return [SlotSet("folio", None)]
        language = language_of(tracker)
        try:
            found = await backoffice_client.get_service_request(folio)
        except backoffice_client.BackOfficeError as error:
            logger.warning("could not read a request's status: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_status_unavailable")
            return [SlotSet("folio", None)]
        if found is None:
            dispatcher.utter_message(response="utter_folio_unknown", folio=folio)
        else:
            dispatcher.utter_message(
                response="utter_request_status",
                folio=folio,
                service_name=service_name(found.service_code, language),
                status_text=status_label(found.status, language),
                note_text=note_text(found.status_notes, language),
            )
        return [SlotSet("folio", None)]


class ActionNotifyRequestStatus(Action):
    """Tell the resident about a status change the back office pushed (external event)."""

    def name(self) -> Text:
        return "action_notify_request_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        entities = {e["entity"]: e.get("value") for e in (tracker.latest_message or {}).get("entities", [])}
        folio = find_folio(entities.get("folio") or "")
        if not folio:
            return []
        dispatcher.utter_message(
            response="utter_request_status_update",
            folio=folio,
            status_text=status_label(entities.get("status") or "", language),
            note_text=note_text(entities.get("note"), language),
        )
        return []


class ActionCancel(Action):
    """Drop the draft (nothing is filed) and leave any form."""

    def name(self) -> Text:
        return "action_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("submission_pending", False)] + [
            SlotSet(slot, None) for slot in DRAFT_SLOTS + ("folio",)
        ]


class ActionStartOver(Action):
    """Forget the conversation's facts but keep speaking the resident's language."""

    def name(self) -> Text:
        return "action_start_over"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        dispatcher.utter_message(response="utter_start_over")
        return [ActiveLoop(None), AllSlotsReset(), SlotSet("language", language)]
