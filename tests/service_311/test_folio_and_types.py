import pytest

from actions.folio import find_folio
from actions.service_types import service_from_intent, service_from_text
from common import citypack


@pytest.mark.parametrize(
    "text, folio",
    [
        ("¿cómo va mi reporte 311-000042?", "311-000042"),
        ("status of 311-123456 please", "311-123456"),
        ("mi folio es 311 42", "311-000042"),
        ("reporte 31100", None),
        ("311000042", "311-000042"),
        ("311-000000", None),
        ("hola", None),
        ("", None),
    ],
)
def test_find_folio(text, folio):
    assert find_folio(text) == folio


def test_every_catalogue_code_has_its_report_intent():
    for code in citypack.service_codes():
        assert service_from_intent(f"report_{code}") == code
    assert service_from_intent("report_problem") is None
    assert service_from_intent("greet") is None


@pytest.mark.parametrize(
    "text, code",
    [
        ("luminaria", "alumbrado"),
        ("un bache", "bache"),
        ("Pothole", "bache"),
        ("semaforo", "semaforo"),
        ("un grafiti", "grafiti"),
        ("no sé", None),
        # Two services named: don't guess.
        ("bache y basura", None),
    ],
)
def test_service_from_text(text, code):
    assert service_from_text(text) == code


def test_catalogue_has_the_fourteen_services():
    assert len(citypack.service_codes()) == 14
    for service in citypack.services():
        assert service["name"]["es"] and service["name"]["en"] and service["agency"]
