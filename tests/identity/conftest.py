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


