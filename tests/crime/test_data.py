"""The crime part of the city pack is complete and consistent."""
from __future__ import annotations

import re

import pytest

from actions.crime import data
from actions.crime.validators import VALIDATORS, ValidationError
from common import citypack

ONLINE = ["robo_celular", "robo_vehiculo", "robo_autopartes", "robo_objetos",
          "extravio_documentos", "fraude", "dano_propiedad", "amenazas"]
NEVER_ONLINE = ["danger_now", "kidnapping", "homicide", "sexual_violence",
                "family_violence", "weapons", "injuries", "violence"]


def test_the_eight_online_types_and_eight_never_online_categories():
    assert data.online_type_codes() == ONLINE
    assert sorted(data.never_online_codes()) == sorted(NEVER_ONLINE)
    assert data.never_online_codes()[0] == "danger_now"  # the most urgent instruction first


@pytest.mark.parametrize("crime_type", ONLINE)
def test_each_type_has_names_and_well_formed_facts(crime_type):
    spec = data.pack()["online_types"][crime_type]
    assert spec["name"]["es"] and spec["name"]["en"]
    facts = data.facts_for(crime_type)
    fields = [f["field"] for f in facts]
    assert len(fields) == len(set(fields))
    assert {"when", "place", "description"} <= set(fields)
    for fact in facts:
        assert fact["validator"] in VALIDATORS, fact
        assert isinstance(fact["required"], bool)
        assert fact["question"]["es"] and fact["question"]["en"]
        if fact["validator"] == "choice":
            assert fact["options"]


def test_imei_and_vin_help_say_where_to_find_them():
    facts = {f["field"]: f for f in data.facts_for("robo_celular") + data.facts_for("robo_vehiculo")}
    assert "*#06#" in facts["imei"]["help"]["es"] and "*#06#" in facts["imei"]["help"]["en"]
    assert "caja" in facts["imei"]["help"]["es"] and "box" in facts["imei"]["help"]["en"]
    assert "17" in facts["vin"]["help"]["es"] and "tarjeta de circulación" in facts["vin"]["help"]["es"]


def test_required_details_of_the_design():
    def fields(t):
        return {f["field"] for f in data.facts_for(t)}
    assert {"phone_brand", "phone_model", "imei", "phone_number", "carrier"} <= fields("robo_celular")
    assert {"plate", "vehicle_brand", "vehicle_model", "vehicle_year", "vehicle_color", "vin"} <= fields("robo_vehiculo")
    assert {"plate", "parts_taken"} <= fields("robo_autopartes")
    assert {"fraud_method", "amount", "payment_date", "bank"} <= fields("fraude")
    threat = {f["field"]: f for f in data.facts_for("amenazas")}
    assert threat["imminent_harm"]["escalate_to"] == "danger_now"


@pytest.mark.parametrize("category", NEVER_ONLINE)
def test_instructions_use_the_city_lines(category):
    spec = data.pack()["never_online"][category]
    lines = citypack.city()["lines"]
    assert spec["lines"] and spec["lines"][0] == "emergency"
    for lang in ("es", "en"):
        text = data.localized(spec["instruction"], lang)
        assert "{" not in text and "}" not in text
        for line in spec["lines"]:
            assert lines[line]["phone"] in text, (category, line, lang)
    assert spec["detect"]["es"] and spec["detect"]["en"]


def test_phone_numbers_are_not_written_into_the_texts():
    # They come from city.yml, so a change of number is made in one place.
    raw = open(citypack._pack_dir() / "crime_types.yml", encoding="utf-8").read()
    for line in citypack.city()["lines"].values():
        if line["phone"] != "911":  # "911" also appears in prose ("el 911")
            assert line["phone"] not in raw


def test_every_validation_code_has_both_texts():
    for code, texts in data.pack()["validation_errors"].items():
        assert texts["es"] and texts["en"], code
        assert ValidationError(code).hint("en")


def test_every_word_list_item_is_text():
    # YAML reads bare yes/no/on/off as booleans; a list entry must stay a string.
    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                assert isinstance(key, str), path + [key]
                walk(value, path + [key])
        elif isinstance(node, list):
            for item in node:
                assert isinstance(item, (str, dict)), (path, item)
                walk(item, path)
    walk(data.pack(), [])


def test_no_list_entry_is_unmatchable():
    # An entry whose folded form is empty would silently match nothing.
    from actions.crime.matching import both_languages, phrase_regex
    pack = data.pack()
    lists = [both_languages(c["detect"]) for c in pack["never_online"].values()]
    lists += [both_languages(g) for g in pack["word_groups"].values()]
    lists += [both_languages(g) for g in pack["classification"]["events"].values()]
    lists += [both_languages(g) for g in pack["classification"]["objects"].values()]
    for entries in lists:
        for entry in entries:
            if isinstance(entry, str):
                assert phrase_regex(entry) and re.compile(phrase_regex(entry)), entry
            else:
                assert all(g in pack["word_groups"] for g in entry["all"]), entry
