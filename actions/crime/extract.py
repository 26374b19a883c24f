"""Facts already present in a resident's first message, so they are not asked again.

Only what the words say is returned: a key is absent when its fact was not
found (nothing is guessed to fill a form). Places are cut out of the
resident's own text, with their spelling and capitals, and the whole
message is kept verbatim as the description.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from actions.crime import data
from actions.crime.classify import classify_crime
from actions.crime.matching import both_languages
from actions.crime.validators import (
    AMOUNT_IN_TEXT,
    ValidationError,
    fold_aligned,
    parse_when,
    validate_alcaldia,
    validate_amount,
    validate_imei,
    validate_plate,
    validate_vin,
)

# Where a place phrase starts. Relative ones ("afuera de") stay in the place:
# they are part of what the resident said about where.
_RELATIVE_STARTERS = (
    "afuera de", "fuera de", "enfrente de", "frente a", "cerca de", "a la altura de", "junto a",
    "atras de", "detras de", "a un lado de", "a espaldas de", "saliendo de", "llegando a", "a la salida de",
    "outside", "in front of", "near", "next to", "behind", "across from",
)
_PLAIN_STARTERS = ("en", "sobre", "dentro de", "adentro de", "in", "at", "on", "inside")
_STARTER = re.compile(
    r"(?<![\w])(?P<starter>" + "|".join(re.escape(s) for s in sorted(_RELATIVE_STARTERS + _PLAIN_STARTERS, key=len, reverse=True)) + r")\s+"
)
_ARTICLES = re.compile(r"^(?:el|la|los|las|un|una|the|a|an)\s+", re.IGNORECASE)
# Where a place phrase ends (besides punctuation and the when-words).
_STOP = re.compile(
    r"\s+(?:y|e|o)\s+(?=(?:me|se|le|les|lo|la|nos|mi|ya|luego|despues|entonces|cuando|i|they|he|she|then|my)\b)"
    r"|\s+(?:me|se|le|les|nos|te|cuando|mientras|porque|pero|que|donde|con|sin|para|por|al|hace|como|ayer|hoy|anoche|antier|"
    r"when|while|because|but|and|that|with|for|someone|somebody|they|he|she|i|yesterday|today|around|about)\b"
    r"|[,.;:!?()]"
)
_NOT_A_PLACE_AFTER_EN = re.compile(
    r"^(?:la\s+)?(?:manana|tarde|noche|madrugada)\b|^(?:efectivo|linea|total|persona|internet|serio|realidad|cuanto|eso|ese momento|este momento|lo que|especial)\b"
    r"|^(?:cash|total|person|fact|time|order|the morning|the afternoon|the evening|the night)\b"
)
_PLATE_CONTEXT = re.compile(r"\b(?:placas?|matricula|plates?|license plate|licence plate)\b")
# Three-letter words that would read as a plate series next to digits ("300 mil", "del 2024").
_NOT_PLATE_LETTERS = {
    "MIL", "DEL", "LOS", "LAS", "UNA", "POR", "CON", "QUE", "MES", "ANO", "DIA", "SON", "FUE", "HOY", "SIN",
    "SUS", "MIS", "TUS", "THE", "AND", "FOR", "MAY", "ERA", "VAN", "HAY", "DOS", "SEIS", "MXN", "USD", "HRS",
}


@lru_cache(maxsize=None)
def _extraction() -> Dict[str, Any]:
    return data.pack()["extraction"]


@lru_cache(maxsize=None)
def _place_nouns() -> Set[str]:
    return {fold_aligned(w) for w in both_languages(_extraction()["place_nouns"])}


def _overlaps(span: Tuple[int, int], spans: Sequence[Tuple[int, int]]) -> bool:
    return any(span[0] < e and s < span[1] for s, e in spans)


def _looks_like_place(original: str) -> bool:
    """A place noun among its first words, or a proper name (capitalised or a number)."""
    words = re.findall(r"[\wÁÉÍÓÚÑáéíóúñü]+", original)
    content = [w for w in words if fold_aligned(w) not in {"el", "la", "los", "las", "mi", "mis", "su", "un", "una", "the", "my", "a", "an", "our", "de", "del"}]
    if not content:
        return False
    head = content[:3]
    if any(fold_aligned(w) in _place_nouns() for w in head):
        return True
    return content[0][:1].isupper() or content[0][:1].isdigit()


def extract_place(text: str, avoid: Sequence[Tuple[int, int]] = ()) -> Optional[str]:
    """The first place phrase, verbatim: 'metro Pino Suárez', 'afuera de mi casa en la colonia Roma'."""
    folded = fold_aligned(text)
    for m in _STARTER.finditer(folded):
        if _overlaps(m.span(), avoid):
            continue
        starter = m.group("starter")
        body_start = m.end()
        if starter in ("en", "in", "at", "on") and _NOT_A_PLACE_AFTER_EN.match(folded[body_start:]):
            continue
        end = len(text)
        stop = _STOP.search(folded, body_start)
        if stop:
            end = stop.start()
        for s, _ in avoid:
            if body_start <= s < end:
                end = s
        # A relative place ("afuera de mi casa") keeps its preposition.
        start = m.start() if starter in _RELATIVE_STARTERS else body_start
        phrase = text[start:end].strip()
        body = text[body_start:end].strip()
        if not body or not _looks_like_place(body):
            continue
        if starter not in _RELATIVE_STARTERS:
            phrase = _ARTICLES.sub("", phrase, count=1)
        phrase = re.sub(r"\s+(?:y|de|del|en|and|of|in)$", "", phrase, flags=re.IGNORECASE).strip()
        if len(phrase) >= 3:
            return phrase
    return None


def extract_colonia(text: str) -> Optional[str]:
    m = re.search(r"\b(?:colonia|col\.)\s+((?:[A-ZÁÉÍÓÚÑ][\wáéíóúñü]*\.?)(?:\s+(?:de\s+la\s+|del\s+|de\s+)?[A-ZÁÉÍÓÚÑ][\wáéíóúñü]*)*)", text)
    return m.group(1) if m else None


def extract_alcaldia(text: str) -> Optional[str]:
    """Only when named as the alcaldía, or on its own: 'metro Cuauhtémoc' is a station, not the alcaldía."""
    folded = fold_aligned(text)
    try:
        name = validate_alcaldia(text)
    except ValidationError:
        return None
    key = fold_aligned(name.split()[-1])
    pos = folded.find(key)
    if pos < 0:
        return name
    before = folded[:pos].split()[-2:]
    if any(w in ("metro", "estacion", "avenida", "av", "calle", "eje", "calzada", "station", "avenue", "street") for w in before):
        return None
    return name


def extract_phone_model(text: str) -> Tuple[Optional[str], Optional[str]]:
    """(brand, model) when a phone brand is named; the model only if it follows."""
    cfg = _extraction()
    needing_model = set(cfg.get("brand_words_needing_model") or [])
    model_words = set(cfg.get("model_words") or [])
    tokens = list(re.finditer(r"[\w+]+", text))
    for i, tok in enumerate(tokens):
        word = fold_aligned(tok.group(0))
        for brand, spec in cfg["phone_brands"].items():
            makers = spec.get("maker") or []
            series = spec.get("series") or []
            if word not in makers and word not in series:
                continue
            model_tokens: List[str] = [tok.group(0)] if word in series else []
            for nxt in tokens[i + 1:i + 5]:
                w = fold_aligned(nxt.group(0))
                if re.search(r"\d", w) or w in model_words or (not model_tokens and w in series):
                    model_tokens.append(nxt.group(0))
                else:
                    break
            has_number = any(re.search(r"\d", t) for t in model_tokens)
            if word in needing_model and not has_number:
                continue
            model = " ".join(model_tokens) if (model_tokens and (has_number or word in series)) else None
            return brand, model
    return None, None


def extract_plate(text: str) -> Optional[str]:
    folded = fold_aligned(text)
    ctx = _PLATE_CONTEXT.search(folded)
    if not ctx:
        return None
    upper = text.upper()
    rx = re.compile(
        r"(?<![A-Z0-9])(?:[A-Z]{3}[\s-]?\d{3}[\s-]?[A-Z]|\d{3}[\s-]?[A-Z]{3}|[A-Z]{3}[\s-]?\d{4}|[A-Z]{3}[\s-]?\d{3})(?![A-Z0-9])"
    )
    for m in rx.finditer(fold_aligned(upper).upper()):
        letters = re.sub(r"[^A-Z]", "", m.group(0))
        if letters[:3] in _NOT_PLATE_LETTERS:
            continue
        try:
            return validate_plate(m.group(0))
        except ValidationError:
            continue
    return None


def extract_amounts(text: str) -> List[Tuple[str, Any]]:
    found = []
    for m in AMOUNT_IN_TEXT.finditer(text):
        try:
            found.append((m.group(0).strip(), validate_amount(m.group(0))))
        except ValidationError:
            continue
    return found


def extract_imei(text: str) -> Optional[str]:
    for m in re.finditer(r"(?<!\d)\d[\d\s-]{13,20}\d(?!\d)", text):
        digits = re.sub(r"\D", "", m.group(0))
        if len(digits) == 15:
            try:
                return validate_imei(digits)
            except ValidationError:
                continue
    return None


def extract_vin(text: str) -> Optional[str]:
    for m in re.finditer(r"(?<![A-Za-z0-9])[A-Za-z0-9]{17}(?![A-Za-z0-9])", text):
        if not re.search(r"\d", m.group(0)) or not re.search(r"[A-Za-z]", m.group(0)):
            continue
        try:
            return validate_vin(m.group(0))
        except ValidationError:
            continue
    return None


def extract_facts(text: str, now: Optional[dt.datetime] = None) -> Dict[str, Any]:
    """Facts in a free-text message; keys only for what is there.

    Keys: description (verbatim), crime_type + confidence, or question +
    candidates when undecided, or never_online (a safety category); when
    (validators.When) with date, time, time_ambiguous, time_alternatives,
    or when_error (a validation code); place, colonia, alcaldia;
    phone_brand, phone_model; plate; amount or amounts; imei; vin.
    """
    facts: Dict[str, Any] = {}
    if not text or not text.strip():
        return facts
    facts["description"] = text.strip()

    classification = classify_crime(text)
    facts["classification"] = classification
    if classification.safety is not None:
        facts["never_online"] = classification.safety.category
        return facts  # the story of a never-online crime is not collected
    if classification.crime_type:
        facts["crime_type"] = classification.crime_type
        facts["confidence"] = classification.confidence
    elif classification.question:
        facts["question"] = classification.question
        facts["candidates"] = list(classification.candidates)

    avoid: List[Tuple[int, int]] = []
    try:
        when = parse_when(text, now, require=False)
    except ValidationError as err:
        facts["when_error"] = err.code
        when = None
    if when is not None:
        avoid.extend(when.spans)
        facts["when"] = when
        facts["date"] = when.date
        if when.time is not None:
            facts["time"] = when.time
            facts["time_ambiguous"] = when.hour_ambiguous
            if when.alternatives:
                facts["time_alternatives"] = [a.time() for a in when.alternatives]
        if when.part_of_day:
            facts["part_of_day"] = when.part_of_day

    amounts = extract_amounts(text)
    for m in AMOUNT_IN_TEXT.finditer(text):
        avoid.append(m.span())
    place = extract_place(text, avoid)
    if place:
        facts["place"] = place
    colonia = extract_colonia(text)
    if colonia:
        facts["colonia"] = colonia
    alcaldia = extract_alcaldia(text)
    if alcaldia:
        facts["alcaldia"] = alcaldia

    brand, model = extract_phone_model(text)
    if brand:
        facts["phone_brand"] = brand
    if model:
        facts["phone_model"] = model
    plate = extract_plate(text)
    if plate:
        facts["plate"] = plate
    if len(amounts) == 1:
        facts["amount"] = amounts[0][1]
    elif amounts:
        facts["amounts"] = [a for _, a in amounts]
    imei = extract_imei(text)
    if imei:
        facts["imei"] = imei
    vin = extract_vin(text)
    if vin:
        facts["vin"] = vin
    return facts
