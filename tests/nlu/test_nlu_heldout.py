"""Intent recognition on a held-out set the model never trained on."""
from __future__ import annotations

import json
import subprocess

import pytest

from scripts.stack import ROOT, VENV_BIN

pytestmark = pytest.mark.slow

# The bar the issue sets for intent F1 on held-out phrasings.
MIN_WEIGHTED_INTENT_F1 = 0.90


def test_held_out_intent_f1_is_above_the_bar(model_path, tmp_path):
    result = subprocess.run(
        [
            str(VENV_BIN / "rasa"), "test", "nlu", "--model", model_path, "--nlu", "tests/nlu",
            "--out", str(tmp_path), "--no-plot",
        ],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "intent_report.json").read_text())
    weighted_f1 = report["weighted avg"]["f1-score"]
    worst = sorted(
        (v["f1-score"], k) for k, v in report.items() if isinstance(v, dict) and "support" in v and k not in {"weighted avg", "macro avg", "micro avg"}
    )[:5]
    print(f"held-out weighted intent F1 = {weighted_f1:.3f}; worst: {worst}")
    assert weighted_f1 >= MIN_WEIGHTED_INTENT_F1, f"F1 {weighted_f1:.3f} < {MIN_WEIGHTED_INTENT_F1}; worst {worst}"


def test_held_out_set_is_not_in_training_data():
    result = subprocess.run(
        [str(VENV_BIN / "python"), "tests/nlu/check_overlap.py"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
