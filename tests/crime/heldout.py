"""Measure the safety check and the classifier on the held-out phrasings.

    .venv/bin/python -m tests.crime.heldout            # both rounds, with misses
    .venv/bin/python -m tests.crime.heldout heldout_b  # one round
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import yaml

from actions.crime.classify import classify_crime
from actions.crime.safety import check_safety

HERE = Path(__file__).resolve().parent
ROUNDS = ("heldout_a", "heldout_b", "heldout_c")


@dataclass
class Report:
    type_total: int = 0
    type_right: int = 0
    danger_total: int = 0
    danger_detected: int = 0  # any never-online category
    danger_category_right: int = 0  # the expected category among those matched
    safe_total: int = 0
    safe_flagged: int = 0  # false alarms on ordinary situations
    per_label: Dict[str, Tuple[int, int]] = field(default_factory=dict)
    misses: List[str] = field(default_factory=list)

    @property
    def type_accuracy(self) -> float:
        return self.type_right / self.type_total if self.type_total else 1.0

    @property
    def danger_recall(self) -> float:
        return self.danger_detected / self.danger_total if self.danger_total else 1.0

    @property
    def danger_category_accuracy(self) -> float:
        return self.danger_category_right / self.danger_total if self.danger_total else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.safe_flagged / self.safe_total if self.safe_total else 0.0

    def summary(self) -> str:
        lines = [
            f"types: {self.type_right}/{self.type_total} = {self.type_accuracy:.1%}",
            f"danger recall (any never-online category): {self.danger_detected}/{self.danger_total} = {self.danger_recall:.1%}",
            f"danger category among matched: {self.danger_category_right}/{self.danger_total} = {self.danger_category_accuracy:.1%}",
            f"false alarms on ordinary situations: {self.safe_flagged}/{self.safe_total} = {self.false_alarm_rate:.1%}",
        ]
        lines += [f"  {label}: {right}/{total}" for label, (right, total) in sorted(self.per_label.items())]
        return "\n".join(lines)


def load(name: str) -> dict:
    with open(HERE / f"{name}.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _count(report: Report, label: str, right: bool) -> None:
    ok, total = report.per_label.get(label, (0, 0))
    report.per_label[label] = (ok + int(right), total + 1)


def measure(names: Sequence[str] = ROUNDS) -> Report:
    report = Report()
    for name in names:
        phrasings = load(name)
        for expected, texts in (phrasings.get("types") or {}).items():
            for text in texts:
                got = classify_crime(text)
                right = got.crime_type == expected
                report.type_total += 1
                report.type_right += right
                _count(report, expected, right)
                if not right:
                    report.misses.append(f"[{name}] type {expected}: {text!r} -> {got.crime_type or got.question or 'none'}"
                                         f" ({got.safety.category if got.safety else ''})")
                # An ordinary online-type situation must not raise a false alarm.
                report.safe_total += 1
                if got.safety is not None:
                    report.safe_flagged += 1
        for expected, texts in (phrasings.get("danger") or {}).items():
            for text in texts:
                got = check_safety(text)
                report.danger_total += 1
                detected = got is not None
                category_right = detected and expected in got.categories
                report.danger_detected += detected
                report.danger_category_right += category_right
                _count(report, expected, detected)
                if not category_right:
                    report.misses.append(f"[{name}] danger {expected}: {text!r} -> {got.categories if got else 'NOT DETECTED'}")
        for text in phrasings.get("not_danger") or []:
            got = check_safety(text)
            report.safe_total += 1
            if got is not None:
                report.safe_flagged += 1
                report.misses.append(f"[{name}] false alarm: {text!r} -> {got.categories} {got.matched}")
    return report


def main(argv: Sequence[str]) -> None:
    names = argv or ROUNDS
    names = [n for n in names if (HERE / f"{n}.yml").exists()]
    report = measure(names)
    print(f"rounds: {', '.join(names)}")
    print(report.summary())
    for miss in report.misses:
        print("MISS", miss)


if __name__ == "__main__":
    main(sys.argv[1:])
