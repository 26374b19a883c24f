"""The safety gate (components/crime_safety.py) on every message, with the trained model:
every danger phrasing of the crime held-out rounds becomes `safety_alert`, and the
other services' own phrasings (311, COVID-19, identity...) do not."""
from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
import yaml

from actions.crime.safety import check_safety
from components.crime_safety import about_a_person, only_about_things, should_defer
from tests.crime.heldout import ROUNDS, load

ROOT = Path(__file__).resolve().parents[2]
_ANNOTATION = re.compile(r"\[([^\]]*)\]\([^)]*\)")
# Other services' phrasings that may still read as danger (at most this share).
MAX_FALSE_ALARMS = 0.005


# ------------------------------------------------------------- the rule itself


def test_a_confident_311_intent_keeps_an_animal_sentence():
    result = check_safety("la alcantarilla huele a muerto y está tapada")
    intent = {"name": "report_drenaje", "confidence": 0.97}
    assert should_defer(intent, result, ["report_drenaje"], 0.9, ["danger_now"], "la alcantarilla huele a muerto")
    assert not should_defer({"name": "report_drenaje", "confidence": 0.6}, result, ["report_drenaje"], 0.9, [], "")
    assert not should_defer({"name": "report_crime", "confidence": 0.99}, result, ["report_drenaje"], 0.9, [], "")


def test_weapons_and_danger_now_are_never_left_to_another_intent():
    result = check_safety("hay un perro muerto y un tipo con pistola afuera")
    assert not should_defer({"name": "report_animal", "confidence": 0.99}, result, ["report_animal"], 0.9,
                            ["danger_now", "kidnapping", "sexual_violence", "weapons"], "")


@pytest.mark.parametrize("text", ["encontré a un hombre muerto en la calle", "there is a dead man in the street",
                                  "my friend is injured", "quedé herida y estoy herida"])
def test_a_dead_or_injured_person_is_always_an_alert(text):
    result = check_safety(text)
    assert about_a_person(text, result)
    assert not only_about_things(text, result)


@pytest.mark.parametrize("text", ["un michi muerto en medio del camellón", "hay palomas muertas en la plaza",
                                  "el fresno de la esquina está muerto", "a dead dog in the street"])
def test_deaths_said_only_of_animals_or_trees_are_not_alerts(text):
    assert only_about_things(text, check_safety(text))


def test_an_animal_does_not_hide_a_person():
    text = "perros callejeros atacando a la gente"
    assert not only_about_things(text, check_safety(text))
    assert not only_about_things("mataron a mi perro a balazos", check_safety("mataron a mi perro a balazos"))


# ---------------------------------------------------------- with the model


@pytest.fixture(scope="module")
def parse(model_path):
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)

    def run(text: str) -> dict:
        return asyncio.run(agent.parse_message(text))

    return run


def _danger_phrasings():
    for name in ROUNDS:
        for category, texts in load(name)["danger"].items():
            for text in texts:
                yield category, text


def _other_services_phrasings():
    files = sorted((ROOT / "data" / "nlu").glob("*.yml")) + sorted((ROOT / "tests" / "nlu").glob("*.yml"))
    for path in files:
        for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
            if "intent" not in block or block["intent"] == "report_crime":
                continue
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    yield block["intent"], _ANNOTATION.sub(r"\1", line[2:])


@pytest.mark.slow
def test_every_danger_phrasing_becomes_safety_alert(parse):
    missed, total = [], 0
    for category, text in _danger_phrasings():
        total += 1
        parsed = parse(text)
        categories = [e["value"] for e in parsed["entities"] if e["entity"] == "safety_category"]
        if parsed["intent"]["name"] != "safety_alert" or not categories:
            missed.append((category, text, parsed["intent"]))
    print(f"danger phrasings -> safety_alert: {total - len(missed)}/{total}")
    assert total >= 150 and missed == []


@pytest.mark.slow
def test_other_services_phrasings_are_not_taken_for_danger(parse):
    flagged, total = [], 0
    for intent, text in _other_services_phrasings():
        total += 1
        if parse(text)["intent"]["name"] == "safety_alert":
            flagged.append((intent, text))
    print(f"other services' phrasings taken for danger: {len(flagged)}/{total}: {flagged}")
    assert total >= 1000
    assert len(flagged) / total <= MAX_FALSE_ALARMS, flagged
