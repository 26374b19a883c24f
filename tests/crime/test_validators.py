"""Validators for crime-report facts: IMEI, VIN, plates, amounts, phones, CURP, dates."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import pytz

from actions.crime import validators as v
from actions.crime.validators import ValidationError

CDMX = pytz.timezone("America/Mexico_City")
# A Wednesday afternoon in Mexico City.
NOW = CDMX.localize(dt.datetime(2026, 11, 18, 15, 0))
TODAY = NOW.date()
YESTERDAY = TODAY - dt.timedelta(days=1)


def code_of(fn, *args, **kwargs) -> str:
    with pytest.raises(ValidationError) as err:
        fn(*args, **kwargs)
    return err.value.code


# --- IMEI -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("490154203237518", "490154203237518"),  # the textbook example IMEI
    ("35-209900-176148-1", "352099001761481"),
    ("86 123404 567890 4", "861234045678904"),
    ("mi imei es 352099001761481", "352099001761481"),
    ("*#06# 490154203237518", "490154203237518"),
])
def test_imei_valid_is_normalised_to_15_digits(text, expected):
    assert v.validate_imei(text) == expected


@pytest.mark.parametrize("text, code, length", [
    ("35209900176148", "imei_length", 14),  # check digit missing
    ("3520990017614811", "imei_length", 16),
    ("352099001761482", "imei_checksum", None),  # last digit wrong
    ("490154203237581", "imei_checksum", None),  # two digits swapped
    ("35209900176148A", "imei_not_digits", None),
    ("no lo tengo", "imei_not_digits", None),
])
def test_imei_invalid_codes(text, code, length):
    with pytest.raises(ValidationError) as err:
        v.validate_imei(text)
    assert err.value.code == code
    if length is not None:
        assert err.value.params["length"] == length
        assert str(length) in err.value.hint("es")


def test_imei_hints_point_to_where_it_is():
    assert "caja" in ValidationError("imei_not_digits").hint("es")
    assert "box" in ValidationError("imei_not_digits").hint("en")


# --- VIN --------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("1M8GDM9AXKP042788", "1M8GDM9AXKP042788"),  # published example, check digit X
    ("1HGCM82633A004352", "1HGCM82633A004352"),  # published example
    ("11111111111111111", "11111111111111111"),
    ("3vwfe21c04m000001", "3VWFE21C04M000001"),  # made up, Mexican WMI, lower case
    ("3N1-CN7AD2-KL800123", "3N1CN7AD2KL800123"),
    ("mi NIV es 3N1CN7AD2KL800123", "3N1CN7AD2KL800123"),
])
def test_vin_valid(text, expected):
    assert v.validate_vin(text) == expected


def test_vin_check_digit_function():
    assert v.vin_check_digit("1M8GDM9A0KP042788") == "X"
    assert v.vin_check_digit("1HGCM82603A004352") == "3"


@pytest.mark.parametrize("text, code", [
    ("1M8GDM9A1KP042788", "vin_checksum"),  # wrong check digit
    ("1HGCM82633A004353", "vin_checksum"),  # last character changed
    ("3N1CN7AD2KL8O0123", "vin_bad_chars"),  # letter O for zero
    ("1M8GDM9AXKP04278", "vin_length"),
    ("1M8GDM9AXKP0427888", "vin_length"),
])
def test_vin_invalid(text, code):
    assert code_of(v.validate_vin, text) == code


def test_vin_outside_north_america_does_not_require_the_check_digit():
    # WMI "WVW" (Germany): position 9 is not a check digit there.
    assert v.validate_vin("WVWZZZ1JZXW000001") == "WVWZZZ1JZXW000001"
    assert not v.vin_check_digit_applies("WVWZZZ1JZXW000001")
    assert v.vin_check_digit_applies("3VWFE21C04M000001")


# --- Plates -----------------------------------------------------------------

@pytest.mark.parametrize("text, expected, fmt", [
    ("abc-123-d", "ABC-123-D", "private_car"),
    ("ABC 123 D", "ABC-123-D", "private_car"),
    ("mis placas son abc123d", "ABC-123-D", "private_car"),
    ("123abc", "123-ABC", "private_car_cdmx_old"),
    ("123-ABC", "123-ABC", "private_car_cdmx_old"),
    ("placa ABC-1234", "ABC-1234", "private_car_old"),
    ("AB 12345", "AB-12345", "private_truck"),
    ("12-AB-3C", "12-AB-3C", "federal"),
    ("a1b2c", "A1B2C", "other"),  # accepted as written; the dialogue reads it back
])
def test_plates_normalised(text, expected, fmt):
    plate = v.validate_plate(text)
    assert plate == expected
    assert v.plate_format(plate) == fmt


@pytest.mark.parametrize("text", ["hola", "12345", "ABCDEFG", "no me acuerdo", "A1"])
def test_plates_rejected(text):
    assert code_of(v.validate_plate, text) == "plate_format"


# --- Amounts ----------------------------------------------------------------

@pytest.mark.parametrize("text, value, currency", [
    ("$3,500", "3500.00", "MXN"),
    ("3500 pesos", "3500.00", "MXN"),
    ("como $3,500.50", "3500.50", "MXN"),
    ("$1.500", "1500.00", "MXN"),
    ("20 mil pesos", "20000.00", "MXN"),
    ("2.5 mil", "2500.00", "MXN"),
    ("100 dólares", "100.00", "USD"),
])
def test_amounts_in_digits(text, value, currency):
    amount = v.validate_amount(text)
    assert amount.value == Decimal(value)
    assert amount.currency == currency


@pytest.mark.parametrize("text, value", [
    ("tres mil quinientos", "3500.00"),
    ("como tres mil quinientos pesos", "3500.00"),
    ("mil pesos", "1000.00"),
    ("veinte mil", "20000.00"),
    ("three thousand five hundred", "3500.00"),
])
def test_amounts_in_words(text, value):
    pytest.importorskip("text_to_num")
    assert v.validate_amount(text).value == Decimal(value)


def test_amount_words_without_the_library_ask_for_digits(monkeypatch):
    monkeypatch.setattr(v, "alpha2digit", None)
    with pytest.raises(ValidationError) as err:
        v.validate_amount("tres mil quinientos")
    assert err.value.code == "amount_not_found"
    assert "3500" in err.value.hint("es") and "digits" in err.value.hint("en")
    assert v.validate_amount("3500").value == Decimal("3500.00")


@pytest.mark.parametrize("text, code", [
    ("0 pesos", "amount_not_positive"),
    ("no sé", "amount_not_found"),
    ("entre 3000 y 4000", "amount_several"),
])
def test_amounts_rejected(text, code):
    assert code_of(v.validate_amount, text) == code


# --- Phones -----------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("55 1234 5678", "+525512345678"),
    ("(55) 1234-5678", "+525512345678"),
    ("mi número es 5512345678", "+525512345678"),
    ("044 55 1234 5678", "+525512345678"),  # retired mobile prefix, still typed
    ("+52 1 55 1234 5678", "+525512345678"),  # retired "1" after the country code
    ("33 1234 5678", "+523312345678"),
    ("+1 415 555 2671", "+14155552671"),
])
def test_phones_to_e164(text, expected):
    assert v.validate_phone(text) == expected


@pytest.mark.parametrize("text", ["1234", "55 1234", "no tengo", "000 000 0000"])
def test_phones_rejected(text):
    assert code_of(v.validate_phone, text) == "phone_invalid"


# --- CURP -------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("GOMA850315HDFRRN02", "GOMA850315HDFRRN02"),  # made up, valid check digit
    ("lopm920704mdfprr03", "LOPM920704MDFPRR03"),
    ("mi curp es HEGJ010101HDFRRN04", "HEGJ010101HDFRRN04"),
])
def test_curp_valid(text, expected):
    assert v.validate_curp(text) == expected


@pytest.mark.parametrize("text, code", [
    ("GOMA850315HDFRRN09", "curp_checksum"),
    ("GOMA851315HDFRRN02", "curp_format"),  # month 13
    ("GOMA8503", "curp_format"),
])
def test_curp_invalid(text, code):
    assert code_of(v.validate_curp, text) == code


# --- Dates and times --------------------------------------------------------

def when(text, now=NOW, **kw):
    return v.parse_when(text, now, **kw)


def test_ayer_como_a_las_8_de_la_noche():
    w = when("ayer como a las 8 de la noche")
    assert (w.date, w.time) == (YESTERDAY, dt.time(20, 0))
    assert not w.hour_ambiguous and w.approximate and w.date_given
    assert w.datetime == CDMX.localize(dt.datetime(2026, 11, 17, 20, 0))


def test_el_sabado_pasado():
    w = when("el sábado pasado")
    assert w.date == dt.date(2026, 11, 14) and w.time is None


def test_weekday_said_on_that_weekday_means_a_week_ago():
    saturday = CDMX.localize(dt.datetime(2026, 11, 21, 12, 0))
    assert when("el sábado", saturday).date == dt.date(2026, 11, 14)


def test_hoy_en_la_manana():
    w = when("hoy en la mañana")
    assert (w.date, w.time, w.part_of_day) == (TODAY, None, "morning")


def test_anoche():
    w = when("anoche")
    assert (w.date, w.time, w.part_of_day) == (YESTERDAY, None, "night")


def test_hace_2_horas():
    w = when("hace 2 horas")
    assert (w.date, w.time) == (TODAY, dt.time(13, 0))
    assert when("hace dos horas").time == dt.time(13, 0)
    assert when("hace media hora").time == dt.time(14, 30)


def test_absolute_date_and_24h_time():
    w = when("el 3 de noviembre a las 14:30")
    assert (w.date, w.time, w.hour_ambiguous) == (dt.date(2026, 11, 3), dt.time(14, 30), False)


def test_absolute_date_without_year_is_the_most_recent_past_one():
    assert when("el 25 de diciembre").date == dt.date(2025, 12, 25)
    assert when("3/11").date == dt.date(2026, 11, 3)  # day first, as written in Mexico


def test_yesterday_around_7pm():
    w = when("yesterday around 7pm")
    assert (w.date, w.time, w.hour_ambiguous, w.approximate) == (YESTERDAY, dt.time(19, 0), False, True)


def test_bare_hour_with_a_day_takes_the_later_reading_and_says_so():
    w = when("ayer como a las 7")
    assert (w.date, w.time) == (YESTERDAY, dt.time(19, 0))
    assert w.hour_ambiguous and w.needs_confirmation
    assert [a.time() for a in w.alternatives] == [dt.time(7, 0)]


@pytest.mark.parametrize("now_hour, expected_date, expected_time, alternative", [
    (20, TODAY, dt.time(19, 0), (TODAY, dt.time(7, 0))),
    (15, TODAY, dt.time(7, 0), (YESTERDAY, dt.time(19, 0))),
    (6, YESTERDAY, dt.time(19, 0), (YESTERDAY, dt.time(7, 0))),
])
def test_bare_hour_alone_is_its_most_recent_past_occurrence(now_hour, expected_date, expected_time, alternative):
    now = CDMX.localize(dt.datetime(2026, 11, 18, now_hour, 0))
    w = when("a las 7", now)
    assert (w.date, w.time) == (expected_date, expected_time)
    assert w.hour_ambiguous and not w.date_given
    assert [(a.date(), a.time()) for a in w.alternatives] == [alternative]


def test_part_of_day_settles_the_hour():
    assert when("ayer a las 7 de la mañana").time == dt.time(7, 0)
    assert when("antier a las 11 de la noche").time == dt.time(23, 0)
    assert when("ayer a las 12 de la noche").time == dt.time(0, 0)
    assert when("ayer a la una de la tarde").time == dt.time(13, 0)
    assert when("anoche a las 10").time == dt.time(22, 0)


@pytest.mark.parametrize("text", ["mañana", "tomorrow", "hoy a las 9 de la noche", "hoy en la noche", "3/11/2027", "el 25 de diciembre de 2026"])
def test_future_is_rejected(text):
    assert code_of(v.parse_when, text, NOW) == "when_future"


def test_more_than_n_years_back_is_flagged_not_refused():
    w = when("el 3 de noviembre de 2019")
    assert w.date == dt.date(2019, 11, 3) and w.too_old and w.needs_confirmation
    assert not when("el 3 de noviembre de 2019", max_years=10).too_old
    assert not when("hace 4 años").too_old


@pytest.mark.parametrize("text, code", [
    ("asdf", "when_not_understood"),
    ("la semana pasada", "when_vague"),
    ("ayer a las 25:00", "when_bad_time"),
])
def test_when_errors(text, code):
    assert code_of(v.parse_when, text, NOW) == code
    assert ValidationError(code).hint("es") and ValidationError(code).hint("en")


def test_now_in_another_timezone_is_converted_to_city_time():
    utc_now = pytz.utc.localize(dt.datetime(2026, 11, 18, 3, 0))  # 21:00 on the 17th in CDMX
    assert when("hoy", utc_now).date == dt.date(2026, 11, 17)
    naive = dt.datetime(2026, 11, 18, 3, 0)  # naive: already city time
    assert when("hoy", naive).date == dt.date(2026, 11, 18)


def test_spans_point_into_the_original_text():
    text = "me robaron el celular ayer como a las 7"
    w = when(text)
    used = " ".join(text[s:e] for s, e in w.spans)
    assert "ayer" in used and "a las 7" in used and "celular" not in used


def test_validate_date_returns_the_day_only():
    assert v.validate_date("el 3 de noviembre a las 14:30", NOW) == dt.date(2026, 11, 3)


# --- Small validators and the wrapper ----------------------------------------

def test_year():
    assert v.validate_year("modelo 2019", NOW) == 2019
    assert v.validate_year("es un 18", NOW) == 2018
    assert v.validate_year("2027", NOW) == 2027  # next model year is on sale
    assert code_of(v.validate_year, "2030", NOW) == "year_invalid"
    assert code_of(v.validate_year, "1920", NOW) == "year_invalid"


def test_alcaldia():
    assert v.validate_alcaldia("en iztapalapa") == "Iztapalapa"
    assert v.validate_alcaldia("GAM") == "Gustavo A. Madero"
    assert v.validate_alcaldia("alvaro obregon") == "Álvaro Obregón"
    assert v.validate_alcaldia("La Magdalena Contreras") == "La Magdalena Contreras"
    assert code_of(v.validate_alcaldia, "Ecatepec") == "alcaldia_unknown"


@pytest.mark.parametrize("text, expected", [
    ("sí", True), ("si, claro", True), ("yes", True), ("simón", True),
    ("no", False), ("nel", False), ("no hubo nada", False), ("nope", False),
    ("no sé", None), ("not sure", None), ("a lo mejor", None), ("mmm", None),
])
def test_yes_no(text, expected):
    assert v.parse_yes_no(text) is expected


def test_choice():
    options = [
        {"value": "telcel", "words": ["telcel"], "label": {"es": "Telcel"}},
        {"value": "att", "words": ["at&t", "att"], "label": {"es": "AT&T"}},
        {"value": "other", "words": ["otra"], "label": {"es": "Otra"}},
    ]
    assert v.validate_choice("es de Telcel", options) == "telcel"
    assert v.validate_choice("AT&T", options) == "att"
    assert v.validate_choice("Unefon", options, allow_other=True) == "Unefon"
    assert code_of(v.validate_choice, "Unefon", options) == "choice_unknown"


def test_text_is_kept_verbatim():
    assert v.validate_text("  Me lo sacaron de la bolsa, ¡ni sentí!  ") == "Me lo sacaron de la bolsa, ¡ni sentí!"
    assert code_of(v.validate_text, " ") == "empty"


def test_validate_wrapper_reports_code_and_both_hints():
    ok = v.validate("imei", "490154203237518")
    assert ok.ok and ok.value == "490154203237518"
    bad = v.validate("imei", "490154203237519")
    assert not bad.ok and bad.code == "imei_checksum"
    assert bad.hint("es") != bad.hint("en") and bad.hint("en")
    assert v.validate("datetime", "ayer a las 8 de la noche", now=NOW).value.time == dt.time(20, 0)
