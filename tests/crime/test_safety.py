"""The safety check: danger and never-online situations, and ordinary theft that must pass."""
from __future__ import annotations


import pytest

from actions.crime.safety import check_safety
from common import citypack


@pytest.mark.parametrize("text, category", [
    # The phrasings named in the brief.
    ("me asaltaron con pistola", "weapons"),
    ("traía un cuchillo", "weapons"),
    ("mi pareja me golpeó", "family_violence"),
    ("me están siguiendo", "danger_now"),
    ("me quieren secuestrar", "kidnapping"),
    ("me pegó mi esposo", "family_violence"),
    ("abusaron de mí", "sexual_violence"),
    ("lo mataron", "homicide"),
    ("me amenazó con una navaja", "weapons"),
    # Without accents, with typos and slang.
    ("me asaltaron con pistla", "weapons"),
    ("traia un cuchiyo", "weapons"),
    ("me golpiaron bien feo", "violence"),
    ("ME ESTAN SIGUIENDO!!!", "danger_now"),
    ("my husband hits me", "family_violence"),
    ("they robbed me at gunpoint", "weapons"),
])
def test_danger_is_detected_with_its_category(text, category):
    result = check_safety(text)
    assert result is not None, text
    assert result.category == category, (text, result.categories)


@pytest.mark.parametrize("text", [
    "me robaron el celular en el metro",
    "se me perdió la INE",
    "me clonaron la tarjeta",
    "me robaron el celular, no hubo violencia",
    "me volaron el cel en el micro",
    "me rayaron el carro, el carro quedó todo golpeado",
    "someone stole my phone but nobody was hurt",
    "quiero saber cómo va mi denuncia",
    "",
])
def test_ordinary_situations_pass(text):
    assert check_safety(text) is None, check_safety(text)


def test_the_dented_car_exception_does_not_hide_an_injured_person():
    assert check_safety("en el coche me dejaron golpeado") is not None
    assert check_safety("el carro quedó golpeado") is None


def test_a_negation_does_not_hide_other_danger():
    result = check_safety("no hubo violencia pero traía pistola")
    assert result is not None and result.category == "weapons"


def test_family_violence_instruction_gives_911_and_the_womens_line():
    lines = citypack.city()["lines"]
    result = check_safety("mi pareja me golpeó")
    for lang in ("es", "en"):
        text = result.instruction(lang)
        assert lines["emergency"]["phone"] in text
        assert lines["women"]["phone"] in text and lines["women"]["name"] in text
        assert "{" not in text
    assert result.lines[:2] == ("emergency", "women")
    assert result.instruction("es") != result.instruction("en")


def test_danger_now_says_call_911_first():
    result = check_safety("se están metiendo a mi casa, ayúdenme")
    assert result.call_emergency_now
    assert result.instruction("es").count("911") >= 1
    assert result.instructions("en")[0] == result.instruction("en")


def test_several_categories_are_reported_most_urgent_first():
    result = check_safety("me asaltaron con pistola y estoy sangrando")
    assert result.categories[0] == "weapons"
    assert {"weapons", "injuries", "violence"} <= set(result.categories)
    assert len(result.instructions("es")) == len(result.categories)


def test_typo_tolerance_is_one_letter_only():
    from actions.crime.matching import within_one_edit
    assert within_one_edit("pistla", "pistola") and within_one_edit("pitsola", "pistola")
    assert not within_one_edit("bolados", "biolado")  # two edits apart
    assert check_safety("me secuestarron a mi hermano") is not None  # swapped letters
    assert check_safety("los carros pasan volados por la calle") is None
    assert check_safety("me robaron en el puesto ambulante") is None
