"""The triage protocol: every rule, every boundary, early stops, bad input.

The expected levels come from the table in shared/design/triage.md, written
out independently below (`oracle`), while `assess` only reads the rules from
citypack/cdmx/triage.yml.
"""
from __future__ import annotations

import copy
import itertools

import pytest
import yaml

from actions import triage
from actions.triage import ContradictoryAnswer, InvalidAnswer, Protocol, ProtocolError, assess, next_question
from common.settings import get_settings

QUESTIONS = ["age", "emergency_signs", "symptoms", "risk_conditions", "exposure", "test"]
SYMPTOMS = ["fever", "cough", "short_breath", "sore_throat", "aches", "fatigue", "headache",
            "taste_smell", "congestion", "nausea", "diarrhea"]
RISKS = ["diabetes", "hypertension", "obesity", "heart", "lung", "kidney", "immunosuppressed", "pregnant"]


def oracle(a: dict) -> str:
    """triage.md's table, first match wins."""
    if a["age"] < 2:
        return "under_2"
    if a["emergency_signs"]:
        return "emergency"
    if a["symptoms"] and (a["risk_conditions"] or a["age"] >= 65):
        return "urgent"
    if a["symptoms"]:
        return "home_care"
    if a["exposure"] in ("yes", "unknown") or a["test"] == "positive":
        return "monitor"
    return "no_action"


def answers(**overrides):
    base = {"age": 34, "emergency_signs": False, "symptoms": [], "risk_conditions": [],
            "exposure": "no", "test": "none"}
    base.update(overrides)
    return base


def raw_protocol() -> dict:
    with open(get_settings().city_pack_dir / "triage.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


# --- the file itself ---------------------------------------------------------

def test_protocol_file_has_the_documented_shape():
    proto = triage.current_protocol()
    assert proto.question_ids == QUESTIONS
    assert proto.levels == ["under_2", "emergency", "urgent", "home_care", "monitor", "no_action"]
    assert [o.code for o in proto.question("symptoms").options if o.code != "none"] == SYMPTOMS
    assert [o.code for o in proto.question("risk_conditions").options if o.code != "none"] == RISKS
    assert proto.question("exposure").codes == ["yes", "no", "unknown"]
    assert proto.question("test").codes == ["positive", "negative", "pending", "none"]
    assert proto.version and proto.version == raw_protocol()["version"]


def test_result_records_the_protocol_version():
    assert assess(answers()).protocol_version == raw_protocol()["version"]


# --- every rule with complete answers ------------------------------------------

CASES = [
    # (description, answers, level)
    ("newborn", answers(age=0), "under_2"),
    ("age 1", answers(age=1, symptoms=["fever"]), "under_2"),
    ("age 1 beats emergency (first match)", answers(age=1, emergency_signs=True), "under_2"),
    ("age 2 is not under 2", answers(age=2), "no_action"),
    ("age 2 with symptom", answers(age=2, symptoms=["cough"]), "home_care"),
    ("emergency, no symptoms listed", answers(emergency_signs=True), "emergency"),
    ("emergency beats urgent", answers(age=80, emergency_signs=True, symptoms=["fever"], risk_conditions=["lung"]), "emergency"),
    ("symptom + risk", answers(symptoms=["fever"], risk_conditions=["diabetes"]), "urgent"),
    ("symptom, age 65 counts as risk", answers(age=65, symptoms=["fever"]), "urgent"),
    ("symptom, age 64 is not a risk", answers(age=64, symptoms=["fever"]), "home_care"),
    ("symptom, age 120", answers(age=120, symptoms=["headache"]), "urgent"),
    ("symptom, no risk", answers(symptoms=["taste_smell"]), "home_care"),
    ("symptom + positive test, no risk", answers(symptoms=["cough"], test="positive"), "home_care"),
    ("risk but no symptom, no exposure", answers(risk_conditions=["heart"]), "no_action"),
    ("age 65 no symptom", answers(age=65), "no_action"),
    ("no symptom, contact yes", answers(exposure="yes"), "monitor"),
    ("no symptom, contact unknown", answers(exposure="unknown"), "monitor"),
    ("no symptom, no contact, test positive", answers(test="positive"), "monitor"),
    ("no symptom, no contact, test negative", answers(test="negative"), "no_action"),
    ("no symptom, no contact, test pending", answers(test="pending"), "no_action"),
    ("no symptom, no contact, no test", answers(test="none"), "no_action"),
    ("no symptom, contact yes, test negative", answers(exposure="yes", test="negative"), "monitor"),
    ("risk + contact, no symptom", answers(risk_conditions=["pregnant"], exposure="yes"), "monitor"),
]


@pytest.mark.parametrize("description, given, level", CASES, ids=[c[0] for c in CASES])
def test_levels(description, given, level):
    result = assess(given)
    assert (result.level, result.complete, result.next_question) == (level, True, None)
    assert oracle(given) == level  # the table above agrees with triage.md
    assert result.reasons[0] == f"rule {level}"


@pytest.mark.parametrize("code", SYMPTOMS)
def test_each_symptom_alone(code):
    assert assess(answers(symptoms=[code])).level == "home_care"
    assert assess(answers(symptoms=[code], risk_conditions=["obesity"])).level == "urgent"


@pytest.mark.parametrize("code", RISKS)
def test_each_risk_condition(code):
    assert assess(answers(symptoms=["fever"], risk_conditions=[code])).level == "urgent"
    assert assess(answers(symptoms=[], risk_conditions=[code])).level == "no_action"


def test_reasons_say_why():
    result = assess(answers(age=70, symptoms=["fever", "cough"]))
    assert result.level == "urgent"
    assert "symptoms: fever, cough" in result.reasons
    assert any("age 70" in r for r in result.reasons)


# --- every combination, and stopping early ------------------------------------

DOMAIN = {
    "age": [0, 1, 2, 30, 64, 65, 90],
    "emergency_signs": [True, False],
    "symptoms": [[], ["fever"], ["taste_smell", "cough"]],
    "risk_conditions": [[], ["lung"], ["pregnant", "diabetes"]],
    "exposure": ["yes", "no", "unknown"],
    "test": ["positive", "negative", "pending", "none"],
}


def all_complete_answers():
    for values in itertools.product(*(DOMAIN[q] for q in QUESTIONS)):
        yield dict(zip(QUESTIONS, values))


def run_dialogue(full: dict):
    """Ask what assess asks for, answering from `full`, until complete."""
    given, asked = {}, []
    while True:
        result = assess(given)
        if result.complete:
            return result, asked
        question = result.next_question
        assert question not in asked, f"asked {question} twice"
        asked.append(question)
        given[question] = full[question]


def test_every_combination_matches_the_table_and_stops_early():
    count = 0
    for full in all_complete_answers():
        expected = oracle(full)
        assert assess(full).level == expected, full
        result, asked = run_dialogue(full)
        assert result.level == expected, (full, asked)
        # questions come in protocol order, possibly skipping some
        assert asked == sorted(asked, key=QUESTIONS.index)
        count += 1
    assert count == 7 * 2 * 3 * 3 * 3 * 4


@pytest.mark.parametrize(
    "full, asked",
    [
        (answers(age=1), ["age"]),
        (answers(emergency_signs=True), ["age", "emergency_signs"]),
        (answers(age=70, symptoms=["fever"]), ["age", "emergency_signs", "symptoms"]),
        (answers(symptoms=["fever"]), ["age", "emergency_signs", "symptoms", "risk_conditions"]),
        (answers(exposure="yes"), ["age", "emergency_signs", "symptoms", "exposure"]),
        (answers(exposure="unknown"), ["age", "emergency_signs", "symptoms", "exposure"]),
        (answers(), ["age", "emergency_signs", "symptoms", "exposure", "test"]),
        (answers(test="positive"), ["age", "emergency_signs", "symptoms", "exposure", "test"]),
    ],
)
def test_stops_as_soon_as_certain(full, asked):
    assert run_dialogue(full)[1] == asked


@pytest.mark.parametrize(
    "given, level, ask",
    [
        ({}, None, "age"),
        ({"age": 1}, "under_2", None),
        ({"age": 0, "symptoms": ["fever"]}, "under_2", None),
        ({"age": 34}, None, "emergency_signs"),
        ({"age": 34, "emergency_signs": True}, "emergency", None),
        ({"age": 34, "emergency_signs": False}, None, "symptoms"),
        ({"age": 34, "emergency_signs": False, "symptoms": ["fever"]}, None, "risk_conditions"),
        ({"age": 65, "emergency_signs": False, "symptoms": ["fever"]}, "urgent", None),
        ({"age": 34, "emergency_signs": False, "symptoms": []}, None, "exposure"),
        ({"age": 34, "emergency_signs": False, "symptoms": [], "exposure": "no"}, None, "test"),
        ({"age": 34, "emergency_signs": False, "symptoms": [], "exposure": "no", "test": "pending"}, "no_action", None),
        # the emergency answer alone is not enough: a child under 2 gets under_2 first
        ({"emergency_signs": True}, None, "age"),
        # None means "not asked" (an unset slot)
        ({"age": 34, "emergency_signs": None}, None, "emergency_signs"),
        # keys that are not questions are ignored
        ({"age": 34, "emergency_signs": True, "alcaldia": "Coyoacán"}, "emergency", None),
    ],
)
def test_partial_answers(given, level, ask):
    result = assess(given)
    assert (result.level, result.complete, result.next_question) == (level, level is not None, ask)
    assert next_question(given) == ask


def test_incomplete_result_has_no_level_even_if_a_later_rule_holds():
    # home_care's condition holds only if risk_conditions is [], unknown yet
    result = assess({"age": 30, "emergency_signs": False, "symptoms": ["cough"]})
    assert result.level is None and not result.complete


# --- invalid and contradictory answers ---------------------------------------------

@pytest.mark.parametrize(
    "question, value",
    [
        ("age", "abc"), ("age", -1), ("age", "-3"), ("age", 121), ("age", 500), ("age", True),
        ("age", float("nan")), ("age", [34]), ("age", "34 años"),
        ("emergency_signs", "sí"), ("emergency_signs", 1), ("emergency_signs", "maybe"),
        ("symptoms", "fever"), ("symptoms", ["fever", "flu"]), ("symptoms", ["FEVER"]), ("symptoms", [1]),
        ("risk_conditions", ["smoker"]), ("risk_conditions", ["fever"]),
        ("exposure", "maybe"), ("exposure", True), ("exposure", ""),
        ("test", "yes"), ("test", "positivo"),
    ],
)
def test_invalid_answers_raise(question, value):
    with pytest.raises(InvalidAnswer) as info:
        assess(answers(**{question: value}))
    assert info.value.question == question


def test_invalid_answer_never_yields_a_level_even_when_later_rules_would_stop():
    with pytest.raises(InvalidAnswer):
        assess({"age": 1, "symptoms": ["covid"]})


@pytest.mark.parametrize("age, expected", [(0, 0), (1, 1), ("34", 34), (34.0, 34), (1.5, 1), (120, 120)])
def test_age_normalisation(age, expected):
    assert triage.validate_answer("age", age) == expected


@pytest.mark.parametrize("question", ["symptoms", "risk_conditions"])
def test_none_mixed_with_codes_is_a_contradiction(question):
    code = "fever" if question == "symptoms" else "lung"
    with pytest.raises(ContradictoryAnswer) as info:
        assess(answers(**{question: ["none", code]}))
    assert info.value.reason == "contradiction" and info.value.question == question


def test_none_alone_means_empty_and_duplicates_collapse():
    assert triage.validate_answer("symptoms", ["none"]) == []
    assert triage.validate_answer("symptoms", ("cough", "fever", "cough")) == ["fever", "cough"]
    assert assess(answers(symptoms=["none"], exposure="yes")).level == "monitor"


def test_yes_no_accepts_its_codes():
    assert triage.validate_answer("emergency_signs", "yes") is True
    assert triage.validate_answer("emergency_signs", "no") is False


# --- the rules really are data -----------------------------------------------

def test_changing_the_file_changes_the_outcome():
    data = raw_protocol()
    urgent = next(r for r in data["rules"] if r["level"] == "urgent")
    urgent["when"]["all"][1]["any"][1] = {"gte": ["age", 60]}
    home = next(r for r in data["rules"] if r["level"] == "home_care")
    home["when"]["all"][2] = {"lt": ["age", 60]}
    data["version"] = "test-60"
    proto = Protocol(data, phones={"emergency": "911", "locatel": "1"})
    result = assess(answers(age=62, symptoms=["fever"]), proto)
    assert (result.level, result.protocol_version) == ("urgent", "test-60")
    assert assess(answers(age=62, symptoms=["fever"])).level == "home_care"


def test_rule_order_is_first_match():
    data = raw_protocol()
    data["rules"] = [r for r in data["rules"] if r["level"] != "under_2"] + [
        r for r in data["rules"] if r["level"] == "under_2"
    ]
    proto = Protocol(data, phones={"emergency": "911", "locatel": "1"})
    assert assess(answers(age=1, emergency_signs=True), proto).level == "emergency"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["rules"][0].update(when={"lower": ["age", 2]}), "unknown operator"),
        (lambda d: d["rules"][0].update(when={"lt": ["height", 2]}), "names no question"),
        (lambda d: d["rules"][1].update(when={"eq": ["emergency_signs", "maybe"]}), "not an answer"),
        (lambda d: d["rules"][4]["when"]["all"][1]["any"][0].update({"in": ["exposure", [True]]}), "not an answer"),
        (lambda d: d["questions"][4]["options"][0].update(code=True), "must be a string"),
        (lambda d: d["outcomes"].pop("monitor"), "outcome monitor"),
        (lambda d: d["outcomes"]["urgent"].update(en=""), "no en text"),
        (lambda d: d["outcomes"]["urgent"].update(es="Llama al {doctor}"), "unknown placeholder"),
        (lambda d: d["rules"].append(copy.deepcopy(d["rules"][0])), "two rules"),
    ],
)
def test_malformed_protocol_is_rejected(mutate, message):
    data = raw_protocol()
    mutate(data)
    with pytest.raises(ProtocolError, match=message):
        Protocol(data, phones={"emergency": "911", "locatel": "1"})


def test_gap_in_the_rules_is_reported_not_guessed():
    data = raw_protocol()
    data["rules"] = [r for r in data["rules"] if r["level"] != "no_action"]
    data["outcomes"].pop("no_action")
    proto = Protocol(data, phones={"emergency": "911", "locatel": "1"})
    with pytest.raises(ProtocolError, match="no rule matches"):
        assess(answers(), proto)
