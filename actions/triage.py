"""COVID-19 screening: evaluate the protocol in citypack/<pack>/triage.yml.

Pure functions, no Rasa. The protocol (questions, options, rules, texts) is
data; this module only knows how to read it and a tiny condition language
(see the header of triage.yml). The dialogue calls `assess` after every
answer: when `complete` is False it asks `next_question`; when True it tells
the resident `outcome_text(level)` and stores `protocol_version`.

Answers are a dict keyed by question id (see shared/design/triage.md). A key
that is missing, or None, is a question not asked yet. Conditions that need
a missing answer are "not known" (three-valued logic), so the level is only
reported once every rule above the first matching rule is known not to
match: e.g. emergency_signs True gives `emergency` without the later
questions, age 1 gives `under_2` at once.

Invalid answers raise `InvalidAnswer` (never a wrong level):
- age that is not a whole number of years in [min, max] ("abc", -1, 121),
  or a bool;
- a code that is not one of the question's options;
- a multi-select list that contains "none" together with real codes
  (`ContradictoryAnswer`, a subclass): we never guess which part the
  resident meant; the dialogue asks again with the `contradiction` text.
  "none" alone means [] (nothing); duplicates are dropped.
Keys that are not question ids (e.g. "alcaldia") are ignored.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

KINDS = ("age", "yes_no", "single", "multi")
NONE_CODE = "none"
DEFAULT_LANGUAGE = "es"


class ProtocolError(Exception):
    """The protocol file is malformed (caught by tests, never by residents)."""


class InvalidAnswer(ValueError):
    """An answer that cannot be used. `reason` is one of REASONS."""

    REASONS = ("not_understood", "out_of_range", "unknown_code", "ambiguous", "contradiction")

    def __init__(self, question: str, message: str, reason: str = "not_understood", value: Any = None):
        super().__init__(f"{question}: {message}")
        self.question = question
        self.reason = reason
        self.value = value


class ContradictoryAnswer(InvalidAnswer):
    """E.g. symptoms ["none", "fever"]: the resident must say which it is."""

    def __init__(self, question: str, message: str, value: Any = None):
        super().__init__(question, message, reason="contradiction", value=value)


# --------------------------------------------------------------------------
# The protocol as loaded from YAML


@dataclass(frozen=True)
class Option:
    number: int
    code: str
    value: Any  # what goes into the answers dict (bool for yes_no, else code)
    label: Mapping[str, str]
    synonyms: Mapping[str, Tuple[str, ...]]
    alone: Mapping[str, Tuple[str, ...]]
    negated: Optional[str]  # code chosen when a synonym comes after a negation


@dataclass(frozen=True)
class Question:
    id: str
    kind: str
    prompt: Mapping[str, str]
    options: Tuple[Option, ...] = ()
    min: Optional[int] = None
    max: Optional[int] = None
    under_2: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)

    def option(self, code: str) -> Optional[Option]:
        return next((o for o in self.options if o.code == code), None)

    def option_by_number(self, number: int) -> Optional[Option]:
        return next((o for o in self.options if o.number == number), None)

    @property
    def codes(self) -> List[str]:
        return [o.code for o in self.options]


@dataclass(frozen=True)
class Rule:
    level: str
    when: Any


_COMPARISONS = ("lt", "lte", "gt", "gte", "eq", "ne", "in", "not_in")
_EMPTINESS = ("empty", "not_empty")
_COMBINERS = ("all", "any")
OPERATORS = _COMPARISONS + _EMPTINESS + _COMBINERS + ("not",)


class Protocol:
    """A validated, ready-to-evaluate protocol."""

    def __init__(self, data: Mapping[str, Any], phones: Optional[Mapping[str, str]] = None):
        try:
            self._build(data, phones)
        except ProtocolError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ProtocolError(f"malformed triage protocol: {exc!r}") from exc

    # -- building and checking ------------------------------------------

    def _build(self, data: Mapping[str, Any], phones: Optional[Mapping[str, str]]) -> None:
        self.version: str = str(data["version"])
        self.languages: Tuple[str, ...] = tuple(data["languages"])
        self.words: Dict[str, Dict[str, Tuple[str, ...]]] = {
            str(kind): {lang: tuple(str(w) for w in words) for lang, words in per_lang.items()}
            for kind, per_lang in data["words"].items()
        }
        self.phones: Dict[str, str] = dict(phones) if phones is not None else _city_phones()
        self.questions: Tuple[Question, ...] = tuple(self._question(q) for q in data["questions"])
        self.consent: Question = self._question(
            {"id": "consent", "kind": "single", "prompt": data["consent"]["text"], "options": data["consent"]["options"]}
        )
        self.rules: Tuple[Rule, ...] = tuple(Rule(str(r["level"]), r["when"]) for r in data["rules"])
        self.outcomes: Dict[str, Dict[str, str]] = data["outcomes"]
        self.testing: Dict[str, Any] = data["testing"]
        self.restart: Dict[str, Any] = data["restart"]
        self.messages: Dict[str, Dict[str, str]] = data["messages"]
        self._check()

    def _expand(self, words: Mapping[str, Sequence[Any]] | None) -> Dict[str, Tuple[str, ...]]:
        """Replace "@yes"/"@no" by the shared word lists of the same language."""
        expanded: Dict[str, Tuple[str, ...]] = {}
        for lang, items in (words or {}).items():
            out: List[str] = []
            for item in items:
                item = str(item)
                if item.startswith("@"):
                    shared = self.words.get(item[1:])
                    if shared is None:
                        raise ProtocolError(f"unknown word list {item!r}")
                    out.extend(shared.get(lang, ()))
                else:
                    out.append(item)
            expanded[lang] = tuple(out)
        return expanded

    def _question(self, raw: Mapping[str, Any]) -> Question:
        kind = raw["kind"]
        if kind not in KINDS:
            raise ProtocolError(f"question {raw.get('id')!r}: unknown kind {kind!r}")
        options = []
        for opt in raw.get("options", []) or []:
            code = opt.get("code")
            if not isinstance(code, str):
                raise ProtocolError(f"question {raw['id']!r}: option code {code!r} must be a string (quote yes/no)")
            negated = opt.get("negated")
            if negated is not None and not isinstance(negated, str):
                raise ProtocolError(f"question {raw['id']!r}: negated {negated!r} must be an option code")
            options.append(
                Option(
                    number=int(opt["number"]),
                    code=code,
                    value=opt.get("value", code),
                    label=opt.get("label", {}),
                    synonyms=self._expand(opt.get("synonyms")),
                    alone=self._expand(opt.get("alone")),
                    negated=negated,
                )
            )
        return Question(
            id=str(raw["id"]),
            kind=kind,
            prompt=raw["prompt"],
            options=tuple(options),
            min=raw.get("min"),
            max=raw.get("max"),
            under_2=self._expand(raw.get("under_2")),
        )

    def _check(self) -> None:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ProtocolError("duplicate question ids")
        for q in self.questions + (self.consent,):
            self._check_texts(f"question {q.id} prompt", q.prompt)
            numbers = [o.number for o in q.options]
            codes = q.codes
            if len(set(numbers)) != len(numbers) or len(set(codes)) != len(codes):
                raise ProtocolError(f"question {q.id}: duplicate option numbers or codes")
            for o in q.options:
                if q.id != "consent":
                    self._check_texts(f"question {q.id} option {o.code} label", o.label)
                if o.negated is not None and o.negated not in codes:
                    raise ProtocolError(f"question {q.id}: negated {o.negated!r} is not an option")
            if q.kind == "age" and (q.min is None or q.max is None):
                raise ProtocolError(f"question {q.id}: age needs min and max")
            if q.kind == "yes_no" and sorted(type(o.value).__name__ for o in q.options) != ["bool", "bool"]:
                raise ProtocolError(f"question {q.id}: yes_no needs two options with values true/false")
            if q.kind in ("single", "multi") and not q.options:
                raise ProtocolError(f"question {q.id}: no options")
        levels = [r.level for r in self.rules]
        if len(set(levels)) != len(levels):
            raise ProtocolError("a level has two rules")
        for rule in self.rules:
            self._check_condition(rule.when, rule.level)
            self._check_texts(f"outcome {rule.level}", self.outcomes.get(rule.level))
        self._check_texts("testing intro", self.testing["intro"])
        for site in self.testing["sites"]:
            self._check_texts("testing site", site)
        self._check_texts("restart hint", self.restart["hint"])
        for key, texts in self.messages.items():
            self._check_texts(f"message {key}", texts)

    def _check_texts(self, where: str, texts: Any) -> None:
        if not isinstance(texts, Mapping):
            raise ProtocolError(f"{where}: missing texts")
        for lang in self.languages:
            text = texts.get(lang)
            if not isinstance(text, str) or not text.strip():
                raise ProtocolError(f"{where}: no {lang} text")
            try:
                self.fill(text)
            except KeyError as exc:
                raise ProtocolError(f"{where}: unknown placeholder {exc}") from exc

    def _check_condition(self, cond: Any, level: str) -> None:
        op, arg = _operator(cond, level)
        if op in _COMBINERS:
            if not isinstance(arg, list) or not arg:
                raise ProtocolError(f"rule {level}: {op} needs a list of conditions")
            for sub in arg:
                self._check_condition(sub, level)
            return
        if op == "not":
            self._check_condition(arg, level)
            return
        name = arg if op in _EMPTINESS else (arg[0] if isinstance(arg, list) and len(arg) == 2 else None)
        question = self.question(name) if isinstance(name, str) else None
        if question is None:
            raise ProtocolError(f"rule {level}: {op} names no question ({arg!r})")
        if op in _EMPTINESS:
            if question.kind != "multi":
                raise ProtocolError(f"rule {level}: {op} needs a multi-select question")
            return
        values = arg[1] if op in ("in", "not_in") else [arg[1]]
        if not isinstance(values, list):
            raise ProtocolError(f"rule {level}: {op} needs a list")
        for value in values:
            try:
                validate_answer(question.id, value, self)
            except InvalidAnswer as exc:
                raise ProtocolError(f"rule {level}: {value!r} is not an answer to {question.id}") from exc
            if op in ("lt", "lte", "gt", "gte") and question.kind != "age":
                raise ProtocolError(f"rule {level}: {op} on a non-numeric question")

    # -- access -----------------------------------------------------------

    def question(self, question_id: str) -> Optional[Question]:
        return next((q for q in self.questions if q.id == question_id), None)

    def require_question(self, question_id: str) -> Question:
        question = self.question(question_id)
        if question is None:
            raise KeyError(f"no triage question {question_id!r}")
        return question

    @property
    def question_ids(self) -> List[str]:
        return [q.id for q in self.questions]

    @property
    def levels(self) -> List[str]:
        return [r.level for r in self.rules]

    def lang(self, lang: Optional[str]) -> str:
        return lang if lang in self.languages else self.languages[0]

    def fill(self, text: str) -> str:
        """Put the phone numbers of city.yml's lines into {placeholders}."""
        return text.format_map(self.phones)


def _city_phones() -> Dict[str, str]:
    from common import citypack

    return {name: str(line["phone"]) for name, line in citypack.city()["lines"].items()}


@lru_cache(maxsize=None)
def _load_current(pack_dir: str) -> Protocol:
    from common import citypack

    return Protocol(citypack.load("triage"))


def current_protocol() -> Protocol:
    """The protocol of the configured city pack (cached per pack)."""
    from common.settings import get_settings

    return _load_current(str(get_settings().city_pack_dir))


def _proto(protocol: Optional[Protocol]) -> Protocol:
    return protocol if protocol is not None else current_protocol()


# --------------------------------------------------------------------------
# Validation of answer values


def validate_answer(question_id: str, value: Any, protocol: Optional[Protocol] = None) -> Any:
    """Return the normalised answer value, or raise InvalidAnswer."""
    question = _proto(protocol).require_question(question_id)
    if question.kind == "age":
        return _validate_age(question, value)
    if question.kind == "yes_no":
        for option in question.options:
            if value is option.value or (isinstance(value, str) and value == option.code):
                return option.value
        raise InvalidAnswer(question.id, f"expected true/false, got {value!r}", "unknown_code", value)
    if question.kind == "single":
        if isinstance(value, str) and question.option(value) is not None:
            return value
        raise InvalidAnswer(question.id, f"{value!r} is not one of {question.codes}", "unknown_code", value)
    # multi
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, set, frozenset)):
        raise InvalidAnswer(question.id, f"expected a list of codes, got {value!r}", "unknown_code", value)
    codes = list(value)
    unknown = [c for c in codes if not isinstance(c, str) or question.option(c) is None]
    if unknown:
        raise InvalidAnswer(question.id, f"unknown codes {unknown!r}; known: {question.codes}", "unknown_code", value)
    if NONE_CODE in codes and any(c != NONE_CODE for c in codes):
        raise ContradictoryAnswer(question.id, f"{value!r} says both none and some", value)
    return [o.code for o in question.options if o.code in codes and o.code != NONE_CODE]


def _validate_age(question: Question, value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidAnswer(question.id, f"age {value!r} is not a number", "not_understood", value)
    age: Optional[int] = None
    if isinstance(value, int):
        age = value
    elif isinstance(value, float) and math.isfinite(value):
        age = math.floor(value)  # whole years: 1.5 years old is 1
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
        age = int(value.strip())
    if age is None:
        raise InvalidAnswer(question.id, f"age {value!r} is not a number", "not_understood", value)
    if not question.min <= age <= question.max:
        raise InvalidAnswer(
            question.id, f"age {age} is outside {question.min}-{question.max}", "out_of_range", value
        )
    return age


def validate_answers(answers: Mapping[str, Any], protocol: Optional[Protocol] = None) -> Dict[str, Any]:
    """Normalised answers for the protocol's questions; missing/None dropped."""
    proto = _proto(protocol)
    return {
        q.id: validate_answer(q.id, answers[q.id], proto)
        for q in proto.questions
        if answers.get(q.id) is not None
    }


# --------------------------------------------------------------------------
# The condition evaluator (three-valued: True, False, None = not known)


def _operator(cond: Any, level: str = "?") -> Tuple[str, Any]:
    if not isinstance(cond, Mapping) or len(cond) != 1:
        raise ProtocolError(f"rule {level}: a condition is a mapping with one operator, got {cond!r}")
    (op, arg), = cond.items()
    if op not in OPERATORS:
        raise ProtocolError(f"rule {level}: unknown operator {op!r}")
    return op, arg


@dataclass
class _Eval:
    truth: Optional[bool]
    because: List[str] = field(default_factory=list)  # true atoms, for reasons
    missing: Set[str] = field(default_factory=set)  # questions that would decide it


def _evaluate(cond: Any, answers: Mapping[str, Any]) -> _Eval:
    op, arg = _operator(cond)
    if op in _COMBINERS:
        parts = [_evaluate(sub, answers) for sub in arg]
        decisive = False if op == "all" else True
        hits = [p for p in parts if p.truth is decisive]
        if hits:
            return _Eval(decisive, [b for p in hits for b in p.because])
        unknown = [p for p in parts if p.truth is None]
        if unknown:
            return _Eval(None, missing={m for p in unknown for m in p.missing})
        return _Eval(not decisive, [b for p in parts for b in p.because])
    if op == "not":
        inner = _evaluate(arg, answers)
        if inner.truth is None:
            return _Eval(None, missing=inner.missing)
        return _Eval(not inner.truth, [f"not ({'; '.join(inner.because) or 'condition'})"] if not inner.truth else [])
    name = arg if op in _EMPTINESS else arg[0]
    if name not in answers:
        return _Eval(None, missing={name})
    value = answers[name]
    if op == "empty":
        truth, text = len(value) == 0, f"{name}: none"
    elif op == "not_empty":
        truth, text = len(value) > 0, f"{name}: {', '.join(value)}"
    else:
        target = arg[1]
        truth = {
            "lt": lambda: value < target,
            "lte": lambda: value <= target,
            "gt": lambda: value > target,
            "gte": lambda: value >= target,
            "eq": lambda: value == target,
            "ne": lambda: value != target,
            "in": lambda: value in target,
            "not_in": lambda: value not in target,
        }[op]()
        text = f"{name} {value!r} {op} {target!r}"
    return _Eval(truth, [text] if truth else [])


# --------------------------------------------------------------------------
# Assessment


@dataclass
class TriageResult:
    level: Optional[str]  # None while the outcome is not certain
    protocol_version: str
    reasons: List[str]
    complete: bool
    next_question: Optional[str] = None  # what to ask when not complete
    answers: Dict[str, Any] = field(default_factory=dict)  # normalised


def assess(answers: Mapping[str, Any], protocol: Optional[Protocol] = None) -> TriageResult:
    """Evaluate the rules (first match wins) on the answers given so far."""
    proto = _proto(protocol)
    clean = validate_answers(answers, proto)
    missing: Set[str] = set()
    for rule in proto.rules:
        result = _evaluate(rule.when, clean)
        if result.truth is None:
            missing |= result.missing
            continue
        if result.truth:
            if missing:
                break  # an earlier rule could still match: not certain yet
            return TriageResult(rule.level, proto.version, [f"rule {rule.level}"] + result.because, True, None, clean)
    else:
        if not missing:
            raise ProtocolError(f"no rule matches answers {clean!r}")
    ask = next(q for q in proto.question_ids if q in missing)
    return TriageResult(None, proto.version, [f"needs {', '.join(sorted(missing))}"], False, ask, clean)


def next_question(answers: Mapping[str, Any], protocol: Optional[Protocol] = None) -> Optional[str]:
    """The question to ask now, or None when the outcome is certain."""
    return assess(answers, protocol).next_question


# --------------------------------------------------------------------------
# Texts residents read (all words come from the protocol file)


def question_text(question_id: str, lang: str = DEFAULT_LANGUAGE, protocol: Optional[Protocol] = None) -> str:
    """The question as sent: prompt, then one numbered option per line."""
    proto = _proto(protocol)
    lang = proto.lang(lang)
    question = proto.require_question(question_id)
    options = sorted(question.options, key=lambda o: (o.number == 0, o.number))
    lines = [question.prompt[lang]] + [f"{o.number} {o.label[lang]}" for o in options]
    return proto.fill("\n".join(lines))


def consent_text(lang: str = DEFAULT_LANGUAGE, protocol: Optional[Protocol] = None) -> str:
    proto = _proto(protocol)
    return proto.fill(proto.consent.prompt[proto.lang(lang)])


def testing_text(lang: str = DEFAULT_LANGUAGE, protocol: Optional[Protocol] = None) -> str:
    proto = _proto(protocol)
    lang = proto.lang(lang)
    sites = ", ".join(site[lang] for site in proto.testing["sites"])
    return proto.fill(f"{proto.testing['intro'][lang]} {sites}.")


def restart_text(lang: str = DEFAULT_LANGUAGE, protocol: Optional[Protocol] = None) -> str:
    proto = _proto(protocol)
    return proto.fill(proto.restart["hint"][proto.lang(lang)])


def outcome_text(level: str, lang: str = DEFAULT_LANGUAGE, protocol: Optional[Protocol] = None) -> str:
    """What the resident is told: the advice, where to test, how to restart."""
    proto = _proto(protocol)
    lang = proto.lang(lang)
    if level not in proto.outcomes:
        raise KeyError(f"no triage outcome {level!r}")
    advice = proto.fill(proto.outcomes[level][lang])
    return "\n".join([advice, testing_text(lang, proto), restart_text(lang, proto)])


def message_text(key: str, lang: str = DEFAULT_LANGUAGE, protocol: Optional[Protocol] = None) -> str:
    """One of the protocol's `messages` (not_understood, contradiction, ...)."""
    proto = _proto(protocol)
    return proto.fill(proto.messages[key][proto.lang(lang)])


def retry_text(error: InvalidAnswer, lang: str = DEFAULT_LANGUAGE, protocol: Optional[Protocol] = None) -> str:
    """What to say when a reply could not be used."""
    proto = _proto(protocol)
    if error.reason == "contradiction":
        return message_text("contradiction", lang, proto)
    question = proto.question(error.question)
    if question is not None and question.kind == "age":
        return message_text("not_understood_age", lang, proto)
    return message_text("not_understood", lang, proto)


def restart_keywords(protocol: Optional[Protocol] = None) -> List[str]:
    return [str(k) for k in _proto(protocol).restart["keywords"]]


def all_messages(protocol: Optional[Protocol] = None) -> Iterator[Tuple[str, str, str, str]]:
    """Every message the screening can send: (kind, name, lang, text)."""
    proto = _proto(protocol)
    for lang in proto.languages:
        yield "consent", "consent", lang, consent_text(lang, proto)
        for question in proto.questions:
            yield "question", question.id, lang, question_text(question.id, lang, proto)
        for level in proto.levels:
            yield "outcome", level, lang, outcome_text(level, lang, proto)
        for key in proto.messages:
            yield "message", key, lang, message_text(key, lang, proto)
