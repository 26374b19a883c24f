import pytest

from common.language import detect_language


@pytest.mark.parametrize(
    "text, language",
    [
        ("hay un bache enorme en Insurgentes Sur 1602, col. Crédito Constructor", "es"),
        ("¿cómo va mi reporte 311-000042?", "es"),
        ("no pasa el camion de la basura desde hace una semana", "es"),
        ("sí", "es"),
        ("hola", "es"),
        ("there's a pothole on Insurgentes Sur 1602", "en"),
        ("what is the status of my request 311-000042", "en"),
        ("yes", "en"),
        ("hi", "en"),
        # Says nothing about the language: the conversation keeps its own.
        ("Insurgentes Sur 1602", None),
        ("1", None),
        ("no", None),
        ("ok", None),
        ("", None),
        ("😀", None),
    ],
)
def test_detect_language(text, language):
    assert detect_language(text) == language


@pytest.mark.parametrize("place", ["Cuauhtémoc", "Benito Juárez", "Álvaro Obregón", "Calle Durango 35, col. Roma Norte"])
def test_place_names_do_not_switch_the_language(place):
    assert detect_language(place) is None
