"""Signing a conversation in through the back office: the link, its page, the
provider (the real development one over HTTP, or a forging one for token
defects), the callback, the external event to Rasa, and every refusal."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select, update

from backoffice_harness import (
    API_HEADERS,
    BASE_URL,
    callback,
    new_client,
    open_link,
    request_link,
    sign_in_fully,
)
from identity_harness import running_provider, sign_in
from backoffice.identity import RedactIdentityPaths
from backoffice.models import IdentityLink, SignIn
from backoffice.timeutil import utcnow

pytestmark = pytest.mark.timeout(180)

MARIA = "maria.hernandez"
MARIA_CURP = "HELG880315MDFRPD06"


def lookup(client, conversation_id):
    return client.post("/api/v1/identity/lookup", json={"conversation_id": conversation_id}, headers=API_HEADERS)


def sign_ins(app):
    with app.state.sessionmaker() as session:
        return session.execute(select(SignIn).order_by(SignIn.id)).scalars().all()


def links(app):
    with app.state.sessionmaker() as session:
        return session.execute(select(IdentityLink)).scalars().all()


def page_says(response, words: str) -> bool:
    return words in response.text


# ------------------------------------------------------------------- happy path


def test_sign_in_links_the_conversation_and_tells_rasa(make_app, idp, rasa_recorder):
    app = make_app(idp.url)
    client = new_client(app)
    link = request_link(client, "+5215555550199", channel="twilio")
    assert link["url"].startswith(f"{BASE_URL}/identity/sign-in/")
    assert lookup(client, "+5215555550199").status_code == 404

    browser = new_client(app)
    page = browser.get(link["url"][len(BASE_URL):])
    assert page.status_code == 200 and "Llave CDMX" in page.text and "<form method=\"post\"" in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    # Opening the page (as a link preview does) does not use the link up.
    assert sign_ins(app)[0].followed_at is None

    authorization_url = open_link(browser, link["url"])
    assert authorization_url.startswith(idp.url + "/oauth2/authorize?")
    assert "+5215555550199" not in authorization_url and "twilio" not in authorization_url
    done = callback(browser, sign_in(authorization_url, MARIA).url)

    assert done.status_code == 200 and page_says(done, "Listo, María Guadalupe Hernández López")
    profile = lookup(client, "+5215555550199").json()
    assert profile["subject"] == MARIA and profile["curp"] == MARIA_CURP
    assert profile["name"] == "María Guadalupe Hernández López"
    assert profile["email"] == "maria.hernandez@example.org" and profile["phone"] == "+525555550101"

    # Rasa was told once, on the same conversation ('+' kept as is), with nothing personal.
    assert len(rasa_recorder.calls) == 1
    call = rasa_recorder.calls[0]
    assert call.path == "/conversations/+5215555550199/trigger_intent"
    assert call.body == {"name": "EXTERNAL_identity_verified", "entities": {}}
    assert call.query == {"output_channel": "latest", "token": "test-rasa-token"}

    (row,) = sign_ins(app)
    assert row.outcome == "linked" and row.nonce is None and row.code_verifier is None


def test_unverified_phone_is_not_kept_as_contact(make_app, idp):
    app = make_app(idp.url)
    client = new_client(app)
    assert sign_in_fully(app, client, "c-itzel", "itzel.flores").status_code == 200
    profile = lookup(client, "c-itzel").json()
    assert profile["phone"] is None and profile["email"] == "itzel.flores@example.org"


def test_english_conversation_gets_english_pages(make_app, idp):
    app = make_app(idp.url)
    client = new_client(app)
    link = request_link(client, "c-en", language="en")
    browser = new_client(app)
    assert "Continue with Llave CDMX" in browser.get(link["url"][len(BASE_URL):]).text
    done = callback(browser, sign_in(open_link(browser, link["url"]), MARIA).url)
    assert page_says(done, "Done, María")


def test_rasa_down_keeps_the_link_and_says_how_to_go_on(make_app, idp, rasa_recorder):
    rasa_recorder.status = 503
    app = make_app(idp.url)
    client = new_client(app)
    done = sign_in_fully(app, client, "c-rasa-down", MARIA)
    assert done.status_code == 200 and page_says(done, "escribe «iniciar sesión»")
    assert lookup(client, "c-rasa-down").status_code == 200


def test_the_api_needs_the_assistants_key(make_app, idp):
    client = new_client(make_app(idp.url))
    body = {"conversation_id": "c1"}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        for path in ("sign-in-links", "lookup", "sign-out", "codes", "my-requests"):
            assert client.post(f"/api/v1/identity/{path}", json=body, headers=headers).status_code == 401
    assert client.post("/api/v1/identity/lookup", json={**body, "extra": 1}, headers=API_HEADERS).status_code == 422


# ------------------------------------------------------------------------ links


def test_a_link_works_once(make_app, idp):
    app = make_app(idp.url)
    client = new_client(app)
    link = request_link(client, "c-once")
    first = new_client(app)
    open_link(first, link["url"])
    path = link["url"][len(BASE_URL):]
    for browser in (first, new_client(app)):
        again = browser.post(path, follow_redirects=False)
        assert again.status_code == 410 and page_says(again, "ya se usó")
        assert browser.get(path).status_code == 410


def test_an_expired_link_is_refused(make_app, idp):
    app = make_app(idp.url)
    client = new_client(app)
    link = request_link(client, "c-expired")
    with app.state.sessionmaker() as session:
        session.execute(update(SignIn).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    browser = new_client(app)
    path = link["url"][len(BASE_URL):]
    assert browser.get(path).status_code == 410
    refused = browser.post(path, follow_redirects=False)
    assert refused.status_code == 410 and page_says(refused, "ya venció")
    assert sign_ins(app)[0].followed_at is None


def test_a_link_is_valid_for_the_configured_time(make_app, idp):
    app = make_app(idp.url, sign_in_link_ttl=120)
    link = request_link(new_client(app), "c-ttl")
    row = sign_ins(app)[0]
    assert row.expires_at - row.created_at == timedelta(seconds=120)
    assert abs(datetime.fromisoformat(link["expires_at"]) - row.expires_at) < timedelta(seconds=1)


def test_a_new_link_replaces_the_unopened_one(make_app, idp):
    app = make_app(idp.url)
    client = new_client(app)
    old = request_link(client, "c-two-links")
    new = request_link(client, "c-two-links")
    browser = new_client(app)
    assert browser.post(old["url"][len(BASE_URL):], follow_redirects=False).status_code == 410
    assert callback(browser, sign_in(open_link(browser, new["url"]), MARIA).url).status_code == 200


def test_an_unknown_link_is_refused_in_both_languages(make_app, idp):
    browser = new_client(make_app(idp.url))
    refused = browser.get("/identity/sign-in/not-a-real-token")
    assert refused.status_code == 404 and "no es válido" in refused.text and "not valid" in refused.text


# ---------------------------------------------------------------------- state


def test_missing_or_unknown_state_is_refused(make_app, idp):
    app = make_app(idp.url)
    client = new_client(app)
    link = request_link(client, "c-state")
    browser = new_client(app)
    real = sign_in(open_link(browser, link["url"]), MARIA)
    code = parse_qs(urlparse(real.url).query)["code"][0]

    missing = browser.get(f"/identity/callback?code={code}")
    wrong = browser.get(f"/identity/callback?code={code}&state=not-the-state")
    for refused in (missing, wrong):
        assert refused.status_code == 400 and page_says(refused, "No pudimos relacionar")
    assert links(app) == []
    # The genuine callback still works: guessing a state burned nothing.
    assert callback(browser, real.url).status_code == 200


def test_a_replayed_callback_is_refused(make_app, idp, rasa_recorder):
    app = make_app(idp.url)
    client = new_client(app)
    link = request_link(client, "c-replay")
    browser = new_client(app)
    real = sign_in(open_link(browser, link["url"]), MARIA)
    assert callback(browser, real.url).status_code == 200
    replay = callback(browser, real.url)
    assert replay.status_code == 400 and page_says(replay, "No pudimos relacionar")
    assert len(rasa_recorder.calls) == 1 and len(links(app)) == 1


def test_a_callback_in_another_browser_is_refused(make_app, idp):
    """The state alone is not enough: the browser that opened the link must come back."""
    app = make_app(idp.url)
    client = new_client(app)
    link = request_link(client, "c-browser")
    browser = new_client(app)
    real = sign_in(open_link(browser, link["url"]), MARIA)

    stranger = new_client(app)
    refused = callback(stranger, real.url)
    assert refused.status_code == 400 and page_says(refused, "mismo navegador")
    stranger.cookies.set("identity_sign_in", "forged-cookie-value")
    assert callback(stranger, real.url).status_code == 400
    assert links(app) == []
    assert callback(browser, real.url).status_code == 200


def test_a_callback_for_another_conversation_is_refused(make_app, idp, rasa_recorder):
    """Conversation A's state with the code of conversation B's sign-in: the ID
    token carries B's nonce, so A's sign-in refuses it, and neither is linked."""
    app = make_app(idp.url)
    client = new_client(app)
    link_a, link_b = request_link(client, "c-A"), request_link(client, "c-B")
    browser_a, browser_b = new_client(app), new_client(app)
    callback_a = sign_in(open_link(browser_a, link_a["url"]), MARIA)
    callback_b = sign_in(open_link(browser_b, link_b["url"]), "jose.martinez")

    # B's browser with A's state: not the browser that started A.
    assert callback(browser_b, callback_a.url).status_code == 400
    # A's browser, A's state, B's code.
    mixed = f"/identity/callback?code={callback_b.code}&state={callback_a.state}"
    refused = browser_a.get(mixed)
    assert refused.status_code == 400 and page_says(refused, "no pasó nuestras verificaciones")
    assert links(app) == [] and rasa_recorder.calls == []
    assert {r.conversation_id: r.outcome for r in sign_ins(app)}["c-A"] == "wrong_nonce"
    # A's sign-in is over: its own genuine callback is now a replay.
    assert callback(browser_a, callback_a.url).status_code == 400


def test_a_callback_after_the_sign_in_expired_is_refused(make_app, idp):
    app = make_app(idp.url)
    client = new_client(app)
    link = request_link(client, "c-slow")
    browser = new_client(app)
    real = sign_in(open_link(browser, link["url"]), MARIA)
    with app.state.sessionmaker() as session:
        session.execute(update(SignIn).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    refused = callback(browser, real.url)
    assert refused.status_code == 410 and links(app) == []
    assert sign_ins(app)[0].outcome == "expired"


def test_provider_error_answer_is_a_cancelled_sign_in(make_app, idp):
    app = make_app(idp.url)
    client = new_client(app)
    link = request_link(client, "c-cancel")
    browser = new_client(app)
    state = parse_qs(urlparse(open_link(browser, link["url"])).query)["state"][0]
    refused = browser.get(f"/identity/callback?error=access_denied&state={state}")
    assert refused.status_code == 400 and page_says(refused, "No se completó")
    assert links(app) == [] and sign_ins(app)[0].outcome == "provider_error"


# ------------------------------------------------------------ token defects


@pytest.mark.parametrize(
    "mode, outcome",
    [
        ("other_key", "bad_signature"),
        ("alg_none", "bad_signature"),
        ("wrong_audience", "wrong_audience"),
        ("expired", "expired"),
        ("wrong_nonce", "wrong_nonce"),
        ("wrong_issuer", "wrong_issuer"),
    ],
)
def test_id_token_defects_are_refused_at_the_callback(make_app, forging_provider, rasa_recorder, mode, outcome):
    app = make_app(forging_provider.url)
    client = new_client(app)
    link = request_link(client, f"c-{mode}")
    browser = new_client(app)
    state = forging_provider.expect(open_link(browser, link["url"]))
    forging_provider.mode = mode
    refused = browser.get(f"/identity/callback?code=some-code&state={state}")
    assert refused.status_code == 400 and page_says(refused, "no pasó nuestras verificaciones")
    assert links(app) == [] and rasa_recorder.calls == []
    assert sign_ins(app)[0].outcome == outcome
    assert lookup(client, f"c-{mode}").status_code == 404


def test_the_forging_providers_good_token_is_accepted(make_app, forging_provider):
    """The set-up of the defect tests is sound: without a defect the callback links."""
    app = make_app(forging_provider.url)
    client = new_client(app)
    link = request_link(client, "c-good")
    browser = new_client(app)
    state = forging_provider.expect(open_link(browser, link["url"]))
    assert browser.get(f"/identity/callback?code=c&state={state}").status_code == 200
    assert lookup(client, "c-good").json()["curp"] == MARIA_CURP


# -------------------------------------------------------------- provider down


def test_provider_down_when_asking_for_a_link(make_app, closed_port_url):
    client = new_client(make_app(closed_port_url))
    answer = client.post(
        "/api/v1/identity/sign-in-links", json={"conversation_id": "c-down"}, headers=API_HEADERS
    )
    assert answer.status_code == 503 and answer.json()["reason"] == "provider_unreachable"


def test_provider_down_when_following_the_link_keeps_the_link(make_app, tmp_path):
    with running_provider(tmp_path) as provider:
        app = make_app(provider.url)
        client = new_client(app)
        link = request_link(client, "c-down-follow")
    # The provider stopped; the discovery document is cached, the provider's keys are not.
    from backoffice import oidc

    oidc.clear_provider_cache()
    browser = new_client(app)
    refused = browser.post(link["url"][len(BASE_URL):], follow_redirects=False)
    assert refused.status_code == 503 and page_says(refused, "no responde")
    assert sign_ins(app)[0].followed_at is None  # not used up


def test_provider_down_at_the_callback_links_nothing(make_app, tmp_path, rasa_recorder):
    with running_provider(tmp_path) as provider:
        app = make_app(provider.url)
        client = new_client(app)
        link = request_link(client, "c-down-callback")
        browser = new_client(app)
        real = sign_in(open_link(browser, link["url"]), MARIA)
        provider.stop()
        refused = callback(browser, real.url)
    assert refused.status_code == 503 and page_says(refused, "no responde")
    assert links(app) == [] and rasa_recorder.calls == []
    assert sign_ins(app)[0].outcome == "provider_unreachable"
    assert lookup(client, "c-down-callback").status_code == 404


# ------------------------------------------------------------------- sign out


def test_sign_out_unlinks(make_app, idp):
    app = make_app(idp.url)
    client = new_client(app)
    sign_in_fully(app, client, "c-out", MARIA)
    answer = client.post("/api/v1/identity/sign-out", json={"conversation_id": "c-out"}, headers=API_HEADERS)
    assert answer.json() == {"signed_out": True}
    assert lookup(client, "c-out").status_code == 404
    again = client.post("/api/v1/identity/sign-out", json={"conversation_id": "c-out"}, headers=API_HEADERS)
    assert again.json() == {"signed_out": False}


def test_sign_out_cancels_a_sign_in_under_way(make_app, idp):
    app = make_app(idp.url)
    client = new_client(app)
    link = request_link(client, "c-out-midway")
    browser = new_client(app)
    real = sign_in(open_link(browser, link["url"]), MARIA)
    client.post("/api/v1/identity/sign-out", json={"conversation_id": "c-out-midway"}, headers=API_HEADERS)
    assert callback(browser, real.url).status_code == 400
    assert links(app) == []


def test_an_expired_identity_session_is_not_signed_in(make_app, idp):
    app = make_app(idp.url)
    client = new_client(app)
    sign_in_fully(app, client, "c-session", MARIA)
    with app.state.sessionmaker() as session:
        session.execute(update(IdentityLink).values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    assert lookup(client, "c-session").status_code == 404


# ---------------------------------------------------------------------- logs


def test_no_token_state_code_or_curp_in_the_logs(make_app, idp, caplog):
    caplog.set_level(logging.DEBUG)
    app = make_app(idp.url)
    client = new_client(app)
    with caplog.at_level(logging.CRITICAL + 1):
        link = request_link(client, "c-logs")
    browser = new_client(app)
    authorization_url = open_link(browser, link["url"])
    cookie = browser.cookies.get("identity_sign_in")
    with caplog.at_level(logging.CRITICAL + 1):  # the test's own "browser" may log URLs
        real = sign_in(authorization_url, MARIA)
    assert callback(browser, real.url).status_code == 200
    assert callback(browser, real.url).status_code == 400  # a refusal too

    query = {k: v[0] for k, v in parse_qs(urlparse(authorization_url).query).items()}
    token = link["url"].rsplit("/", 1)[1]
    secrets = [token, real.code, real.state, query["nonce"], cookie, MARIA_CURP, "HELG880315"]
    assert all(secrets)
    assert "sign-in" in caplog.text and "linked" in caplog.text  # the log does say what happened
    for secret in secrets:
        assert secret not in caplog.text
    assert "eyJ" not in caplog.text


def test_access_log_lines_lose_link_tokens_and_callback_queries():
    redact = RedactIdentityPaths()
    for path in ("/identity/sign-in/SECRETTOKEN", "/identity/callback?code=SECRETCODE&state=SECRETSTATE"):
        record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                                   '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "GET", path, "1.1", 200), None)
        assert redact.filter(record)
        assert "SECRET" not in record.getMessage() and "/identity/" in record.getMessage()
    other = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                              '%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "GET", "/health", "1.1", 200), None)
    redact.filter(other)
    assert "/health" in other.getMessage()
