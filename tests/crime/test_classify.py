"""Crime type classification and the decisive questions."""
from __future__ import annotations

import pytest

from actions.crime.classify import classify_crime, resolve_with_answer


@pytest.mark.parametrize("text, crime_type", [
    ("me robaron el celular", "robo_celular"),
    ("se robaron los espejos de mi coche", "robo_autopartes"),
    ("me hicieron un cargo que no reconozco", "fraude"),
    ("se robaron mi coche", "robo_vehiculo"),
    ("se me perdió la INE", "extravio_documentos"),
    ("me clonaron la tarjeta", "fraude"),
    ("me rayaron el coche", "dano_propiedad"),
    ("me amenazaron por Facebook", "amenazas"),
    ("se robaron la mochila de mi carro", "robo_objetos"),  # the car is where, not what
    ("robo de auto", "robo_vehiculo"),
])
def test_types(text, crime_type):
    result = classify_crime(text)
    assert result.crime_type == crime_type, result.why
    assert result.question is None and result.confidence >= 0.5 and result.why


@pytest.mark.parametrize("text", ["me robaron", "se llevaron mis cosas", "me robaron todo", "I was robbed"])
def test_what_was_taken_is_asked_when_not_said(text):
    result = classify_crime(text)
    assert result.crime_type is None and result.question == "what_taken", result.why
    assert "robo_celular" in result.candidates
    assert "celular" in result.question_text("es") and "phone" in result.question_text("en")


def test_answer_to_what_was_taken():
    first = classify_crime("me robaron")
    assert resolve_with_answer(first, "el celular").crime_type == "robo_celular"
    assert resolve_with_answer(first, "mi cartera").crime_type == "robo_objetos"
    assert resolve_with_answer(first, "las llantas del coche").crime_type == "robo_autopartes"
    assert resolve_with_answer(first, "my passport").crime_type == "extravio_documentos"
    unclear = resolve_with_answer(first, "pues no sé")
    assert unclear.crime_type is None and unclear.question == "what_taken"


def test_vehicle_or_its_parts():
    first = classify_crime("se robaron algo de mi coche")
    assert first.question == "vehicle_or_parts"
    assert resolve_with_answer(first, "el coche completo").crime_type == "robo_vehiculo"
    assert resolve_with_answer(first, "partes").crime_type == "robo_autopartes"
    assert resolve_with_answer(first, "los espejos").crime_type == "robo_autopartes"
    assert resolve_with_answer(first, "mi mochila que estaba adentro").crime_type == "robo_objetos"


def test_face_to_face_taking_asks_about_violence():
    first = classify_crime("me quitaron el celular en la calle")
    assert first.crime_type is None and first.question == "violence"
    assert first.candidates == ("robo_celular",)
    assert resolve_with_answer(first, "no, fue muy rápido").crime_type == "robo_celular"
    violent = resolve_with_answer(first, "sí")
    assert violent.crime_type is None and violent.safety.category == "violence"
    weapon = resolve_with_answer(first, "sí, traía una navaja")
    assert weapon.safety.category == "weapons"
    again = resolve_with_answer(first, "no sé")
    assert again.question == "violence" and again.crime_type is None


def test_pickpocketing_does_not_ask_about_violence():
    assert classify_crime("me quitaron el celular sin que me diera cuenta").crime_type == "robo_celular"


def test_lost_phone_is_not_a_crime_but_lost_documents_are_reportable():
    first = classify_crime("perdí mi celular")
    assert first.question == "stolen_or_lost"
    assert resolve_with_answer(first, "me lo robaron").crime_type == "robo_celular"
    lost = resolve_with_answer(first, "se me perdió")
    assert lost.crime_type is None and lost.note == "lost_not_a_crime" and lost.question is None
    assert classify_crime("perdí mi pasaporte").crime_type == "extravio_documentos"


def test_never_online_gets_no_type():
    result = classify_crime("me asaltaron con pistola y me quitaron el celular")
    assert result.crime_type is None and result.question is None
    assert result.safety is not None and result.safety.category == "weapons"


def test_no_cue_asks_what_happened():
    result = classify_crime("hola, quiero hacer una denuncia")
    assert result.question == "what_happened" and result.crime_type is None
    assert resolve_with_answer(result, "me robaron el celular").crime_type == "robo_celular"
