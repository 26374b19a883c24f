"""SMS segment counting: GSM-7 (160/153, extension chars cost 2) vs UCS-2 (70/67)."""
import pytest

from common.sms import GSM7, UCS2, is_gsm7, segment_count, sms_info, split


@pytest.mark.parametrize(
    "text, encoding, units, segments",
    [
        ("", GSM7, 0, 0),
        ("a" * 160, GSM7, 160, 1),
        ("a" * 161, GSM7, 161, 2),
        ("a" * 306, GSM7, 306, 2),  # 2 x 153
        ("a" * 307, GSM7, 307, 3),
        # Spanish letters that ARE in the GSM basic table.
        ("¿Qué señal? ¡Ñandú no, niño!", UCS2, 28, 1),  # 'ú' is not GSM: whole text UCS-2
        ("¿Qué señal? ¡Ñu, niño! é ü", GSM7, 26, 1),
        # Extension table: two septets each.
        ("€" * 80, GSM7, 160, 1),
        ("€" * 81, GSM7, 162, 2),
        ("a" * 159 + "[", GSM7, 161, 2),
        # UCS-2 limits.
        ("á" * 70, UCS2, 70, 1),
        ("á" * 71, UCS2, 71, 2),
        ("á" * 134, UCS2, 134, 2),
        ("á" * 135, UCS2, 135, 3),
        # One accent turns a 160-char GSM text into 3 UCS-2 segments.
        ("a" * 159 + "í", UCS2, 160, 3),
        # Characters outside the BMP take two UTF-16 units.
        ("😷" * 35, UCS2, 70, 1),
        ("😷" * 36, UCS2, 72, 2),
    ],
)
def test_encoding_units_and_segments(text, encoding, units, segments):
    info = sms_info(text)
    assert (info.encoding, info.units, info.segments) == (encoding, units, segments)
    assert segment_count(text) == segments


def test_gsm_alphabet_membership():
    assert is_gsm7("Hola, ¿cómo estás?") is False  # ó, á
    assert is_gsm7("Llama al 911. Niño, mañana, café, ¡ya!") is True
    assert is_gsm7("tab\there") is False  # tab is not in the GSM alphabet
    assert is_gsm7("\x1b") is False  # the escape itself is not text
    assert is_gsm7("{}[]~|^\\€") is True


def test_split_never_cuts_an_escape_pair():
    # 152 plain septets then "€" (2 septets) would straddle the 153 boundary.
    text = "a" * 152 + "€" + "b" * 10
    parts = split(text)
    assert parts == ["a" * 152, "€" + "b" * 10]
    assert "".join(parts) == text


def test_split_never_cuts_a_surrogate_pair():
    text = "á" * 66 + "😷" + "é" * 10  # emoji would straddle the 67-unit boundary
    parts = split(text)
    assert parts == ["á" * 66, "😷" + "é" * 10]


def test_split_parts_fit_their_limit():
    text = ("Mañana, ¿vendrás? " * 30).strip()  # á: UCS-2
    parts = split(text)
    assert "".join(parts) == text
    assert all(len(p.encode("utf-16-le")) // 2 <= 67 for p in parts)
    assert len(parts) == segment_count(text) == -(-len(text) // 67)
