"""311 actions with real rasa-sdk trackers and dispatchers, against a real back office over HTTP."""
from __future__ import annotations

import asyncio

import pytest
import requests
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.service_311 import (
    ActionCaptureReport,
    ActionCheckStatus,
    ActionSubmitServiceRequest,
    ValidateServiceRequestForm,
)
from scripts.stack import Stack, free_port

DOMAIN: dict = {}


def tracker(text="", intent=None, slots=None, sender="ana-123", channel="rest"):
    message = {"text": text, "intent": {"name": intent, "confidence": 0.99} if intent else {}, "entities": []}
    return Tracker(
        sender_id=sender,
        slots={"language": "es", **(slots or {})},
        latest_message=message,
        events=[{"event": "user", "text": text, "input_channel": channel, "parse_data": message}],
        paused=False,
        followup_action=None,
        active_loop={"name": "service_request_form"},
        latest_action_name="action_listen",
    )


def run(coro):
    return asyncio.get_event_loop().run_until_complete(coro) if False else asyncio.run(coro)


def slots_of(events):
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.fixture(scope="module")
def backoffice(tmp_path_factory, monkeypatch_module):
    stack = Stack(model="", workdir=tmp_path_factory.mktemp("bo"))
    stack.start_backoffice()
    monkeypatch_module.setenv("BACKOFFICE_URL", stack.backoffice_url)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_capture_keeps_description_and_location_of_the_first_message():
    text = "hay un bache enorme en Insurgentes Sur 1602, col. Crédito Constructor, alcaldía Benito Juárez"
    events = run(ActionCaptureReport().run(CollectingDispatcher(), tracker(text, "report_bache"), DOMAIN))
    slots = slots_of(events)
    assert slots["description"] == text
    assert slots["location"] == "Insurgentes Sur 1602, col. Crédito Constructor, alcaldía Benito Juárez"
    assert slots["alcaldia"] == "Benito Juárez"
    assert len(slots["draft_id"]) == 32 and slots["request_id"] is None


def test_capture_from_a_menu_button_keeps_no_description():
    slots = slots_of(run(ActionCaptureReport().run(CollectingDispatcher(), tracker("/report_problem", "report_problem"), DOMAIN)))
    assert slots["description"] is None and slots["location"] is None and slots["draft_id"]


def test_shared_location_fills_the_location():
    t = tracker('/share_location{"latitude": 19.43261, "longitude": -99.13321}', "share_location",
                slots={"latitude": 19.43261, "longitude": -99.13321})
    slots = slots_of(run(ActionCaptureReport().run(CollectingDispatcher(), t, DOMAIN)))
    assert slots["location"] == "19.43261, -99.13321"
    assert "latitude" not in slots  # kept, not reset


def photo(caption=None, slots=None, media_url="https://cdn.example.org/p.jpg"):
    """The tracker after a channel delivered a photo (its caption in the message metadata)."""
    t = tracker(f'/share_photo{{"media_url": "{media_url}"}}', "share_photo", slots={"media_url": media_url, **(slots or {})})
    t.latest_message["metadata"] = {"caption": caption} if caption else {}
    return t


def test_photo_during_the_form_adds_to_the_draft_instead_of_starting_over():
    draft_so_far = {
        "service_code": "bache", "description": "hay un bache enorme en mi calle", "location": "19.37152, -99.17843",
        "latitude": 19.37152, "longitude": -99.17843, "draft_id": "e" * 32,
    }
    events = run(ActionCaptureReport().run(CollectingDispatcher(), photo("así está", draft_so_far), DOMAIN))
    # Nothing reset, the description already given kept (the caption does not replace it).
    assert events == []


def test_photo_caption_fills_what_the_draft_still_misses():
    t = photo("la coladera está tapada, en Calle Durango 35, col. Roma Norte", {"draft_id": "f" * 32, "service_code": "bache"})
    slots = slots_of(run(ActionCaptureReport().run(CollectingDispatcher(), t, DOMAIN)))
    assert slots == {
        "description": "la coladera está tapada, en Calle Durango 35, col. Roma Norte",
        "location": "Calle Durango 35, col. Roma Norte",
    }


def test_photo_starting_a_report_reads_type_description_and_place_from_its_caption():
    caption = "bache enorme en Av. Universidad 1200, col. Xoco, alcaldía Benito Juárez"
    slots = slots_of(run(ActionCaptureReport().run(CollectingDispatcher(), photo(caption), DOMAIN)))
    assert slots["service_code"] == "bache"
    assert slots["description"] == caption
    assert slots["location"] == "Av. Universidad 1200, col. Xoco, alcaldía Benito Juárez"
    assert slots["alcaldia"] == "Benito Juárez"
    assert "media_url" not in slots and len(slots["draft_id"]) == 32  # the photo is kept, a new draft started


def test_photo_without_caption_starts_a_draft_with_just_the_photo():
    slots = slots_of(run(ActionCaptureReport().run(CollectingDispatcher(), photo(), DOMAIN)))
    assert slots["description"] is None and slots["location"] is None and "media_url" not in slots


@pytest.mark.parametrize(
    "slot, value, expected, utter",
    [
        ("location", "aquí", None, "utter_location_unusable"),
        ("location", "está en Calle Durango 35, col. Roma Norte", "Calle Durango 35, col. Roma Norte", None),
        ("alcaldia", "benito juarez", "Benito Juárez", None),
        ("alcaldia", "Springfield", None, "utter_alcaldia_unknown"),
        ("description", "😀😀", None, "utter_description_empty"),
        ("description", "no", None, "utter_description_empty"),
        ("description", "<b>se está hundiendo</b>", "<b>se está hundiendo</b>", None),
    ],
)
def test_form_validation(slot, value, expected, utter):
    dispatcher = CollectingDispatcher()
    validate = getattr(ValidateServiceRequestForm(), f"validate_{slot}")
    result = run(validate(value, dispatcher, tracker(value, "inform"), DOMAIN))
    assert result[slot] == expected
    assert [m.get("response") for m in dispatcher.messages] == ([utter] if utter else [])


def test_service_code_from_a_one_word_answer():
    result = run(ValidateServiceRequestForm().validate_service_code("luminaria", CollectingDispatcher(), tracker("luminaria", "inform"), DOMAIN))
    assert result == {"service_code": "alumbrado"}


@pytest.mark.parametrize(
    "answer, intent, expected",
    [
        ("sí", "affirm", {"confirm_request": "yes"}),
        ("no", "deny", {"confirm_request": None, "location": None, "alcaldia": None, "latitude": None, "longitude": None}),
        ("Coyoacán", "inform", {"confirm_request": None, "alcaldia": "Coyoacán"}),
        ("mejor en Av. Universidad 1210, col. Xoco", "inform",
         {"confirm_request": None, "location": "Av. Universidad 1210, col. Xoco", "alcaldia": "Benito Juárez"}),
    ],
)
def test_confirmation_answers(answer, intent, expected):
    t = tracker(answer, intent, slots={"alcaldia": "Benito Juárez"})
    assert run(ValidateServiceRequestForm().validate_confirm_request(answer, CollectingDispatcher(), t, DOMAIN)) == expected


def draft(**extra):
    return {
        "service_code": "bache", "location": "Insurgentes Sur 1602, col. Crédito Constructor",
        "alcaldia": "Benito Juárez", "description": "bache enorme", "confirm_request": "yes",
        "draft_id": "d" * 32, **extra,
    }


def test_submit_files_once_and_sets_request_id(backoffice):
    t = tracker("sí", "affirm", slots=draft(draft_id="a" * 32), sender="ana-submit")
    dispatcher = CollectingDispatcher()
    slots = slots_of(run(ActionSubmitServiceRequest().run(dispatcher, t, DOMAIN)))
    folio = slots["request_id"]
    assert folio.startswith("311-") and slots["submission_pending"] is False
    assert dispatcher.messages[0]["response"] == "utter_request_filed"
    # The same draft submitted again (a retry) gives the same folio, not a second request.
    again = slots_of(run(ActionSubmitServiceRequest().run(CollectingDispatcher(), t, DOMAIN)))
    assert again["request_id"] == folio
    listed = requests.get(f"{backoffice.backoffice_url}/open311/v2/requests.json", params={"service_code": "bache"}, timeout=10).json()
    assert [r["service_request_id"] for r in listed].count(folio) == 1
    staff = requests.get(f"{backoffice.backoffice_url}/staff/api/requests/{folio}",
                         headers={"Authorization": "Bearer dev-staff-token"}, timeout=10).json()
    assert staff["channel"] == "rest" and staff["conversation_id"] == "ana-submit"


@pytest.mark.parametrize(
    "media_url, filed_as",
    [("https://scontent.xx.fbcdn.net/v/p.jpg", "https://scontent.xx.fbcdn.net/v/p.jpg"), ("telegram-file:AgACAgEAAxkBAAIBQ2large", None)],
)
def test_submit_sends_photo_urls_and_files_without_a_photo_that_is_not_one(backoffice, media_url, filed_as):
    t = tracker("sí", "affirm", slots=draft(draft_id=media_url[-8:].rjust(32, "m"), media_url=media_url), sender="ana-photo")
    slots = slots_of(run(ActionSubmitServiceRequest().run(CollectingDispatcher(), t, DOMAIN)))
    folio = slots["request_id"]
    assert folio and slots["submission_pending"] is False
    record = requests.get(f"{backoffice.backoffice_url}/open311/v2/requests.json",
                          params={"service_request_id": folio}, timeout=10).json()[0]
    assert record.get("media_url") == filed_as


def test_submit_when_back_office_is_down_keeps_the_draft(monkeypatch):
    monkeypatch.setenv("BACKOFFICE_URL", f"http://127.0.0.1:{free_port()}")
    dispatcher = CollectingDispatcher()
    events = run(ActionSubmitServiceRequest().run(dispatcher, tracker("sí", "affirm", slots=draft()), DOMAIN))
    assert events == [SlotSet("submission_pending", True)]
    assert dispatcher.messages[0]["response"] == "utter_backoffice_unavailable"


def test_submit_without_confirmation_files_nothing(backoffice):
    events = run(ActionSubmitServiceRequest().run(CollectingDispatcher(), tracker("", slots=draft(confirm_request=None)), DOMAIN))
    assert events == []


def test_check_status_known_and_unknown(backoffice):
    filed = slots_of(run(ActionSubmitServiceRequest().run(
        CollectingDispatcher(), tracker("sí", "affirm", slots=draft(draft_id="b" * 32, service_code="arbol")), DOMAIN)))
    dispatcher = CollectingDispatcher()
    run(ActionCheckStatus().run(dispatcher, tracker("", slots={"folio": filed["request_id"]}), DOMAIN))
    message = dispatcher.messages[0]
    assert message["response"] == "utter_request_status"
    assert message["service_name"] == "Árbol caído o poda" and message["status_text"].startswith("abierto")

    dispatcher = CollectingDispatcher()
    run(ActionCheckStatus().run(dispatcher, tracker("", slots={"folio": "311-999998"}), DOMAIN))
    assert dispatcher.messages[0]["response"] == "utter_folio_unknown"


def test_a_new_report_without_type_forgets_the_previous_type():
    t = tracker("/report_problem", "report_problem", slots={"service_code": "bache", "request_id": "311-000001"})
    slots = slots_of(run(ActionCaptureReport().run(CollectingDispatcher(), t, DOMAIN)))
    assert slots["service_code"] is None and slots["request_id"] is None


def test_a_new_typed_report_keeps_the_type_its_intent_set():
    t = tracker("hay una fuga en Calle Durango 35", "report_fuga_agua", slots={"service_code": "fuga_agua"})
    slots = slots_of(run(ActionCaptureReport().run(CollectingDispatcher(), t, DOMAIN)))
    assert "service_code" not in slots


def test_long_gibberish_scored_affirm_is_not_a_yes():
    text = "asdf " * 100
    result = run(ValidateServiceRequestForm().validate_confirm_request(text, CollectingDispatcher(), tracker(text, "affirm"), DOMAIN))
    assert result["confirm_request"] is None


def test_folio_without_dash_in_the_question_is_taken():
    from actions.service_311 import ValidateStatusForm

    t = tracker("¿cómo va mi reporte 311000002?", "check_status", slots={"folio": None})
    assert run(ValidateStatusForm().extract_folio(CollectingDispatcher(), t, DOMAIN)) == {"folio": "311-000002"}
    t = tracker("¿cómo va mi reporte?", "check_status", slots={"folio": None})
    assert run(ValidateStatusForm().extract_folio(CollectingDispatcher(), t, DOMAIN)) == {}
