"""Rasa NLU component: safety first, on every message.

Runs after the intent classifiers (and the fallback classifier). When the
crime pack's safety check (actions/crime/safety.py) finds danger now,
violence, weapons, injuries, sexual or family violence, kidnapping or a death
in the message, the intent becomes `safety_alert` (confidence 1.0) and each
category found is added as a `safety_category` entity, most urgent first. A
high-priority rule then answers with the instructions (911, the prosecutor's
office in person, the line for women) and leaves any form: whatever the
conversation was doing, no form goes on collecting the story.

One exception keeps other services usable: words like "muerto", "herido" or
"atacando" also describe animals, trees and traffic lights ("hay un perro
muerto en la calle" is a 311 report). When the classifier is confident the
message is one of `defer_to_intents` (311 reports, COVID-19 screening...) and
no category is in `never_defer` (danger now, kidnapping, sexual violence,
weapons) and no dead or injured person is named, the message keeps its
intent; and a death, injury or attack said only of animals or things ("un
michi muerto", "perros atacando") is no alert at all (crime_report.yml
`safety_gate`). tests/nlu/test_safety_gate.py
measures both sides on the held-out phrasings with the trained model.
"""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from actions.crime.matching import Matcher, both_languages
from actions.crime.safety import SafetyResult, check_safety
from common import crime_report

logger = logging.getLogger(__name__)


@lru_cache(maxsize=None)
def _gate_words() -> Dict[str, Any]:
    spec = crime_report.texts().get("safety_gate") or {}
    return {
        "person_categories": frozenset(spec.get("person_categories") or ()),
        "people": Matcher({"person": both_languages(spec.get("person_words"))}),
        "thing_categories": frozenset(spec.get("thing_categories") or ()),
        "things": Matcher({"thing": both_languages(spec.get("thing_words"))}),
    }


def about_a_person(text: str, result: SafetyResult) -> bool:
    """A death or an injury said of a person ("un hombre muerto", "estoy herida")."""
    words = _gate_words()
    return any(c in words["person_categories"] for c in result.categories) and bool(words["people"].find(text, fuzzy=False))


def only_about_things(text: str, result: SafetyResult) -> bool:
    """Every category found is one that also describes animals or things, an animal or a
    thing is named, and no person is ("un michi muerto", "el fresno está muerto")."""
    words = _gate_words()
    if not all(c in words["thing_categories"] for c in result.categories):
        return False
    if words["people"].find(text, fuzzy=False):
        return False
    return bool(words["things"].find(text, fuzzy=False))


def should_defer(
    intent: Optional[Dict[str, Any]],
    result: SafetyResult,
    defer_to: List[str],
    min_confidence: float,
    never: List[str],
    text: str = "",
) -> bool:
    """True when the classifier's own intent stands (see the module docstring)."""
    if not intent or any(category in never for category in result.categories):
        return False
    if about_a_person(text, result):
        return False
    name = intent.get(INTENT_NAME_KEY) or ""
    confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
    return confidence >= min_confidence and any(
        name == target or (target.endswith("*") and name.startswith(target[:-1])) for target in defer_to
    )


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CrimeSafetyGate(GraphComponent):
    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            "intent": "safety_alert",
            "entity": "safety_category",
            # Intents (a trailing * is a prefix) that keep their classification when confident.
            "defer_to_intents": [],
            "defer_min_confidence": 0.9,
            "never_defer": ["danger_now", "kidnapping", "sexual_violence", "weapons"],
        }

    def __init__(self, config: Dict[Text, Any]) -> None:
        self.config = {**self.get_default_config(), **config}

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CrimeSafetyGate":
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._gate(message)
        return messages

    def _gate(self, message: Message) -> None:
        text = message.get(TEXT) or ""
        if not text.strip() or text.lstrip().startswith("/"):
            return  # button payloads name their intent; nothing to read
        result = check_safety(text)
        if result is None or only_about_things(text, result):
            return
        intent = message.get(INTENT)
        config = self.config
        if should_defer(intent, result, config["defer_to_intents"], config["defer_min_confidence"], config["never_defer"], text):
            logger.debug("safety words left to a confident %s", (intent or {}).get(INTENT_NAME_KEY))
            return
        alert = {INTENT_NAME_KEY: config["intent"], PREDICTED_CONFIDENCE_KEY: 1.0}
        ranking = [alert] + [r for r in (message.get(INTENT_RANKING_KEY) or []) if r.get(INTENT_NAME_KEY) != config["intent"]]
        message.set(INTENT, alert, add_to_output=True)
        message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        entities = [
            {
                "entity": config["entity"],
                "value": category,
                "start": 0,
                "end": len(text),
                "confidence": 1.0,
                "extractor": self.__class__.__name__,
            }
            for category in result.categories
        ]
        message.set(ENTITIES, (message.get(ENTITIES) or []) + entities, add_to_output=True)
        # The category only: never the words that matched (they are the resident's story).
        logger.debug("safety alert: %s", result.category)
