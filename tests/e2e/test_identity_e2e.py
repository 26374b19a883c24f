"""End to end over real HTTP: a resident asks to sign in on the REST channel,
a browser follows the link, signs in at the development identity provider
(idp/run.py) and is sent back to the back office's callback; the back office
tells Rasa, and the conversation goes on by itself with the verified profile.
Then "my requests", a one-time code read from the dev outbox, and sign-out."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import List, Optional, Tuple
from urllib.parse import urljoin

import httpx
import pytest
import requests

from tests.e2e.conversation import Resident

pytestmark = pytest.mark.e2e

LINK = re.compile(r"https?://\S+/identity/sign-in/[A-Za-z0-9_\-]+")
CODE = re.compile(r"\b(\d{6})\b")
FOLIO = re.compile(r"311-\d{6}")
MARIA = "maria.hernandez"
MARIA_NAME = "María Guadalupe Hernández López"
MARIA_CURP = "HELG880315MDFRPD06"


class _Forms(HTMLParser):
    """Forms of a page: (method, action, [(button name, value)])."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: List[Tuple[str, str, List[Tuple[Optional[str], Optional[str]]]]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append(((a.get("method") or "get").lower(), a.get("action") or "", []))
        elif tag == "button" and self.forms:
            self.forms[-1][2].append((a.get("name"), a.get("value")))


def forms_of(page: httpx.Response):
    parser = _Forms()
    parser.feed(page.text)
    return parser.forms


class Browser:
    """What a resident's browser does: open a link, press a button, follow redirects, keep cookies."""

    def __init__(self) -> None:
        self.client = httpx.Client(follow_redirects=True, timeout=60)

    def open(self, url: str) -> httpx.Response:
        return self.client.get(url)

    def press(self, page: httpx.Response, data: Optional[dict] = None, button: Optional[tuple] = None) -> httpx.Response:
        """Submit the page's form (the one holding ``button`` when given)."""
        forms = [f for f in forms_of(page) if f[0] == "post" and (button is None or button in f[2])]
        assert forms, f"no such form on {page.url}: {forms_of(page)}"
        _method, action, _buttons = forms[0]
        return self.client.post(urljoin(str(page.url), action) if action else str(page.url), data=data or {})

    def close(self) -> None:
        self.client.close()


def sign_in_in_browser(link: str, subject: str) -> httpx.Response:
    """Follow the link, continue to the provider, choose the resident, come back."""
    browser = Browser()
    try:
        page = browser.open(link)
        assert page.status_code == 200, page.text
        at_provider = browser.press(page)
        assert at_provider.status_code == 200 and "/oauth2/authorize" in str(at_provider.url)
        back = browser.press(at_provider, data={"sub": subject}, button=("sub", subject))
        assert "/identity/callback" in str(back.url)
        return back
    finally:
        browser.close()


def link_in(text: str) -> str:
    match = LINK.search(text)
    assert match, f"no sign-in link in {text!r}"
    return match.group(0)


def bot_texts(resident: Resident) -> List[str]:
    return [e.get("text") or "" for e in resident.tracker()["events"] if e.get("event") == "bot"]


def outbox(stack) -> list:
    response = requests.get(f"{stack.backoffice_url}/dev/outbox.json", timeout=10)
    response.raise_for_status()
    return response.json()


def test_sign_in_over_http_and_the_conversation_goes_on_by_itself(stack):
    resident = Resident(stack)
    asked = resident.says_text("quiero iniciar sesión")
    assert "Llave CDMX" in asked and "una sola vez" in asked
    link = link_in(asked)
    assert link.startswith(stack.backoffice_url)

    done = sign_in_in_browser(link, MARIA)
    assert done.status_code == 200 and f"Listo, {MARIA_NAME}" in done.text

    # Nobody wrote anything in the chat since: the assistant went on by itself.
    assert any(t.startswith(f"Listo, ya verifiqué tu identidad, {MARIA_NAME}") for t in bot_texts(resident))
    assert any(MARIA_CURP in t for t in bot_texts(resident))
    assert not any("no te entendí" in t for t in bot_texts(resident))
    slots = resident.tracker()["slots"]
    assert slots["identity_verified"] is True
    assert slots["verified_name"] == MARIA_NAME and slots["verified_curp"] == MARIA_CURP
    assert slots["verified_email"] == "maria.hernandez@example.org" and slots["verified_phone"] == "+525555550101"

    # The link worked once.
    replay = httpx.post(link, timeout=30)
    assert replay.status_code == 410

    # Asking again does not send another link.
    again = resident.says_text("iniciar sesión")
    assert "Ya verifiqué tu identidad" in again and not LINK.search(again)

    out = resident.says_text("cerrar sesión")
    assert "cerré tu sesión" in out
    assert resident.slot("identity_verified") is False and resident.slot("verified_curp") is None
    lookup = requests.post(
        f"{stack.backoffice_url}/api/v1/identity/lookup",
        json={"conversation_id": resident.sender},
        headers={"Authorization": "Bearer dev-assistant-key"},
        timeout=10,
    )
    assert lookup.status_code == 404


def test_my_requests_resumes_after_sign_in_and_lists_only_own_requests(stack):
    # Someone else, signed in, files a request.
    other = Resident(stack)
    sign_in_in_browser(link_in(other.says_text("log in")), "itzel.flores")
    other.says("hay un bache enorme en Avenida Revolución 1500, col. Guadalupe Inn, alcaldía Álvaro Obregón")
    theirs = FOLIO.search(other.says_text("sí")).group(0)

    resident = Resident(stack)
    asked = resident.says_text("my requests")
    assert "first need to verify your identity" in asked
    sign_in_in_browser(link_in(asked), "jose.martinez")
    texts = bot_texts(resident)
    assert any(t.startswith("Done, I verified your identity, José Luis Martínez Ramírez") for t in texts)
    assert any("I found no requests filed while you were signed in" in t for t in texts)  # resumed by itself
    # ...and then listened: no fallback (which would also rewind the external event).
    assert not any("didn't understand" in t for t in bot_texts(resident))
    assert resident.slot("identity_verified") is True

    resident.says("the street light at Madero 20, Centro, alcaldía Cuauhtémoc is out")
    mine = FOLIO.search(resident.says_text("yes")).group(0)
    listed = resident.says_text("show my requests")
    assert mine in listed and theirs not in listed

    # The public Open311 answer for the request does not carry who filed it.
    public = requests.get(f"{stack.backoffice_url}/open311/v2/requests/{mine}.json", timeout=10).text
    assert "jose.martinez" not in public and "verified_subject" not in public


def test_one_time_code_from_the_outbox(stack):
    resident = Resident(stack)
    sign_in_in_browser(link_in(resident.says_text("iniciar sesión")), MARIA)

    sent = resident.says_text("mándame un código nuevo")
    assert "termina en …0101" in sent and "Escribe el código" in sent
    message = outbox(stack)[0]
    assert message["via"] == "sms" and message["to"] == "+525555550101"
    code = CODE.search(message["body"]).group(1)

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert "Te quedan 4 intentos" in resident.says_text(wrong)
    assert "Código correcto" in resident.says_text(code)
    assert resident.slot("code_verified") is True
    assert resident.slot("verification_code") == "verified"  # never the code itself


def test_no_codes_tokens_or_curps_in_any_log(stack):
    """Run after the tests above (same stack): their codes, links and CURPs are in no log."""
    resident = Resident(stack)
    link = link_in(resident.says_text("iniciar sesión"))
    sign_in_in_browser(link, MARIA)
    resident.says_text("nuevo código")
    code = CODE.search(outbox(stack)[0]["body"]).group(1)
    resident.says_text(code)
    assert resident.slot("code_verified") is True

    token = link.rsplit("/", 1)[1]
    logs = {path.name: path.read_text(errors="replace") for path in stack.workdir.glob("*.log")}
    assert {"backoffice.log", "actions.log", "rasa.log", "idp.log"} <= set(logs)
    every_code = [CODE.search(m["body"]).group(1) for m in outbox(stack)]
    for name, text in logs.items():
        assert token not in text, name
        for secret in every_code:
            assert not re.search(rf"(?<!\d){secret}(?!\d)", text), f"a one-time code in {name}"
        for curp in (MARIA_CURP, "MARL751102HDFRMS05", "FOMI010722MMCLNTA6"):
            assert curp not in text, f"a CURP in {name}"
    assert "kept in the development outbox" in logs["backoffice.log"]  # the log does say a code was sent
