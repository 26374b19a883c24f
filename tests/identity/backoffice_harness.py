"""Helpers for the identity tests of the back office: settings, a browser that
walks the sign-in link through the back office and the real development
provider, a recorder standing in for Rasa's HTTP API, and a forging provider
that hands out ID tokens with one defect each (to test the callback's
refusals, which the real provider cannot be made to produce)."""
from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import List, Optional
from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from identity_harness import CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, sign_in
from backoffice.models import IdentityLink
from backoffice.timeutil import utcnow
from common.settings import Settings

API_KEY = "test-assistant-key"
API_HEADERS = {"Authorization": f"Bearer {API_KEY}"}
# The redirect URI the development provider has registered for the test client.
BASE_URL = REDIRECT_URI.rsplit("/identity/", 1)[0]


def make_settings(database_url: str, issuer: str, rasa_url: str, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        backoffice_api_key=API_KEY,
        staff_token="test-staff-token",
        rasa_url=rasa_url,
        rasa_token="test-rasa-token",
        notification_timeout=5.0,
        oidc_issuer=issuer,
        oidc_client_id=CLIENT_ID,
        oidc_client_secret=CLIENT_SECRET,
        oidc_redirect_url=REDIRECT_URI,
        oidc_timeout=3.0,
        backoffice_public_url=BASE_URL,
        dev_outbox=True,
        identity_secret="test-identity-secret",
        verification_code_rate="3 per 10 minutes",
        redis_url="",
    )
    values.update(overrides)
    return Settings(**values)


def new_client(app) -> TestClient:
    """A browser-like client of the back office (its own cookie jar)."""
    return TestClient(app, base_url=BASE_URL)


def local_path(url: str) -> str:
    assert url.startswith(BASE_URL), url
    return url[len(BASE_URL):]


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.actions: List[tuple] = []

    def handle_starttag(self, tag, attrs):
        if tag == "form":
            a = dict(attrs)
            self.actions.append(((a.get("method") or "get").lower(), a.get("action") or ""))


def request_link(client: TestClient, conversation_id: str, channel: str = "rest", language: str = "es") -> dict:
    response = client.post(
        "/api/v1/identity/sign-in-links",
        json={"conversation_id": conversation_id, "channel": channel, "language": language},
        headers=API_HEADERS,
    )
    assert response.status_code == 201, response.text
    return response.json()


def open_link(browser: TestClient, url: str) -> str:
    """Open the link's page, press its button; returns where the back office sends the browser."""
    page = browser.get(local_path(url))
    assert page.status_code == 200, page.text
    forms = _Forms()
    forms.feed(page.text)
    assert len(forms.actions) == 1 and forms.actions[0][0] == "post", forms.actions
    answer = browser.post(forms.actions[0][1], follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def callback(browser: TestClient, callback_url: str):
    return browser.get(local_path(callback_url), follow_redirects=False)


def sign_in_fully(app, client: TestClient, conversation_id: str, subject: str):
    """Link + browser + provider + callback; returns the callback's answer."""
    link = request_link(client, conversation_id)
    browser = new_client(app)
    authorization_url = open_link(browser, link["url"])
    return callback(browser, sign_in(authorization_url, subject).url)


def link_directly(session, conversation_id: str, subject: str, *, name="Prueba", curp=None,
                  email=None, phone=None, issuer="http://127.0.0.1:9400") -> None:
    """A signed-in conversation without going through the provider (for code and list tests)."""
    now = utcnow()
    session.add(
        IdentityLink(
            conversation_id=conversation_id, channel="rest", issuer=issuer, subject=subject, name=name,
            curp=curp, email=email, phone=phone, verified_at=now, expires_at=now + timedelta(hours=1),
        )
    )
    session.commit()


# --------------------------------------------------------------- Rasa recorder


@dataclass
class RecordedCall:
    path: str
    query: dict
    body: dict


@dataclass
class RasaRecorder:
    """A local stand-in for Rasa's HTTP API that records trigger_intent calls."""

    url: str = ""
    calls: List[RecordedCall] = field(default_factory=list)
    status: int = 200
    _server: Optional[ThreadingHTTPServer] = None

    def start(self) -> "RasaRecorder":
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                parsed = urlparse(self.path)
                recorder.calls.append(
                    RecordedCall(parsed.path, {k: v[0] for k, v in parse_qs(parsed.query).items()},
                                 json.loads(self.rfile.read(length) or b"{}"))
                )
                payload = b'{"tracker": {}, "messages": []}'
                self.send_response(recorder.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


# ------------------------------------------------------------ forging provider


class ForgingProvider:
    """An OpenID provider whose token endpoint answers with an ID token that
    has exactly one defect (``mode``); "good" is a valid token, to show the
    set-up itself is accepted. The nonce is read from the authorization URL
    the back office produced (``expect``)."""

    MODES = ("good", "other_key", "wrong_audience", "expired", "wrong_nonce", "wrong_issuer", "alg_none")

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "published"})
        self.stranger = RSAKey.generate_key(2048, parameters={"kid": "published"})
        self.mode = "good"
        self.nonce = ""
        self.subject = "maria.hernandez"
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, data, status=200):
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):  # noqa: N802
                if self.path == "/.well-known/openid-configuration":
                    self._json({
                        "issuer": provider.url,
                        "authorization_endpoint": provider.url + "/authorize",
                        "token_endpoint": provider.url + "/token",
                        "jwks_uri": provider.url + "/jwks",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    })
                elif self.path == "/jwks":
                    self._json(KeySet([provider.key]).as_dict(private=False))
                else:
                    self._json({"error": "not_found"}, 404)

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self._json({"access_token": "opaque", "token_type": "Bearer", "id_token": provider.id_token()})

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def expect(self, authorization_url: str) -> str:
        """Remember the sign-in's nonce; returns its state."""
        query = {k: v[0] for k, v in parse_qs(urlparse(authorization_url).query).items()}
        assert authorization_url.startswith(self.url + "/authorize?")
        self.nonce = query["nonce"]
        return query["state"]

    def id_token(self) -> str:
        now = int(time.time())
        claims = {
            "iss": self.url, "sub": self.subject, "aud": CLIENT_ID, "iat": now, "exp": now + 300,
            "nonce": self.nonce, "name": "María Guadalupe Hernández López", "curp": "HELG880315MDFRPD06",
            "email": "maria.hernandez@example.org", "email_verified": True,
        }
        key = self.key
        if self.mode == "other_key":
            key = self.stranger
        elif self.mode == "wrong_audience":
            claims["aud"] = "otro-servicio"
        elif self.mode == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        elif self.mode == "wrong_nonce":
            claims["nonce"] = "a-nonce-of-another-sign-in-000000"
        elif self.mode == "wrong_issuer":
            claims["iss"] = "http://127.0.0.1:1"
        if self.mode == "alg_none":
            header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
            body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            return f"{header}.{body}."
        return jwt.encode({"alg": "RS256", "kid": "published"}, claims, key)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
