"""A crime report being drafted in a conversation: what is already known, what
to ask next, and what the resident's answer to it means.

Pure logic on plain data (the draft travels in a Rasa slot as a dict), so the
whole questionnaire is testable without Rasa:

- `start(text)` reads the first message: the type (or the decisive question
  to ask), and every fact the words already give (when, where, brand, plate,
  amounts...), so those are not asked again.
- `next_step(draft)` is the next question: the type while it is undecided,
  then the type's facts and the common ones in the city pack's order, with
  short follow-ups when "when" needs it (morning or evening? what time? a
  date that old?).
- `answer(draft, step, text)` applies one reply: the value normalised by the
  validators, or a hint saying why it cannot be used, or a safety outcome
  (violence, danger now) that ends the questionnaire.
- `fields_to_correct`, `clear` and `correction_field` let the resident fix any
  fact at the summary.
"""
from __future__ import annotations

import copy
import datetime as dt
import re
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pytz

from actions.crime import validators as v
from actions.crime.classify import Classification, classify_crime, resolve_with_answer
from actions.crime.extract import extract_facts
from actions.crime.matching import Matcher, both_languages, phonetic
from actions.crime.safety import SafetyResult, check_safety, never_online_result
from common import crime_report
from common.settings import get_settings

TYPE, FACT, WHEN_AMPM, WHEN_TIME, WHEN_OLD = "type", "fact", "when_ampm", "when_time", "when_old"
COMMON_FIELDS = crime_report.COMMON_FIELDS
# Facts read from free text by extract.py, by the key it uses.
_EXTRACTED_FIELDS = ("phone_brand", "phone_model", "imei", "vin", "plate")
# Where a single money amount in the first message goes, per type.
_AMOUNT_FIELD = {"fraude": "amount", "robo_objetos": "items_value", "dano_propiedad": "estimated_cost"}
# A first message shorter than this is not kept as the account of what happened.
MIN_DESCRIPTION_WORDS = 6


@dataclass
class Step:
    kind: str
    field: Optional[str] = None
    question: Optional[str] = None  # decisive question id (TYPE steps)


@dataclass
class Draft:
    id: str
    texts: List[str] = field(default_factory=list)  # the resident's words about the crime
    crime_type: Optional[str] = None
    question: Optional[Dict[str, Any]] = None  # the decisive question under way
    facts: Dict[str, Any] = field(default_factory=dict)
    unknown: List[str] = field(default_factory=list)  # "I don't know" where the type allows it
    skipped: List[str] = field(default_factory=list)  # optional facts not given
    when_pending: Optional[Dict[str, Any]] = None  # a "when" that needs one more answer
    code_state: Optional[str] = None  # one-time code: "sent" while one is out
    correcting: bool = False  # at the summary: the resident is choosing a fact to fix

    def to_slot(self) -> Dict[str, Any]:
        return copy.deepcopy(self.__dict__)

    @classmethod
    def from_slot(cls, value: Any) -> Optional["Draft"]:
        if not isinstance(value, dict) or not value.get("id"):
            return None
        known = {k: copy.deepcopy(value[k]) for k in cls.__dataclass_fields__ if k in value}
        return cls(**known)

    def filing_facts(self) -> Tuple[Dict[str, Any], List[str]]:
        """(facts, unknown) of the decided type, as the back office takes them."""
        fields = {spec["field"] for spec in crime_report.facts_for(self.crime_type)} if self.crime_type else set()
        facts = {k: val for k, val in self.facts.items() if k in fields}
        return facts, [f for f in self.unknown if f in fields]


@dataclass
class Outcome:
    draft: Draft
    ok: bool
    hint: Optional[str] = None  # what to tell the resident before the next question
    safety: Optional[SafetyResult] = None  # never taken online: tell and stop
    note: Optional[str] = None  # e.g. losing an object is not a crime: tell and stop


# ----------------------------------------------------------------- helpers


def _texts() -> Dict[str, Any]:
    return crime_report.texts()


def _now(now: Optional[dt.datetime]) -> dt.datetime:
    tz = pytz.timezone(get_settings().timezone)
    if now is None:
        return dt.datetime.now(tz)
    return tz.localize(now) if now.tzinfo is None else now.astimezone(tz)


@lru_cache(maxsize=None)
def _unknown_matcher() -> Matcher:
    return Matcher({"unknown": both_languages(_texts()["unknown_answers"])})


def is_unknown_answer(text: str) -> bool:
    """'no sé', 'no lo tengo', 'skip'... said as the answer (not inside a longer one)."""
    words = phonetic(text).split()
    return bool(words) and len(words) <= 6 and bool(_unknown_matcher().find(text, fuzzy=False))


def _serialize(c: Classification) -> Dict[str, Any]:
    return {"text": c.text, "question": c.question, "candidates": list(c.candidates),
            "events": sorted(c.events), "objects": sorted(c.objects)}


def _classification(data: Optional[Dict[str, Any]]) -> Classification:
    data = data or {}
    return Classification(
        text=data.get("text") or "", crime_type=None, confidence=0.0, why=(),
        question=data.get("question") or "what_happened", candidates=tuple(data.get("candidates") or ()),
        events=frozenset(data.get("events") or ()), objects=frozenset(data.get("objects") or ()),
    )


def _type_fields(crime_type: Optional[str]) -> List[str]:
    return [spec["field"] for spec in crime_report.facts_for(crime_type)] if crime_type else list(COMMON_FIELDS)


def _settled(draft: Draft, name: str) -> bool:
    return name in draft.facts or name in draft.unknown or name in draft.skipped


def _when_value(when: v.When) -> Dict[str, Any]:
    return {
        "date": when.date.isoformat(),
        "time": when.time.strftime("%H:%M") if when.time else None,
        "part_of_day": when.part_of_day,
        "approximate": bool(when.approximate),
    }


def _take_when(draft: Draft, when: v.When) -> None:
    """Keep a 'when' as a fact, or as pending when it needs one more answer."""
    value = _when_value(when)
    if when.too_old:
        draft.when_pending = {**value, "kind": WHEN_OLD, "alternatives": [a.isoformat() for a in when.alternatives],
                              "ambiguous": when.hour_ambiguous}
    elif when.hour_ambiguous and when.alternatives:
        draft.when_pending = {**value, "kind": WHEN_AMPM, "alternatives": [a.isoformat() for a in when.alternatives]}
    elif when.time is None and when.part_of_day is None:
        draft.when_pending = {**value, "kind": WHEN_TIME}
    else:
        draft.when_pending = None
        draft.facts["when"] = value


def _amount_value(amount: v.Amount) -> Dict[str, Any]:
    return {"value": f"{amount.value:.2f}", "currency": amount.currency}


def _normalise(validator: str, value: Any) -> Any:
    if isinstance(value, v.Amount):
        return _amount_value(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _help(spec: Dict[str, Any], lang: str) -> str:
    return crime_report.text(spec.get("help"), lang) if spec.get("help") else ""


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


# ------------------------------------------------------------------ reading facts


def _prefill(draft: Draft, text: str, now: dt.datetime, *, first: bool) -> Optional[SafetyResult]:
    """Take every fact `text` gives that the draft does not have yet."""
    found = extract_facts(text, now)
    classification: Optional[Classification] = found.get("classification")
    if classification is not None and classification.safety is not None:
        return classification.safety
    fields = _type_fields(draft.crime_type)
    if "when" in found and not _settled(draft, "when") and draft.when_pending is None:
        _take_when(draft, found["when"])
    if "place" in found and not _settled(draft, "place"):
        place = found["place"]
        colonia = found.get("colonia")
        if colonia and colonia.lower() not in place.lower():
            place = f"{place}, col. {colonia}"
        draft.facts["place"] = place
    if "alcaldia" in found and not _settled(draft, "alcaldia"):
        draft.facts["alcaldia"] = found["alcaldia"]
    if (first and "description" not in draft.facts and classification is not None
            and (classification.events or classification.objects)
            and len(text.split()) >= MIN_DESCRIPTION_WORDS):
        draft.facts["description"] = text.strip()
    if not draft.crime_type:
        return None
    for name in _EXTRACTED_FIELDS:
        if name in found and name in fields and not _settled(draft, name):
            draft.facts[name] = found[name]
    amount_field = _AMOUNT_FIELD.get(draft.crime_type)
    if amount_field and "amount" in found and not _settled(draft, amount_field):
        draft.facts[amount_field] = _amount_value(found["amount"])
    for spec in crime_report.facts_for(draft.crime_type):
        name = spec["field"]
        if spec["validator"] != "choice" or _settled(draft, name):
            continue
        if name == "lost_or_stolen" and classification is not None:
            if "theft" in classification.events:
                draft.facts[name] = "stolen"
            elif "loss" in classification.events:
                draft.facts[name] = "lost"
            continue
        try:
            choice = v.validate_choice(text, spec["options"], allow_other=False)
        except v.ValidationError:
            continue
        draft.facts[name] = choice
    return None


def start(text: str, now: Optional[dt.datetime] = None, draft_id: Optional[str] = None) -> Outcome:
    """A new draft from the resident's first message (a menu button gives no words)."""
    now = _now(now)
    draft = Draft(id=draft_id or uuid.uuid4().hex)
    words = (text or "").strip()
    if not words or words.startswith("/"):
        draft.question = {"question": "what_happened"}
        return Outcome(draft, True)
    classification = classify_crime(words)
    if classification.safety is not None:
        return Outcome(draft, False, safety=classification.safety)
    draft.texts.append(words)
    if classification.crime_type:
        draft.crime_type = classification.crime_type
    else:
        draft.question = _serialize(classification)
    safety = _prefill(draft, words, now, first=True)
    if safety is not None:
        return Outcome(draft, False, safety=safety)
    return Outcome(draft, True)


# ------------------------------------------------------------------ what to ask


def next_step(draft: Draft) -> Optional[Step]:
    """The next question, or None when every fact the type needs is settled."""
    if not draft.crime_type:
        return Step(TYPE, question=(draft.question or {}).get("question") or "what_happened")
    for spec in crime_report.facts_for(draft.crime_type):
        name = spec["field"]
        if name == "when" and draft.when_pending:
            return Step(draft.when_pending["kind"], field="when")
        if not _settled(draft, name):
            return Step(FACT, field=name)
    return None


def _short_time(iso: str, reference_date: str, lang: str) -> str:
    moment = dt.datetime.fromisoformat(iso)
    hhmm = moment.strftime("%H:%M")
    if moment.date().isoformat() == reference_date:
        return hhmm
    return f"{crime_report.date_text(moment.date(), lang)}, {hhmm}"


def _ampm_readings(pending: Dict[str, Any]) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """(morning reading, evening reading) of an ambiguous hour, as when-values."""
    chosen = {k: pending.get(k) for k in ("date", "time", "part_of_day", "approximate")}
    others = []
    for iso in pending.get("alternatives") or []:
        moment = dt.datetime.fromisoformat(iso)
        others.append({**chosen, "date": moment.date().isoformat(), "time": moment.strftime("%H:%M")})
    readings = [chosen] + others
    morning = next((r for r in readings if r["time"] and int(r["time"][:2]) < 12), readings[-1])
    evening = next((r for r in readings if r["time"] and int(r["time"][:2]) >= 12), readings[0])
    return morning, evening


def question(draft: Draft, step: Step, lang: str) -> Tuple[str, List[Tuple[str, str]]]:
    """(question text, buttons as (title, payload)) for a step."""
    texts = _texts()
    if step.kind == TYPE:
        decisive = crime_report.types_pack()["decisive_questions"][step.question]
        buttons = []
        if step.question == "violence":
            buttons = [(crime_report.text(texts["values"]["yes"], lang), crime_report.text(texts["values"]["yes"], lang)),
                       (crime_report.text(texts["values"]["no"], lang), crime_report.text(texts["values"]["no"], lang))]
        for option in decisive.get("options") or []:
            title = crime_report.text(option["label"], lang)
            buttons.append((title, title))
        return crime_report.text(decisive["question"], lang), buttons
    if step.kind == WHEN_AMPM:
        pending = draft.when_pending or {}
        morning, evening = _ampm_readings(pending)
        hour = int((pending.get("time") or "0:0").split(":")[0]) % 12 or 12
        options = texts["ampm_options"]
        buttons = [
            (crime_report.text(options["morning"], lang, time=_short_time(f"{morning['date']}T{morning['time']}", pending["date"], lang)),
             crime_report.text(options["morning"], lang, time=morning["time"])),
            (crime_report.text(options["evening"], lang, time=_short_time(f"{evening['date']}T{evening['time']}", pending["date"], lang)),
             crime_report.text(options["evening"], lang, time=evening["time"])),
        ]
        return crime_report.text(texts["ampm_question"], lang, hour=hour), buttons
    if step.kind == WHEN_TIME:
        return crime_report.text(texts["time_question"], lang), []
    if step.kind == WHEN_OLD:
        pending = draft.when_pending or {}
        yes, no = crime_report.text(texts["values"]["yes"], lang), crime_report.text(texts["values"]["no"], lang)
        shown = crime_report.when_text(pending, lang)
        return crime_report.text(texts["too_old_question"], lang, years=texts["max_years"], date=shown), [(yes, yes), (no, no)]
    spec = crime_report.fact_spec(draft.crime_type, step.field)
    text = crime_report.text(spec["question"], lang)
    buttons: List[Tuple[str, str]] = []
    if spec["validator"] == "choice":
        buttons = [(crime_report.text(o["label"], lang),) * 2 for o in spec["options"]]
    elif spec["validator"] == "yes_no":
        yes, no = crime_report.text(texts["values"]["yes"], lang), crime_report.text(texts["values"]["no"], lang)
        buttons = [(yes, yes), (no, no)]
    if spec.get("if_unknown") == "allow" or not spec.get("required"):
        unknown = crime_report.text(texts["values"]["unknown"], lang)
        buttons.append((unknown, unknown))
    if spec.get("help") and spec.get("if_unknown") == "allow":
        text = _join(text, _help(spec, lang))  # where to find it belongs with the question
    return text, buttons


# ------------------------------------------------------------------ reading answers


def answer(draft: Draft, step: Step, text: str, lang: str = "es", now: Optional[dt.datetime] = None) -> Outcome:
    """Apply the resident's reply to `step` (a copy of the draft is changed)."""
    draft = Draft.from_slot(draft.to_slot())
    now = _now(now)
    text = (text or "").strip()
    if not text:
        return Outcome(draft, False, hint=v.ValidationError("empty").hint(lang))
    if step.kind == TYPE:
        return _answer_type(draft, text, lang, now)
    if step.kind == WHEN_AMPM:
        return _answer_ampm(draft, text, lang, now)
    if step.kind == WHEN_TIME:
        return _answer_time(draft, text, lang, now)
    if step.kind == WHEN_OLD:
        return _answer_old(draft, text, lang)
    return _answer_fact(draft, step.field, text, lang, now)


def _answer_type(draft: Draft, text: str, lang: str, now: dt.datetime) -> Outcome:
    previous = _classification(draft.question)
    # The answer can complete a sentence that is never online: "me robaron" + "a mi hijo".
    together = check_safety(f"{previous.text} {text}".strip())
    if together is not None:
        return Outcome(draft, False, safety=together)
    resolved = resolve_with_answer(previous, text) if previous.text else classify_crime(text)
    if resolved.safety is not None:
        return Outcome(draft, False, safety=resolved.safety)
    if resolved.note:
        return Outcome(draft, False, note=crime_report.text(crime_report.types_pack()["notes"][resolved.note], lang))
    draft.texts.append(text)
    if resolved.crime_type:
        draft.crime_type = resolved.crime_type
        draft.question = None
        for i, said in enumerate(draft.texts):
            safety = _prefill(draft, said, now, first=False)
            if safety is not None:
                return Outcome(draft, False, safety=safety)
        return Outcome(draft, True)
    draft.question = _serialize(resolved)
    if resolved.question == previous.question:
        return Outcome(draft, False, hint=v.ValidationError("choice_unknown").hint(lang))
    return Outcome(draft, True)


def _answer_fact(draft: Draft, name: str, text: str, lang: str, now: dt.datetime) -> Outcome:
    spec = crime_report.fact_spec(draft.crime_type, name)
    validator = spec["validator"]
    if name == "when":
        try:
            when = v.parse_when(text, now)
        except v.ValidationError as error:
            return Outcome(draft, False, hint=error.hint(lang))
        _take_when(draft, when)
        return Outcome(draft, True)
    if validator != "yes_no" and is_unknown_answer(text):
        if spec.get("if_unknown") == "allow":
            draft.unknown.append(name)
            return Outcome(draft, True)
        if not spec.get("required"):
            draft.skipped.append(name)
            return Outcome(draft, True)
        return Outcome(draft, False, hint=_join(crime_report.text(_texts()["fact_needed"], lang), _help(spec, lang)))
    if not spec.get("required") and validator != "yes_no" and len(text.split()) <= 3 and v.parse_yes_no(text) is False:
        draft.skipped.append(name)
        return Outcome(draft, True)
    kwargs: Dict[str, Any] = {}
    if validator == "choice":
        kwargs = {"options": spec["options"], "allow_other": bool(spec.get("allow_other"))}
    elif validator in ("date", "datetime", "year"):
        kwargs = {"now": now}
    outcome = v.validate(validator, text, **kwargs)
    if not outcome.ok:
        # The IMEI, VIN, plate... hints already say what is wrong and where to look.
        extra = _help(spec, lang) if validator in ("text", "choice", "place") else ""
        return Outcome(draft, False, hint=_join(outcome.hint(lang), extra))
    value = _normalise(validator, outcome.value)
    if "escalate_if" in spec and value == spec["escalate_if"]:
        return Outcome(draft, False, safety=never_online_result(spec["escalate_to"]))
    draft.facts[name] = value
    return Outcome(draft, True)


@lru_cache(maxsize=None)
def _ampm_matcher() -> Matcher:
    words = _texts()["ampm_words"]
    return Matcher({"morning": both_languages(words["morning"]), "evening": both_languages(words["evening"])})


def _answer_ampm(draft: Draft, text: str, lang: str, now: dt.datetime) -> Outcome:
    pending = draft.when_pending or {}
    morning, evening = _ampm_readings(pending)
    said = set(_ampm_matcher().labels(text, fuzzy=False))
    hour_said = re.search(r"\b(\d{1,2})(?::\d{2})?\b", text)
    if hour_said and not said and int(hour_said.group(1)) in range(13, 24):
        said = {"evening"}
    if said == {"morning"}:
        chosen = morning
    elif said == {"evening"}:
        chosen = evening
    else:
        return Outcome(draft, False, hint=v.ValidationError("choice_unknown").hint(lang))
    draft.when_pending = None
    draft.facts["when"] = {k: chosen[k] for k in ("date", "time", "part_of_day", "approximate")}
    return Outcome(draft, True)


def _answer_time(draft: Draft, text: str, lang: str, now: dt.datetime) -> Outcome:
    pending = draft.when_pending or {}
    keep = {k: pending.get(k) for k in ("date", "time", "part_of_day", "approximate")}
    if is_unknown_answer(text):
        draft.when_pending = None
        draft.facts["when"] = keep
        return Outcome(draft, True)
    day = dt.date.fromisoformat(pending["date"])
    try:
        # The day is known: read the reply as a time on that day.
        when = v.parse_when(f"{day.day}/{day.month}/{day.year} {text}", now)
    except v.ValidationError as error:
        return Outcome(draft, False, hint=error.hint(lang))
    if when.time is None and when.part_of_day is None:
        return Outcome(draft, False, hint=v.ValidationError("when_bad_time").hint(lang))
    _take_when(draft, when)
    if draft.when_pending and draft.when_pending["kind"] == WHEN_TIME:
        draft.when_pending = None
        draft.facts["when"] = keep
    return Outcome(draft, True)


def _answer_old(draft: Draft, text: str, lang: str) -> Outcome:
    said = v.parse_yes_no(text)
    pending = dict(draft.when_pending or {})
    if said is None:
        return Outcome(draft, False, hint=v.ValidationError("yes_no_unclear").hint(lang))
    if said is False:
        draft.when_pending = None
        return Outcome(draft, True)  # "when" is asked again
    value = {k: pending.get(k) for k in ("date", "time", "part_of_day", "approximate")}
    if pending.get("ambiguous") and pending.get("alternatives"):
        draft.when_pending = {**value, "kind": WHEN_AMPM, "alternatives": pending["alternatives"]}
    elif value["time"] is None and value["part_of_day"] is None:
        draft.when_pending = {**value, "kind": WHEN_TIME}
    else:
        draft.when_pending = None
        draft.facts["when"] = value
    return Outcome(draft, True)


# ------------------------------------------------------------------ corrections


def fields_to_correct(draft: Draft) -> List[str]:
    """The summary's lines, in order: the type, then each settled fact."""
    facts, unknown = draft.filing_facts()
    return [name for name, _label, _shown in crime_report.summary_lines(draft.crime_type, facts, unknown)]


@lru_cache(maxsize=None)
def _field_matcher() -> Matcher:
    entries: Dict[str, List[str]] = {}
    labels = _texts()["fact_labels"]
    for name, words in _texts()["fact_words"].items():
        entries[name] = both_languages(words) + [labels[name]["es"], labels[name]["en"]]
    return Matcher(entries)


def correction_field(draft: Draft, text: str) -> Optional[str]:
    """Which summary line the resident wants to fix: its number or its name."""
    fields = fields_to_correct(draft)
    number = re.fullmatch(r"\s*(\d{1,2})\s*[.)]?\s*", text or "")
    if number:
        index = int(number.group(1)) - 1
        return fields[index] if 0 <= index < len(fields) else None
    hits = [h for h in _field_matcher().find(text or "", fuzzy=False) if h.label in fields]
    if not hits:
        return None
    # The longest mention wins ("numero de serie" over "numero"); then the summary's order.
    best = max(hits, key=lambda h: (len(h.matched), -fields.index(h.label)))
    return best.label


def clear(draft: Draft, name: str) -> Draft:
    """Forget one fact so it is asked again (the type: its own facts go with it)."""
    draft = Draft.from_slot(draft.to_slot())
    if name == "crime_type":
        common = set(COMMON_FIELDS)
        draft.facts = {k: val for k, val in draft.facts.items() if k in common}
        draft.unknown = [f for f in draft.unknown if f in common]
        draft.skipped = [f for f in draft.skipped if f in common]
        draft.crime_type = None
        draft.question = {"question": "what_happened"}
        return draft
    draft.facts.pop(name, None)
    draft.unknown = [f for f in draft.unknown if f != name]
    draft.skipped = [f for f in draft.skipped if f != name]
    if name == "when":
        draft.when_pending = None
    return draft


def summary(draft: Draft, lang: str) -> List[Tuple[str, str, str]]:
    facts, unknown = draft.filing_facts()
    return crime_report.summary_lines(draft.crime_type, facts, unknown, lang)
