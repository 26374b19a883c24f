"""Fixtures for the channel connector tests (see channel_harness.py)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator, List

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sanic import Sanic  # noqa: E402

import channel_harness as h  # noqa: E402

# Rasa names its app "rasa_core_no_api"; Sanic refuses a second app of the same name
# outside test mode, and every test mounts its own.
Sanic.test_mode = True


@pytest.fixture
def recorder() -> Iterator[h.Recorder]:
    running = h.Recorder()
    yield running
    running.stop()


@pytest.fixture
def channel_env(monkeypatch: pytest.MonkeyPatch, recorder: h.Recorder) -> h.Recorder:
    """Test secrets for all four channels, every platform API pointed at the recorder."""
    values = {
        "REDIS_URL": "",
        "LOG_HASH_KEY": "test-log-key",
        "TWILIO_ACCOUNT_SID": h.TWILIO_SID,
        "TWILIO_AUTH_TOKEN": h.TWILIO_TOKEN,
        "TWILIO_NUMBER": h.TWILIO_NUMBER,
        "TWILIO_API_BASE": recorder.url,
        "TWILIO_WEBHOOK_URL": "",
        "SMS_MAX_SEGMENTS": "3",
        "TELEGRAM_BOT_TOKEN": h.TELEGRAM_TOKEN,
        "TELEGRAM_SECRET_TOKEN": h.TELEGRAM_SECRET,
        "TELEGRAM_API_BASE": recorder.url,
        "FACEBOOK_VERIFY_TOKEN": h.FB_VERIFY,
        "FACEBOOK_APP_SECRET": h.FB_SECRET,
        "FACEBOOK_PAGE_ACCESS_TOKEN": h.FB_PAGE_TOKEN,
        "FACEBOOK_API_BASE": recorder.url,
        "X_CONSUMER_KEY": h.X_CONSUMER_KEY,
        "X_CONSUMER_SECRET": h.X_CONSUMER_SECRET,
        "X_ACCESS_TOKEN": h.X_ACCESS_TOKEN,
        "X_ACCESS_TOKEN_SECRET": h.X_ACCESS_SECRET,
        "X_ACCOUNT_ID": h.X_ACCOUNT_ID,
        "X_API_BASE": recorder.url,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return recorder


@pytest.fixture
def serve(channel_env: h.Recorder) -> Iterator:
    """serve(connector, ..., answer=...) -> a started RasaApp; all stopped at teardown."""
    started: List[h.RasaApp] = []

    def start(*input_channels, answer=h.default_answer) -> h.RasaApp:
        app = h.RasaApp(list(input_channels), answer=answer).start()
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()

