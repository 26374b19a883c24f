"""OpenID Connect relying party: the back office's side of signing residents in.

The back office never sees a password. It sends the resident to the city's
identity provider with an authorization-code request (PKCE S256, ``state``,
``nonce``), gets a one-time ``code`` back at its callback, exchanges it for
tokens and keeps the verified claims (identity.md).

Two calls, built on authlib (the token exchange and the ID token claim checks)
and joserfc (the signature check against the provider's published keys):

    request = start_authorization(channel, conversation_id)
    url, state, nonce, code_verifier = request
    # ... the caller stores (state -> channel, conversation, nonce,
    # code_verifier) single-use and short-lived, and sends ``url`` ...
    profile = finish_authorization(code, code_verifier, nonce)

``finish_authorization`` refuses with a subclass of :class:`IdentityError`
whose ``reason`` says why (``bad_signature``, ``wrong_audience``,
``expired``, ``wrong_nonce``, ``provider_unreachable``, ...). Matching
``state`` against the stored one is the caller's job: this module does not
keep per-sign-in state.

The provider's discovery document and keys are cached per issuer; a token
signed with a key id that is not in the cached key set makes one fresh fetch
of the keys (key rotation) before it is refused.

Tokens, codes and verifiers never go to the log, nor into error messages.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Optional, Union
from urllib.parse import urlparse

from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from common.settings import Settings, get_settings

try:  # authlib's httpx client is built on httpx2 when it is installed, else on httpx.
    import httpx2 as _http
except ImportError:  # pragma: no cover - depends on the environment
    import httpx as _http  # type: ignore[no-redef]

log = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
# How long a discovery document and key set are reused before being fetched again.
METADATA_TTL_SECONDS = 3600.0
# Clock skew tolerated on exp / iat / nbf.
DEFAULT_LEEWAY_SECONDS = 60
# The development provider speaks plain http; anything else must be https.
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


# --------------------------------------------------------------------------- errors


class IdentityError(Exception):
    """A sign-in that the back office refuses. ``reason`` is a stable code for
    pages, logs and metrics; the message is for developers and carries no
    token or code."""

    reason = "identity_error"

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(f"{self.reason}: {detail}" if detail else self.reason)


class ProviderUnreachable(IdentityError):
    """The provider did not answer (connection refused, time-out, 5xx)."""

    reason = "provider_unreachable"


class ProviderMisconfigured(IdentityError):
    """The discovery document is unusable (wrong issuer, missing endpoints, not JSON)."""

    reason = "provider_misconfigured"


class CodeRejected(IdentityError):
    """The token endpoint refused the code: used before, expired, issued to
    another client or redirect URI, or the PKCE verifier does not match."""

    reason = "code_rejected"


class ClientRejected(IdentityError):
    """The token endpoint refused our client credentials (id or secret)."""

    reason = "client_rejected"


class BadSignature(IdentityError):
    """The ID token is not signed by a key the provider publishes (or uses an
    algorithm the provider does not announce, e.g. ``none`` or HS256)."""

    reason = "bad_signature"


class WrongIssuer(IdentityError):
    reason = "wrong_issuer"


class WrongAudience(IdentityError):
    """The ID token was issued to another client."""

    reason = "wrong_audience"


class TokenExpired(IdentityError):
    reason = "expired"


class WrongNonce(IdentityError):
    """The ID token's nonce is missing or is not the one of this sign-in (replay)."""

    reason = "wrong_nonce"


class InvalidIdToken(IdentityError):
    """Malformed ID token, a required claim missing, or issued in the future."""

    reason = "invalid_id_token"


class UserInfoMismatch(IdentityError):
    """The user-info endpoint answered for another subject than the ID token."""

    reason = "userinfo_mismatch"


# ----------------------------------------------------------------------- results


class AuthorizationRequest(NamedTuple):
    """What ``start_authorization`` returns; unpacks as a 4-tuple.

    ``state``, ``nonce`` and ``code_verifier`` are secrets of this one sign-in:
    store them server-side, bound to the conversation, single-use.
    """

    authorization_url: str
    state: str
    nonce: str
    code_verifier: str

    def __repr__(self) -> str:  # keep the secrets out of logs and tracebacks
        return "AuthorizationRequest(authorization_url=..., state=..., nonce=..., code_verifier=...)"


@dataclass(frozen=True)
class VerifiedProfile:
    """A resident as the identity provider vouches for them."""

    subject: str
    issuer: str
    name: Optional[str] = None
    given_name: Optional[str] = None
    family_name: Optional[str] = None
    curp: Optional[str] = None
    email: Optional[str] = None
    email_verified: bool = False
    phone_number: Optional[str] = None
    phone_number_verified: bool = False
    # Every claim received (ID token first, user-info for what it lacks).
    claims: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def verified_email(self) -> Optional[str]:
        """The e-mail address, only if the provider says it verified it."""
        return self.email if self.email and self.email_verified else None

    @property
    def verified_phone(self) -> Optional[str]:
        """The phone number, only if the provider says it verified it."""
        return self.phone_number if self.phone_number and self.phone_number_verified else None


def _text(value: Any) -> Optional[str]:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _flag(value: Any) -> bool:
    # Some providers send "true"/"false" strings; anything else than a clear yes is no.
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def profile_from_claims(claims: Mapping[str, Any], *, curp_claim: str = "curp") -> VerifiedProfile:
    curp = _text(claims.get(curp_claim))
    return VerifiedProfile(
        subject=str(claims["sub"]),
        issuer=str(claims.get("iss", "")),
        name=_text(claims.get("name")),
        given_name=_text(claims.get("given_name")),
        family_name=_text(claims.get("family_name")),
        curp=curp.upper() if curp else None,
        email=_text(claims.get("email")),
        email_verified=_flag(claims.get("email_verified")),
        phone_number=_text(claims.get("phone_number")),
        phone_number_verified=_flag(claims.get("phone_number_verified")),
        claims=dict(claims),
    )


# ------------------------------------------------------------------ provider cache


@dataclass
class _ProviderCache:
    metadata: Optional[dict] = None
    metadata_at: float = 0.0
    jwks: Optional[dict] = None
    jwks_at: float = 0.0


_cache: dict[str, _ProviderCache] = {}
_cache_lock = threading.Lock()


def clear_provider_cache() -> None:
    """Forget every cached discovery document and key set (tests, key rotation by hand)."""
    with _cache_lock:
        _cache.clear()


def _fresh(at: float) -> bool:
    return bool(at) and (time.monotonic() - at) < METADATA_TTL_SECONDS


# ------------------------------------------------------------------ relying party


class RelyingParty:
    """One configured client of one OpenID provider."""

    def __init__(
        self,
        issuer: str,
        client_id: str,
        client_secret: str,
        redirect_uri: str,
        scopes: str = "openid profile email phone",
        *,
        curp_claim: str = "curp",
        timeout: float = 5.0,
        leeway: int = DEFAULT_LEEWAY_SECONDS,
    ) -> None:
        if "openid" not in scopes.split():
            raise ValueError("OIDC scopes must include 'openid'")
        parsed = urlparse(issuer)
        if parsed.scheme != "https" and parsed.hostname not in _LOOPBACK_HOSTS:
            raise ValueError(f"OIDC issuer must use https (plain http only on this machine): {issuer!r}")
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self.scopes = scopes
        self.curp_claim = curp_claim
        self.timeout = timeout
        self.leeway = leeway

    @classmethod
    def from_settings(cls, settings: Optional[Settings] = None) -> "RelyingParty":
        s = settings or get_settings()
        return cls(
            s.oidc_issuer,
            s.oidc_client_id,
            s.oidc_client_secret,
            s.oidc_redirect_url,
            s.oidc_scopes,
            curp_claim=s.oidc_curp_claim,
            timeout=s.oidc_timeout,
        )

    def __repr__(self) -> str:
        return f"RelyingParty(issuer={self.issuer!r}, client_id={self.client_id!r})"

    # -- HTTP

    def _get_json(self, url: str, what: str) -> dict:
        try:
            with _http.Client(timeout=self.timeout) as client:
                response = client.get(url, headers={"Accept": "application/json"})
        except _http.HTTPError as exc:
            raise ProviderUnreachable(f"{what}: {type(exc).__name__} for {url}") from exc
        if response.status_code >= 500:
            raise ProviderUnreachable(f"{what}: HTTP {response.status_code} from {url}")
        if response.status_code != 200:
            raise ProviderMisconfigured(f"{what}: HTTP {response.status_code} from {url}")
        try:
            data = response.json()
        except ValueError as exc:
            raise ProviderMisconfigured(f"{what}: {url} did not answer JSON") from exc
        if not isinstance(data, dict):
            raise ProviderMisconfigured(f"{what}: {url} did not answer a JSON object")
        return data

    def _entry(self) -> _ProviderCache:
        with _cache_lock:
            return _cache.setdefault(self.issuer, _ProviderCache())

    # -- discovery and keys

    def metadata(self, *, refresh: bool = False) -> dict:
        """The provider's discovery document (cached per issuer)."""
        entry = self._entry()
        if not refresh and entry.metadata is not None and _fresh(entry.metadata_at):
            return entry.metadata
        data = self._get_json(self.issuer + DISCOVERY_PATH, "discovery")
        # OpenID Connect Discovery 1.0, section 4.3: the issuer in the document
        # must be the one we asked; otherwise tokens from it prove nothing to us.
        if str(data.get("issuer", "")).rstrip("/") != self.issuer:
            raise ProviderMisconfigured(
                f"discovery: document names issuer {data.get('issuer')!r}, expected {self.issuer!r}"
            )
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(data.get(key), str):
                raise ProviderMisconfigured(f"discovery: no {key}")
        with _cache_lock:
            entry.metadata, entry.metadata_at = data, time.monotonic()
            entry.jwks, entry.jwks_at = None, 0.0  # keys follow the document
        return data

    def key_set(self, *, refresh: bool = False) -> KeySet:
        """The provider's published signing keys (cached per issuer)."""
        metadata = self.metadata()
        entry = self._entry()
        if refresh or entry.jwks is None or not _fresh(entry.jwks_at):
            data = self._get_json(metadata["jwks_uri"], "keys")
            if not isinstance(data.get("keys"), list):
                raise ProviderMisconfigured("keys: no 'keys' list")
            with _cache_lock:
                entry.jwks, entry.jwks_at = data, time.monotonic()
        try:
            return KeySet.import_key_set(entry.jwks)
        except JoseError as exc:
            raise ProviderMisconfigured(f"keys: {exc}") from exc

    def _signing_algorithms(self) -> list[str]:
        announced = self.metadata().get("id_token_signing_alg_values_supported") or ["RS256"]
        # Never "none", never HMAC with the client secret: only public-key signatures.
        return [a for a in announced if isinstance(a, str) and a != "none" and not a.startswith("HS")] or ["RS256"]

    # -- the two steps

    def start_authorization(self, channel: str, conversation_id: str) -> AuthorizationRequest:
        """Build the provider URL for one sign-in of one conversation.

        ``channel`` and ``conversation_id`` are not sent to the provider; the
        caller binds the returned ``state`` to them in its own storage.
        """
        metadata = self.metadata()
        state = generate_token(32)
        nonce = generate_token(32)
        code_verifier = generate_token(64)  # 64 chars of [A-Za-z0-9]: RFC 7636 allows 43-128
        with OAuth2Client(
            client_id=self.client_id,
            redirect_uri=self.redirect_uri,
            scope=self.scopes,
            code_challenge_method="S256",
        ) as client:
            url, _ = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                code_verifier=code_verifier,
                nonce=nonce,
            )
        log.info("sign-in started on channel %s", channel)
        return AuthorizationRequest(url, state, nonce, code_verifier)

    def finish_authorization(
        self,
        code: str,
        code_verifier: str,
        nonce: str,
        *,
        now: Union[int, Callable[[], int], None] = None,
    ) -> VerifiedProfile:
        """Exchange the code, verify the ID token, return the resident's claims.

        ``now`` replaces the clock for the expiry checks (tests).
        """
        if not code or not code_verifier or not nonce:
            raise CodeRejected("code, code_verifier and nonce are all required")
        metadata = self.metadata()
        token = self._exchange_code(metadata["token_endpoint"], code, code_verifier)
        id_token = token.get("id_token")
        if not isinstance(id_token, str):
            raise InvalidIdToken("the token response has no id_token (is 'openid' in the scopes?)")
        access_token = token.get("access_token")
        claims = self.verify_id_token(
            id_token, nonce, access_token=access_token if isinstance(access_token, str) else None, now=now
        )
        claims = self._merge_userinfo(claims, access_token, metadata)
        profile = profile_from_claims(claims, curp_claim=self.curp_claim)
        log.info("sign-in verified for a subject of %s", self.issuer)
        return profile

    def _exchange_code(self, token_endpoint: str, code: str, code_verifier: str) -> dict:
        try:
            with OAuth2Client(
                client_id=self.client_id,
                client_secret=self.client_secret,
                token_endpoint_auth_method="client_secret_basic",
                redirect_uri=self.redirect_uri,
                timeout=self.timeout,
            ) as client:
                token = client.fetch_token(
                    token_endpoint,
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=code_verifier,
                    redirect_uri=self.redirect_uri,
                )
        except OAuthError as exc:
            if exc.error in ("invalid_client", "unauthorized_client"):
                raise ClientRejected(f"token endpoint: {exc.error}") from None
            raise CodeRejected(f"token endpoint: {exc.error}") from None
        except _http.HTTPStatusError as exc:
            status = exc.response.status_code
            if status >= 500:
                raise ProviderUnreachable(f"token endpoint: HTTP {status}") from None
            raise CodeRejected(f"token endpoint: HTTP {status}") from None
        except _http.HTTPError as exc:
            raise ProviderUnreachable(f"token endpoint: {type(exc).__name__}") from None
        except ValueError:
            raise ProviderMisconfigured("token endpoint: answer is not a JSON object") from None
        return dict(token)

    def verify_id_token(
        self,
        id_token: str,
        nonce: str,
        *,
        access_token: Optional[str] = None,
        now: Union[int, Callable[[], int], None] = None,
    ) -> dict:
        """Check an ID token's signature (provider's JWKS), issuer, audience,
        expiry and nonce; return its claims. Raises :class:`IdentityError`.

        With ``access_token`` its ``at_hash`` is checked too.
        """
        if not nonce:
            raise WrongNonce("no nonce to compare with")
        algorithms = self._signing_algorithms()
        try:
            decoded = self._decode(id_token, algorithms, refresh=False)
        except InvalidKeyIdError:
            # Perhaps the provider rotated its keys since we cached them.
            try:
                decoded = self._decode(id_token, algorithms, refresh=True)
            except InvalidKeyIdError:
                raise BadSignature("signed with a key the provider does not publish") from None

        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "value": self.metadata()["issuer"]},
                "aud": {"essential": True, "value": self.client_id},
                "exp": {"essential": True},
                "sub": {"essential": True},
            },
            params={
                "nonce": nonce,
                "client_id": self.client_id,
                **({"access_token": access_token} if access_token else {}),
            },
        )
        try:
            claims.validate(now=now, leeway=self.leeway)
        except ExpiredTokenError:
            raise TokenExpired("the ID token has expired") from None
        except (InvalidClaimError, MissingClaimError) as exc:
            raise _claim_error(exc) from None
        except JoseError as exc:
            raise InvalidIdToken(f"{type(exc).__name__}") from None
        return dict(claims)

    def _decode(self, id_token: str, algorithms: list[str], *, refresh: bool):
        keys = self.key_set(refresh=refresh)
        try:
            return jwt.decode(
                id_token,
                keys,
                registry=JWSRegistry(algorithms=algorithms, strict_check_header=False),
            )
        except InvalidKeyIdError:
            raise
        except BadSignatureError:
            raise BadSignature("the signature does not match the provider's key") from None
        except UnsupportedAlgorithmError:
            raise BadSignature(f"signed with an algorithm the provider does not announce ({algorithms})") from None
        except JoseError as exc:
            raise InvalidIdToken(f"cannot decode the ID token: {type(exc).__name__}") from None
        except (ValueError, TypeError):
            raise InvalidIdToken("cannot decode the ID token") from None

    def _merge_userinfo(self, claims: dict, access_token: Any, metadata: dict) -> dict:
        """Add what the ID token lacks from the user-info endpoint (some
        providers put profile claims only there). ID token claims win."""
        endpoint = metadata.get("userinfo_endpoint")
        if not endpoint or not isinstance(access_token, str):
            return claims
        try:
            with _http.Client(timeout=self.timeout) as client:
                response = client.get(endpoint, headers={"Authorization": f"Bearer {access_token}"})
        except _http.HTTPError as exc:
            raise ProviderUnreachable(f"userinfo: {type(exc).__name__}") from None
        if response.status_code >= 500:
            raise ProviderUnreachable(f"userinfo: HTTP {response.status_code}")
        if response.status_code != 200:
            log.warning("userinfo endpoint answered HTTP %s; using the ID token's claims only", response.status_code)
            return claims
        try:
            info = response.json()
        except ValueError:
            log.warning("userinfo endpoint did not answer JSON; using the ID token's claims only")
            return claims
        if not isinstance(info, dict):
            return claims
        # OpenID Connect Core 5.3.2: the sub in user-info must be the ID token's.
        if info.get("sub") != claims.get("sub"):
            raise UserInfoMismatch("user-info answered for another subject")
        return {**info, **claims}


def _claim_error(exc: Union[InvalidClaimError, MissingClaimError]) -> IdentityError:
    claim = getattr(exc, "claim", "")
    if claim == "nonce":
        return WrongNonce("the ID token's nonce is not this sign-in's" if isinstance(exc, InvalidClaimError)
                          else "the ID token has no nonce")
    if claim in ("aud", "azp"):
        return WrongAudience(f"the ID token was issued to another client ({claim})")
    if claim == "iss":
        return WrongIssuer("the ID token comes from another issuer")
    if isinstance(exc, MissingClaimError):
        return InvalidIdToken(f"missing claim {claim}")
    return InvalidIdToken(f"invalid claim {claim}")


# ------------------------------------------------------------- module-level API


def relying_party() -> RelyingParty:
    """The back office's relying party, from the current settings."""
    return RelyingParty.from_settings()


def start_authorization(channel: str, conversation_id: str) -> AuthorizationRequest:
    """``(authorization_url, state, nonce, code_verifier)`` for one sign-in."""
    return relying_party().start_authorization(channel, conversation_id)


def finish_authorization(code: str, code_verifier: str, nonce: str) -> VerifiedProfile:
    """Exchange the code and verify the ID token; raises :class:`IdentityError`."""
    return relying_party().finish_authorization(code, code_verifier, nonce)


def verify_id_token(id_token: str, nonce: str, *, access_token: Optional[str] = None) -> dict:
    """Verify an ID token against the configured provider; raises :class:`IdentityError`."""
    return relying_party().verify_id_token(id_token, nonce, access_token=access_token)


__all__ = [
    "AuthorizationRequest",
    "BadSignature",
    "ClientRejected",
    "CodeRejected",
    "IdentityError",
    "InvalidIdToken",
    "ProviderMisconfigured",
    "ProviderUnreachable",
    "RelyingParty",
    "TokenExpired",
    "UserInfoMismatch",
    "VerifiedProfile",
    "WrongAudience",
    "WrongIssuer",
    "WrongNonce",
    "clear_provider_cache",
    "finish_authorization",
    "profile_from_claims",
    "relying_party",
    "start_authorization",
    "verify_id_token",
]
