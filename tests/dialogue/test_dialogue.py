"""Rasa's own checks: the training data is consistent and the test stories are predicted exactly."""
from __future__ import annotations

import subprocess

import pytest

from scripts.stack import ROOT, VENV_BIN

pytestmark = pytest.mark.slow


def test_rasa_data_validate_finds_no_errors():
    result = subprocess.run(
        [str(VENV_BIN / "rasa"), "data", "validate", "--config", "config.yml", "--domain", "domain.yml", "--data", "data"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "story structure conflict" not in (result.stdout + result.stderr).lower().replace("no story structure conflicts", "")


def test_every_test_story_is_predicted(model_path, tmp_path):
    result = subprocess.run(
        [
            str(VENV_BIN / "rasa"), "test", "core", "--model", model_path, "--stories", "tests/stories",
            "--out", str(tmp_path), "--fail-on-prediction-errors", "--no-plot",
        ],
        cwd=ROOT, capture_output=True, text=True,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout[-2000:] + result.stderr[-3000:] + details[-4000:])
    assert "story:" not in details, details
