"""actions/backoffice_client.py against the real app served by uvicorn on a free port."""
from __future__ import annotations

import asyncio
import socket
import threading
from datetime import datetime

import pytest
import uvicorn
from backoffice_helpers import make_settings

from actions import backoffice_client as client
from actions.backoffice_client import BackOfficeRejected, BackOfficeUnavailable, FiledRequest


@pytest.fixture
def live_url(app_factory, sqlite_url):
    app = app_factory(sqlite_url)
    # Listening before the server thread starts: early requests wait in the backlog, no start-up race.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", ws="none"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=30)
    sock.close()
    assert not thread.is_alive()


def settings_for(url: str, **overrides):
    # Only the client's view: the database URL is not used by the client.
    return make_settings("sqlite://", backoffice_url=url, **overrides)


def test_file_then_read(live_url):
    settings = settings_for(live_url)
    filed = asyncio.run(
        client.file_service_request(
            service_code="fuga_agua",
            description="Fuga de agua limpia, mucha",
            lat=19.36,
            long=-99.16,
            address_string="Av. Universidad 1200",
            alcaldia="Benito Juárez",
            channel="telegram",
            conversation_id="tg-9",
            idempotency_key="draft-abc",
            settings=settings,
        )
    )
    assert isinstance(filed, FiledRequest)
    assert filed == FiledRequest(folio="311-000001", status="open", duplicate_of=None, service_notice=None)

    found = asyncio.run(client.get_service_request(filed.folio, settings=settings))
    assert found.folio == filed.folio
    assert found.service_code == "fuga_agua"
    assert found.service_name == "Fuga de agua"
    assert found.status == "open"
    assert found.agency_responsible == "SACMEX"
    assert found.duplicate_of is None
    assert isinstance(found.requested_datetime, datetime) and found.requested_datetime.utcoffset() is not None


def test_retry_with_the_same_key_and_duplicates(live_url):
    settings = settings_for(live_url)

    def file(key, **fields):
        return asyncio.run(
            client.file_service_request("bache", "Bache", idempotency_key=key, settings=settings, **fields)
        )

    first = file("draft-1", address_string="Eje Central 45")
    assert file("draft-1", address_string="Eje Central 45") == first
    second = file("draft-2", address_string="eje central, 45")
    assert second.folio != first.folio
    assert second.duplicate_of == first.folio
    assert first.folio in second.service_notice
    assert asyncio.run(client.get_service_request(second.folio, settings=settings)).duplicate_of == first.folio


def test_unknown_folio_is_none(live_url):
    assert asyncio.run(client.get_service_request("311-999999", settings=settings_for(live_url))) is None
    # Odd text is quoted into the path, never a different URL.
    assert asyncio.run(client.get_service_request("../services", settings=settings_for(live_url))) is None


def test_a_refused_request_raises_rejected(live_url):
    wrong_key = settings_for(live_url, backoffice_api_key="not-the-key")
    with pytest.raises(BackOfficeRejected) as raised:
        asyncio.run(client.file_service_request("bache", "x", address_string="Calle 1", settings=wrong_key))
    assert raised.value.status_code == 403
    assert raised.value.description == "invalid or missing api_key"
    with pytest.raises(BackOfficeRejected) as raised:
        asyncio.run(client.file_service_request("bache", "x", settings=settings_for(live_url)))
    assert raised.value.status_code == 400
    assert not isinstance(raised.value, BackOfficeUnavailable)


def test_connection_refused_is_unavailable(closed_port):
    settings = settings_for(f"http://127.0.0.1:{closed_port}")
    with pytest.raises(BackOfficeUnavailable):
        asyncio.run(client.file_service_request("bache", "x", address_string="Calle 1", settings=settings))
    with pytest.raises(BackOfficeUnavailable):
        asyncio.run(client.get_service_request("311-000001", settings=settings))


def test_a_server_that_never_answers_is_unavailable(silent_port):
    settings = settings_for(f"http://127.0.0.1:{silent_port}", backoffice_timeout=0.2)
    with pytest.raises(BackOfficeUnavailable):
        asyncio.run(client.get_service_request("311-000001", settings=settings))
    with pytest.raises(BackOfficeUnavailable):
        asyncio.run(client.file_service_request("bache", "x", address_string="Calle 1", settings=settings))


def test_server_errors_are_unavailable(rasa_recorder):
    # The recorder answers any POST with the status we set: here, a failing back office.
    rasa_recorder.status = 503
    settings = settings_for(rasa_recorder.url)
    with pytest.raises(BackOfficeUnavailable):
        asyncio.run(client.file_service_request("bache", "x", address_string="Calle 1", settings=settings))
