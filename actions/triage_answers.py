"""Turn a resident's reply into the answer to a triage question.

Pure functions; all words come from the protocol file (options, synonyms,
the shared yes/no/negation/filler/bridge words), except the number words
("treinta y cuatro", "thirty-four") and age units, which are language, not
protocol.

How a reply is read, for a question with options:
1. Accents, case and repeated letters do not matter ("SIII" = "sí").
2. Numbers only ("1", "1,3,5", "1 3 5", "1 y 3", "el 1 y el 3", "uno y tres")
   pick options by number. A number that is not an option is an error.
3. Otherwise, words: synonyms of every option (both languages) are found,
   longest first, tolerating a typo in longer words ("fievre", "diarea").
   Numbers inside a sentence are ignored ("fiebre desde hace 2 días").
   A synonym right after a negation ("no tengo fiebre", "sin tos", "ni tos";
   only "tengo", "me", "el"... may stand between, and no comma) is negated:
   it picks the option's `negated` code when it has one ("no tengo dolor de
   pecho" -> no), otherwise it is dropped.
4. Multi-select: "none" (0, "ninguno", "nada de eso") together with other
   options raises ContradictoryAnswer; a reply that only denies symptoms
   ("no tengo fiebre ni tos") means none ([]). Single choice: two different
   options raise InvalidAnswer(reason="ambiguous").
Whatever cannot be read raises InvalidAnswer, never a guess.
"""
from __future__ import annotations

import re
import unicodedata
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from actions.triage import (
    NONE_CODE,
    ContradictoryAnswer,
    InvalidAnswer,
    Protocol,
    Question,
    current_protocol,
    validate_answer,
)

# Characters that end a clause: negation does not reach across them.
_CLAUSE_BREAK = set(",.;:!?¿¡()\n")
_TOKEN = re.compile(r"\d+|[a-z]+(?:'[a-z]+)?|\S")

# Number words: 0-12 read as option numbers; with tens and hundreds, ages.
_UNITS = {
    "cero": 0, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6, "siete": 7,
    "ocho": 8, "nueve": 9, "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9,
}
_TEENS = {
    "diez": 10, "once": 11, "doce": 12, "trece": 13, "catorce": 14, "quince": 15, "dieciseis": 16,
    "diecisiete": 17, "dieciocho": 18, "diecinueve": 19, "veinte": 20, "veintiuno": 21,
    "veintiun": 21, "veintiuna": 21, "veintidos": 22, "veintitres": 23, "veinticuatro": 24,
    "veinticinco": 25, "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}
_TENS = {
    "treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80,
    "noventa": 90, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_HUNDRED = {"cien", "ciento", "hundred"}
_ARTICLE_ONE = {"un", "una", "a", "an"}  # "one" only before a unit: "un año", "a year"
_CONNECTORS = {"y", "and"}
# Age units, in years per unit.
_AGE_UNITS = {
    **dict.fromkeys(["ano", "anos", "anio", "anios", "year", "years", "yr", "yrs"], 1),
    **dict.fromkeys(["mes", "meses", "month", "months", "mo", "mos"], 12),
    **dict.fromkeys(["semana", "semanas", "week", "weeks", "sem"], 52),
    **dict.fromkeys(["dia", "dias", "day", "days"], 365),
}


# --------------------------------------------------------------------------
# Text normalisation


def fold(text: str) -> str:
    """Lowercase, without accents (ñ -> n), straight apostrophes."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Token:
    text: str
    after_break: bool  # a comma, period... stands between this and the previous token


def tokenize(text: str) -> List[Token]:
    tokens: List[Token] = []
    pending_break = False
    for raw in _TOKEN.findall(fold(text)):
        if raw[0].isalnum():
            tokens.append(Token(raw, pending_break))
            pending_break = False
        elif raw in _CLAUSE_BREAK:
            pending_break = True
    return tokens


def _phrase(text: str) -> Tuple[str, ...]:
    return tuple(t.text for t in tokenize(text))


def _squeeze(word: str) -> str:
    return re.sub(r"(.)\1+", r"\1", word)


def _distance(a: str, b: str, limit: int) -> int:
    """Optimal string alignment distance (a transposition counts as one)."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: List[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=65536)
def word_matches(token: str, word: str) -> bool:
    """Same word, allowing repeated letters and a typo in longer words."""
    if token == word:
        return True
    if not (token.isalpha() and word.isalpha()):
        return False
    if _squeeze(token) == _squeeze(word):
        return True
    if len(word) < 6 or token[0] != word[0]:
        return False
    return _distance(token, word, 2) <= (2 if len(word) >= 10 else 1)


# --------------------------------------------------------------------------
# Phrase matching


@dataclass(frozen=True)
class _Entry:
    words: Tuple[str, ...]
    code: Optional[str]  # None for filler phrases
    alone: bool = False


@dataclass
class _Match:
    start: int
    end: int
    code: Optional[str]
    negated: bool = False
    negator: Optional["_Match"] = None


class _Vocabulary:
    """What one question understands, compiled from the protocol."""

    def __init__(self, protocol: Protocol, question: Question):
        words = protocol.words
        self.negation = {p[0] for lang in words.get("negation", {}).values() for p in map(_phrase, lang) if len(p) == 1}
        self.bridge = {p[0] for lang in words.get("bridge", {}).values() for p in map(_phrase, lang) if len(p) == 1}
        fillers = [p for lang in words.get("filler", {}).values() for p in map(_phrase, lang) if p]
        self.single_fillers = {p[0] for p in fillers if len(p) == 1}
        entries: List[_Entry] = [_Entry(p, None) for p in fillers if len(p) > 1]
        alone: List[_Entry] = []
        for option in question.options:
            for synonyms in option.synonyms.values():
                entries.extend(_Entry(p, option.code) for p in map(_phrase, synonyms) if p)
            for synonyms in option.alone.values():
                alone.extend(_Entry(p, option.code, True) for p in map(_phrase, synonyms) if p)
        self.entries = sorted(entries, key=lambda e: -len(e.words))
        self.alone_entries = sorted(alone, key=lambda e: -len(e.words))

    def find(self, tokens: Sequence[Token], entries: Iterable[_Entry]) -> List[_Match]:
        owner: List[Optional[_Match]] = [None] * len(tokens)
        matches: List[_Match] = []
        for entry in entries:
            size = len(entry.words)
            for start in range(len(tokens) - size + 1):
                span = range(start, start + size)
                if any(owner[i] is not None for i in span):
                    continue
                if any(tokens[i].after_break for i in span if i > start):
                    continue
                if all(word_matches(tokens[i].text, w) for i, w in zip(span, entry.words)):
                    match = _Match(start, start + size, entry.code)
                    matches.append(match)
                    for i in span:
                        owner[i] = match
        matches.sort(key=lambda m: m.start)
        for match in matches:
            if match.code is not None:
                self._negate(match, tokens, owner)
        # A lone negation word that negated something is not an answer itself.
        negators = {id(m.negator) for m in matches if m.negator is not None}
        return [m for m in matches if m.code is not None and id(m) not in negators]

    def _negate(self, match: _Match, tokens: Sequence[Token], owner: List[Optional[_Match]]) -> None:
        i = match.start
        while i > 0 and not tokens[i].after_break:
            i -= 1
            word, holder = tokens[i].text, owner[i]
            is_lone_word = holder is None or (holder.end - holder.start == 1 and holder.code is not None)
            if word in self.negation and is_lone_word:
                match.negated, match.negator = True, holder
                return
            if holder is None and word in self.bridge:
                continue
            return


_VOCABULARIES: "weakref.WeakKeyDictionary[Protocol, Dict[str, _Vocabulary]]" = weakref.WeakKeyDictionary()


def _vocabulary(protocol: Protocol, question: Question) -> _Vocabulary:
    per_protocol = _VOCABULARIES.setdefault(protocol, {})
    if question.id not in per_protocol:
        per_protocol[question.id] = _Vocabulary(protocol, question)
    return per_protocol[question.id]


# --------------------------------------------------------------------------
# Options: numbers or words


def _numbers_only(tokens: Sequence[Token], vocab: _Vocabulary) -> Optional[List[int]]:
    """The numbers of a reply made only of numbers and filler words."""
    numbers: List[int] = []
    for token in tokens:
        word = token.text
        if word.isdigit():
            numbers.append(int(word))
        elif word in _UNITS or word in ("diez", "once", "doce", "ten", "eleven", "twelve"):
            numbers.append(_UNITS.get(word, _TEENS.get(word)))
        elif word in vocab.single_fillers or word in ("&", "+"):
            continue
        else:
            return None
    return numbers or None


def _codes_from_numbers(question: Question, numbers: List[int]) -> List[str]:
    codes = []
    for number in numbers:
        option = question.option_by_number(number)
        if option is None:
            valid = sorted(o.number for o in question.options)
            raise InvalidAnswer(question.id, f"{number} is not an option ({valid})", "out_of_range", number)
        codes.append(option.code)
    return codes


@dataclass
class _Reading:
    codes: List[str]  # options picked (incl. negated options turned around)
    denied: bool  # something was negated and dropped


def _read_words(tokens: Sequence[Token], question: Question, vocab: _Vocabulary) -> _Reading:
    matches = vocab.find(tokens, vocab.entries)
    if not matches:
        matches = vocab.find(tokens, vocab.alone_entries)
    codes: List[str] = []
    denied = False
    for match in matches:
        if not match.negated:
            codes.append(match.code)
            continue
        turned = question.option(match.code).negated
        if turned is not None:
            codes.append(turned)
        else:
            denied = True
    return _Reading(codes, denied)


def _protocol(protocol: Optional[Protocol]) -> Protocol:
    return protocol if protocol is not None else current_protocol()


def _choose_one(question: Question, codes: List[str], text: str) -> Any:
    distinct = list(dict.fromkeys(codes))
    if not distinct:
        raise InvalidAnswer(question.id, f"could not read {text!r}", "not_understood", text)
    if len(distinct) > 1:
        raise InvalidAnswer(question.id, f"{text!r} says {distinct}", "ambiguous", text)
    return question.option(distinct[0]).value


def parse_choice(question_id: str, text: str, protocol: Optional[Protocol] = None) -> Any:
    """A single-choice or yes/no reply -> its value (code, or bool)."""
    proto = _protocol(protocol)
    question = proto.require_question(question_id)
    return _parse_single(question, text, proto)


def _parse_single(question: Question, text: str, proto: Protocol) -> Any:
    vocab = _vocabulary(proto, question)
    tokens = tokenize(text or "")
    numbers = _numbers_only(tokens, vocab)
    if numbers is not None:
        return _choose_one(question, _codes_from_numbers(question, numbers), text)
    return _choose_one(question, _read_words(tokens, question, vocab).codes, text)


def parse_choices(question_id: str, text: str, protocol: Optional[Protocol] = None) -> List[str]:
    """A multi-select reply -> list of codes in protocol order ([] = none)."""
    proto = _protocol(protocol)
    question = proto.require_question(question_id)
    vocab = _vocabulary(proto, question)
    tokens = tokenize(text or "")
    numbers = _numbers_only(tokens, vocab)
    if numbers is not None:
        codes = _codes_from_numbers(question, numbers)
        if NONE_CODE in codes and any(c != NONE_CODE for c in codes):
            raise ContradictoryAnswer(question.id, f"{text!r} picks none and some", text)
        return validate_answer(question.id, list(dict.fromkeys(codes)), proto)
    reading = _read_words(tokens, question, vocab)
    if not reading.codes:
        if reading.denied:
            return []
        raise InvalidAnswer(question.id, f"could not read {text!r}", "not_understood", text)
    if NONE_CODE in reading.codes and any(c != NONE_CODE for c in reading.codes):
        raise ContradictoryAnswer(question.id, f"{text!r} says none and some", text)
    return validate_answer(question.id, list(dict.fromkeys(reading.codes)), proto)


def symptoms_from_text(text: str, protocol: Optional[Protocol] = None) -> List[str]:
    """Symptoms a resident describes in passing ("tengo fiebre y tos desde ayer").

    Only what is affirmed counts: negated symptoms and "none" are left out;
    numbers are ignored. [] when nothing is recognised.
    """
    proto = _protocol(protocol)
    question = proto.require_question("symptoms")
    vocab = _vocabulary(proto, question)
    matches = vocab.find(tokenize(text or ""), vocab.entries)
    found = {m.code for m in matches if not m.negated and m.code != NONE_CODE}
    return [o.code for o in question.options if o.code in found]


def parse_consent(text: str, protocol: Optional[Protocol] = None) -> bool:
    """The reply to the disclaimer: True to go on, False to stop."""
    proto = _protocol(protocol)
    return _parse_single(proto.consent, text, proto) == "accept"


def is_restart(text: str, protocol: Optional[Protocol] = None) -> bool:
    """True when the whole reply is a restart keyword ("COVID", "reiniciar")."""
    words = _phrase(text or "")
    return bool(words) and any(words == _phrase(k) for k in _protocol(protocol).restart["keywords"])


# --------------------------------------------------------------------------
# Ages


def _below_hundred(words: Sequence[str], i: int) -> Optional[Tuple[int, int]]:
    if i >= len(words):
        return None
    word = words[i]
    if word in _TENS:
        value, j = _TENS[word], i + 1
        k = j + 1 if j < len(words) and words[j] in _CONNECTORS else j
        if k < len(words) and (words[k] in _UNITS or words[k] in _ARTICLE_ONE) and _UNITS.get(words[k], 1) > 0:
            return value + _UNITS.get(words[k], 1), k + 1
        return value, j
    if word in _TEENS:
        return _TEENS[word], i + 1
    if word in _UNITS:
        return _UNITS[word], i + 1
    return None


def _number_words(words: Sequence[str], i: int) -> Optional[Tuple[int, int]]:
    """A number written in words starting at i: (value, index after it)."""
    if words[i] in ("cien", "ciento"):
        rest = _below_hundred(words, i + 1)
        return (100 + rest[0], rest[1]) if rest and words[i] == "ciento" else (100, i + 1)
    if words[i] in _UNITS and i + 1 < len(words) and words[i + 1] == "hundred":
        value, j = _UNITS[words[i]] * 100, i + 2
    elif words[i] in _ARTICLE_ONE and i + 1 < len(words) and words[i + 1] == "hundred":
        value, j = 100, i + 2
    else:
        return _below_hundred(words, i)
    k = j + 1 if j < len(words) and words[j] == "and" else j
    rest = _below_hundred(words, k)
    return (value + rest[0], rest[1]) if rest else (value, j)


def parse_age(text: str, protocol: Optional[Protocol] = None) -> int:
    """A reply to the age question -> whole years (under one year -> 0).

    "34", "tengo 34 años", "treinta y cuatro", "8 meses" (0), "un año",
    "mi hijo de 5", "bebé" (0), "menor de 2" (0). Several ages in one reply,
    a negative number or an age over the maximum raise InvalidAnswer.
    """
    proto = _protocol(protocol)
    question = proto.require_question("age")
    folded = fold(text or "")
    if re.search(r"(^|[^\w])-\s*\d", folded):
        raise InvalidAnswer(question.id, f"negative age in {text!r}", "out_of_range", text)
    folded = re.sub(r"(\d+)[.,]\d+", r"\1", folded)  # 1.5 años -> 1 (whole years)
    tokens = tokenize(folded)
    under_2 = [_Entry(p, "under_2") for words in question.under_2.values() for p in map(_phrase, words) if p]
    vocab = _vocabulary(proto, question)
    said_under_2 = vocab.find(tokens, sorted(under_2, key=lambda e: -len(e.words)))
    taken = {i for m in said_under_2 for i in range(m.start, m.end)}
    words = [t.text if i not in taken else "" for i, t in enumerate(tokens)]

    quantities: List[Tuple[int, int]] = []  # (value, units per year)
    i = 0
    while i < len(words):
        word = words[i]
        found: Optional[Tuple[int, int]] = None
        if word.isdigit():
            found = (int(word), i + 1)
        elif word in _ARTICLE_ONE:
            if i + 1 < len(words) and words[i + 1] in _AGE_UNITS:
                found = (1, i + 1)
            elif i + 1 < len(words) and words[i + 1] == "hundred":
                found = _number_words(words, i)
        elif word in _UNITS or word in _TEENS or word in _TENS or word in _HUNDRED:
            found = _number_words(words, i)
        if found is None:
            i += 1
            continue
        value, i = found
        per_year = 1
        if i < len(words) and words[i] in _AGE_UNITS:
            per_year = _AGE_UNITS[words[i]]
            i += 1
        quantities.append((value, per_year))

    if not quantities:
        if said_under_2:
            return 0
        raise InvalidAnswer(question.id, f"no age in {text!r}", "not_understood", text)
    years_first = quantities[0][1] == 1
    # "2 años y 3 meses" is one age; "34 años, mi hijo 5" is two.
    if len(quantities) > 1 and not (len(quantities) == 2 and years_first and quantities[1][1] > 1):
        raise InvalidAnswer(question.id, f"several ages in {text!r}", "ambiguous", text)
    value, per_year = quantities[0]
    return validate_answer(question.id, value // per_year, proto)


# --------------------------------------------------------------------------
# Any question


def parse_answer(question_id: str, text: str, protocol: Optional[Protocol] = None) -> Any:
    """The answer value for `question_id` read from the resident's reply."""
    proto = _protocol(protocol)
    question = proto.require_question(question_id)
    if question.kind == "age":
        return parse_age(text, proto)
    if question.kind == "multi":
        return parse_choices(question_id, text, proto)
    return parse_choice(question_id, text, proto)
