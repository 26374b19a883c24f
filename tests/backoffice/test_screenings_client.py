"""actions/backoffice_client.record_screening against the real app served by uvicorn."""
from __future__ import annotations

import asyncio
import socket
import threading
from datetime import datetime, timezone

import pytest
import uvicorn
from backoffice_helpers import STAFF_HEADERS, make_settings
from fastapi.testclient import TestClient

from actions import backoffice_client as client
from actions.backoffice_client import BackOfficeRejected, BackOfficeUnavailable, StoredScreening


@pytest.fixture
def live(app_factory, sqlite_url):
    app = app_factory(sqlite_url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield app, f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()
    assert not thread.is_alive()


def settings_for(url: str, **overrides):
    return make_settings("sqlite://", backoffice_url=url, **overrides)


def record(settings, **overrides):
    fields = dict(
        answers={"emergency_signs": True},
        age_band="65+",
        channel="rest",
        completed_at=datetime(2024, 6, 1, 16, 0, tzinfo=timezone.utc),
        idempotency_key="scr-client-1",
        settings=settings,
    )
    fields.update(overrides)
    return asyncio.run(client.record_screening("emergency", "cdmx-covid19-2024.1", **fields))


def test_record_then_retry_stores_once(live):
    app, url = live
    first = record(settings_for(url))
    assert first == StoredScreening(id=first.id, level="emergency", replayed=False)
    again = record(settings_for(url))
    assert again == StoredScreening(id=first.id, level="emergency", replayed=True)
    stats = TestClient(app).get(
        "/staff/api/screenings/stats", params={"start": "2024-06-01", "end": "2024-06-01"}, headers=STAFF_HEADERS
    ).json()
    assert stats["totals"]["emergency"] == 1 and stats["total"] == 1


def test_wrong_key_or_bad_record_is_rejected(live):
    _, url = live
    with pytest.raises(BackOfficeRejected) as raised:
        record(settings_for(url, backoffice_api_key="nope"))
    assert raised.value.status_code == 403
    assert raised.value.description == "invalid or missing api_key"
    with pytest.raises(BackOfficeRejected) as raised:
        record(settings_for(url), answers={"age": 70})
    assert raised.value.status_code == 422


def test_unreachable_back_office_is_unavailable(closed_port):
    with pytest.raises(BackOfficeUnavailable):
        record(settings_for(f"http://127.0.0.1:{closed_port}"))
