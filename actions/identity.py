"""Actions for verified identity (identity.md): sign in from the chat, the
conversation going on by itself once the back office says the resident signed
in, sign out, "my requests", and the one-time code check other flows reuse.

How other flows use this (the crime report, for one):

- Needing identity: set ``pending_flow`` to your flow's name (a value of the
  categorical slot in domain.yml), end or pause your form, then run
  ``action_request_sign_in``. After the resident signs in, the back office
  triggers ``EXTERNAL_identity_verified``; ``action_identity_verified`` fills
  ``identity_verified`` and the ``verified_*`` slots, and a rule of yours
  conditioned on ``pending_flow: <your flow>`` resumes the flow (copy the
  "my requests" rule of data/rules/identity.yml). ``send_sign_in_link(...,
  pending_flow=...)`` sets it too. Neither action_identity_verified nor the
  resumed action changes ``pending_flow``: a rule's states keep the value of
  its condition, so a slot changed mid-rule stops the rule from matching (and
  Rasa wants all rules to agree on what an action sets). It is reset when
  the next link is asked for (a plain "sign in" clears it) and at sign-out;
  clear it yourself when your flow ends if you like. An active form's
  from_text mapping swallows the EXTERNAL event unless it lists
  ``EXTERNAL_identity_verified`` in ``not_intent``.
- A high-security step: run ``action_send_verification_code`` then
  ``verification_code_form``. On success ``code_verified`` is true. When no
  code could be sent (not signed in, rate-limited, no verified contact, SMS
  service down) the action tells the resident and the assistant listens
  instead of asking for a code (``FollowupAction("action_listen")``).

Thin by design: the back office decides (back-office client), these actions
set slots and pick responses. No code, token or CURP is logged.
"""
from __future__ import annotations

import logging
import math
import re
from datetime import datetime, timezone
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import backoffice_client
from actions.texts import language_of, status_label
from common import citypack

logger = logging.getLogger(__name__)

IDENTITY_SLOTS = ("verified_name", "verified_curp", "verified_email", "verified_phone")
MY_REQUESTS = "my_requests"
CODE_FORM = "verification_code_form"
# Which flow a sign-in was asked for, by the intent or active form that asked
# (when pending_flow is not set yet). Flows add their own entries.
FLOW_OF = {MY_REQUESTS: MY_REQUESTS}
# The longest list of requests shown in one message (SMS-friendly).
MAX_LISTED = 10
VERIFIED = "verified"
FAILED = "failed"
_CODE_SEPARATORS = re.compile(r"[\s\-.]")


def provider_name() -> str:
    return str(citypack.load("identity").get("provider_name", ""))


def identity_events(identity: backoffice_client.VerifiedIdentity) -> List[EventType]:
    return [
        SlotSet("identity_verified", True),
        SlotSet("verified_name", identity.name),
        SlotSet("verified_curp", identity.curp),
        SlotSet("verified_email", identity.email),
        SlotSet("verified_phone", identity.phone),
    ]


def signed_out_events() -> List[EventType]:
    return [SlotSet("identity_verified", False), SlotSet("code_verified", False)] + [
        SlotSet(slot, None) for slot in IDENTITY_SLOTS
    ]


def contact_text(identity: backoffice_client.VerifiedIdentity) -> str:
    return " / ".join(c for c in (identity.phone, identity.email) if c) or "—"


def _minutes_until(moment: datetime) -> int:
    seconds = (moment - datetime.now(timezone.utc)).total_seconds()
    return max(1, math.floor(seconds / 60))


def _asked_by_resident(tracker: Tracker) -> bool:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    return intent == "sign_in" and not tracker.active_loop_name


def _flow_asking(tracker: Tracker) -> Optional[str]:
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    return FLOW_OF.get(tracker.active_loop_name or "") or FLOW_OF.get(intent or "")


async def send_sign_in_link(
    dispatcher: CollectingDispatcher, tracker: Tracker, pending_flow: Optional[str] = None
) -> List[EventType]:
    """Ask the back office for a single-use link and send it; remember which flow asked."""
    try:
        link = await backoffice_client.request_sign_in_link(
            tracker.get_latest_input_channel(), tracker.sender_id, language=language_of(tracker)
        )
    except backoffice_client.IdentityProviderUnavailable:
        logger.warning("no sign-in link: the identity provider is unavailable")
        dispatcher.utter_message(response="utter_identity_provider_down", provider=provider_name())
        return []
    except backoffice_client.BackOfficeError as error:
        logger.warning("no sign-in link: %s", type(error).__name__)
        dispatcher.utter_message(response="utter_status_unavailable")
        return []
    dispatcher.utter_message(
        response="utter_sign_in_link",
        url=link.url,
        minutes=_minutes_until(link.expires_at),
        provider=provider_name(),
    )
    events: List[EventType] = []
    if tracker.get_slot("identity_verified"):
        events += signed_out_events()
    current = tracker.get_slot("pending_flow")
    if pending_flow:
        # The flow that asks says so: an older value is stale.
        if pending_flow != current:
            events.append(SlotSet("pending_flow", pending_flow))
    elif not current:
        flow = _flow_asking(tracker)
        if flow:
            events.append(SlotSet("pending_flow", flow))
    elif _asked_by_resident(tracker):
        # "Sign in" typed outside any flow: nothing is pending, whatever an earlier sign-in was for.
        events.append(SlotSet("pending_flow", None))
    return events


class ActionRequestSignIn(Action):
    """Send a sign-in link, unless the conversation is signed in already."""

    def name(self) -> Text:
        return "action_request_sign_in"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            identity = await backoffice_client.get_identity(tracker.sender_id)
        except backoffice_client.BackOfficeError as error:
            logger.warning("could not read the identity: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_status_unavailable")
            return []
        if identity is not None:
            # Also where a sign-in lands whose external event did not reach Rasa.
            dispatcher.utter_message(response="utter_already_signed_in", name=identity.name or "")
            return identity_events(identity)
        return await send_sign_in_link(dispatcher, tracker)


class ActionIdentityVerified(Action):
    """Run on EXTERNAL_identity_verified: fill the verified profile and say so."""

    def name(self) -> Text:
        return "action_identity_verified"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            identity = await backoffice_client.get_identity(tracker.sender_id)
        except backoffice_client.BackOfficeError as error:
            logger.warning("could not read the verified identity: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_status_unavailable")
            return []
        if identity is None:
            # Signed out (or expired) between the callback and now.
            dispatcher.utter_message(response="utter_identity_not_found")
            return signed_out_events()
        dispatcher.utter_message(
            response="utter_identity_verified",
            name=identity.name or "",
            curp=identity.curp or "—",
            contact=contact_text(identity),
        )
        logger.info("conversation signed in")
        return identity_events(identity)


class ActionSignOut(Action):
    def name(self) -> Text:
        return "action_sign_out"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            await backoffice_client.sign_out(tracker.sender_id)
        except backoffice_client.BackOfficeError as error:
            # Still signed in on the back office's side: say so rather than pretend.
            logger.warning("could not sign out: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_status_unavailable")
            return []
        dispatcher.utter_message(response="utter_signed_out")
        events = signed_out_events() + [SlotSet("pending_flow", None), SlotSet("verification_code", None)]
        if tracker.active_loop_name == CODE_FORM:
            # No code can be checked any more: leave the form.
            events += [ActiveLoop(None), SlotSet("requested_slot", None)]
        return events


class ActionMyRequests(Action):
    """The signed-in resident's own requests; asks to sign in first otherwise."""

    def name(self) -> Text:
        return "action_my_requests"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        language = language_of(tracker)
        try:
            items = await backoffice_client.list_my_requests(tracker.sender_id)
        except backoffice_client.NotSignedIn:
            dispatcher.utter_message(response="utter_my_requests_sign_in_first")
            return await send_sign_in_link(dispatcher, tracker, pending_flow=MY_REQUESTS)
        except backoffice_client.BackOfficeError as error:
            logger.warning("could not list the resident's requests: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_status_unavailable")
            return []
        if not items:
            dispatcher.utter_message(response="utter_my_requests_none")
            return []
        lines = [
            f"• {item.folio} · {item.service_name} · {status_label(item.status, language)}"
            for item in items[:MAX_LISTED]
        ]
        dispatcher.utter_message(response="utter_my_requests", count=len(items), requests="\n".join(lines))
        return []


class ActionSendVerificationCode(Action):
    """Send a new one-time code; when none can be sent, say why and listen."""

    def name(self) -> Text:
        return "action_send_verification_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reset: List[EventType] = [SlotSet("code_verified", False), SlotSet("verification_code", None)]
        listen = [FollowupAction("action_listen")]
        try:
            sent = await backoffice_client.send_verification_code(tracker.sender_id, language=language_of(tracker))
        except backoffice_client.NotSignedIn:
            dispatcher.utter_message(response="utter_sign_in_first")
            return reset + await send_sign_in_link(dispatcher, tracker) + listen
        except backoffice_client.CodeRateLimited as limited:
            dispatcher.utter_message(response="utter_code_rate_limited", minutes=math.ceil(limited.retry_after / 60))
            return reset + listen
        except backoffice_client.NoVerifiedContact:
            dispatcher.utter_message(response="utter_code_no_contact", provider=provider_name())
            return reset + listen
        except backoffice_client.BackOfficeError as error:
            logger.warning("no one-time code sent: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_code_not_sent")
            return reset + listen
        response = "utter_code_sent_sms" if sent.via == "sms" else "utter_code_sent_email"
        dispatcher.utter_message(response=response, hint=sent.destination_hint)
        return reset


def code_from(text: str) -> Optional[str]:
    """Six digits the resident typed, spaces and dashes allowed ("123 456")."""
    candidate = _CODE_SEPARATORS.sub("", text or "")
    return candidate if len(candidate) == 6 and candidate.isdigit() else None


class ValidateVerificationCodeForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_verification_code_form"

    async def validate_verification_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        code = code_from(str(value or ""))
        if code is None:
            dispatcher.utter_message(response="utter_code_format")
            return {"verification_code": None}
        try:
            result = await backoffice_client.check_verification_code(tracker.sender_id, code)
        except backoffice_client.BackOfficeError as error:
            logger.warning("could not check a one-time code: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_status_unavailable")
            return {"verification_code": None}
        if result.ok:
            dispatcher.utter_message(response="utter_code_ok")
            # The slot keeps a marker, not the code.
            return {"verification_code": VERIFIED, "code_verified": True}
        if result.reason == "wrong_code" and result.attempts_left > 0:
            dispatcher.utter_message(response="utter_code_wrong", attempts_left=result.attempts_left)
            return {"verification_code": None}
        logger.info("one-time code check ended: %s", result.reason)
        if result.reason == "not_signed_in":
            dispatcher.utter_message(response="utter_sign_in_first")
        else:
            dispatcher.utter_message(response="utter_code_dead")
        return {"verification_code": FAILED, "code_verified": False}
