"""Where a problem is: pull a usable location out of what a resident wrote.

Pure functions, no Rasa: the 311 form calls them to keep what the resident
already said ("hay un bache en Insurgentes Sur 1602, col. Crédito
Constructor") instead of asking again, and to refuse locations a crew
cannot find ("aquí", "en mi calle").
"""
from __future__ import annotations

import difflib
import re
import unicodedata
from typing import Iterable, List, Optional

from common import citypack

# Returned by match_alcaldia when the resident says they do not know.
ALCALDIA_UNKNOWN = "unknown"

_DONT_KNOW = {
    "no se", "nose", "no lo se", "ni idea", "no sabria", "no estoy seguro", "no estoy segura",
    "dont know", "don't know", "i dont know", "i don't know", "not sure", "no idea", "idk", "unknown",
}

# Words that point at a street, crossing or place the crew can find.
_PLACE_WORDS = {
    "calle", "c", "av", "avenida", "ave", "calzada", "calz", "eje", "circuito", "periferico",
    "boulevard", "blvd", "privada", "priv", "cerrada", "cda", "andador", "callejon", "camino",
    "carretera", "prolongacion", "prol", "viaducto", "insurgentes", "reforma", "street", "st",
    "avenue", "road", "rd", "esquina", "esq", "entre", "cruce", "corner", "col", "colonia",
    "metro", "mercado", "parque", "jardin", "frente", "oxxo", "escuela", "iglesia", "hospital",
    "deportivo", "glorieta", "plaza", "unidad", "u.h", "fraccionamiento", "barrio", "pueblo",
    "manzana", "mz", "lote", "lt", "no", "num", "numero", "#",
}
# Words that on their own say nowhere in particular.
_VAGUE_WORDS = {
    "aqui", "aca", "ahi", "alla", "aca", "here", "there", "mi", "mis", "my", "our", "nuestra",
    "nuestro", "la", "el", "casa", "calle", "esquina", "cuadra", "colonia", "house", "street",
    "corner", "block", "home", "por", "cerca", "near", "me", "en", "on", "at", "in", "de", "del",
    "the", "a", "un", "una", "afuera", "outside", "enfrente", "frente", "lado", "al",
}
# A location clause usually ends where the resident goes on to say how long
# or how bad it is.
_CLAUSE_END = re.compile(
    r"\s+(?:desde|ya tiene|ya lleva|lleva|llevamos|hace|y ya|y no|que ya|porque|pero|"
    r"est[aá]n?|sigue|no (?:sirve|funciona|prende)|"
    r"for|since|and it|it's|it is|is|are|has been|because|but)\b.*$",
    re.IGNORECASE,
)
# Where a street address starts when no preposition introduces it
# ("la luminaria de Av. Universidad 1200", "el semáforo de Insurgentes y Viaducto").
_STREET_START = re.compile(
    r"\b(?:av\.?|avenida|calle|c\.|calz\.?|calzada|eje|perif[eé]rico|circuito|blvd\.?|boulevard|"
    r"privada|cerrada|prolongaci[oó]n|viaducto|insurgentes|reforma|tlalpan)\b",
    re.IGNORECASE,
)
_ANCHOR = re.compile(
    r"\b(?:en|sobre|frente a|frente al|enfrente de|afuera de|cerca de|a la altura de|"
    r"on|at|in|near|by|outside)\s+",
    re.IGNORECASE,
)
_LEADING_ARTICLE = re.compile(r"^(?:la|el|los|las|the)\s+", re.IGNORECASE)


def fold(text: str) -> str:
    """Lowercase without accents, for matching what residents type."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _words(text: str) -> List[str]:
    return re.findall(r"[a-z0-9#]+", fold(text.replace("'", "").replace("’", "")))


def _has_proper_noun(text: str) -> bool:
    """A capitalised word after the first one hints at a street or colonia name."""
    tokens = text.split()
    return any(t[:1].isupper() and len(t) > 2 for t in tokens[1:]) or (
        bool(tokens) and tokens[0][:1].isupper() and len(tokens) > 1
    )


def is_usable_location(text: Optional[str]) -> bool:
    """True when a crew could find the place from this text."""
    if not text:
        return False
    stripped = text.strip()
    words = _words(stripped)
    if len(words) < 2 or len(stripped) > 300:
        return False
    if " ".join(words) in _DONT_KNOW:
        return False
    informative = [w for w in words if w not in _VAGUE_WORDS]
    if not informative:
        return False
    has_digit = any(ch.isdigit() for ch in stripped)
    place_words = [w for w in words if w in _PLACE_WORDS]
    # "mi calle", "my corner": possessive with nothing specific after it.
    if words[0] in {"mi", "mis", "my", "our", "nuestra", "nuestro"} and not has_digit and not _has_proper_noun(stripped):
        return False
    if has_digit and informative:
        return True
    if place_words and len(informative) >= 2:
        return True
    return _has_proper_noun(stripped) and len(informative) >= 2


def _clean_candidate(candidate: str) -> str:
    candidate = _CLAUSE_END.sub("", candidate)
    candidate = _LEADING_ARTICLE.sub("", candidate.strip())
    return candidate.strip(" ,.;:!¡?¿")


def extract_location(text: Optional[str]) -> Optional[str]:
    """The part of a message that says where, if it is usable; else None.

    "hay un bache enorme en Insurgentes Sur 1602, col. Crédito Constructor"
    gives "Insurgentes Sur 1602, col. Crédito Constructor".
    """
    if not text:
        return None
    for anchor in _ANCHOR.finditer(text):
        candidate = _clean_candidate(text[anchor.end():])
        if is_usable_location(candidate):
            return candidate
    for street in _STREET_START.finditer(text):
        candidate = _clean_candidate(text[street.start():])
        if is_usable_location(candidate):
            return candidate
    return None


def alcaldia_named(text: Optional[str]) -> Optional[str]:
    """An alcaldía named as such anywhere in a message ("…, alcaldía Benito Juárez")."""
    if not text:
        return None
    match = re.search(r"\b(?:alcald[ií]a|delegaci[oó]n)\s+([^,.;]+)", text, re.IGNORECASE)
    if not match:
        return None
    found = match_alcaldia(match.group(1))
    return found if found != ALCALDIA_UNKNOWN else None


def _alcaldia_names() -> List[str]:
    return list(citypack.city()["alcaldias"])


def _aliases() -> dict:
    return {fold(k): v for k, v in (citypack.city().get("alcaldia_aliases") or {}).items()}


def _ngrams(words: List[str], max_n: int = 4) -> Iterable[str]:
    for n in range(min(max_n, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            yield " ".join(words[i:i + n])


def match_alcaldia(text: Optional[str]) -> Optional[str]:
    """The alcaldía a resident named (typos and missing accents allowed).

    Returns the official name, ALCALDIA_UNKNOWN when they say they don't
    know, or None when the text names no alcaldía.
    """
    if not text:
        return None
    words = _words(text)
    if not words:
        return None
    joined = " ".join(words)
    if joined in _DONT_KNOW or joined.replace("no se", "no se") in _DONT_KNOW:
        return ALCALDIA_UNKNOWN
    names = {fold(name): name for name in _alcaldia_names()}
    aliases = _aliases()
    # Drop filler the resident may add ("alcaldía", "delegación", "en la").
    filler = {"alcaldia", "alc", "delegacion", "del", "en", "la", "es", "esta", "in", "the", "borough", "it", "s", "its"}
    core = [w for w in words if w not in filler]
    for gram in _ngrams(core):
        if gram in names:
            return names[gram]
        if gram in aliases:
            return aliases[gram]
    for gram in _ngrams(core):
        close = difflib.get_close_matches(gram, list(names), n=1, cutoff=0.85)
        if close and len(gram) >= 5:
            return names[close[0]]
    return None


def alcaldia_in_location(location: Optional[str]) -> Optional[str]:
    """An alcaldía named explicitly in an address ("..., alcaldía Coyoacán").

    Only explicit mentions count: "Calzada de Tlalpan" is a street, not the
    alcaldía Tlalpan.
    """
    if not location:
        return None
    match = re.search(r"\b(?:alcald[ií]a|alc\.|delegaci[oó]n|del\.)\s+([^,.;]+)", location, re.IGNORECASE)
    if match:
        found = match_alcaldia(match.group(1))
        return found if found != ALCALDIA_UNKNOWN else None
    # The last comma-separated part may be just the alcaldía ("..., Coyoacán").
    last = location.rsplit(",", 1)[-1]
    if "," in location and len(_words(last)) <= 3:
        names = {fold(n) for n in _alcaldia_names()}
        if " ".join(_words(last)) in names | set(_aliases()):
            found = match_alcaldia(last)
            return found if found != ALCALDIA_UNKNOWN else None
    return None
