"""Development OpenID Connect provider for the assistant, with made-up residents.

This is the package ``oidc-provider-mock`` (pinned in idp/requirements.txt),
started with the residents of idp/residents.yml as predefined users and the
back office registered as its client. It needs pydantic 2, so it runs from its
own virtualenv, never from the main one:

    .venv-idp/bin/python idp/run.py            # http://127.0.0.1:9400

Signing in works as with any provider: the back office sends the browser to
the authorization endpoint, the provider shows its form (one button per
resident, or type a subject), and after "Authorize" it redirects to the
registered redirect URI with ``code`` and ``state``.

The client id, secret and redirect URI, the port and the issuer come from
common/settings.py (OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URL,
IDP_PORT), the same values the back office uses.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# oidc-provider-mock 0.3.4 still imports authlib.jose and httpx; the warnings
# about that are the package's business, not the developer's. (authlib turns
# its own warnings on when imported, so our filter goes in after that.)
import authlib.deprecate  # noqa: E402

warnings.filterwarnings(
    "ignore",
    message=r".*(authlib\.jose|httpx) module is deprecated",
    category=authlib.deprecate.AuthlibDeprecationWarning,
)

import flask  # noqa: E402
import uvicorn  # noqa: E402
import yaml  # noqa: E402

import oidc_provider_mock  # noqa: E402
# oidc-provider-mock has no public way to register a client with a chosen id
# and secret (only dynamic registration, which makes up both), so this uses
# its storage class directly. The version is pinned; tests/identity checks
# that a wrong secret or redirect URI is refused, so a change shows up there.
from oidc_provider_mock._storage import Client  # noqa: E402

from common.settings import get_settings  # noqa: E402

DEFAULT_RESIDENTS = HERE / "residents.yml"

log = logging.getLogger("idp")


@dataclass(frozen=True)
class ClientRegistration:
    client_id: str
    client_secret: str
    redirect_uri: str


def load_residents(path: Path) -> list[oidc_provider_mock.User]:
    """Residents file -> predefined users (``sub`` plus every other key as a claim)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    users = []
    for entry in data.get("residents") or []:
        claims = dict(entry)
        sub = claims.pop("sub", None)
        if not isinstance(sub, str) or not sub:
            raise SystemExit(f"{path}: every resident needs a 'sub' (got {entry!r})")
        users.append(oidc_provider_mock.User(sub=sub, claims=claims))
    if not users:
        raise SystemExit(f"{path}: no residents")
    return users


class _NoQueryStrings(logging.Filter):
    """Drop query strings from request log lines: authorization requests carry
    the sign-in's state and nonce, and they do not belong in a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = args[:2] + (args[2].split("?", 1)[0] + "?...",) + args[3:]
        return True


def build_app(
    residents: Sequence[oidc_provider_mock.User],
    clients: Sequence[ClientRegistration],
    *,
    token_max_age: timedelta = timedelta(hours=1),
) -> flask.Flask:
    """The provider's Flask app with residents and registered clients.

    Only registered clients are accepted (unknown client ids, wrong secrets and
    other redirect URIs are refused), and authorization requests must carry a
    nonce: both as a real provider would.
    """
    app = oidc_provider_mock.app(
        require_client_registration=True,
        require_nonce=True,
        issue_refresh_token=False,
        access_token_max_age=token_max_age,
        user_claims=residents,
    )
    # The mock keeps its in-memory storage in flask.g, set by a before_request
    # hook; run that hook once outside a real request to reach it.
    with app.test_request_context("/"):
        app.preprocess_request()
        storage = flask.g.oidc_provider_mock_storage
        for reg in clients:
            storage.store_client(
                Client(
                    id=reg.client_id,
                    secret=reg.client_secret,
                    redirect_uris=[reg.redirect_uri],
                    allowed_scopes=Client.SCOPES_SUPPORTED,
                    token_endpoint_auth_method="client_secret_basic",
                )
            )
    return app


def main(argv: Sequence[str] | None = None) -> None:
    settings = get_settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=settings.idp_port, help="port (default IDP_PORT, 9400)")
    parser.add_argument("--residents", type=Path, default=DEFAULT_RESIDENTS, help="residents YAML file")
    parser.add_argument(
        "--client",
        nargs=3,
        action="append",
        metavar=("ID", "SECRET", "REDIRECT_URI"),
        help="register a client (repeatable); default: the back office's OIDC_* settings",
    )
    parser.add_argument(
        "--token-max-age",
        type=int,
        default=3600,
        help="lifetime of ID and access tokens in seconds (default 3600)",
    )
    args = parser.parse_args(argv)

    clients = [ClientRegistration(*c) for c in args.client] if args.client else [
        ClientRegistration(settings.oidc_client_id, settings.oidc_client_secret, settings.oidc_redirect_url)
    ]
    residents = load_residents(args.residents)

    # Plain http on the loopback interface is the point of a development provider.
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    # Only the message is printed: the mock attaches users' claims to some log
    # records as extra fields, and we keep personal data out of the console.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("uvicorn.access").addFilter(_NoQueryStrings())

    app = build_app(residents, clients, token_max_age=timedelta(seconds=args.token_max_age))
    log.info(
        "development identity provider on http://%s:%d, residents: %s, clients: %s",
        args.host,
        args.port,
        ", ".join(u.sub for u in residents),
        ", ".join(c.client_id for c in clients),
    )
    uvicorn.run(app, interface="wsgi", host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
