"""Reading residents' replies: numbers, lists, yes/no words, sentences, ages."""
from __future__ import annotations

import pytest

from actions import triage
from actions.triage import ContradictoryAnswer, InvalidAnswer
from actions.triage_answers import (
    fold,
    is_restart,
    parse_age,
    parse_answer,
    parse_choice,
    parse_choices,
    parse_consent,
    symptoms_from_text,
    word_matches,
)


def check(question, text, expected):
    assert parse_answer(question, text) == expected, text


# --- ages --------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, age",
    [
        ("34", 34), (" 34 ", 34), ("tengo 34 años", 34), ("Tengo 34 anos", 34), ("34años", 34),
        ("8 meses", 0), ("11 meses", 0), ("18 meses", 1), ("3 semanas", 0), ("un año", 1),
        ("1 año y medio", 1), ("2 años y 3 meses", 2), ("mi hijo de 5", 5), ("mi bebé de 3 años", 3),
        ("bebé", 0), ("es un bebe", 0), ("menor de 2 años", 0), ("recién nacido", 0),
        ("treinta y cuatro", 34), ("veintiún años", 21), ("noventa y nueve", 99), ("ciento dos", 102),
        ("cien", 100), ("0", 0), ("1", 1), ("2", 2), ("64", 64), ("65", 65), ("120", 120),
        ("I'm 34", 34), ("thirty-four", 34), ("18 months", 1), ("a year old", 1), ("baby", 0),
        ("one hundred and five", 105), ("1.5 años", 1),
    ],
)
def test_ages(text, age):
    assert parse_age(text) == age
    check("age", text, age)


@pytest.mark.parametrize(
    "text, reason",
    [
        ("abc", "not_understood"), ("", "not_understood"), ("sí", "not_understood"),
        ("-5", "out_of_range"), ("tengo -3 años", "out_of_range"), ("121", "out_of_range"),
        ("150 años", "out_of_range"), ("nací en 1990", "out_of_range"),
        ("34 y 35", "ambiguous"), ("tengo 34 años y mi hijo 5", "ambiguous"),
    ],
)
def test_bad_ages(text, reason):
    with pytest.raises(InvalidAnswer) as info:
        parse_age(text)
    assert (info.value.reason, info.value.question) == (reason, "age")


# --- yes / no ----------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, value",
    [
        ("1", True), ("2", False), ("sí", True), ("si", True), ("Sí.", True), ("SIII", True),
        ("simón", True), ("simon", True), ("claro", True), ("yes", True), ("yep", True),
        ("no", False), ("NO", False), ("nop", False), ("nel", False), ("nope", False),
        ("ninguna", False), ("nada de eso", False), ("no, nada de eso", False), ("none", False),
        ("alguna", True),
    ],
)
def test_yes_no_words(text, value):
    check("emergency_signs", text, value)


EMERGENCY_SIGNS = [
    # severe trouble breathing
    "no puedo respirar", "me ahogo", "mi papá se ahoga", "I can't breathe",
    # persistent chest pain or pressure
    "me duele el pecho", "tengo presión en el pecho", "chest pain",
    # new confusion
    "está confundido", "desorientada", "he is confused",
    # cannot wake or stay awake
    "no despierta", "no se mantiene despierto", "can't stay awake",
    # pale, grey or blue lips, face or nail beds
    "tiene los labios morados", "uñas azules", "blue lips",
]


@pytest.mark.parametrize("text", EMERGENCY_SIGNS)
def test_each_emergency_sign_described_in_words_is_yes(text):
    assert parse_choice("emergency_signs", text) is True
    assert triage.assess({"age": 40, "emergency_signs": parse_choice("emergency_signs", text)}).level == "emergency"


@pytest.mark.parametrize("text", ["no tengo dolor de pecho", "no me duele el pecho", "I don't have chest pain"])
def test_denied_emergency_sign_is_no(text):
    assert parse_choice("emergency_signs", text) is False


@pytest.mark.parametrize(
    "question, text, reason",
    [
        ("emergency_signs", "3", "out_of_range"),
        ("emergency_signs", "0", "out_of_range"),
        ("emergency_signs", "tal vez", "not_understood"),
        ("emergency_signs", "", "not_understood"),
        ("emergency_signs", "1 2", "ambiguous"),
        ("emergency_signs", "no, me duele el pecho", "ambiguous"),
        ("exposure", "4", "out_of_range"),
        ("exposure", "sí y no", "ambiguous"),
        ("test", "sí", "not_understood"),  # yes, but which result?
        ("test", "5", "out_of_range"),
        ("test", "positiva y negativa", "ambiguous"),
    ],
)
def test_unreadable_single_answers(question, text, reason):
    with pytest.raises(InvalidAnswer) as info:
        parse_answer(question, text)
    assert info.value.reason == reason and info.value.question == question


# --- single choice -------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, code",
    [
        ("1", "yes"), ("sí", "yes"), ("creo que sí", "yes"), ("sí, mi hermano tiene covid", "yes"),
        ("2", "no"), ("no", "no"), ("nadie", "no"), ("no estuve con nadie", "no"),
        ("3", "unknown"), ("no sé", "unknown"), ("no se", "unknown"), ("quién sabe", "unknown"),
        ("ni idea", "unknown"), ("no que yo sepa", "unknown"), ("don't know", "unknown"), ("maybe", "unknown"),
    ],
)
def test_exposure(text, code):
    check("exposure", text, code)


@pytest.mark.parametrize(
    "text, code",
    [
        ("1", "positive"), ("positiva", "positive"), ("sí, positiva", "positive"), ("salí positivo", "positive"),
        ("2", "negative"), ("salió negativa", "negative"), ("no salió positiva", "negative"),
        ("3", "pending"), ("estoy esperando el resultado", "pending"), ("waiting", "pending"),
        ("4", "none"), ("no", "none"), ("no me hice", "none"), ("no me he hecho ninguna", "none"),
        ("opción 4", "none"),
    ],
)
def test_test_result(text, code):
    check("test", text, code)


# --- multi-select --------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, codes",
    [
        ("1", ["fever"]), ("1,3,5", ["fever", "short_breath", "aches"]), ("1 3 5", ["fever", "short_breath", "aches"]),
        ("1, 3 y 5", ["fever", "short_breath", "aches"]), ("1 y 3", ["fever", "short_breath"]),
        ("el 1 y el 3", ["fever", "short_breath"]), ("uno y tres", ["fever", "short_breath"]),
        ("5,1,1", ["fever", "aches"]), ("10, 11", ["nausea", "diarrhea"]), ("1 and 2", ["fever", "cough"]),
        ("0", []), ("ninguno", []), ("Ninguno.", []), ("nada de eso", []), ("no, nada de eso", []),
        ("none", []), ("no", []), ("nop", []), ("estoy bien", []),
        ("tengo fiebre y tos", ["fever", "cough"]),
        ("me duele la cabeza y no huelo nada", ["headache", "taste_smell"]),
        ("calentura", ["fever"]), ("temperatura", ["fever"]), ("me falta el aire", ["short_breath"]),
        ("no huelo nada", ["taste_smell"]), ("no le siento sabor a la comida", ["taste_smell"]),
        ("tengo fiebre desde hace 2 días", ["fever"]),
        ("nada más tos", ["cough"]), ("no, solo tos", ["cough"]),
        ("no tengo fiebre pero sí tos", ["cough"]), ("tengo tos, no fiebre", ["cough"]),
        ("no tengo fiebre ni tos", []), ("sin fiebre", []), ("I don't have a fever", []),
        ("estoy cansado y con mocos", ["fatigue", "congestion"]),
        ("vomito y diarrea", ["nausea", "diarrhea"]),
        ("I have a fever and a sore throat", ["fever", "sore_throat"]),
        # typos and missing accents
        ("fievre y diarea", ["fever", "diarrhea"]), ("dolor de cabesa", ["headache"]),
        ("FIEBRE", ["fever"]), ("nausea", ["nausea"]), ("náusea", ["nausea"]), ("calentrua", ["fever"]),
    ],
)
def test_symptoms(text, codes):
    check("symptoms", text, codes)


@pytest.mark.parametrize(
    "text, codes",
    [
        ("asma", ["lung"]), ("EPOC", ["lung"]), ("embarazada", ["pregnant"]), ("estoy emabarazada", ["pregnant"]),
        ("diabético y presión alta", ["diabetes", "hypertension"]), ("hipertensión", ["hypertension"]),
        ("cáncer", ["immunosuppressed"]), ("tengo VIH", ["immunosuppressed"]), ("diálisis", ["kidney"]),
        ("1,8", ["diabetes", "pregnant"]), ("0", []), ("ninguna", []), ("no", []), ("estoy sana", []),
        ("sobrepeso y asma", ["obesity", "lung"]), ("del corazón", ["heart"]),
    ],
)
def test_risk_conditions(text, codes):
    check("risk_conditions", text, codes)


@pytest.mark.parametrize(
    "question, text",
    [
        ("symptoms", "0,1"), ("symptoms", "0 y 3"), ("symptoms", "ninguno, tos"), ("symptoms", "nada de eso, fiebre"),
        ("symptoms", "none, fever"), ("risk_conditions", "0,5"), ("risk_conditions", "ninguna, asma"),
    ],
)
def test_none_and_something_is_a_contradiction(question, text):
    with pytest.raises(ContradictoryAnswer) as info:
        parse_answer(question, text)
    assert info.value.reason == "contradiction"
    assert triage.retry_text(info.value, "es") == triage.message_text("contradiction", "es")


@pytest.mark.parametrize(
    "question, text, reason",
    [
        ("symptoms", "12", "out_of_range"), ("symptoms", "1,15", "out_of_range"), ("symptoms", "asdf", "not_understood"),
        ("symptoms", "", "not_understood"), ("symptoms", "sí", "not_understood"), ("risk_conditions", "9", "out_of_range"),
        ("risk_conditions", "fumo", "not_understood"),
    ],
)
def test_unreadable_lists(question, text, reason):
    with pytest.raises(InvalidAnswer) as info:
        parse_choices(question, text)
    assert info.value.reason == reason


def test_parsed_answers_feed_assess():
    replies = {"age": "tengo 70 años", "emergency_signs": "no", "symptoms": "tos y calentura"}
    given = {q: parse_answer(q, text) for q, text in replies.items()}
    assert triage.assess(given).level == "urgent"


# --- first message, consent, restart -------------------------------------------------

@pytest.mark.parametrize(
    "text, codes",
    [
        ("tengo fiebre y tos desde ayer", ["fever", "cough"]),
        ("Hola, creo que tengo covid, me duele la cabeza y no huelo nada", ["headache", "taste_smell"]),
        ("hola, quiero saber si tengo covid", []),
        ("no tengo fiebre pero me duele la garganta", ["sore_throat"]),
        ("ninguno", []),
        ("tengo 3 días con diarrea", ["diarrhea"]),
    ],
)
def test_symptoms_from_text(text, codes):
    assert symptoms_from_text(text) == codes


@pytest.mark.parametrize("text, accepted", [("1", True), ("sí", True), ("acepto", True), ("va", True),
                                            ("2", False), ("no", False), ("no acepto", False), ("I agree", True)])
def test_consent(text, accepted):
    assert parse_consent(text) is accepted


def test_consent_unreadable():
    with pytest.raises(InvalidAnswer):
        parse_consent("¿qué?")


@pytest.mark.parametrize("text, restart", [("COVID", True), ("covid", True), (" Reiniciar ", True),
                                           ("empezar de nuevo", True), ("tengo covid", False), ("1", False)])
def test_restart_keyword(text, restart):
    assert is_restart(text) is restart


# --- matching primitives -------------------------------------------------------------

def test_fold_and_word_matching():
    assert fold("Sí, ÑANDÚ’s") == "si, nandu's"
    assert word_matches("fievre", "fiebre") and word_matches("siii", "si")
    assert not word_matches("tos", "tez")  # short words must match exactly
    assert not word_matches("fiebre", "liebre")  # first letter must agree
    assert not word_matches("34", "35")
