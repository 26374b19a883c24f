"""Which of the online crime types a resident's words describe.

Two word lists do the work (crime_types.yml `classification`): what happened
(theft, loss, fraud, damage, threat) and what it happened to (phone,
vehicle, car parts, documents, belongings, a bank account). A small rule
table combines them. When the words do not settle the type, the result
names the one question that would ("what was taken?", "was there violence?",
"the vehicle or its parts?"), and `resolve_with_answer` applies the answer.

The safety check always runs first: a message that describes danger or a
never-online crime gets no type at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Dict, FrozenSet, Iterable, List, Optional, Tuple

from actions.crime import data
from actions.crime.matching import Hit, Matcher, both_languages, phonetic
from actions.crime.safety import SafetyResult, check_safety, never_online_result
from actions.crime.validators import parse_yes_no

# Which type a theft/loss of each kind of object is, most specific first:
# parts before the vehicle ("los espejos de mi coche"), the vehicle before
# what was inside it, the phone before the bag it was in, documents before
# the wallet that held them (they need the report to be replaced).
OBJECT_PRECEDENCE: Tuple[Tuple[str, str], ...] = (
    ("car_part", "robo_autopartes"),
    ("vehicle", "robo_vehiculo"),
    ("phone", "robo_celular"),
    ("documents", "extravio_documentos"),
    ("belongings", "robo_objetos"),
)
# Candidates for "what was taken?", most frequently reported first.
THEFT_TYPES = ("robo_celular", "robo_objetos", "extravio_documentos", "robo_autopartes", "robo_vehiculo")

# Confidence is a coarse label for the dialogue (confirm or not), not a probability.
SURE = 0.9
LIKELY = 0.6


@dataclass(frozen=True)
class Classification:
    text: str
    crime_type: Optional[str]  # decided type, or None
    confidence: float  # 0 when undecided
    why: Tuple[str, ...]  # the cues and rules that led here
    question: Optional[str] = None  # id in crime_types.yml decisive_questions
    candidates: Tuple[str, ...] = ()  # types still possible, likeliest first
    safety: Optional[SafetyResult] = None  # never-online situation detected
    note: Optional[str] = None  # id in crime_types.yml notes (e.g. lost_not_a_crime)
    events: FrozenSet[str] = field(default_factory=frozenset)
    objects: FrozenSet[str] = field(default_factory=frozenset)

    @property
    def is_ambiguous(self) -> bool:
        return self.question is not None

    def question_text(self, lang: str = "es") -> str:
        if not self.question:
            return ""
        return data.localized(data.pack()["decisive_questions"][self.question]["question"], lang)


@lru_cache(maxsize=None)
def _matchers() -> Tuple[Matcher, Matcher, FrozenSet[str], FrozenSet[str]]:
    spec = data.pack()["classification"]
    events = Matcher({name: both_languages(words) for name, words in spec["events"].items()})
    objects = Matcher({name: both_languages(words) for name, words in spec["objects"].items()})
    place_words = frozenset(phonetic(w) for w in both_languages(spec["vehicle_as_place_before"]))
    object_after = frozenset(phonetic(w) for w in both_languages(spec.get("vehicle_as_object_after")))
    return events, objects, place_words, object_after


def reset_cache() -> None:
    _matchers.cache_clear()


_DETERMINERS = {"mi", "mis", "el", "la", "los", "las", "su", "sus", "my", "the", "our", "nuestro", "nuestra"}


def _vehicle_is_place(key: str, hits: List[Hit], place_words: FrozenSet[str], object_after: FrozenSet[str]) -> bool:
    """True when every vehicle mention reads 'from/in my car' rather than 'my car'."""
    if not hits:
        return False
    for hit in hits:
        before = key[: hit.start].split()
        while before and before[-1] in _DETERMINERS:
            before.pop()
        if not before or before[-1] not in place_words:
            return False
        if len(before) >= 2 and before[-2] in object_after:  # "robo de (mi) auto"
            return False
    return True


def _cues(text: str) -> Tuple[Dict[str, List[Hit]], Dict[str, List[Hit]], bool]:
    event_m, object_m, place_words, object_after = _matchers()
    key = phonetic(text)
    # Typo tolerance for things (celuar, selular) but not for verbs, where one
    # letter turns one event into another ("cobraron" / "quebraron").
    events = event_m.labels(key, fuzzy=False)
    objects = object_m.labels(key)
    vehicle_place = _vehicle_is_place(key, objects.get("vehicle", []), place_words, object_after)
    if vehicle_place:
        objects.pop("vehicle", None)
    return events, objects, vehicle_place


def _describe(kind: str, found: Dict[str, List[Hit]]) -> List[str]:
    return [f"{kind} {label}: {', '.join(sorted({h.matched for h in hits}))}" for label, hits in sorted(found.items())]


def _theft_type(objects: Iterable[str]) -> Optional[str]:
    present = set(objects)
    for obj, crime_type in OBJECT_PRECEDENCE:
        if obj in present:
            return crime_type
    return None


def _decide(text: str, events: FrozenSet[str], objects: FrozenSet[str], vehicle_place: bool, why: List[str]) -> Classification:
    def result(crime_type: Optional[str], confidence: float, rule: str, **extra) -> Classification:
        return Classification(
            text=text, crime_type=crime_type, confidence=confidence, why=tuple(why + [rule]),
            events=events, objects=objects, **extra,
        )

    def ask(question: str, candidates: Tuple[str, ...], rule: str) -> Classification:
        return result(None, 0.0, rule, question=question, candidates=candidates)

    if "fraud" in events or ("account" in objects and "theft" in events):
        return result("fraude", SURE, "rule: fraud words or money taken from an account")
    if "threat" in events:
        return result("amenazas", SURE, "rule: threat words")
    if "theft" in events or "loss" in events:
        crime_type = _theft_type(objects)
        if crime_type is None:
            if vehicle_place:
                return ask("vehicle_or_parts", ("robo_autopartes", "robo_objetos", "robo_vehiculo"),
                           "rule: something taken from a vehicle, not said what")
            return ask("what_taken", THEFT_TYPES, "rule: taken or lost, not said what")
        if "theft" not in events and crime_type != "extravio_documentos":
            return ask("stolen_or_lost", (crime_type,), "rule: lost, and only documents can be reported lost")
        if "confrontation" in events and "no_violence" not in events:
            return ask("violence", (crime_type,), "rule: taken face to face; violence decides online or in person")
        return result(crime_type, SURE, "rule: what happened and what it happened to")
    if "damage" in events:
        return result("dano_propiedad", SURE, "rule: damage words")
    crime_type = _theft_type(objects)
    if crime_type is not None:
        return result(crime_type, LIKELY, "rule: only the object was named; theft assumed")
    if vehicle_place:
        return ask("vehicle_or_parts", ("robo_autopartes", "robo_objetos", "robo_vehiculo"), "rule: about a vehicle")
    return ask("what_happened", tuple(data.online_type_codes()), "rule: no cue")


def _safety_classification(text: str, safety: SafetyResult, why: Iterable[str] = ()) -> Classification:
    return Classification(
        text=text, crime_type=None, confidence=0.0, safety=safety,
        why=tuple(why) + (f"safety {safety.category}: {', '.join(safety.matched)}",),
    )


def classify_crime(text: str) -> Classification:
    """Classify a resident's message into one online crime type, or say what to ask."""
    safety = check_safety(text)
    if safety is not None:
        return _safety_classification(text, safety)
    events, objects, vehicle_place = _cues(text)
    why = _describe("event", events) + _describe("object", objects)
    if vehicle_place:
        why.append("vehicle mentioned as the place things were taken from")
    return _decide(text, frozenset(events), frozenset(objects), vehicle_place, why)


def _option_value(question: str, answer: str) -> Optional[Tuple[str, Optional[str]]]:
    """(value, crime_type) of the option whose words occur in the answer."""
    options = data.pack()["decisive_questions"][question].get("options") or []
    matcher = Matcher({opt["value"]: opt.get("words") or [] for opt in options})
    found = matcher.labels(answer)
    for opt in options:  # YAML order breaks ties
        if opt["value"] in found:
            return opt["value"], opt.get("crime_type")
    return None


def resolve_with_answer(previous: Classification, answer: str) -> Classification:
    """Apply the resident's answer to `previous.question`."""
    text = f"{previous.text} {answer}".strip()
    safety = check_safety(answer)
    if safety is not None:
        return _safety_classification(text, safety, previous.why)
    question = previous.question
    why = list(previous.why)
    if question is None:
        return classify_crime(text)

    if question == "violence":
        said = parse_yes_no(answer)
        if said is True:
            return _safety_classification(text, never_online_result("violence"), why + ["answer: there was violence or a threat"])
        if said is False:
            return replace(previous, text=text, crime_type=previous.candidates[0], confidence=SURE, question=None,
                           why=tuple(why + ["answer: no violence"]))
        return replace(previous, why=tuple(why + ["answer unclear; ask again"]))

    if question == "stolen_or_lost":
        option = _option_value(question, answer)
        said = option[0] if option else None
        if said is None:
            events, _, _ = _cues(answer)
            said = "stolen" if "theft" in events else "lost" if "loss" in events else None
        if said == "stolen":
            return replace(previous, text=text, crime_type=previous.candidates[0], confidence=SURE, question=None,
                           why=tuple(why + ["answer: stolen"]))
        if said == "lost":
            return replace(previous, text=text, crime_type=None, confidence=SURE, question=None, candidates=(),
                           note="lost_not_a_crime", why=tuple(why + ["answer: lost; losing an object is not a crime"]))
        return replace(previous, why=tuple(why + ["answer unclear; ask again"]))

    # what_taken / vehicle_or_parts / what_happened: the answer names the thing or the event.
    option = _option_value(question, answer) if data.pack()["decisive_questions"][question].get("options") else None
    events, objects, vehicle_place = _cues(answer)
    answer_why = _describe("answer event", events) + _describe("answer object", objects)
    if option and option[1] and not objects:
        return replace(previous, text=text, crime_type=option[1], confidence=SURE, question=None,
                       candidates=(), why=tuple(why + answer_why + [f"answer option: {option[0]}"]))
    merged_events = frozenset(previous.events) | frozenset(events)
    if question in ("what_taken", "vehicle_or_parts") and not (merged_events & {"theft", "loss"}):
        merged_events |= {"theft"}  # the question itself was about something taken
    merged_objects = frozenset(objects) if objects else frozenset(previous.objects)
    decided = _decide(text, merged_events, merged_objects, vehicle_place and not objects, why + answer_why)
    if decided.question == question and decided.crime_type is None:
        return replace(previous, why=tuple(why + answer_why + ["answer did not settle it; ask again"]))
    return decided
