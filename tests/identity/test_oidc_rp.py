"""The back office as an OpenID Connect relying party (backoffice/oidc.py),
against the real development provider (idp/run.py) over HTTP."""
from __future__ import annotations

import base64
import hashlib
import logging
import subprocess
import time
from urllib.parse import parse_qs, urlparse

import pytest
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey
from stdnum.mx import curp as curp_number

from identity_harness import (
    CLIENT_ID,
    CLIENT_SECRET,
    IDP_VENV,
    OTHER_CLIENT_ID,
    OTHER_CLIENT_SECRET,
    OTHER_REDIRECT_URI,
    REDIRECT_URI,
    authorization_page_status,
    free_port,
    idp_python,
    running_provider,
    sign_in,
    subjects_on_sign_in_page,
)
from backoffice import oidc

pytestmark = pytest.mark.timeout(120)


def _query(url: str) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def _s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


# ---------------------------------------------------------------- the happy path


def test_authorization_url_asks_for_code_with_pkce_state_and_nonce(rp, idp):
    request = rp.start_authorization("telegram", "chat-42")
    url, state, nonce, code_verifier = request  # unpacks as the documented 4-tuple

    assert url.startswith(idp.url + "/oauth2/authorize?")
    params = _query(url)
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["redirect_uri"] == REDIRECT_URI
    assert params["scope"].split() == ["openid", "profile", "email", "phone"]
    assert params["state"] == state and len(state) >= 32
    assert params["nonce"] == nonce and len(nonce) >= 32
    assert params["code_challenge_method"] == "S256"
    assert params["code_challenge"] == _s256(code_verifier)
    assert 43 <= len(code_verifier) <= 128
    assert "code_verifier" not in params
    # Nothing about the conversation goes to the provider.
    assert "chat-42" not in url and "telegram" not in url

    again = rp.start_authorization("telegram", "chat-42")
    assert len({again.state, state}) == 2 and len({again.nonce, nonce}) == 2
    assert again.code_verifier != code_verifier
    assert state not in repr(request) and code_verifier not in repr(request)


def test_sign_in_page_offers_the_three_residents(rp, residents):
    url = rp.start_authorization("web", "c1").authorization_url
    assert list(subjects_on_sign_in_page(url)) == [r["sub"] for r in residents]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_browser_sign_in_returns_the_residents_verified_profile(rp, residents, index):
    resident = residents[index]
    url, state, nonce, code_verifier = rp.start_authorization("sms", "+525555550199")

    callback = sign_in(url, resident["sub"])
    assert callback.state == state  # the caller matches it against its stored state

    profile = rp.finish_authorization(callback.code, code_verifier, nonce)
    assert profile.subject == resident["sub"]
    assert profile.issuer == rp.issuer
    assert profile.name == resident["name"]
    assert profile.given_name == resident["given_name"]
    assert profile.family_name == resident["family_name"]
    assert profile.curp == resident["curp"] and curp_number.is_valid(profile.curp)
    assert profile.email == resident["email"] and profile.email.endswith("@example.org")
    assert profile.email_verified is resident["email_verified"]
    assert profile.phone_number == resident["phone_number"] and profile.phone_number.startswith("+5255")
    assert profile.phone_number_verified is resident["phone_number_verified"]
    assert profile.verified_email == resident["email"]
    expected_phone = resident["phone_number"] if resident["phone_number_verified"] else None
    assert profile.verified_phone == expected_phone
    assert profile.claims["aud"] in (CLIENT_ID, [CLIENT_ID]) and profile.claims["nonce"] == nonce


def test_module_api_uses_the_settings(idp, residents, monkeypatch):
    monkeypatch.setenv("OIDC_ISSUER", idp.url)
    monkeypatch.setenv("OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("OIDC_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("OIDC_REDIRECT_URL", REDIRECT_URI)
    monkeypatch.setenv("OIDC_SCOPES", "openid profile email phone")

    url, state, nonce, code_verifier = oidc.start_authorization("telegram", "chat-7")
    callback = sign_in(url, residents[1]["sub"])
    profile = oidc.finish_authorization(callback.code, code_verifier, nonce)
    assert (profile.subject, profile.curp) == (residents[1]["sub"], residents[1]["curp"])


# ------------------------------------------------------------------- refusals


def _tokens_from_provider(rp: oidc.RelyingParty, subject: str) -> tuple[str, dict]:
    """Sign in and exchange the code ourselves (authlib's client), to hold the raw tokens."""
    url, _state, nonce, code_verifier = rp.start_authorization("web", "c1")
    callback = sign_in(url, subject, expected_redirect=rp.redirect_uri)
    with OAuth2Client(rp.client_id, rp.client_secret, redirect_uri=rp.redirect_uri) as client:
        token = client.fetch_token(
            rp.metadata()["token_endpoint"],
            grant_type="authorization_code",
            code=callback.code,
            code_verifier=code_verifier,
        )
    return nonce, dict(token)


def _assert_refused(excinfo, cls, reason):
    assert isinstance(excinfo.value, oidc.IdentityError)
    assert type(excinfo.value) is cls
    assert excinfo.value.reason == reason


def test_wrong_nonce_is_refused(rp, residents):
    url, _state, nonce, code_verifier = rp.start_authorization("web", "c1")
    callback = sign_in(url, residents[0]["sub"])
    other_nonce = rp.start_authorization("web", "c1").nonce
    with pytest.raises(oidc.IdentityError) as excinfo:
        rp.finish_authorization(callback.code, code_verifier, other_nonce)
    _assert_refused(excinfo, oidc.WrongNonce, "wrong_nonce")
    assert nonce != other_nonce


def test_code_used_twice_is_refused(rp, residents):
    url, _state, nonce, code_verifier = rp.start_authorization("web", "c1")
    callback = sign_in(url, residents[0]["sub"])
    rp.finish_authorization(callback.code, code_verifier, nonce)
    with pytest.raises(oidc.IdentityError) as excinfo:
        rp.finish_authorization(callback.code, code_verifier, nonce)
    _assert_refused(excinfo, oidc.CodeRejected, "code_rejected")


def test_wrong_client_secret_is_refused(idp, residents):
    rp = oidc.RelyingParty(idp.url, CLIENT_ID, "not-the-secret", REDIRECT_URI)
    url, _state, nonce, code_verifier = rp.start_authorization("web", "c1")
    callback = sign_in(url, residents[0]["sub"])
    with pytest.raises(oidc.IdentityError) as excinfo:
        rp.finish_authorization(callback.code, code_verifier, nonce)
    _assert_refused(excinfo, oidc.ClientRejected, "client_rejected")


def test_provider_refuses_unregistered_clients_and_redirect_uris(idp):
    evil = oidc.RelyingParty(idp.url, CLIENT_ID, CLIENT_SECRET, "http://127.0.0.1:6666/steal")
    assert authorization_page_status(evil.start_authorization("web", "c1").authorization_url) == 400
    stranger = oidc.RelyingParty(idp.url, "nobody", "x", REDIRECT_URI)
    assert authorization_page_status(stranger.start_authorization("web", "c1").authorization_url) == 400


def _forged_claims(rp: oidc.RelyingParty, nonce: str) -> dict:
    now = int(time.time())
    return {
        "iss": rp.metadata()["issuer"],
        "sub": "maria.hernandez",
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": nonce,
        "name": "Alguien Más",
        "curp": "HELG880315MDFRPD06",
    }


@pytest.mark.parametrize("kid", ["provider's", None, "unknown"])
def test_id_token_signed_by_another_key_is_refused(rp, kid):
    """Right issuer, audience, expiry and nonce; signed with a fresh key that
    the provider never published (claiming the provider's key id, none, or another)."""
    nonce = "n-" + "x" * 30
    provider_kid = rp.key_set().keys[0].kid
    header = {"alg": "RS256"}
    if kid == "provider's":
        header["kid"] = provider_kid
    elif kid == "unknown":
        header["kid"] = "not-a-published-key"
    forged = jwt.encode(header, _forged_claims(rp, nonce), RSAKey.generate_key(2048))

    with pytest.raises(oidc.IdentityError) as excinfo:
        rp.verify_id_token(forged, nonce)
    _assert_refused(excinfo, oidc.BadSignature, "bad_signature")


def test_id_token_with_hmac_or_no_signature_is_refused(rp):
    """Algorithm confusion: HS256 keyed with the client secret, or alg "none"."""
    nonce = "n-" + "y" * 30
    hmac_token = jwt.encode({"alg": "HS256"}, _forged_claims(rp, nonce), OctKey.import_key(CLIENT_SECRET))
    none_header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    unsigned = none_header + "." + hmac_token.split(".")[1] + "."
    for token in (hmac_token, unsigned):
        with pytest.raises(oidc.IdentityError) as excinfo:
            rp.verify_id_token(token, nonce)
        _assert_refused(excinfo, oidc.BadSignature, "bad_signature")


def test_id_token_for_another_audience_is_refused(idp, rp, residents):
    """A genuine ID token, signed by the provider, issued to another client."""
    other = oidc.RelyingParty(idp.url, OTHER_CLIENT_ID, OTHER_CLIENT_SECRET, OTHER_REDIRECT_URI)
    nonce, token = _tokens_from_provider(other, residents[0]["sub"])
    id_token = token["id_token"]

    # Valid for the client it was issued to...
    assert other.verify_id_token(id_token, nonce)["sub"] == residents[0]["sub"]
    # ...refused by ours.
    with pytest.raises(oidc.IdentityError) as excinfo:
        rp.verify_id_token(id_token, nonce)
    _assert_refused(excinfo, oidc.WrongAudience, "wrong_audience")


def test_expired_id_token_is_refused(idp_expired_tokens, residents):
    rp = oidc.RelyingParty(idp_expired_tokens.url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    url, _state, nonce, code_verifier = rp.start_authorization("web", "c1")
    callback = sign_in(url, residents[2]["sub"])
    with pytest.raises(oidc.IdentityError) as excinfo:
        rp.finish_authorization(callback.code, code_verifier, nonce)
    _assert_refused(excinfo, oidc.TokenExpired, "expired")


def test_genuine_id_token_is_refused_once_expired(rp, residents):
    """A token the provider really signed for us: accepted until exp (plus the
    clock-skew leeway), refused after."""
    nonce, token = _tokens_from_provider(rp, residents[1]["sub"])
    id_token = token["id_token"]
    exp = rp.verify_id_token(id_token, nonce)["exp"]
    assert rp.verify_id_token(id_token, nonce, now=exp + rp.leeway)["sub"] == residents[1]["sub"]
    with pytest.raises(oidc.IdentityError) as excinfo:
        rp.verify_id_token(id_token, nonce, now=exp + rp.leeway + 1)
    _assert_refused(excinfo, oidc.TokenExpired, "expired")


def test_provider_down_is_reported(residents):
    closed = f"http://127.0.0.1:{free_port()}"
    rp = oidc.RelyingParty(closed, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, timeout=2.0)
    with pytest.raises(oidc.IdentityError) as excinfo:
        rp.start_authorization("web", "c1")
    _assert_refused(excinfo, oidc.ProviderUnreachable, "provider_unreachable")
    with pytest.raises(oidc.IdentityError) as excinfo:
        rp.finish_authorization("some-code", "v" * 43, "some-nonce")
    _assert_refused(excinfo, oidc.ProviderUnreachable, "provider_unreachable")


def test_provider_going_down_between_sign_in_and_callback_is_reported(tmp_path, residents):
    with running_provider(tmp_path) as provider:
        rp = oidc.RelyingParty(provider.url, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, timeout=2.0)
        url, _state, nonce, code_verifier = rp.start_authorization("web", "c1")
        callback = sign_in(url, residents[0]["sub"])
        provider.stop()
        with pytest.raises(oidc.IdentityError) as excinfo:
            rp.finish_authorization(callback.code, code_verifier, nonce)
    _assert_refused(excinfo, oidc.ProviderUnreachable, "provider_unreachable")


# ----------------------------------------------------------------- no secrets in logs


def test_tokens_and_codes_are_never_logged(rp, idp, residents, caplog):
    caplog.set_level(logging.DEBUG)
    url, state, nonce, code_verifier = rp.start_authorization("web", "c1")
    with caplog.at_level(logging.CRITICAL + 1):  # the test's own "browser" may log the link
        callback = sign_in(url, residents[0]["sub"])

    secrets = [callback.code, state, nonce, code_verifier, CLIENT_SECRET]

    profile = rp.finish_authorization(callback.code, code_verifier, nonce)
    assert profile.subject == residents[0]["sub"]
    with pytest.raises(oidc.IdentityError) as refused:  # a refusal, too
        rp.finish_authorization(callback.code, code_verifier, nonce)

    logged = caplog.text + str(refused.value) + repr(refused.value)
    for secret in secrets:
        assert secret not in logged
    assert "eyJ" not in logged  # no JWT (ID token) either
    # The provider's own log keeps them out as well (run.py strips query strings).
    provider_log = idp.log()
    for secret in secrets:
        assert secret not in provider_log


# -------------------------------------------------------------------- set-up


def test_missing_provider_venv_fails_with_setup_instructions(tmp_path):
    with pytest.raises(pytest.fail.Exception) as excinfo:
        idp_python(tmp_path / "no-venv")
    message = str(excinfo.value)
    assert "-m venv .venv-idp" in message and "pip install -r idp/requirements.txt" in message


def test_provider_venv_is_the_pinned_one():
    python = idp_python(IDP_VENV)
    out = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m; print(m.version('oidc-provider-mock'), m.version('pydantic'))"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert out[0] == "0.3.4" and out[1].startswith("2.")


def test_issuer_must_be_https_unless_on_this_machine():
    with pytest.raises(ValueError):
        oidc.RelyingParty("http://llave.example.org", CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
    with pytest.raises(ValueError):
        oidc.RelyingParty("https://llave.example.org", CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, "profile email")
    assert oidc.RelyingParty("https://llave.example.org/", CLIENT_ID, CLIENT_SECRET, REDIRECT_URI).issuer == (
        "https://llave.example.org"
    )
