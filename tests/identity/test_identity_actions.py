"""Identity actions with real rasa-sdk trackers, against a real back office and
the development identity provider over HTTP (scripts/stack.py)."""
from __future__ import annotations

import asyncio
import re
from typing import Optional

import httpx
import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from identity_harness import sign_in
from actions import backoffice_client
from actions.identity import (
    ActionIdentityVerified,
    ActionMyRequests,
    ActionRequestSignIn,
    ActionSendVerificationCode,
    ActionSignOut,
    ValidateVerificationCodeForm,
    code_from,
)
from scripts.stack import Stack

pytestmark = pytest.mark.timeout(300)
DOMAIN: dict = {}
CODE = re.compile(r"\b(\d{6})\b")


def tracker(sender, text="", intent=None, slots=None, active_loop=None, channel="rest"):
    message = {"text": text, "intent": {"name": intent, "confidence": 0.99} if intent else {}, "entities": []}
    return Tracker(
        sender_id=sender,
        slots={"language": "es", **(slots or {})},
        latest_message=message,
        events=[{"event": "user", "text": text, "input_channel": channel, "parse_data": message}],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run(action, t, dispatcher=None):
    dispatcher = dispatcher or CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, DOMAIN))
    return dispatcher, events


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def responses(dispatcher):
    return [m.get("response") for m in dispatcher.messages]


def followups(events):
    return [e["name"] for e in events if e.get("event") == "followup"]


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, monkeypatch_module):
    running = Stack(model="", workdir=tmp_path_factory.mktemp("identity-actions"), with_idp=True)
    try:
        running.start_idp()
        running.start_backoffice()
    except Exception:
        running.dump_logs()
        running.stop()
        raise
    monkeypatch_module.setenv("BACKOFFICE_URL", running.backoffice_url)
    yield running
    running.stop()


def browser_sign_in(stack, link_url: str, subject: str) -> httpx.Response:
    """A browser over real HTTP: the link's page, its button, the provider's form, the callback."""
    with httpx.Client(follow_redirects=False, timeout=30) as browser:
        assert browser.get(link_url).status_code == 200
        started = browser.post(link_url)
        assert started.status_code == 303
        back = sign_in(started.headers["location"], subject, expected_redirect=f"{stack.backoffice_url}/identity/callback")
        return browser.get(back.url)


def link_from(dispatcher) -> str:
    (message,) = [m for m in dispatcher.messages if m.get("response") == "utter_sign_in_link"]
    return message["url"]


def signed_in(stack, sender: str, subject: str = "maria.hernandez"):
    dispatcher, _ = run(ActionRequestSignIn(), tracker(sender, "iniciar sesión", "sign_in"))
    assert browser_sign_in(stack, link_from(dispatcher), subject).status_code == 200


def outbox_code(stack) -> str:
    messages = httpx.get(f"{stack.backoffice_url}/dev/outbox.json", timeout=10).json()
    return CODE.search(messages[0]["body"]).group(1)


# ------------------------------------------------------------------- sign in


def test_sign_in_sends_a_single_use_link(stack):
    dispatcher, events = run(ActionRequestSignIn(), tracker("a-link", "iniciar sesión", "sign_in"))
    (message,) = dispatcher.messages
    assert message["response"] == "utter_sign_in_link" and message["provider"] == "Llave CDMX"
    assert message["url"].startswith(f"{stack.backoffice_url}/identity/sign-in/")
    assert 9 <= message["minutes"] <= 10
    assert events == []  # nothing pending: the resident just asked to sign in


def test_identity_verified_fills_the_profile_slots(stack):
    signed_in(stack, "a-verified")
    dispatcher, events = run(ActionIdentityVerified(), tracker("a-verified", "", "EXTERNAL_identity_verified"))
    (message,) = dispatcher.messages
    assert message["response"] == "utter_identity_verified"
    assert message["name"] == "María Guadalupe Hernández López" and message["curp"] == "HELG880315MDFRPD06"
    assert message["contact"] == "+525555550101 / maria.hernandez@example.org"
    assert slots_of(events) == {
        "identity_verified": True,
        "verified_name": "María Guadalupe Hernández López",
        "verified_curp": "HELG880315MDFRPD06",
        "verified_email": "maria.hernandez@example.org",
        "verified_phone": "+525555550101",
    }


def test_sign_in_when_already_signed_in_fills_the_slots_without_a_link(stack):
    signed_in(stack, "a-again", "jose.martinez")
    dispatcher, events = run(ActionRequestSignIn(), tracker("a-again", "iniciar sesión", "sign_in"))
    assert responses(dispatcher) == ["utter_already_signed_in"]
    assert slots_of(events)["verified_curp"] == "MARL751102HDFRMS05"


def test_identity_verified_without_a_link_says_so(stack):
    dispatcher, events = run(ActionIdentityVerified(), tracker("a-nobody", "", "EXTERNAL_identity_verified"))
    assert responses(dispatcher) == ["utter_identity_not_found"]
    assert slots_of(events)["identity_verified"] is False and "pending_flow" not in slots_of(events)


def test_sign_out_unlinks_and_clears_the_slots(stack):
    signed_in(stack, "a-out")
    dispatcher, events = run(ActionSignOut(), tracker("a-out", "cerrar sesión", "sign_out",
                                                      slots={"identity_verified": True},
                                                      active_loop="verification_code_form"))
    assert responses(dispatcher) == ["utter_signed_out"]
    slots = slots_of(events)
    assert slots["identity_verified"] is False and slots["verified_curp"] is None and slots["pending_flow"] is None
    assert {"event": "active_loop", "name": None} in [
        {"event": e["event"], "name": e.get("name")} for e in events if e["event"] == "active_loop"
    ]
    assert asyncio.run(backoffice_client.get_identity("a-out")) is None


# --------------------------------------------------------------- my requests


def test_my_requests_asks_to_sign_in_first_and_remembers_why(stack):
    dispatcher, events = run(ActionMyRequests(), tracker("a-mine-first", "mis reportes", "my_requests"))
    assert responses(dispatcher) == ["utter_my_requests_sign_in_first", "utter_sign_in_link"]
    assert slots_of(events) == {"pending_flow": "my_requests"}
    # A stale value from an earlier sign-in gives way to the flow that asks now.
    _, events = run(ActionMyRequests(), tracker("a-mine-first", "mis reportes", "my_requests",
                                                slots={"pending_flow": "crime_report"}))
    assert slots_of(events) == {"pending_flow": "my_requests"}


def test_a_plain_sign_in_clears_what_an_earlier_one_was_for(stack):
    _, events = run(ActionRequestSignIn(), tracker("a-plain", "iniciar sesión", "sign_in",
                                                   slots={"pending_flow": "my_requests"}))
    assert slots_of(events) == {"pending_flow": None}
    # Asked for by a flow in a form (not typed by the resident): what the flow set stays.
    _, events = run(ActionRequestSignIn(), tracker("a-plain", "", "inform", slots={"pending_flow": "crime_report"},
                                                   active_loop="crime_report_form"))
    assert events == []


def test_my_requests_lists_what_was_filed_while_signed_in(stack):
    dispatcher, _ = run(ActionMyRequests(), tracker("a-mine", "mis reportes", "my_requests"))
    assert browser_sign_in(stack, link_from(dispatcher), "itzel.flores").status_code == 200
    dispatcher, events = run(ActionMyRequests(), tracker("a-mine", "", "EXTERNAL_identity_verified",
                                                         slots={"pending_flow": "my_requests"}))
    assert responses(dispatcher) == ["utter_my_requests_none"] and events == []

    filed = asyncio.run(backoffice_client.file_service_request(
        "bache", "Bache hondo", address_string="Av. Universidad 1210", channel="rest", conversation_id="a-mine"
    ))
    dispatcher, events = run(ActionMyRequests(), tracker("a-mine", "my requests", "my_requests",
                                                         slots={"language": "en"}))
    (message,) = dispatcher.messages
    assert message["response"] == "utter_my_requests" and message["count"] == 1
    assert filed.folio in message["requests"] and "Bache" in message["requests"]
    assert events == []


# --------------------------------------------------------------------- codes


def check(sender: str, text: str):
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateVerificationCodeForm().validate_verification_code(
        text, dispatcher, tracker(sender, text, "nlu_fallback", active_loop="verification_code_form"), DOMAIN
    ))
    return dispatcher, result


def test_code_sent_then_a_wrong_and_a_right_try(stack):
    signed_in(stack, "a-code")
    dispatcher, events = run(ActionSendVerificationCode(), tracker("a-code", "nuevo código", "new_code"))
    (message,) = dispatcher.messages
    assert message["response"] == "utter_code_sent_sms" and message["hint"] == "…0101"
    assert slots_of(events) == {"code_verified": False, "verification_code": None} and followups(events) == []
    code = outbox_code(stack)

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    dispatcher, result = check("a-code", wrong)
    assert result == {"verification_code": None}
    assert responses(dispatcher) == ["utter_code_wrong"] and dispatcher.messages[0]["attempts_left"] == 4

    dispatcher, result = check("a-code", f"{code[:3]} {code[3:]}")
    assert result == {"verification_code": "verified", "code_verified": True}
    assert responses(dispatcher) == ["utter_code_ok"]

    dispatcher, result = check("a-code", code)  # reused
    assert result == {"verification_code": "failed", "code_verified": False}
    assert responses(dispatcher) == ["utter_code_dead"]


def test_code_guessed_six_times_ends_the_check(stack):
    signed_in(stack, "a-guess", "jose.martinez")
    run(ActionSendVerificationCode(), tracker("a-guess", "nuevo código", "new_code"))
    code = outbox_code(stack)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    lefts = []
    for _ in range(4):
        dispatcher, result = check("a-guess", wrong)
        lefts.append(dispatcher.messages[0]["attempts_left"])
    assert lefts == [4, 3, 2, 1]
    dispatcher, result = check("a-guess", wrong)  # the fifth wrong try ends it
    assert result["code_verified"] is False and responses(dispatcher) == ["utter_code_dead"]
    dispatcher, result = check("a-guess", code)  # the sixth, right, is refused
    assert result["code_verified"] is False and responses(dispatcher) == ["utter_code_dead"]


def test_malformed_code_costs_no_attempt(stack):
    signed_in(stack, "a-format")
    run(ActionSendVerificationCode(), tracker("a-format", "nuevo código", "new_code"))
    for text in ("12 34", "311-000042", "abcdef", ""):
        dispatcher, result = check("a-format", text)
        assert result == {"verification_code": None} and responses(dispatcher) == ["utter_code_format"]
    dispatcher, result = check("a-format", outbox_code(stack))
    assert result["code_verified"] is True


def test_code_when_not_signed_in_sends_a_link_and_listens(stack):
    dispatcher, events = run(ActionSendVerificationCode(), tracker("a-code-anon", "nuevo código", "new_code"))
    assert responses(dispatcher) == ["utter_sign_in_first", "utter_sign_in_link"]
    assert followups(events) == ["action_listen"]


def test_codes_are_rate_limited(stack):
    signed_in(stack, "a-limit", "itzel.flores")  # e-mail only (her phone is not verified)
    first, _ = run(ActionSendVerificationCode(), tracker("a-limit", "nuevo código", "new_code"))
    assert responses(first) == ["utter_code_sent_email"] and first.messages[0]["hint"] == "i…@example.org"
    for _ in range(2):
        run(ActionSendVerificationCode(), tracker("a-limit", "nuevo código", "new_code"))
    dispatcher, events = run(ActionSendVerificationCode(), tracker("a-limit", "nuevo código", "new_code"))
    assert responses(dispatcher) == ["utter_code_rate_limited"] and 1 <= dispatcher.messages[0]["minutes"] <= 10
    assert followups(events) == ["action_listen"]
    with pytest.raises(backoffice_client.CodeRateLimited) as limited:
        asyncio.run(backoffice_client.send_verification_code("a-limit"))
    assert limited.value.retry_after > 0


def test_code_from_accepts_spaces_and_dashes_only():
    assert code_from("123 456") == "123456" and code_from("123-456") == "123456"
    assert code_from("1234567") is None and code_from("12345a") is None and code_from(None or "") is None


# ------------------------------------------------------------- failures


@pytest.fixture
def stack_without_provider(tmp_path, monkeypatch):
    """A back office whose identity provider is down (never started)."""
    running = Stack(model="", workdir=tmp_path / "no-idp")
    running.start_backoffice()
    monkeypatch.setenv("BACKOFFICE_URL", running.backoffice_url)
    yield running
    running.stop()


def test_provider_down_is_told_in_the_chat(stack_without_provider):
    dispatcher, events = run(ActionRequestSignIn(), tracker("a-down", "iniciar sesión", "sign_in"))
    assert responses(dispatcher) == ["utter_identity_provider_down"] and events == []
    with pytest.raises(backoffice_client.IdentityProviderUnavailable):
        asyncio.run(backoffice_client.request_sign_in_link("rest", "a-down"))


def test_back_office_down_is_told_in_the_chat(monkeypatch, tmp_path):
    import socket

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        monkeypatch.setenv("BACKOFFICE_URL", f"http://127.0.0.1:{closed.getsockname()[1]}")
        for action, intent in ((ActionRequestSignIn(), "sign_in"), (ActionMyRequests(), "my_requests"),
                               (ActionSignOut(), "sign_out"), (ActionIdentityVerified(), "EXTERNAL_identity_verified")):
            dispatcher, events = run(action, tracker("a-bo-down", "", intent))
            assert responses(dispatcher) == ["utter_status_unavailable"], action.name()
            assert events == []
        dispatcher, events = run(ActionSendVerificationCode(), tracker("a-bo-down", "nuevo código", "new_code"))
        assert responses(dispatcher) == ["utter_code_not_sent"] and followups(events) == ["action_listen"]


def test_verified_identity_repr_keeps_personal_data_out():
    identity = backoffice_client.VerifiedIdentity("maria.hernandez", "María", "HELG880315MDFRPD06", "m@x.org", "+52")
    assert "HELG" not in repr(identity) and "María" not in repr(identity) and "maria.hernandez" in repr(identity)
    link = backoffice_client.SignInLink("http://127.0.0.1/identity/sign-in/SECRET", None)
    assert "SECRET" not in repr(link)
