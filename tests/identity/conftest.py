"""Fixtures for the identity tests (helpers live in identity_harness.py)."""
from __future__ import annotations

from typing import Iterator

import pytest
import yaml

from identity_harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    RESIDENTS_FILE,
    Provider,
    oidc,
    running_provider,
)


@pytest.fixture(scope="session")
def idp(tmp_path_factory) -> Iterator[Provider]:
    """The development provider with the residents of idp/residents.yml."""
    with running_provider(tmp_path_factory.mktemp("idp")) as provider:
        yield provider


@pytest.fixture(scope="session")
def idp_expired_tokens(tmp_path_factory) -> Iterator[Provider]:
    """The same provider, issuing ID tokens that expired five minutes before they were issued."""
    with running_provider(tmp_path_factory.mktemp("idp-expired"), "--token-max-age", "-300") as provider:
        yield provider


@pytest.fixture(autouse=True)
def _fresh_provider_cache():
    oidc.clear_provider_cache()
    yield
    oidc.clear_provider_cache()


@pytest.fixture
def rp(idp: Provider) -> oidc.RelyingParty:
    return oidc.RelyingParty(idp.url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, "openid profile email phone")


@pytest.fixture(scope="session")
def residents() -> list[dict]:
    return yaml.safe_load(RESIDENTS_FILE.read_text(encoding="utf-8"))["residents"]




# --------------------------------------------------- the back office's side


@pytest.fixture
def rasa_recorder():
    from backoffice_harness import RasaRecorder

    recorder = RasaRecorder().start()
    yield recorder
    recorder.stop()


@pytest.fixture
def make_app(tmp_path, rasa_recorder):
    """Build back-office apps on a fresh SQLite file (issuer: the development provider unless given)."""
    from backoffice.app import create_app
    from backoffice_harness import make_settings

    apps = []

    def build(issuer: str, **overrides):
        overrides.setdefault("database_url", f"sqlite:///{tmp_path / 'backoffice.db'}")
        app = create_app(make_settings(issuer=issuer, rasa_url=rasa_recorder.url, **overrides))
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.state.engine.dispose()


@pytest.fixture
def forging_provider():
    from backoffice_harness import ForgingProvider

    provider = ForgingProvider()
    yield provider
    provider.stop()


@pytest.fixture
def closed_port_url():
    """A URL where connections are refused (bound, never listening, so no one else takes the port)."""
    import socket

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()
