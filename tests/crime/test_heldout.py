"""Accuracy on held-out phrasings (tests/crime/heldout_*.yml).

Round A was written after the word lists, round B after fixing round A's
misses, round C after fixing round B's; each round's first run was blind:
  A: types 88.8%, danger recall 84.4%, false alarms 2.7%
  B: types 85.0%, danger recall 77.8%, false alarms 1.1%
  C: types 75.0%, danger recall 90.6%, false alarms 0%
The misses were then fixed with general entries, so these thresholds guard
against regressions; they do not measure unseen phrasings, on which a word
list will miss some danger: the dialogue must also ask outright. `.venv/bin/python -m tests.crime.heldout` prints
the numbers and any misses.
"""
from __future__ import annotations

import pytest

from common.language import detect_language
from tests.crime.heldout import ROUNDS, load, measure

MIN_PER_LABEL = 8


@pytest.fixture(scope="module")
def report():
    return measure(ROUNDS)


def test_danger_recall_is_total(report):
    assert report.danger_recall == 1.0, report.summary() + "\n" + "\n".join(report.misses)


def test_danger_category(report):
    assert report.danger_category_accuracy >= 0.95, report.summary()


def test_type_accuracy(report):
    assert report.type_accuracy >= 0.95, report.summary() + "\n" + "\n".join(report.misses)


def test_few_false_alarms_on_ordinary_situations(report):
    assert report.false_alarm_rate <= 0.02, report.summary() + "\n" + "\n".join(report.misses)


def test_enough_phrasings_in_both_languages():
    counts = {}
    for name in ROUNDS:
        phrasings = load(name)
        for section in ("types", "danger"):
            for label, texts in phrasings[section].items():
                es, en = counts.get(label, (0, 0))
                langs = [detect_language(t) for t in texts]
                counts[label] = (es + langs.count("es"), en + langs.count("en"))
    assert len(counts) == 16
    for label, (es, en) in counts.items():
        assert es + en >= MIN_PER_LABEL and es >= 4 and en >= 2, (label, es, en)
