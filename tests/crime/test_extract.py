"""Facts read from a resident's first message."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytz

from actions.crime.extract import extract_facts

CDMX = pytz.timezone("America/Mexico_City")
NOW = CDMX.localize(dt.datetime(2026, 11, 18, 15, 0))
YESTERDAY = dt.date(2026, 11, 17)


def test_the_metro_example():
    text = "me robaron el celular en el metro Pino Suárez ayer como a las 7"
    facts = extract_facts(text, NOW)
    assert facts["crime_type"] == "robo_celular"
    assert facts["place"] == "metro Pino Suárez"
    assert facts["date"] == YESTERDAY
    # A bare "a las 7": read as 19:00 (the latest reading already past) and flagged.
    assert facts["time"] == dt.time(19, 0)
    assert facts["time_ambiguous"] is True
    assert facts["time_alternatives"] == [dt.time(7, 0)]
    assert facts["description"] == text
    # Nothing else is invented: no brand, model, plate, amount, alcaldía...
    assert set(facts) == {
        "description", "classification", "crime_type", "confidence", "when", "date", "time",
        "time_ambiguous", "time_alternatives", "place",
    }


def test_car_parts_with_plate_colonia_and_relative_place():
    text = "se robaron los espejos de mi coche afuera de mi casa en la colonia Roma anoche, placas ABC-123-D"
    facts = extract_facts(text, NOW)
    assert facts["crime_type"] == "robo_autopartes"
    assert facts["place"] == "afuera de mi casa en la colonia Roma"
    assert facts["colonia"] == "Roma"
    assert facts["plate"] == "ABC-123-D"
    assert (facts["date"], facts["part_of_day"]) == (YESTERDAY, "night")
    assert "time" not in facts


def test_corner_brand_and_model():
    facts = extract_facts("me robaron mi iPhone 13 Pro en Insurgentes y Reforma hoy en la mañana", NOW)
    assert facts["place"] == "Insurgentes y Reforma"
    assert (facts["phone_brand"], facts["phone_model"]) == ("Apple", "iPhone 13 Pro")
    assert facts["date"] == NOW.date() and facts["part_of_day"] == "morning"


def test_english_message():
    facts = extract_facts("my Samsung Galaxy A54 was stolen at Zocalo station yesterday around 7pm", NOW)
    assert facts["crime_type"] == "robo_celular"
    assert facts["place"] == "Zocalo station"
    assert (facts["date"], facts["time"], facts["time_ambiguous"]) == (YESTERDAY, dt.time(19, 0), False)
    assert (facts["phone_brand"], facts["phone_model"]) == ("Samsung", "Galaxy A54")


def test_fraud_amount_and_date():
    facts = extract_facts("me hicieron un cargo que no reconozco de $3,500 el 3 de noviembre", NOW)
    assert facts["crime_type"] == "fraude"
    assert facts["amount"].value == Decimal("3500.00")
    assert facts["date"] == dt.date(2026, 11, 3)
    assert "place" not in facts and "plate" not in facts


def test_alcaldia_only_when_it_is_one():
    facts = extract_facts("me robaron la moto en la calle Hidalgo en Iztapalapa el sábado pasado", NOW)
    assert facts["alcaldia"] == "Iztapalapa"
    assert facts["place"] == "calle Hidalgo en Iztapalapa"
    station = extract_facts("me robaron el celular en el metro Cuauhtémoc", NOW)
    assert "alcaldia" not in station  # a metro station, not the alcaldía
    assert station["place"] == "metro Cuauhtémoc"


def test_times_and_numbers_are_not_read_as_plates_or_money():
    facts = extract_facts("se llevaron las 2 llantas de mi carro el 3 de noviembre del 2025 a las 14:30", NOW)
    assert "plate" not in facts and "amount" not in facts
    assert facts["time"] == dt.time(14, 30)
    assert facts["crime_type"] == "robo_autopartes"


def test_ambiguous_message_carries_the_question():
    facts = extract_facts("me robaron ayer en el mercado de Jamaica", NOW)
    assert "crime_type" not in facts and facts["question"] == "what_taken"
    assert facts["place"] == "mercado de Jamaica"
    assert facts["date"] == YESTERDAY


def test_never_online_story_is_not_collected():
    facts = extract_facts("mi esposo me pegó ayer en la casa", NOW)
    assert facts["never_online"] == "family_violence"
    assert "place" not in facts and "date" not in facts and "crime_type" not in facts


def test_future_time_is_reported_not_guessed():
    facts = extract_facts("me van a robar el coche mañana", NOW)
    assert facts.get("when_error") == "when_future" and "date" not in facts
