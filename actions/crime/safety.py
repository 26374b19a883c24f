"""Is anyone in danger, or is this a crime that is never taken online?

Run on every message of the crime conversation, before anything else. It
errs towards safety: when a word suggests danger, violence, weapons,
injuries, sexual or family violence, kidnapping or a death, the resident is
sent to 911 / the prosecutor's office / the women's line instead of a form.
Only explicit, literal negations ("sin violencia", "no hubo heridos") are
set aside first, so ordinary theft told with them still passes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import List, Optional, Tuple

from actions.crime import data
from actions.crime.matching import Matcher, both_languages, phonetic, phrase_regex


@dataclass(frozen=True)
class SafetyResult:
    category: str  # the highest-priority category that matched
    categories: Tuple[str, ...]  # all that matched, in priority order
    matched: Tuple[str, ...]  # the (folded) words that triggered it, for review and tests
    lines: Tuple[str, ...]  # city.yml line keys to offer (emergency, women, prosecutor)

    def instruction(self, lang: str = "es") -> str:
        """What the resident is told for the main category."""
        return _instruction(self.category, lang)

    def instructions(self, lang: str = "es") -> List[str]:
        """One instruction per matched category, most urgent first."""
        return [_instruction(c, lang) for c in self.categories]

    @property
    def call_emergency_now(self) -> bool:
        return self.category == "danger_now"


def _instruction(category: str, lang: str) -> str:
    return data.localized(data.pack()["never_online"][category]["instruction"], lang)


@lru_cache(maxsize=None)
def _compiled() -> Tuple[Matcher, Optional[re.Pattern], Tuple[str, ...]]:
    pack = data.pack()
    order = tuple(pack["never_online"])
    groups = {name: both_languages(entry) for name, entry in pack["word_groups"].items()}
    matcher = Matcher(
        {code: both_languages(spec["detect"]) for code, spec in pack["never_online"].items()},
        groups,
        fuzzy_exceptions=pack.get("fuzzy_exceptions") or [],
    )
    negations = [r for r in (phrase_regex(p) for p in both_languages(pack["not_danger_phrases"])) if r]
    negations.sort(key=len, reverse=True)
    negation_rx = re.compile("|".join(negations)) if negations else None
    return matcher, negation_rx, order


def reset_cache() -> None:
    """For tests that swap the city pack."""
    _compiled.cache_clear()


def check_safety(text: str) -> Optional[SafetyResult]:
    """Return the never-online situation the message describes, or None."""
    if not text or not text.strip():
        return None
    matcher, negation_rx, order = _compiled()
    key = phonetic(text)
    if negation_rx is not None:
        key = negation_rx.sub(" | ", key)
    hits = matcher.find(key)
    if not hits:
        return None
    found = {h.label for h in hits}
    categories = tuple(c for c in order if c in found)
    lines: List[str] = []
    for c in categories:
        for line in data.pack()["never_online"][c].get("lines", []):
            if line not in lines:
                lines.append(line)
    matched = tuple(dict.fromkeys(h.matched for h in hits))
    return SafetyResult(categories[0], categories, matched, tuple(lines))


def never_online_result(category: str) -> SafetyResult:
    """A result for a category the resident confirmed (e.g. "yes, there was violence")."""
    spec = data.pack()["never_online"][category]
    return SafetyResult(category, (category,), (), tuple(spec.get("lines", [])))
