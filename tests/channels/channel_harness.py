"""Test harness for the channel connectors.

- `Recorder`: a real HTTP server on a free port standing in for Twilio, the
  Telegram Bot API, the Graph API and the X API; it records every request
  (method, path, query, headers, body) and answers in the platform's format.
- `RasaApp`: the connectors mounted exactly as `rasa run` mounts them
  (`rasa.core.run.configure_app` -> `rasa.core.channels.channel.register`), served
  by Sanic on a free port in a background thread, with an agent stand-in whose
  `handle_message` records the UserMessage and answers through the message's
  own output channel (the connector's sending side).
- Signatures computed here from each platform's documentation, independently
  of the code under test.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).with_name("fixtures")

# Test secrets (made up).
TWILIO_SID = "AC00000000000000000000000000000000"
TWILIO_TOKEN = "test-twilio-auth-token"
TWILIO_NUMBER = "+525512345000"
TELEGRAM_TOKEN = "123456789:TEST-telegram-bot-token_abc"
TELEGRAM_SECRET = "test-telegram-secret-token"
FB_VERIFY = "test-verify-token"
FB_SECRET = "test-facebook-app-secret"
FB_PAGE_TOKEN = "test-page-access-token"
X_CONSUMER_KEY = "test-consumer-key"
X_CONSUMER_SECRET = "test-consumer-secret"
X_ACCESS_TOKEN = "1400000000000000001-test-access-token"
X_ACCESS_SECRET = "test-access-token-secret"
X_ACCOUNT_ID = "1400000000000000001"


def redis_available(url: str = "redis://127.0.0.1:6379/0") -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:
        return False


# --- fixtures ------------------------------------------------------------------------


def load_json(name: str) -> Dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def dump(payload: Dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def twilio_form(**changes: str) -> List[Tuple[str, str]]:
    """The sample inbound SMS as (name, value) pairs, with fields changed."""
    pairs = []
    for line in (FIXTURES / "twilio_sms.form").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        pairs.append((name, changes.pop(name, value)))
    pairs.extend(changes.items())
    return pairs


# --- platform signatures -------------------------------------------------------------


def twilio_signature(auth_token: str, url: str, pairs: List[Tuple[str, str]]) -> str:
    """base64(HMAC-SHA1(auth token, URL + each POST field name+value, sorted by name))."""
    data = url + "".join(name + value for name, value in sorted(pairs))
    return base64.b64encode(hmac.new(auth_token.encode(), data.encode("utf-8"), hashlib.sha1).digest()).decode()


def messenger_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def x_signature(consumer_secret: str, payload: bytes) -> str:
    return "sha256=" + base64.b64encode(hmac.new(consumer_secret.encode(), payload, hashlib.sha256).digest()).decode()


# --- the platform stand-in -----------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> Dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items()}

    def params(self) -> Dict[str, Any]:
        """Bot API parameters, whether sent as JSON or as a form of JSON-encoded values."""
        if "json" in self.headers.get("content-type", ""):
            return self.json()
        params: Dict[str, Any] = {}
        for key, value in self.form().items():
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params


Responder = Callable[[Recorded], Tuple[int, Any]]


@dataclass
class Recorder:
    """Records requests; answers like the real API for the paths the connectors use."""

    requests: List[Recorded] = field(default_factory=list)
    # Batches getUpdates hands out, one per call ([] once exhausted).
    telegram_updates: List[List[Dict[str, Any]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                record = Recorded(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                status, payload = recorder.answer(record)
                # Recorded before answering: once the caller has its answer, the record exists.
                with recorder._changed:
                    recorder.requests.append(record)
                    recorder._changed.notify_all()
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _handle

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait_for(self, count: int, timeout: float = 10.0) -> List[Recorded]:
        """The first `count` requests, waiting for them to arrive (no fixed sleeps)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.requests) >= count, timeout=timeout):
                raise AssertionError(f"expected {count} requests, got {len(self.requests)}: {self.summary()}")
            return list(self.requests[:count])

    def wait_until(self, predicate: Callable[[List[Recorded]], Any], timeout: float = 10.0, what: str = "") -> Any:
        """Wait until `predicate(requests so far)` is truthy and return that value.

        Re-checked on every request recorded, so nothing depends on timing.
        """
        found: List[Any] = [None]

        def check() -> bool:
            found[0] = predicate(list(self.requests))
            return bool(found[0])

        with self._changed:
            if not self._changed.wait_for(check, timeout=timeout):
                raise AssertionError(f"{what or 'expected requests'} not received in {timeout}s: {self.summary()}")
        return found[0]

    def summary(self) -> List[str]:
        return [f"{r.method} {r.path}" for r in self.requests]

    def to(self, path_pattern: str) -> List[Recorded]:
        return [r for r in self.requests if re.search(path_pattern, r.path)]

    # What each API answers.
    def answer(self, record: Recorded) -> Tuple[int, Any]:
        path = record.path
        if path.endswith("/Messages.json"):
            form = record.form()
            return 201, {"sid": "SM" + "0" * 32, "status": "queued", "to": form.get("To"), "body": form.get("Body")}
        match = re.match(r"^/bot[^/]+/(\w+)$", path)
        if match:
            return 200, {"ok": True, "result": self._telegram_result(match.group(1), record)}
        if path.endswith("/me/messages"):
            return 200, {"recipient_id": record.json()["recipient"]["id"], "message_id": "m_sent"}
        if path.endswith("/direct_messages/events/new.json"):
            event = record.json()["event"]
            return 200, {"event": {**event, "id": "1900000000000000001", "created_timestamp": "1764771500000"}}
        return 404, {"error": "unknown path"}

    def _telegram_result(self, method: str, record: Recorded) -> Any:
        if method == "getMe":
            return {"id": 123456789, "is_bot": True, "first_name": "CDMX", "username": "cdmx_test_bot"}
        if method == "getUpdates":
            with self._changed:
                return self.telegram_updates.pop(0) if self.telegram_updates else []
        if method.startswith("send"):
            params = record.params()
            return {
                "message_id": 9000 + len(self.requests),
                "date": 1764771500,
                "chat": {"id": int(params.get("chat_id", 0)), "type": "private"},
                "text": params.get("text", ""),
            }
        return True  # answerCallbackQuery, deleteWebhook, ...


# --- Rasa mounting -------------------------------------------------------------------


def default_answer(message: Any) -> List[Dict[str, Any]]:
    return [
        {
            "text": "¿Confirmas el reporte?",
            "buttons": [{"title": "Sí", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        }
    ]


class CollectingAgent:
    """Stands in for rasa.core.agent.Agent: records each UserMessage and answers
    through the message's output channel, as Rasa's processor does."""

    def __init__(self, answer: Callable[[Any], List[Dict[str, Any]]]) -> None:
        self.answer = answer
        self.messages: List[Any] = []

    async def handle_message(self, message: Any) -> None:
        self.messages.append(message)
        for response in self.answer(message):
            await message.output_channel.send_response(message.sender_id, dict(response))


class RasaApp:
    """Connectors mounted by rasa.core.run.configure_app and served on a free port."""

    def __init__(self, input_channels: List[Any], answer=default_answer) -> None:
        import rasa.core.run

        self.input_channels = input_channels
        self.agent = CollectingAgent(answer)
        self.app = rasa.core.run.configure_app(input_channels=input_channels, enable_api=False, route="/webhooks/")
        self.app.ctx.agent = self.agent
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._server = None
        self.port: Optional[int] = None

    @property
    def messages(self) -> List[Any]:
        return self.agent.messages

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def start(self) -> "RasaApp":
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        ready = threading.Event()
        failure: List[BaseException] = []

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)

            async def main() -> None:
                server = await self.app.create_server(
                    host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
                )
                await server.startup()
                await server.before_start()
                await server.after_start()
                self._server = server
                ready.set()
                await server.serve_forever()

            try:
                self._loop.run_until_complete(main())
            except BaseException as exc:  # surfaced by start()
                failure.append(exc)
                ready.set()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(30)
        if failure or self._server is None:
            raise RuntimeError(f"Sanic did not start: {failure}")
        return self

    def run(self, coroutine: Any, timeout: float = 30) -> Any:
        """Run a coroutine in the server's event loop (e.g. an output channel send)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def settle(self) -> None:
        """Wait until every message the connectors took is fully handled."""

        async def drain() -> None:
            for channel in self.input_channels:
                await channel.drain()

        self.run(drain())

    def stop(self) -> None:
        if self._server is None:
            return
        server = self._server

        async def shutdown() -> None:
            await server.before_stop()
            server.server.close()
            await server.server.wait_closed()
            await server.after_stop()

        try:
            self.run(shutdown(), timeout=30)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)


def oauth1_signature_is_valid(
    record: Recorded, url: str, consumer_key: str, consumer_secret: str, token: str, token_secret: str
) -> bool:
    """Check an OAuth 1.0a HMAC-SHA1 Authorization header (RFC 5849 section 3.4) on a
    recorded request, and that oauth_body_hash is the SHA-1 of the body received."""
    from urllib.parse import quote, unquote

    def enc(value: str) -> str:
        return quote(value, safe="~-._")

    header = record.headers["authorization"]
    assert header.startswith("OAuth ")
    params = {}
    for part in re.findall(r'(\w+)="([^"]*)"', header):
        params[part[0]] = unquote(part[1])
    if params.get("oauth_consumer_key") != consumer_key or params.get("oauth_token") != token:
        return False
    if params.get("oauth_signature_method") != "HMAC-SHA1":
        return False
    if params.get("oauth_body_hash") != base64.b64encode(hashlib.sha1(record.body).digest()).decode():
        return False
    given = params.pop("oauth_signature")
    params.pop("realm", None)
    pairs = sorted((enc(k), enc(v)) for k, v in params.items())
    for key, values in record.query.items():
        pairs.extend((enc(key), enc(v)) for v in values)
    normalized = "&".join(f"{k}={v}" for k, v in sorted(pairs))
    base = "&".join([record.method.upper(), enc(url), enc(normalized)])
    key = f"{enc(consumer_secret)}&{enc(token_secret)}"
    expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
    return hmac.compare_digest(given, expected)
