"""Check and normalise the facts a crime report needs.

Every validator takes what the resident typed and returns a normalised value
or raises `ValidationError` with a code; `ValidationError.hint(lang)` gives
the resident-facing explanation from crime_types.yml `validation_errors`.
`validate(kind, text)` wraps them for form code that prefers no exceptions.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import dateparser
import phonenumbers
import pytz
from stdnum import imei as stdnum_imei
from stdnum.exceptions import InvalidChecksum, ValidationError as StdnumError
from stdnum.mx import curp as stdnum_curp

from actions.crime import data
from actions.crime.matching import Matcher, both_languages
from common import citypack
from common.settings import get_settings

try:  # Spanish/English number words ("tres mil quinientos"); digits work without it.
    from text_to_num import alpha2digit
except ImportError:  # pragma: no cover - exercised only where the package is missing
    alpha2digit = None

DEFAULT_MAX_YEARS = 5


class ValidationError(ValueError):
    """A resident's answer that can't be used, with a code for the hint text."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code = code
        self.params = params

    def hint(self, lang: str = "es") -> str:
        return data.message("validation_errors", self.code, lang, **self.params)


def _require(text: Optional[str]) -> str:
    if text is None or not str(text).strip():
        raise ValidationError("empty")
    return str(text).strip()


# --- IMEI -----------------------------------------------------------------

def validate_imei(text: str) -> str:
    """15 digits with a valid Luhn check digit; separators are ignored."""
    raw = _require(text).replace("*#06#", " ")
    digits = "".join(re.findall(r"\d", raw))
    if not digits:
        raise ValidationError("imei_not_digits")
    # Letters mixed into the number (not just words around it) mean a typo.
    if re.search(r"\d[a-zA-Z]|[a-zA-Z]\d", raw):
        raise ValidationError("imei_not_digits")
    if len(digits) != 15:
        raise ValidationError("imei_length", length=len(digits))
    try:
        stdnum_imei.validate(digits)
    except InvalidChecksum:
        raise ValidationError("imei_checksum")
    except StdnumError:
        raise ValidationError("imei_not_digits")
    return digits


# --- VIN ------------------------------------------------------------------

_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9))),
    **dict(zip("JKLMN", range(1, 6))),
    "P": 7, "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10))),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_CHARS = re.compile(r"[A-HJ-NPR-Z0-9]{17}")


def vin_check_digit(vin: str) -> str:
    """The 9th-position check digit (49 CFR 565) of a 17-character VIN."""
    total = sum(_VIN_VALUES[ch] * w for ch, w in zip(vin.upper(), _VIN_WEIGHTS))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def vin_check_digit_applies(vin: str) -> bool:
    """The check digit is mandatory for North American VINs (WMI 1-5; Mexico is 3).

    Makers elsewhere (Europe, Japan, Korea...) may use position 9 freely, so
    a mismatch there is not an error. Mexico's fleet is mostly built in North
    America, where a wrong check digit almost always means a typo.
    """
    return vin[:1] in "12345"


def validate_vin(text: str) -> str:
    raw = _require(text).upper()
    exact = [t for t in re.findall(r"[A-Z0-9]+", raw) if len(t) == 17]
    vin = exact[0] if len(exact) == 1 else re.sub(r"[\s\-.]", "", raw)
    if len(vin) != 17:
        raise ValidationError("vin_length", length=len(vin))
    if not _VIN_CHARS.fullmatch(vin):
        raise ValidationError("vin_bad_chars")
    if vin_check_digit_applies(vin) and vin[8] != vin_check_digit(vin):
        raise ValidationError("vin_checksum")
    return vin


# --- Plates ---------------------------------------------------------------

# (format name, pattern over the compact plate, how to print it)
_PLATE_FORMATS: Tuple[Tuple[str, re.Pattern, str], ...] = (
    # NOM-001-SCT-2-2016 private car, the current CDMX plate: ABC-123-D
    ("private_car", re.compile(r"([A-Z]{3})(\d{3})([A-Z])"), "{}-{}-{}"),
    # Older CDMX private car: 123-ABC
    ("private_car_cdmx_old", re.compile(r"(\d{3})([A-Z]{3})"), "{}-{}"),
    # Older national private car: ABC-1234 / ABC-123
    ("private_car_old", re.compile(r"([A-Z]{3})(\d{4})"), "{}-{}"),
    ("private_car_old", re.compile(r"([A-Z]{3})(\d{3})"), "{}-{}"),
    # Private truck: AB-12345 / AB-1234
    ("private_truck", re.compile(r"([A-Z]{2})(\d{5})"), "{}-{}"),
    ("private_truck", re.compile(r"([A-Z]{2})(\d{4})"), "{}-{}"),
    # Federal public service: 12-AB-3C
    ("federal", re.compile(r"(\d{2})([A-Z]{2})(\d[A-Z])"), "{}-{}-{}"),
)
# Words that come with a plate in an answer ("mis placas son ABC 123 D").
_PLATE_FILLER = {
    "placa", "placas", "plaka", "plakas", "son", "es", "mi", "mis", "la", "las", "el", "numero", "de", "del",
    "con", "tiene", "trae", "the", "my", "plate", "plates", "is", "are", "license", "licence", "number",
    "cdmx", "df", "matricula", "y",
}


def plate_format(plate: str) -> str:
    """Name of the known format of a normalised plate, or 'other'."""
    compact = plate.replace("-", "")
    for name, rx, _ in _PLATE_FORMATS:
        if rx.fullmatch(compact):
            return name
    return "other"


def _format_plate(compact: str) -> Optional[str]:
    for _, rx, fmt in _PLATE_FORMATS:
        m = rx.fullmatch(compact)
        if m:
            return fmt.format(*m.groups())
    return None


def validate_plate(text: str) -> str:
    """Known Mexican formats are printed with hyphens (ABC-123-D, 123-ABC...).

    Other 5-8 character letter+digit plates (motorcycles, taxis, other
    states' series) are accepted as written, upper-cased and without
    separators: `plate_format()` then says 'other' so the dialogue can
    read it back for confirmation.
    """
    raw = fold_aligned(_require(text)).upper()
    words = [w for w in re.split(r"[^A-Z0-9]+", raw) if w and w.lower() not in _PLATE_FILLER]
    compact = "".join(words)
    formatted = _format_plate(compact)
    if formatted:
        return formatted
    if 5 <= len(compact) <= 8 and re.search(r"[A-Z]", compact) and re.search(r"\d", compact):
        return compact
    raise ValidationError("plate_format")


# Plates inside free text: only the unmistakable formats, with optional separators.
PLATE_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])(?:[A-Za-z]{3}[\s-]?\d{3}[\s-]?[A-Za-z]|\d{3}[\s-]?[A-Za-z]{3}|[A-Za-z]{3}[\s-]?\d{4})(?![A-Za-z0-9])"
)


# --- Amounts --------------------------------------------------------------

@dataclass(frozen=True)
class Amount:
    value: Decimal
    currency: str = "MXN"

    def __str__(self) -> str:
        return f"{self.value:,.2f} {self.currency}"


_USD = re.compile(r"\b(dolar(es)?|dollars?|usd|us\$|dls)\b")
_MULTIPLIER = re.compile(r"(\d+(?:[.,]\d+)?)\s*(mil|k|millones|millon|millions?|thousand)\b")
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d{1,3}(?:\.\d{3})+(?![\d,])|\d+(?:\.\d+)?")


def _number_value(token: str) -> Decimal:
    if "," in token:  # Mexican thousands separator: 3,500.50
        return Decimal(token.replace(",", ""))
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+", token):  # 3.500 written European-style
        return Decimal(token.replace(".", ""))
    return Decimal(token)


def validate_amount(text: str) -> Amount:
    """'$3,500', '3500 pesos', '20 mil', 'tres mil quinientos' -> Amount."""
    raw = fold_aligned(_require(text))
    currency = "USD" if _USD.search(raw) else "MXN"
    factors = {"mil": 1000, "k": 1000, "thousand": 1000, "millon": 10**6, "millones": 10**6, "million": 10**6, "millions": 10**6}

    def expand(m: re.Match) -> str:
        value = Decimal(m.group(1).replace(",", ".")) * factors[m.group(2)]
        return str(value.normalize().quantize(Decimal(1)) if value == value.to_integral() else value)

    s = _MULTIPLIER.sub(expand, raw)  # "2.5 mil" before number words turn "mil" into 1000
    if alpha2digit is not None:
        s = alpha2digit(s, "es")
        s = alpha2digit(s, "en")
    # alpha2digit turns "20 mil" into "20 1000"; join such pairs.
    s = re.sub(r"\b(\d+) (1000|1000000)\b", lambda m: str(int(m.group(1)) * int(m.group(2))), s)
    numbers = _NUMBER.findall(s)
    if not numbers:
        raise ValidationError("amount_not_found")
    values = {_number_value(n) for n in numbers}
    if len(values) > 1:
        raise ValidationError("amount_several")
    value = values.pop()
    if value <= 0:
        raise ValidationError("amount_not_positive")
    return Amount(value.quantize(Decimal("0.01")), currency)


# Amounts inside free text need a money marker, so times and plates are not read as money.
AMOUNT_IN_TEXT = re.compile(
    r"\$\s?\d[\d,.]*(?:\s*(?:mil|k)\b)?(?:\s*(?:pesos|mxn|dolares|dólares|dollars|usd))?"
    r"|\b\d[\d,.]*\s*(?:mil\s+)?(?:pesos|mxn|varos|dolares|dólares|dollars|usd)\b"
    r"|\b(?:(?:un|uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|diez|veinte|treinta|cuarenta|cincuenta|cien|ciento|"
    r"doscientos|trescientos|cuatrocientos|quinientos|seiscientos|setecientos|ochocientos|novecientos|mil|y|"
    r"once|doce|quince)\s+)+pesos\b",
    re.IGNORECASE,
)


# --- Phone numbers, CURP, years, text -------------------------------------

def validate_phone(text: str, region: Optional[str] = None) -> str:
    """A valid phone number in E.164 (+525512345678); region defaults to the city's."""
    raw = _require(text)
    region = region or citypack.city().get("phone_region", "MX")
    found = [m.number for m in phonenumbers.PhoneNumberMatcher(raw, region)]
    if found:
        number = found[0]
    else:
        digits = re.sub(r"[^\d+]", "", raw)
        # Dialling prefixes Mexico retired in 2019 are still typed: 044/045, 01, +52 1.
        digits = re.sub(r"^(?:044|045|01)(?=\d{10}$)", "", digits)
        digits = re.sub(r"^(\+?52)1(?=\d{10}$)", r"\1", digits)
        try:
            number = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            raise ValidationError("phone_invalid")
    if not phonenumbers.is_valid_number(number):
        raise ValidationError("phone_invalid")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def validate_curp(text: str) -> str:
    raw = _require(text).upper()
    exact = [t for t in re.findall(r"[A-Z0-9]+", raw) if len(t) == 18]
    candidate = exact[0] if len(exact) == 1 else raw
    try:
        return stdnum_curp.validate(candidate)
    except InvalidChecksum:
        raise ValidationError("curp_checksum")
    except StdnumError:
        raise ValidationError("curp_format")


def validate_year(text: str, now: Optional[dt.datetime] = None) -> int:
    """A vehicle model year: 4 digits, or 2 ('modelo 18'), up to next year."""
    raw = _require(text)
    this_year = _localize(now).year
    m = re.search(r"\b(19\d{2}|20\d{2})\b", raw)
    two_digit = re.findall(r"(?<![\d.,])'?(\d{2})(?![\d.,])", raw)
    if m:
        year = int(m.group(1))
    elif len(two_digit) == 1:  # "modelo 18", "es un 18"
        year = int(two_digit[0])
    else:
        raise ValidationError("year_invalid")
    if year < 100:
        year += 2000 if year <= (this_year + 1) % 100 else 1900
    if not 1950 <= year <= this_year + 1:
        raise ValidationError("year_invalid")
    return year


def validate_text(text: str) -> str:
    """Free text, kept verbatim (only outer spaces trimmed)."""
    value = _require(text)
    if len(value) < 2:
        raise ValidationError("text_too_short")
    return value


def validate_place(text: str) -> str:
    value = _require(text)
    if len(value) < 3:
        raise ValidationError("text_too_short")
    return value


@lru_cache(maxsize=None)
def _alcaldia_matcher() -> Matcher:
    city = citypack.city()
    names = {name: [name] for name in city.get("alcaldias", [])}
    for alias, name in (city.get("alcaldia_aliases") or {}).items():
        names.setdefault(name, []).append(alias)
    return Matcher(names)


def validate_alcaldia(text: str) -> str:
    """One of the city's alcaldías (aliases such as 'GAM' accepted), canonical spelling."""
    raw = _require(text)
    found = _alcaldia_matcher().labels(raw)
    if len(found) == 1:
        return next(iter(found))
    if len(found) > 1:  # "Magdalena Contreras" is inside "La Magdalena Contreras": keep the longest mention
        return max(found, key=lambda n: max(len(h.matched) for h in found[n]))
    raise ValidationError("alcaldia_unknown")


@lru_cache(maxsize=None)
def _yes_no_matcher() -> Matcher:
    answers = data.pack()["answers"]
    return Matcher({
        "unsure": both_languages(answers.get("unsure")),
        "yes": both_languages(answers["yes"]),
        "no": both_languages(answers["no"]),
    })


def parse_yes_no(text: str) -> Optional[bool]:
    """True / False / None (unclear or "no sé")."""
    if not text or not text.strip():
        return None
    hits = _yes_no_matcher().find(text, fuzzy=False)
    if any(h.label == "unsure" for h in hits):
        return None
    hits = [h for h in hits if h.label in ("yes", "no")]
    if not hits:
        return None
    first = min(hits, key=lambda h: (h.start, -len(h.matched)))
    return first.label == "yes"


def validate_yes_no(text: str) -> bool:
    value = parse_yes_no(_require(text))
    if value is None:
        raise ValidationError("yes_no_unclear")
    return value


def validate_choice(text: str, options: Sequence[Dict[str, Any]], allow_other: bool = False) -> str:
    """The value of the option the answer names; free text when allow_other."""
    raw = _require(text)
    entries = {}
    for opt in options:
        words = list(opt.get("words") or [])
        words += [label for label in (opt.get("label") or {}).values()]
        entries[opt["value"]] = words
    found = Matcher(entries).labels(raw, fuzzy=False)
    for opt in options:
        if opt["value"] in found and opt["value"] != "other":
            return opt["value"]
    if allow_other:
        return raw if "other" not in found else "other"
    raise ValidationError("choice_unknown")


# --- Dates and times ------------------------------------------------------

def fold_aligned(text: str) -> str:
    """Lowercase without accents, one output character per input character.

    Keeps offsets valid, so spans found here point into the resident's text.
    """
    out = []
    for ch in text:
        low = ch.lower()
        base = "".join(c for c in unicodedata.normalize("NFKD", low) if not unicodedata.combining(c))
        out.append(base if len(base) == 1 else (low if len(low) == 1 else " "))
    return "".join(out)


PARTS_OF_DAY = ("early_morning", "morning", "afternoon", "night")
_PART_START_HOUR = {"early_morning": 0, "morning": 6, "afternoon": 12, "night": 19}


@dataclass(frozen=True)
class When:
    """When something happened, as precisely as the resident said it.

    `time` is None when only a day (and maybe a part of it) was said.
    `hour_ambiguous`: a bare hour ("a las 7") was read as its most recent past
    occurrence; `alternatives` holds the other reading(s) to offer.
    `date_given`: False when only a time was said and the day was inferred.
    `too_old`: more than `max_years` back; ask the resident to confirm.
    `spans`: (start, end) offsets of the words used, in the original text.
    """

    date: dt.date
    time: Optional[dt.time] = None
    part_of_day: Optional[str] = None
    hour_ambiguous: bool = False
    alternatives: Tuple[dt.datetime, ...] = ()
    approximate: bool = False
    date_given: bool = True
    too_old: bool = False
    timezone: str = "America/Mexico_City"
    spans: Tuple[Tuple[int, int], ...] = ()

    @property
    def datetime(self) -> Optional[dt.datetime]:
        if self.time is None:
            return None
        return pytz.timezone(self.timezone).localize(dt.datetime.combine(self.date, self.time))

    @property
    def needs_confirmation(self) -> bool:
        return self.hour_ambiguous or self.too_old or not self.date_given

    def as_slot(self) -> Dict[str, Any]:
        """Plain values for a Rasa slot / the back office."""
        return {
            "date": self.date.isoformat(),
            "time": self.time.strftime("%H:%M") if self.time else None,
            "datetime": self.datetime.isoformat() if self.datetime else None,
            "part_of_day": self.part_of_day,
            "hour_ambiguous": self.hour_ambiguous,
            "alternatives": [a.isoformat() for a in self.alternatives],
            "approximate": self.approximate,
            "date_given": self.date_given,
            "too_old": self.too_old,
        }


def _city_tz(name: Optional[str] = None) -> pytz.BaseTzInfo:
    return pytz.timezone(name or get_settings().timezone)


def _localize(now: Optional[dt.datetime], tz: Optional[pytz.BaseTzInfo] = None) -> dt.datetime:
    tz = tz or _city_tz()
    if now is None:
        return dt.datetime.now(tz)
    if now.tzinfo is None:
        return tz.localize(now)
    return now.astimezone(tz)


_SMALL_NUMBERS = {
    "una": 1, "uno": 1, "un": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
    "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
}
_NUM_WORD = r"(?:" + "|".join(sorted(_SMALL_NUMBERS, key=len, reverse=True)) + r")"
_UNITS_ES = {"minuto": "minutes", "hora": "hours", "dia": "days", "semana": "weeks", "mes": "months", "ano": "years"}
_UNITS_EN = {"minute": "minutes", "hour": "hours", "day": "days", "week": "weeks", "month": "months", "year": "years"}

_APPROX = re.compile(r"\b(como|aprox\w*|mas o menos|alrededor|cerca de las?|eso de las?|tipo|around|about|approx\w*|roughly|ish)\b")

# Part-of-day phrases and, for some, the day they imply (days back from today).
_PART_PHRASES: Tuple[Tuple[re.Pattern, str, Optional[int]], ...] = (
    (re.compile(r"\bantenoche\b"), "night", 2),
    (re.compile(r"\banoche\b"), "night", 1),
    (re.compile(r"\blast night\b"), "night", 1),
    (re.compile(r"\b(?:esta|this)\s+(?:madrugada)\b"), "early_morning", 0),
    (re.compile(r"\b(?:esta manana|this morning)\b"), "morning", 0),
    (re.compile(r"\b(?:esta tarde|this afternoon)\b"), "afternoon", 0),
    (re.compile(r"\b(?:esta noche|tonight|this evening)\b"), "night", 0),
    (re.compile(r"\b(?:en|por|de|a|durante)\s+la\s+madrugada\b|\bde madrugada\b|\bin the early morning\b"), "early_morning", None),
    (re.compile(r"\b(?:en|por|de|a)\s+la\s+manana\b|\bin the morning\b"), "morning", None),
    (re.compile(r"\b(?:en|por|de|a)\s+la\s+tarde\b|\bin the afternoon\b"), "afternoon", None),
    (re.compile(r"\b(?:en|por|de|a)\s+la\s+noche\b|\bin the evening\b|\bat night\b"), "night", None),
)
_MERIDIEM = r"(?:\s*(?P<mer>am|pm|hrs|hr|horas|h|o\s?clock)\b)?"
_MINUTES_WORD = r"(?:\s+y\s+(?P<half>media|cuarto)|\s+menos\s+(?P<less>cuarto))?"
_TIME_PATTERNS: Tuple[re.Pattern, ...] = (
    re.compile(r"(?<![\d/.,$-])(?P<h>\d{1,2}):(?P<m>\d{2})(?![\d/])" + _MERIDIEM),
    # Not a bare "las 2": "se llevaron las 2 llantas" is not a time.
    re.compile(r"\b(?:a\s+las?|eran\s+las?|eso\s+de\s+las?|at|around)\s+(?P<h>\d{1,2})(?![\d:/.,])" + _MINUTES_WORD + _MERIDIEM),
    re.compile(r"(?<![\d:/.-])(?P<h>\d{1,2})\s*(?P<mer>am|pm)\b"),
    re.compile(r"(?<![\d:/.-])(?P<h>\d{1,2})(?=\s+de\s+la\s+(?:manana|tarde|noche|madrugada)\b)"),
)
_NOON = re.compile(r"\b(?:al\s+)?medio\s?dia\b|\bnoon\b")
_MIDNIGHT = re.compile(r"\b(?:a\s+la\s+)?media\s?noche\b|\bmidnight\b")

_MONTHS_ES = "enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|diciembre|ene|feb|mar|abr|may|jun|jul|ago|sep|sept|oct|nov|dic"
_MONTHS_EN = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
_WEEKDAYS_ES = "lunes|martes|miercoles|jueves|viernes|sabado|domingo"
_WEEKDAYS_EN = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_WEEKDAY_INDEX = {name: i % 7 for i, name in enumerate((_WEEKDAYS_ES + "|" + _WEEKDAYS_EN).split("|"))}

_DATE_ABSOLUTE: Tuple[re.Pattern, ...] = (
    re.compile(r"\b(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})\b"),
    re.compile(r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:de\s+|of\s+)?(?P<mon>" + _MONTHS_ES + "|" + _MONTHS_EN + r")\b\.?(?:\s*(?:de|del|,)?\s*(?P<y>\d{4}))?"),
    re.compile(r"\b(?P<mon>" + _MONTHS_EN + r")\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s*(?P<y>\d{4}))?"),
    re.compile(r"(?<![\d:])(?P<d>\d{1,2})[/-](?P<mo>\d{1,2})(?:[/-](?P<y>\d{2,4}))?(?![\d:])"),
)
_RELATIVE_EXACT = re.compile(
    r"\bhace\s+(?:como\s+|unos?\s+|unas\s+)?(?P<n>\d+|un par de)\s+(?P<u>minutos?|horas?)\b"
    r"|\b(?P<n2>\d+|a couple of)\s+(?P<u2>minutes?|hours?)\s+ago\b"
)
_RELATIVE_DAYS = re.compile(
    r"\bhace\s+(?:como\s+|unos?\s+|unas\s+)?(?P<n>\d+|un par de)\s+(?P<u>dias?|semanas?|mes(?:es)?|anos?)\b"
    r"|\b(?P<n2>\d+|a couple of)\s+(?P<u2>days?|weeks?|months?|years?)\s+ago\b"
)
_RECENTLY = re.compile(r"\bhace\s+(?:un\s+)?rato\b|\bhace\s+rato\b|\ba (?:little )?while ago\b|\bjust now\b|\bhace\s+ratito\b")
_DAY_WORDS: Tuple[Tuple[re.Pattern, int], ...] = (
    (re.compile(r"\b(?:antier|anteayer|antes de ayer|the day before yesterday)\b"), 2),
    (re.compile(r"\b(?:ayer|yesterday)\b"), 1),
    (re.compile(r"\b(?:hoy|today)\b"), 0),
    (re.compile(r"\bpasado\s+manana\b|\bday after tomorrow\b"), -2),
    (re.compile(r"(?<!la )(?<!esta )\bmanana\b|\btomorrow\b"), -1),
)
_WEEKDAY = re.compile(
    r"\b(?:el\s+|on\s+|last\s+|this\s+past\s+)?(?P<wd>" + _WEEKDAYS_ES + "|" + _WEEKDAYS_EN + r")\b"
    r"(?P<prev>\s+de\s+la\s+semana\s+pasada|\s+pasado|\s+de\s+la\s+otra\s+semana)?"
)
_DAY_OF_MONTH = re.compile(r"\b(?:el\s+(?:dia\s+)?|on the\s+|the\s+)(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?![:/.-]\d)(?!\s+de\s+la\s)")
_VAGUE = re.compile(
    r"\b(?:la semana pasada|el mes pasado|el ano pasado|hace unos dias|hace dias|el otro dia|hace tiempo|hace poco|"
    r"last week|last month|last year|the other day|a few days ago|some days ago|recently)\b"
)


def _dateparser_settings(base: dt.datetime, tzname: str, order: str = "DMY") -> Dict[str, Any]:
    return {
        "PREFER_DATES_FROM": "past",
        "TIMEZONE": tzname,
        "RETURN_AS_TIMEZONE_AWARE": False,
        "RELATIVE_BASE": base.replace(tzinfo=None),
        "DATE_ORDER": order,
        "PREFER_DAY_OF_MONTH": "first",
    }


def _dateparse(text: str, base: dt.datetime, tzname: str, order: str = "DMY") -> Optional[dt.datetime]:
    return dateparser.parse(text, languages=["es", "en"], settings=_dateparser_settings(base, tzname, order))


def _mask(s: str, start: int, end: int) -> str:
    return s[:start] + " " * (end - start) + s[end:]


def _count(word: str) -> Optional[int]:
    word = word.strip()
    if word.isdigit():
        return int(word)
    if word in ("un par de", "a couple of"):
        return 2
    return _SMALL_NUMBERS.get(word)


@dataclass
class _Scan:
    """What was found in the text so far (mutable while parsing)."""

    s: str
    spans: List[Tuple[int, int]] = field(default_factory=list)

    def take(self, m: re.Match) -> re.Match:
        self.spans.append(m.span())
        self.s = _mask(self.s, *m.span())
        return m


def _words_to_digits(s: str) -> str:
    """'a las siete' -> 'a las 7', 'hace dos horas' -> 'hace 2 horas', keeping offsets."""

    def pad(m: re.Match, group: str) -> str:
        value = str(_SMALL_NUMBERS[m.group(group)])
        whole = m.group(0)
        start, end = m.span(group)
        rel_start, rel_end = start - m.start(), end - m.start()
        return whole[:rel_start] + value.ljust(rel_end - rel_start) + whole[rel_end:]

    before = re.compile(r"\b(?:a\s+las?|las|at|around|about|hace|como a las?)\s+(?P<w>" + _NUM_WORD + r")\b(?!\s+(?:par|rato|ratito)\b)")
    after = re.compile(r"\b(?P<w>" + _NUM_WORD + r")\s+(?:horas?|minutos?|dias?|semanas?|mes(?:es)?|anos?|hours?|minutes?|days?|weeks?|months?|years?|de la|pm|am|o\s?clock)\b")
    s = before.sub(lambda m: pad(m, "w"), s)
    s = after.sub(lambda m: pad(m, "w"), s)
    return s


def parse_when(
    text: str,
    now: Optional[dt.datetime] = None,
    *,
    max_years: int = DEFAULT_MAX_YEARS,
    timezone: Optional[str] = None,
    require: bool = True,
) -> Optional[When]:
    """Read when something happened from Spanish or English words.

    `now` is the reference for relative words (dateparser's RELATIVE_BASE);
    naive values are taken as city time. Never returns a moment in the
    future (raises 'when_future'). A bare hour without am/pm is read as its
    most recent past occurrence and flagged `hour_ambiguous`. With
    `require=False` a text without any date/time words returns None instead
    of raising 'when_not_understood' (used to scan free text).
    """
    tzname = timezone or get_settings().timezone
    tz = _city_tz(tzname)
    now = _localize(now, tz)
    today = now.date()
    folded = fold_aligned(_require(text) if require else (text or ""))
    # Same lengths, so offsets still point into the resident's text.
    folded = re.sub(r"\bmedia hora\b", "30 minutos", folded)
    folded = re.sub(r"\bhalf an hour\b", "30 minutes  ", folded)
    scan = _Scan(_words_to_digits(folded))
    approximate = bool(_APPROX.search(scan.s))

    # 1. "hace 2 horas" / "2 hours ago": an exact moment.
    m = _RELATIVE_EXACT.search(scan.s)
    if m:
        scan.take(m)
        n_word = m.group("n") or m.group("n2")
        unit = (m.group("u") or m.group("u2")).rstrip("s")
        unit_en = _UNITS_ES.get(unit, _UNITS_EN.get(unit, unit + "s"))
        phrase = f"{_count(n_word)} {unit_en} ago"
        moment = _dateparse(phrase, now, tzname)
        if moment is None:
            raise ValidationError("when_not_understood")
        moment = tz.localize(moment.replace(second=0, microsecond=0))
        return _finish(moment.date(), moment.time(), None, False, (), approximate, True, now, max_years, tzname, scan)

    if _RECENTLY.search(scan.s):
        scan.take(_RECENTLY.search(scan.s))
        return _finish(today, None, None, False, (), True, True, now, max_years, tzname, scan)

    # 2. Parts of the day (some imply the day: "anoche").
    part: Optional[str] = None
    part_day: Optional[dt.date] = None
    for rx, name, days_back in _PART_PHRASES:
        pm = rx.search(scan.s)
        if pm:
            scan.take(pm)
            part = part or name
            if days_back is not None and part_day is None:
                part_day = today - dt.timedelta(days=days_back)

    # 3. The clock time.
    hour = minute = None
    meridiem: Optional[str] = None
    explicit_24h = False
    if _NOON.search(scan.s):
        scan.take(_NOON.search(scan.s))
        hour, minute, explicit_24h = 12, 0, True
    elif _MIDNIGHT.search(scan.s):
        scan.take(_MIDNIGHT.search(scan.s))
        hour, minute, explicit_24h = 0, 0, True
    else:
        for rx in _TIME_PATTERNS:
            tm = rx.search(scan.s)
            if not tm:
                continue
            scan.take(tm)
            groups = tm.groupdict()
            hour = int(groups["h"])
            minute = int(groups.get("m") or 0)
            if groups.get("half"):
                minute = 30 if groups["half"] == "media" else 15
            if groups.get("less"):
                hour, minute = (hour - 1) % 24, 45
            mer = (groups.get("mer") or "").replace(" ", "")
            if mer in ("am", "pm"):
                meridiem = mer
            elif mer in ("hrs", "hr", "horas", "h") or groups["h"].startswith("0"):
                explicit_24h = True  # "20:00 hrs", "08:30": a 24-hour clock
            break
        if hour is not None and (hour > 24 or minute > 59 or (meridiem and not 1 <= hour <= 12)):
            raise ValidationError("when_bad_time")
        if hour == 24:
            hour = 0

    # 4. The day.
    day: Optional[dt.date] = None
    m = _RELATIVE_DAYS.search(scan.s)
    if m:
        scan.take(m)
        n_word = m.group("n") or m.group("n2")
        unit = (m.group("u") or m.group("u2"))
        unit = unit[:-2] if unit.endswith("es") and unit.startswith("mes") else unit.rstrip("s")
        unit_en = _UNITS_ES.get(unit, _UNITS_EN.get(unit, unit + "s"))
        moment = _dateparse(f"{_count(n_word)} {unit_en} ago", now, tzname)
        if moment is None:
            raise ValidationError("when_not_understood")
        day = moment.date()
    if day is None:
        for rx in _DATE_ABSOLUTE:
            am = rx.search(scan.s)
            if not am:
                continue
            scan.take(am)
            day = _absolute_date(am, now, tzname)
            break
    if day is None:
        wm = _WEEKDAY.search(scan.s)
        if wm:
            scan.take(wm)
            day = _weekday_date(wm, now, tzname)
    if day is None:
        for rx, days_back in _DAY_WORDS:
            dm = rx.search(scan.s)
            if dm:
                scan.take(dm)
                day = today - dt.timedelta(days=days_back)
                break
    if day is None:
        dm = _DAY_OF_MONTH.search(scan.s)
        if dm:
            scan.take(dm)
            day = _day_of_month(int(dm.group("d")), today)
    if day is None and part_day is not None:
        day = part_day
    if day is None and _VAGUE.search(scan.s):
        if require:
            raise ValidationError("when_vague")
        return None

    if day is None and hour is None and part is None:
        if require:
            raise ValidationError("when_not_understood")
        return None

    return _combine(day, hour, minute or 0, meridiem, explicit_24h, part, approximate, now, max_years, tzname, scan)


def _absolute_date(m: re.Match, now: dt.datetime, tzname: str) -> dt.date:
    groups = m.groupdict()
    try:
        if groups.get("y") and re.match(r"\d{4}-", m.group(0)):  # ISO 2026-11-03
            return dt.date(int(groups["y"]), int(groups["mo"]), int(groups["d"]))
        if groups.get("mo"):
            year = groups.get("y")
            if year and len(year) == 2:
                year = str(2000 + int(year))
            phrase = f"{groups['d']}/{groups['mo']}" + (f"/{year}" if year else "")
        else:
            phrase = f"{groups['d']} {groups['mon']}" + (f" {groups['y']}" if groups.get("y") else "")
    except ValueError:
        raise ValidationError("when_not_understood")
    parsed = _dateparse(phrase, now, tzname, "DMY")
    if parsed is None:
        raise ValidationError("when_not_understood")
    return parsed.date()


def _weekday_date(m: re.Match, now: dt.datetime, tzname: str) -> dt.date:
    """The most recent past such weekday (never today: "el martes" said on a Tuesday means a week ago)."""
    today = now.date()
    target = _WEEKDAY_INDEX[m.group("wd")]
    back = (today.weekday() - target) % 7 or 7
    day = today - dt.timedelta(days=back)
    prev = (m.group("prev") or "").strip()
    if prev.startswith("de la"):
        # "el martes de la semana pasada": that weekday in the previous calendar week (Mon-Sun).
        monday_this_week = today - dt.timedelta(days=today.weekday())
        day = monday_this_week - dt.timedelta(days=7) + dt.timedelta(days=target)
    return day


def _day_of_month(d: int, today: dt.date) -> dt.date:
    """"el 15": this month's 15th if it has passed, else last month's."""
    year, month = today.year, today.month
    for _ in range(3):
        try:
            candidate = dt.date(year, month, d)
        except ValueError:
            candidate = None
        if candidate and candidate <= today:
            return candidate
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    raise ValidationError("when_not_understood")


def _hour_from_part(hour: int, part: str) -> int:
    if part in ("morning", "early_morning"):
        return 0 if hour == 12 and part == "early_morning" else hour
    if part == "afternoon":
        return hour if hour == 12 else (hour + 12 if hour < 12 else hour)
    # night: "12 de la noche" is midnight, "2 de la noche" is 2 am, "8 de la noche" is 20:00
    if hour == 12:
        return 0
    if hour <= 5:
        return hour
    return hour + 12 if hour < 12 else hour


def _combine(day, hour, minute, meridiem, explicit_24h, part, approximate, now, max_years, tzname, scan) -> When:
    tz = _city_tz(tzname)
    today = now.date()
    date_given = day is not None
    if hour is None:
        if day is None and part is not None and now.hour < _PART_START_HOUR[part]:
            day = today - dt.timedelta(days=1)  # "en la noche" said in the morning: last night
        return _finish(day or today, None, part, False, (), approximate, date_given, now, max_years, tzname, scan)

    if meridiem == "pm":
        readings = [hour % 12 + 12]
    elif meridiem == "am":
        readings = [hour % 12]
    elif part is not None:
        readings = [_hour_from_part(hour, part)]
    elif explicit_24h or hour == 0 or hour >= 13:
        readings = [hour]
    else:
        # A bare "a las 7": both 07:00 and 19:00 are possible.
        readings = [hour % 12, hour % 12 + 12]
    ambiguous = len(readings) > 1

    days = [day] if date_given else [today, today - dt.timedelta(days=1)]
    moments = sorted(
        (tz.localize(dt.datetime.combine(d, dt.time(h, minute))) for d in days for h in readings),
        reverse=True,
    )
    past = [mo for mo in moments if mo <= now]
    if not past:
        raise ValidationError("when_future")
    chosen = past[0]
    # The other reading the resident may have meant: same day if the day was
    # said, else the next most recent occurrence. Never one in the future.
    if not ambiguous:
        alternatives: Tuple[dt.datetime, ...] = ()
    elif date_given:
        alternatives = tuple(mo for mo in past[1:] if mo.date() == chosen.date())
    else:
        alternatives = tuple(past[1:2])
    return _finish(chosen.date(), chosen.time().replace(tzinfo=None), part, ambiguous, alternatives,
                   approximate, date_given, now, max_years, tzname, scan)


def _finish(day, time, part, ambiguous, alternatives, approximate, date_given, now, max_years, tzname, scan) -> When:
    tz = _city_tz(tzname)
    today = now.date()
    if day > today:
        raise ValidationError("when_future")
    if time is not None and tz.localize(dt.datetime.combine(day, time)) > now:
        raise ValidationError("when_future")
    if time is None and part is not None and day == today and now.hour < _PART_START_HOUR[part]:
        raise ValidationError("when_future")
    try:
        limit = today.replace(year=today.year - max_years)
    except ValueError:  # 29 February
        limit = today.replace(year=today.year - max_years, day=28)
    return When(
        date=day, time=time, part_of_day=part, hour_ambiguous=ambiguous, alternatives=alternatives,
        approximate=approximate, date_given=date_given, too_old=day < limit, timezone=tzname,
        spans=tuple(sorted(scan.spans)),
    )


def validate_datetime(text: str, now: Optional[dt.datetime] = None, max_years: int = DEFAULT_MAX_YEARS) -> When:
    return parse_when(text, now, max_years=max_years)


def validate_date(text: str, now: Optional[dt.datetime] = None, max_years: int = DEFAULT_MAX_YEARS) -> dt.date:
    """A day only (e.g. the date of a payment); a time, if given, is ignored."""
    return parse_when(text, now, max_years=max_years).date


# --- One entry point for forms --------------------------------------------

@dataclass(frozen=True)
class Outcome:
    ok: bool
    value: Any = None
    code: Optional[str] = None
    hint_es: str = ""
    hint_en: str = ""

    def hint(self, lang: str = "es") -> str:
        return self.hint_en if lang == "en" else self.hint_es


VALIDATORS: Dict[str, Callable[..., Any]] = {
    "imei": validate_imei,
    "vin": validate_vin,
    "plate": validate_plate,
    "amount": validate_amount,
    "phone": validate_phone,
    "curp": validate_curp,
    "datetime": validate_datetime,
    "date": validate_date,
    "year": validate_year,
    "text": validate_text,
    "place": validate_place,
    "alcaldia": validate_alcaldia,
    "yes_no": validate_yes_no,
    "choice": validate_choice,
}


def validate(kind: str, text: str, **kwargs: Any) -> Outcome:
    """Run the validator named in crime_types.yml (`validator:`) without raising."""
    try:
        return Outcome(True, VALIDATORS[kind](text, **kwargs))
    except ValidationError as err:
        return Outcome(False, None, err.code, err.hint("es"), err.hint("en"))
