"""Every message of the screening, as sent, fits the SMS budget.

Budget (segments per message, both languages):
- consent/disclaimer: 3
- each question with its numbered options: 3
- each outcome, with the testing sites and the restart hint: 3 (the brief
  allowed 4; 3 is also the SMS channel's default cap per body, so an
  outcome never arrives split in two bodies)
- retry messages (not understood, contradiction, declined): 2
Accents outside the GSM alphabet (á í ó ú, not é ñ ¿ ¡) make a message
UCS-2: 70 characters per segment, 67 when split.
"""
from __future__ import annotations

import pytest

from actions import triage
from common.sms import segment_count, sms_info

MAX_SEGMENTS = {"consent": 3, "question": 3, "outcome": 3, "message": 2}

MESSAGES = list(triage.all_messages())


def test_all_messages_covers_every_question_outcome_and_language():
    proto = triage.current_protocol()
    kinds = {(kind, name, lang) for kind, name, lang, _ in MESSAGES}
    for lang in ("es", "en"):
        assert ("consent", "consent", lang) in kinds
        for question in proto.question_ids:
            assert ("question", question, lang) in kinds
        for level in ["under_2", "emergency", "urgent", "home_care", "monitor", "no_action"]:
            assert ("outcome", level, lang) in kinds


@pytest.mark.parametrize("kind, name, lang, text", MESSAGES, ids=[f"{k}-{n}-{l}" for k, n, l, _ in MESSAGES])
def test_message_fits_its_budget(kind, name, lang, text):
    info = sms_info(text)
    assert info.segments <= MAX_SEGMENTS[kind], (
        f"{kind} {name} ({lang}) takes {info.segments} segments "
        f"({info.units} {info.encoding} units), budget {MAX_SEGMENTS[kind]}:\n{text}"
    )
    assert "{" not in text and "}" not in text  # every placeholder filled


def test_outcome_messages_carry_what_triage_md_requires():
    proto = triage.current_protocol()
    sites = triage.testing_text("es")
    for level in proto.levels:
        for lang in ("es", "en"):
            text = triage.outcome_text(level, lang)
            assert triage.testing_text(lang) in text
            assert triage.restart_text(lang) in text
            assert "COVID" in triage.restart_text(lang)
    assert "55 5658 1111" in sites  # Locatel, from city.yml
    assert "911" in triage.outcome_text("emergency", "es")
    assert "911" in triage.outcome_text("under_2", "es")
    assert "Locatel" in triage.outcome_text("urgent", "es")
    assert "911" in triage.consent_text("es") and "diagnóstico" in triage.consent_text("es")


@pytest.mark.parametrize("question", ["emergency_signs", "symptoms", "risk_conditions", "exposure", "test"])
@pytest.mark.parametrize("lang", ["es", "en"])
def test_questions_list_every_option_with_its_number(question, lang):
    text = triage.question_text(question, lang)
    lines = text.split("\n")
    for option in triage.current_protocol().question(question).options:
        assert f"{option.number} {option.label[lang]}" in lines

