"""Fixtures shared by the whole suite: the trained model and the running stack."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from scripts.stack import ROOT, Stack


@pytest.fixture(scope="session")
def model_path() -> str:
    """The model for the current data (scripts/train.sh reuses it when nothing changed)."""
    model = os.environ.get("CITY_ASSISTANT_MODEL")
    if model and Path(ROOT / model).exists():
        return str(ROOT / model)
    out = subprocess.run(
        [str(ROOT / "scripts" / "train.sh")], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return str(ROOT / out.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def stack(model_path, tmp_path_factory):
    """Back office, action server, Rasa server and the development identity
    provider as real processes on free ports."""
    running = Stack(model=model_path, workdir=tmp_path_factory.mktemp("stack"), with_idp=True).start()
    yield running
    running.stop()
