"""Helpers for the identity tests: the real development provider (idp/run.py)
as a subprocess of its own virtualenv, and a browser-like sign-in over HTTP."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator, Optional, Sequence
from urllib.parse import parse_qs, urljoin, urlparse

import httpx
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # no root-level pytest configuration puts it there
    sys.path.insert(0, str(ROOT))

from backoffice import oidc  # noqa: E402

IDP_VENV = ROOT / ".venv-idp"
IDP_RUN = ROOT / "idp" / "run.py"
RESIDENTS_FILE = ROOT / "idp" / "residents.yml"

CLIENT_ID = "asistente-cdmx-test"
CLIENT_SECRET = "test-secret-not-for-production"
REDIRECT_URI = "http://127.0.0.1:8080/identity/callback"
# A second registered client: another city service signed in at the same provider.
OTHER_CLIENT_ID = "otro-servicio"
OTHER_CLIENT_SECRET = "otro-secreto"
OTHER_REDIRECT_URI = "http://127.0.0.1:8181/callback"

SETUP_HINT = (
    "The development identity provider is not installed. Run, from the repository root:\n"
    "  /root/.pyenv/versions/3.10.13/bin/python -m venv .venv-idp\n"
    "  .venv-idp/bin/pip install -r idp/requirements.txt\n"
    "(see idp/README.md)."
)


def idp_python(venv: Path = IDP_VENV) -> Path:
    """The provider's interpreter; fails the test (never skips) when it is missing."""
    python = venv / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} not found. {SETUP_HINT}", pytrace=False)
    check = subprocess.run(
        [str(python), "-c", "import oidc_provider_mock, yaml, uvicorn"],
        capture_output=True,
        text=True,
    )
    if check.returncode != 0:
        pytest.fail(f"{venv} lacks the provider's packages ({check.stderr.strip()}). {SETUP_HINT}", pytrace=False)
    return python


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Provider:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


@contextmanager
def running_provider(log_dir: Path, *extra_args: str, startup_timeout: float = 30.0) -> Iterator[Provider]:
    """Start idp/run.py on a free port and wait until its discovery document answers."""
    python = idp_python()
    port = free_port()
    log_path = log_dir / f"idp-{port}.log"
    args = [
        str(python),
        str(IDP_RUN),
        "--port",
        str(port),
        "--client",
        CLIENT_ID,
        CLIENT_SECRET,
        REDIRECT_URI,
        "--client",
        OTHER_CLIENT_ID,
        OTHER_CLIENT_SECRET,
        OTHER_REDIRECT_URI,
        *extra_args,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    provider = Provider(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if process.poll() is not None:
                pytest.fail(f"the development provider exited with {process.returncode}:\n{provider.log()}")
            try:
                response = httpx.get(provider.url + "/.well-known/openid-configuration", timeout=1.0)
                if response.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the development provider did not answer within {startup_timeout}s:\n{provider.log()}")
            time.sleep(0.05)  # poll interval, not a wait for readiness
        yield provider
    finally:
        provider.stop()


# ------------------------------------------------------------------ browser


class _Forms(HTMLParser):
    """The forms of a page with their action, method and submit buttons / inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: Optional[dict] = None

    def handle_starttag(self, tag: str, attrs) -> None:
        a = dict(attrs)
        if tag == "form":
            self._current = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(),
                             "buttons": [], "inputs": []}
            self.forms.append(self._current)
        elif self._current is not None and tag == "button":
            self._current["buttons"].append((a.get("name"), a.get("value")))
        elif self._current is not None and tag == "input":
            self._current["inputs"].append(a.get("name"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


@dataclass
class Callback:
    """What the browser would have been sent to: the redirect URI with its query."""

    url: str
    code: str
    state: str


def sign_in(authorization_url: str, subject: str, *, expected_redirect: str = REDIRECT_URI) -> Callback:
    """Do what a browser does: open the authorization link, submit the
    provider's sign-in form for ``subject``, and read where the provider
    redirects to (the back office's callback, which need not be running)."""
    with httpx.Client(follow_redirects=False, timeout=10.0) as browser:
        page = browser.get(authorization_url)
        assert page.status_code == 200, f"authorization page answered {page.status_code}: {page.text[:500]}"
        parser = _Forms()
        parser.feed(page.text)
        # The button of a predefined resident, or else the free-text subject field.
        form = next((f for f in parser.forms if f["method"] == "post" and ("sub", subject) in f["buttons"]), None)
        if form is None:
            form = next(f for f in parser.forms if f["method"] == "post" and "sub" in f["inputs"])
        action = urljoin(str(page.url), form["action"]) if form["action"] else str(page.url)
        answer = browser.post(action, data={"sub": subject})
    assert answer.status_code in (302, 303), f"the provider answered {answer.status_code}: {answer.text[:500]}"
    location = answer.headers["location"]
    assert location.split("?", 1)[0] == expected_redirect, "redirected somewhere else than the redirect URI"
    query = parse_qs(urlparse(location).query)
    assert "error" not in query, f"the provider refused: {query}"
    return Callback(url=location, code=query["code"][0], state=query["state"][0])


def authorization_page_status(url: str) -> int:
    return httpx.get(url, timeout=10.0).status_code


def subjects_on_sign_in_page(authorization_url: str) -> Sequence[str]:
    parser = _Forms()
    parser.feed(httpx.get(authorization_url, timeout=10.0).text)
    return [value for form in parser.forms for name, value in form["buttons"] if name == "sub"]
