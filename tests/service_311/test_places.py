"""Locations: keep the usable part of what residents wrote, refuse what a crew can't find."""
import pytest

from actions.places import (
    ALCALDIA_UNKNOWN,
    alcaldia_in_location,
    extract_location,
    is_usable_location,
    match_alcaldia,
)


@pytest.mark.parametrize(
    "message, expected",
    [
        ("hay un bache enorme en Insurgentes Sur 1602, col. Crédito Constructor",
         "Insurgentes Sur 1602, col. Crédito Constructor"),
        ("there's a pothole on Insurgentes Sur 1602, col. Crédito Constructor",
         "Insurgentes Sur 1602, col. Crédito Constructor"),
        ("fuga de agua en Eje 5 Sur y Tlalpan desde ayer", "Eje 5 Sur y Tlalpan"),
        ("hay un arbol caido en av universidad 1200 col xoco", "av universidad 1200 col xoco"),
        ("bache en la calle 5 de mayo 20 centro", "calle 5 de mayo 20 centro"),
        ("the light at Madero and Bolívar, Centro has been out for days", "Madero and Bolívar, Centro"),
        # No preposition before the address: it starts at the street word.
        ("se fundió la luminaria de Av. Universidad 1200, col. Xoco, alcaldía Benito Juárez",
         "Av. Universidad 1200, col. Xoco, alcaldía Benito Juárez"),
        ("el semáforo de Insurgentes y Viaducto está apagado, alcaldía Benito Juárez", "Insurgentes y Viaducto"),
    ],
)
def test_location_is_taken_from_the_first_message(message, expected):
    assert extract_location(message) == expected


@pytest.mark.parametrize(
    "message",
    [
        "hay una fuga en mi calle",
        "hay un bache aquí",
        "the street light on my corner has been out for days",
        "no pasa el camión de la basura desde hace una semana",
        "hay un bache enorme de 1 metro",
        "",
        None,
    ],
)
def test_vague_or_missing_places_give_nothing(message):
    assert extract_location(message) is None


@pytest.mark.parametrize(
    "text, usable",
    [
        ("Insurgentes Sur 1602", True),
        ("insurgentes sur 1602 col credito constructor", True),
        ("Madero esquina Bolívar", True),
        ("frente al oxxo de calle Durango", True),
        ("aquí", False),
        ("en mi casa", False),
        ("mi calle", False),
        ("no sé", False),
        ("😀😀😀", False),
        ("x" * 400, False),
    ],
)
def test_usable_location(text, usable):
    assert is_usable_location(text) is usable


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Benito Juárez", "Benito Juárez"),
        ("benito juarez", "Benito Juárez"),
        ("en la alcaldía cuauhtemoc", "Cuauhtémoc"),
        ("Iztapalpa", "Iztapalapa"),
        ("GAM", "Gustavo A. Madero"),
        ("Alvaro obregon", "Álvaro Obregón"),
        ("no sé", ALCALDIA_UNKNOWN),
        ("don't know", ALCALDIA_UNKNOWN),
        ("Springfield", None),
        ("", None),
    ],
)
def test_match_alcaldia(text, expected):
    assert match_alcaldia(text) == expected


def test_alcaldia_only_counts_when_named_as_such():
    assert alcaldia_in_location("Av. Universidad 1200, alcaldía Coyoacán") == "Coyoacán"
    assert alcaldia_in_location("Insurgentes Sur 1602, col. Crédito Constructor, Benito Juárez") == "Benito Juárez"
    # A street named like an alcaldía is not the alcaldía.
    assert alcaldia_in_location("Calzada de Tlalpan 200, col. Portales") is None


def test_alcaldia_named_anywhere_in_the_message():
    from actions.places import alcaldia_named

    assert alcaldia_named("el semáforo de Insurgentes y Viaducto está apagado, alcaldía Benito Juárez") == "Benito Juárez"
    assert alcaldia_named("hay un bache en Calzada de Tlalpan 200") is None
