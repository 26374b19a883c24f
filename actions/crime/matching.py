"""Word-list matching shared by the safety check and the classifier.

Residents type fast, on phones, without accents and with the misspellings
Spanish spelling invites (cuchiyo, pistola/pixtola, golpiaron, selular). We
fold both the word lists and the message to a rough phonetic key and match
whole words there, plus one-typo tolerance for long single words. The list
syntax is described at the top of citypack/<pack>/crime_types.yml.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

# Long words tolerate one wrong/missing/extra letter; shorter ones collide
# with ordinary words ("bala" ~ "bola", "muerto" ~ "muerte").
FUZZY_MIN_LEN = 7

_NON_WORD = re.compile(r"[^a-z0-9*~\s]+")
_NON_WORD_PATTERN = re.compile(r"[^a-z0-9*~|?()\s]+")
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lowercase, strip accents (ñ -> n), keep letters, digits and spaces."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain


def phonetic(text: str, pattern: bool = False) -> str:
    """Rough Spanish sound key: folds the spellings residents confuse.

    Applied identically to word lists and messages, so only consistency
    matters, not linguistic accuracy. With `pattern`, the list syntax
    characters ( * ~ ( | ) ? ) survive.
    """
    s = fold(text)
    s = (_NON_WORD_PATTERN if pattern else _NON_WORD).sub(" ", s)
    s = re.sub(r"ll(?=[aeiou])", "y", s)  # cuchiyo/cuchillo; not English "sexually"
    s = re.sub(r"c(?=[ei])", "s", s)
    s = re.sub(r"qu(?=[ei])", "k", s)
    s = s.replace("ch", "\x01")
    s = s.replace("q", "k").replace("c", "k")
    s = s.replace("z", "s").replace("v", "b")
    s = s.replace("h", "")  # silent h; 'ch' is protected above
    s = s.replace("\x01", "ch")
    s = re.sub(r"([a-z])\1+", r"\1", s)  # doubled letters: "rr", "pistolaaa"
    return _SPACES.sub(" ", s).strip()


def tokens(text: str) -> List[str]:
    return phonetic(text).split()


def _word_regex(word: str) -> str:
    if word.endswith("*"):
        return re.escape(word[:-1]) + r"[a-z0-9]*"
    return re.escape(word)


def _token_regex(tok: str) -> str:
    """One token of a list entry, followed by its trailing space."""
    if tok == "~":
        return r"(?:[a-z0-9]+\s+){0,2}"
    optional = tok.endswith("?")
    tok = tok.rstrip("?")
    if tok.startswith("(") and tok.endswith(")"):
        body = "(?:" + "|".join(_word_regex(w) for w in tok[1:-1].split("|") if w) + ")"
    else:
        body = _word_regex(tok)
    return f"(?:{body}\\s+)?" if optional else f"{body}\\s+"


def phrase_regex(phrase: str) -> Optional[str]:
    """Regex for one list entry; see the syntax at the top of crime_types.yml."""
    toks = phonetic(phrase, pattern=True).split()
    if not toks:
        return None
    out = "".join(_token_regex(tok) for tok in toks)
    out = out[: -len("\\s+")] if out.endswith("\\s+") else out  # no space needed after the last word
    # A trailing optional token leaves "(?:...\s+)?"; allow the phrase to end before it.
    return r"(?<![a-z0-9])" + out + r"(?![a-z0-9])"


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (one wrong, missing, extra or swapped letter)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1:] == b[i + 1:]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    if la > lb:
        return a[i + 1:] == b[i:]
    return a[i:] == b[i + 1:]


def _deletions(word: str) -> Iterable[str]:
    yield word
    for i in range(len(word)):
        yield word[:i] + word[i + 1:]


@dataclass
class Hit:
    label: str
    start: int  # offset in the phonetic text
    end: int
    matched: str


class Matcher:
    """Compiled word lists: label -> entries (strings or {all: [groups]})."""

    def __init__(
        self,
        entries: Mapping[str, Sequence],
        groups: Mapping[str, Sequence[str]] | None = None,
        fuzzy_exceptions: Iterable[str] = (),
    ):
        # Real words one letter away from a keyword ("ambulante" / "ambulance").
        self._not_fuzzy = {phonetic(w) for w in fuzzy_exceptions}
        self._regex: Dict[str, re.Pattern] = {}
        self._all_of: Dict[str, List[List[re.Pattern]]] = {}
        # deletion-variant -> (label, keyword), for one-typo matching
        self._fuzzy: Dict[str, List[Tuple[str, str]]] = {}
        group_regex = {name: self._compile(words) for name, words in (groups or {}).items()}
        for label, items in entries.items():
            plain: List[str] = []
            for item in items:
                if isinstance(item, dict) and "all" in item:
                    self._all_of.setdefault(label, []).append([group_regex[g] for g in item["all"]])
                elif isinstance(item, str):
                    plain.append(item)
                    self._add_fuzzy(label, item)
            compiled = self._compile(plain)
            if compiled is not None:
                self._regex[label] = compiled

    @staticmethod
    def _compile(words: Sequence[str]) -> Optional[re.Pattern]:
        parts = [r for r in (phrase_regex(w) for w in words) if r]
        # Longest first, so "me robaron las placas" wins over "me robaron".
        parts.sort(key=len, reverse=True)
        return re.compile("|".join(parts)) if parts else None

    def _add_fuzzy(self, label: str, item: str) -> None:
        toks = phonetic(item, pattern=True).split()
        if len(toks) != 1 or any(c in toks[0] for c in "~()|?"):
            return
        word = toks[0]
        # Only whole words: a typo next to a prefix's end reads as another
        # word ("desaparecio" is one letter from "desaparecid-").
        if word.endswith("*") or len(word) < FUZZY_MIN_LEN or not word.isalpha():
            return
        for variant in set(_deletions(word)):
            self._fuzzy.setdefault(variant, []).append((label, word))

    def find(self, text: str, *, fuzzy: bool = True) -> List[Hit]:
        """All hits in a message (already phonetic or raw; raw is folded)."""
        key = phonetic(text)
        hits: List[Hit] = []
        for label, rx in self._regex.items():
            for m in rx.finditer(key):
                hits.append(Hit(label, m.start(), m.end(), m.group(0)))
        for label, rules in self._all_of.items():
            for groups in rules:
                found = [g.search(key) if g is not None else None for g in groups]
                if all(found):
                    first = min(found, key=lambda m: m.start())
                    hits.append(Hit(label, first.start(), first.end(), " + ".join(m.group(0) for m in found)))
        if fuzzy and self._fuzzy:
            hits.extend(self._fuzzy_hits(key))
        return hits

    def _fuzzy_hits(self, key: str) -> List[Hit]:
        hits: List[Hit] = []
        for m in re.finditer(r"[a-z]+", key):
            word = m.group(0)
            if len(word) < FUZZY_MIN_LEN - 1 or word in self._not_fuzzy:
                continue
            for variant in set(_deletions(word)):
                for label, keyword in self._fuzzy.get(variant, ()):
                    if word != keyword and within_one_edit(word, keyword):
                        hits.append(Hit(label, m.start(), m.end(), f"{word}~{keyword}"))
        return hits

    def labels(self, text: str, *, fuzzy: bool = True) -> Dict[str, List[Hit]]:
        out: Dict[str, List[Hit]] = {}
        for hit in self.find(text, fuzzy=fuzzy):
            out.setdefault(hit.label, []).append(hit)
        return out


def both_languages(entry: Mapping[str, Sequence] | None) -> List:
    """Merge an {es: [...], en: [...]} entry: residents mix languages."""
    if not entry:
        return []
    merged: List = []
    for lang in ("es", "en"):
        merged.extend(entry.get(lang) or [])
    return merged
