"""The questionnaire's logic: facts of the first message kept, only what is missing
asked, answers validated, safety exits, corrections (actions/crime/draft.py)."""
from __future__ import annotations

import datetime as dt

import pytest
import pytz

from actions.crime import draft as d
from common import crime_report

CDMX = pytz.timezone("America/Mexico_City")
NOW = CDMX.localize(dt.datetime(2026, 12, 3, 10, 0))  # a Thursday
METRO = "me robaron el celular en el metro Pino Suárez ayer como a las 7"


def fill(draft: d.Draft, answers: dict, lang: str = "es") -> tuple[d.Draft, list]:
    """Answer each question from `answers` (by field or step kind) until none is left."""
    asked = []
    for _ in range(40):
        step = d.next_step(draft)
        if step is None:
            return draft, asked
        key = step.field if step.kind == d.FACT else step.kind
        asked.append(key)
        outcome = d.answer(draft, step, answers[key], lang, NOW)
        assert outcome.ok, (key, answers[key], outcome.hint)
        draft = outcome.draft
    raise AssertionError("the questions never end")


def test_the_metro_sentence_asks_only_what_is_missing():
    start = d.start(METRO, NOW)
    assert start.ok and start.draft.crime_type == "robo_celular"
    draft, asked = fill(start.draft, {
        "phone_brand": "Samsung", "phone_model": "Galaxy A54", "imei": "no lo tengo",
        "phone_number": "55 1234 5678", "carrier": "Telcel", "when_ampm": "De la noche (19:00)",
        "alcaldia": "Cuauhtémoc",
    })
    # Place, date, hour and the account came from the sentence: never asked.
    assert asked == ["phone_brand", "phone_model", "imei", "phone_number", "carrier", "when_ampm", "alcaldia"]
    facts, unknown = draft.filing_facts()
    assert facts["when"] == {"date": "2026-12-02", "time": "19:00", "part_of_day": None, "approximate": True}
    assert facts["place"] == "metro Pino Suárez"
    assert facts["description"] == METRO
    assert facts["phone_number"] == "+525512345678" and facts["carrier"] == "telcel"
    assert unknown == ["imei"]


def test_morning_reading_of_the_hour():
    draft = d.start(METRO, NOW).draft
    draft, _ = fill(draft, {"phone_brand": "x1", "phone_model": "y1", "imei": "490154203237518",
                            "phone_number": "5512345678", "carrier": "bait", "when_ampm": "en la mañana",
                            "alcaldia": "no sé"})
    assert draft.facts["when"]["time"] == "07:00" and draft.facts["imei"] == "490154203237518"
    assert "alcaldia" in draft.unknown  # a resident in the metro may not know the alcaldía


def test_everything_in_one_english_message():
    text = ("my Samsung Galaxy A54 was stolen at Zocalo station, alcaldía Cuauhtémoc, yesterday around 7pm, "
            "IMEI 490154203237518, Telcel line")
    draft = d.start(text, NOW).draft
    assert draft.crime_type == "robo_celular"
    draft, asked = fill(draft, {"phone_number": "55 1234 5678"}, "en")
    assert asked == ["phone_number"]
    assert draft.facts["phone_brand"] == "Samsung" and draft.facts["imei"] == "490154203237518"
    assert draft.facts["carrier"] == "telcel" and draft.facts["alcaldia"] == "Cuauhtémoc"


def test_invalid_answers_get_the_validators_hint_and_are_asked_again():
    draft = d.start(METRO, NOW).draft
    for field, answer in (("phone_brand", "Motorola"), ("phone_model", "G84")):
        draft = d.answer(draft, d.next_step(draft), answer, "es", NOW).draft
    step = d.next_step(draft)
    assert step.field == "imei"
    bad = d.answer(draft, step, "490154203237519", "es", NOW)  # one digit wrong: Luhn fails
    assert not bad.ok and "no es válido" in bad.hint
    assert d.next_step(bad.draft).field == "imei"
    short = d.answer(draft, step, "49015420", "en", NOW)
    assert "15 digits" in short.hint


def test_a_required_fact_cannot_be_skipped():
    draft = d.start(METRO, NOW).draft
    outcome = d.answer(draft, d.next_step(draft), "no sé", "es", NOW)
    assert not outcome.ok and "Necesito este dato" in outcome.hint


def test_dates_in_the_future_are_refused():
    draft = d.start("me robaron el celular en la calle Durango", NOW).draft
    assert draft.crime_type == "robo_celular" or draft.question
    draft.crime_type = "robo_celular"
    draft.facts.update(phone_brand="a", phone_model="b", phone_number="+525512345678", carrier="telcel")
    draft.unknown.append("imei")
    step = d.next_step(draft)
    assert step.field == "when"
    future = d.answer(draft, step, "mañana a las 8 de la noche", "es", NOW)
    assert not future.ok and "todavía no llega" in future.hint
    ok = d.answer(draft, step, "anoche como a las 8", "es", NOW)
    assert ok.ok and ok.draft.facts["when"]["time"] == "20:00" and ok.draft.facts["when"]["date"] == "2026-12-02"


def test_only_a_day_asks_for_the_time_and_dont_know_keeps_the_day():
    draft = d.start("se robaron mi coche el martes de la calle", NOW).draft
    assert draft.crime_type == "robo_vehiculo"
    assert draft.when_pending["kind"] == d.WHEN_TIME
    draft.facts.update(plate="ABC-123-D", vehicle_brand="Nissan", vehicle_model="Versa", vehicle_year=2019,
                       vehicle_color="gris")
    draft.unknown.append("vin")
    draft.skipped += ["insurer", "policy_number"]
    step = d.next_step(draft)
    assert step.kind == d.WHEN_TIME
    later = d.answer(draft, step, "a las 11 de la noche", "es", NOW)
    assert later.draft.facts["when"] == {"date": "2026-12-01", "time": "23:00", "part_of_day": "night", "approximate": False}
    unknown = d.answer(draft, step, "no sé", "es", NOW)
    assert unknown.draft.facts["when"]["date"] == "2026-12-01" and unknown.draft.facts["when"]["time"] is None


def test_an_old_date_is_questioned():
    draft = d.start("me robaron el celular el 3 de marzo de 2019 a las 14:00", NOW).draft
    assert draft.when_pending["kind"] == d.WHEN_OLD
    step = d.Step(d.WHEN_OLD, field="when")
    text, buttons = d.question(draft, step, "es")
    assert "más de 5 años" in text and "2019" in text
    assert d.answer(draft, step, "sí", "es", NOW).draft.facts["when"]["date"] == "2019-03-03"
    again = d.answer(draft, step, "no", "es", NOW).draft
    assert "when" not in again.facts and again.when_pending is None


@pytest.mark.parametrize(
    "first, answers, crime_type",
    [
        ("me robaron", ["el celular"], "robo_celular"),
        ("se llevaron mis cosas", ["mi mochila con la laptop"], "robo_objetos"),
        ("se metieron a mi carro", ["partes del vehículo"], "robo_autopartes"),
        ("perdí mi cartera", ["me la robaron"], "robo_objetos"),
        ("I want to report a crime", ["someone stole my car"], "robo_vehiculo"),
        ("me quitaron el celular en la calle", ["no"], "robo_celular"),
    ],
)
def test_one_or_two_short_questions_decide_the_type(first, answers, crime_type):
    draft = d.start(first, NOW).draft
    assert draft.crime_type is None
    for answer in answers:
        outcome = d.answer(draft, d.next_step(draft), answer, "es", NOW)
        assert outcome.safety is None
        draft = outcome.draft
    assert draft.crime_type == crime_type


def test_the_decisive_question_has_buttons():
    draft = d.start("se llevaron mis cosas", NOW).draft
    text, buttons = d.question(draft, d.next_step(draft), "es")
    assert text.startswith("¿Qué te robaron") and ("Celular", "Celular") in buttons


@pytest.mark.parametrize(
    "first, answer, category",
    [
        ("me quitaron el celular en la calle", "sí, me amenazó con un cuchillo", "weapons"),
        ("me quitaron el celular en la calle", "sí", "violence"),
        ("me robaron", "a mi hijo", "kidnapping"),
    ],
)
def test_violence_in_an_answer_ends_the_questionnaire(first, answer, category):
    draft = d.start(first, NOW).draft
    outcome = d.answer(draft, d.next_step(draft), answer, "es", NOW)
    assert outcome.safety is not None and outcome.safety.category == category
    assert not outcome.ok


def test_danger_in_the_first_message_starts_nothing():
    outcome = d.start("me asaltaron con pistola", NOW)
    assert outcome.safety.category == "weapons" and not outcome.draft.texts


def test_imminent_threat_escalates_to_911():
    draft = d.start("me amenazaron por WhatsApp ayer en la noche en mi casa", NOW).draft
    assert draft.crime_type == "amenazas"
    assert draft.facts["threat_channel"] == "messages"  # read from the message, not asked
    step = d.next_step(draft)
    assert step.field == "imminent_harm"
    outcome = d.answer(draft, step, "sí", "es", NOW)
    assert outcome.safety.category == "danger_now"
    assert "911" in outcome.safety.instruction("es")


def test_losing_an_object_is_not_a_crime():
    draft = d.start("perdí mi cartera", NOW).draft
    outcome = d.answer(draft, d.next_step(draft), "se me perdió", "es", NOW)
    assert outcome.note and "no es un delito" in outcome.note


@pytest.mark.parametrize(
    "text, crime_type, expected",
    [
        ("me hicieron un fraude por WhatsApp de 5000 pesos", "fraude", {"fraud_method": "phone_call", "amount": {"value": "5000.00", "currency": "MXN"}}),
        ("rompieron el vidrio de mi local, la reparación cuesta $3,500", "dano_propiedad", {"estimated_cost": {"value": "3500.00", "currency": "MXN"}}),
        ("se robaron los espejos de mi coche placas ABC-123-D", "robo_autopartes", {"plate": "ABC-123-D"}),
        ("me robaron mi INE en el metro Hidalgo", "extravio_documentos", {"lost_or_stolen": "stolen"}),
    ],
)
def test_type_facts_read_from_the_first_message(text, crime_type, expected):
    draft = d.start(text, NOW).draft
    assert draft.crime_type == crime_type
    for key, value in expected.items():
        assert draft.facts[key] == value


def test_optional_facts_take_no_for_an_answer():
    draft = d.start("se robaron mi coche anoche afuera de mi casa en la colonia Roma", NOW).draft
    draft.facts.update(plate="ABC-123-D", vehicle_brand="Nissan", vehicle_model="Versa", vehicle_year=2019,
                       vehicle_color="gris")
    draft.unknown.append("vin")
    step = d.next_step(draft)
    assert step.field == "insurer"
    assert d.answer(draft, step, "no", "es", NOW).draft.skipped == ["insurer"]
    assert d.answer(draft, step, "GNP", "es", NOW).draft.facts["insurer"] == "GNP"


def test_corrections_by_name_or_number():
    draft = d.start(METRO, NOW).draft
    draft, _ = fill(draft, {"phone_brand": "Samsung", "phone_model": "Galaxy A54", "imei": "no lo tengo",
                            "phone_number": "55 1234 5678", "carrier": "Telcel", "when_ampm": "de la noche",
                            "alcaldia": "Cuauhtémoc"})
    fields = d.fields_to_correct(draft)
    assert fields[0] == "crime_type" and "when" in fields and "description" in fields
    assert d.correction_field(draft, "la hora está mal") == "when"
    assert d.correction_field(draft, "las placas") is None  # not a fact of a phone theft
    assert d.correction_field(draft, "the model") == "phone_model"
    assert d.correction_field(draft, "3") == fields[2]
    assert d.correction_field(draft, "99") is None
    cleared = d.clear(draft, "when")
    assert d.next_step(cleared).field == "when"
    corrected = d.answer(cleared, d.next_step(cleared), "ayer a las 21:30", "es", NOW).draft
    assert corrected.facts["when"]["time"] == "21:30" and d.next_step(corrected) is None
    retyped = d.clear(draft, "crime_type")
    assert retyped.crime_type is None and "phone_brand" not in retyped.facts
    assert retyped.facts["place"] == "metro Pino Suárez"  # common facts stay


def test_summary_lines_are_plain_words():
    draft = d.start(METRO, NOW).draft
    draft, _ = fill(draft, {"phone_brand": "Samsung", "phone_model": "Galaxy A54", "imei": "no lo tengo",
                            "phone_number": "55 1234 5678", "carrier": "Telcel", "when_ampm": "de la noche",
                            "alcaldia": "Cuauhtémoc"})
    lines = {field: shown for field, _label, shown in d.summary(draft, "es")}
    assert lines["when"] == "miércoles 2 de diciembre de 2026, 19:00 (aprox.)"
    assert lines["carrier"] == "Telcel" and lines["imei"] == "No lo sé"
    english = {field: shown for field, _label, shown in d.summary(draft, "en")}
    assert english["when"] == "Wednesday, December 2, 2026, 19:00 (approx.)"
    assert english["crime_type"] == crime_report.type_name("robo_celular", "en")


def test_the_draft_survives_a_slot_round_trip():
    draft = d.start(METRO, NOW).draft
    assert d.Draft.from_slot(draft.to_slot()) == draft
    assert d.Draft.from_slot(None) is None and d.Draft.from_slot({"x": 1}) is None


def test_a_car_parked_outside_the_house_is_not_danger_now():
    # "esta* afuera de mi casa" used to read "estacionado afuera de mi casa" as someone outside now.
    outcome = d.start("se robaron mi coche que estaba estacionado afuera de mi casa anoche", NOW)
    assert outcome.safety is None and outcome.draft.crime_type == "robo_vehiculo"
    assert d.start("hay alguien que está afuera de mi casa", NOW).safety.category == "danger_now"
