"""Fixtures for the back office tests: real databases, real HTTP servers.

API tests run twice, on a temporary SQLite file and on a throwaway PostgreSQL
database (created once per session with a random name, dropped at the end).
"""
from __future__ import annotations

import json
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator, List, Optional

import pytest
from fastapi.testclient import TestClient

from backoffice.app import create_app
from backoffice_helpers import make_settings

PG_HOST = os.environ.get("TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("TEST_PG_PORT", "5432"))
PG_USERS = [os.environ["TEST_PG_USER"]] if os.environ.get("TEST_PG_USER") else ["postgres", "root"]
TABLES = ("outbound_notifications", "status_changes", "service_requests", "screenings",
          "crime_report_events", "crime_reports")


# --- PostgreSQL -------------------------------------------------------------


class PostgresServer:
    """Creates throwaway databases on the local server and drops them all at the end."""

    def __init__(self) -> None:
        import psycopg2

        self._psycopg2 = psycopg2
        self.user: Optional[str] = None
        self.error: Optional[str] = None
        self.created: List[str] = []
        for user in PG_USERS:
            try:
                self._admin(user).close()
                self.user = user
                return
            except psycopg2.Error as exc:
                self.error = str(exc).strip()

    def _admin(self, user: str):
        connection = self._psycopg2.connect(
            host=PG_HOST, port=PG_PORT, user=user, dbname="postgres", connect_timeout=3
        )
        connection.autocommit = True
        return connection

    def create_database(self) -> str:
        name = f"backoffice_test_{uuid.uuid4().hex[:12]}"
        connection = self._admin(self.user)
        try:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()
        self.created.append(name)
        return f"postgresql+psycopg2://{self.user}@{PG_HOST}:{PG_PORT}/{name}"

    def drop_all(self) -> None:
        if not self.created:
            return
        connection = self._admin(self.user)
        try:
            with connection.cursor() as cursor:
                for name in self.created:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            connection.close()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    if server.user is None:
        pytest.skip(f"PostgreSQL at {PG_HOST}:{PG_PORT} is unreachable: {server.error}")
    yield server
    server.drop_all()


@pytest.fixture(scope="session")
def postgres_url(postgres: PostgresServer) -> str:
    """The session's one API-test database."""
    return postgres.create_database()


def _truncate(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'backoffice.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    # Each test starts from empty tables and folio 311-000001.
    _truncate(url)


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'backoffice.db'}"


# --- Ports and small HTTP servers -------------------------------------------


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port where connections are refused (bound, never listening, so no one else takes it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield sock.getsockname()[1]
    sock.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (kernel backlog) and never answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


@dataclass
class RecordedCall:
    method: str
    path: str
    body: dict


@dataclass
class Recorder:
    """A local stand-in for Rasa's HTTP API that records what it is sent."""

    url: str
    calls: List[RecordedCall] = field(default_factory=list)
    status: int = 200


@pytest.fixture
def rasa_recorder() -> Iterator[Recorder]:
    recorder = Recorder(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server naming
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            recorder.calls.append(RecordedCall("POST", self.path, json.loads(raw or b"{}")))
            payload = b'{"tracker": {}}'
            self.send_response(recorder.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):  # keep test output clean
            pass

    # Bound and listening on construction: no start-up race.
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recorder
    server.shutdown()
    server.server_close()
    thread.join()


# --- The app ----------------------------------------------------------------


@pytest.fixture
def app_factory(closed_port) -> Iterator:
    """Build apps; each one's engine is disposed at the end of the test."""
    apps = []

    def build(database_url: str, **overrides):
        # Nothing should reach a real Rasa by accident: default to a refused port.
        overrides.setdefault("rasa_url", f"http://127.0.0.1:{closed_port}")
        app = create_app(make_settings(database_url, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.state.engine.dispose()


@pytest.fixture
def app(app_factory, database_url):
    return app_factory(database_url)


@pytest.fixture
def client(app) -> TestClient:
    return TestClient(app)
