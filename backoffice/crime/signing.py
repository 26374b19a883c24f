"""Ed25519 signatures of accepted crime reports, and HMAC download links.

The back office holds one Ed25519 private key (CRIME_SIGNING_KEY: its 32-byte
seed, base64). At acceptance it signs two things: the report's canonical JSON
(printed in the PDF as its digital seal) and the PDF's bytes (kept with the
report, sent as a header with every download). Anyone can check either with
the public key published at ``GET /crime/signing-key``; ``POST /crime/verify``
does it for an uploaded PDF.

Without CRIME_SIGNING_KEY a development key is derived from a fixed phrase:
fine on a laptop, worthless as a signature. The key id is the first 16 hex
digits of the SHA-256 of the raw public key, so a verifier can tell which key
signed a document after a rotation.

Download links are HMAC-SHA256 tokens (key derived from the signing key) over
the folio and an expiry; they are bearer capabilities, short-lived, and only
handed to the report's author (see routes.py).
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional, Tuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from common.settings import Settings

log = logging.getLogger(__name__)

ALGORITHM = "Ed25519"
DEV_KEY_PHRASE = b"asistente-cdmx development crime-report signing key"


class BadSigningKey(ValueError):
    """CRIME_SIGNING_KEY is not the base64 of 32 bytes."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    padded = text.strip() + "=" * (-len(text.strip()) % 4)
    return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)


@dataclass(frozen=True)
class Signer:
    private_key: Ed25519PrivateKey
    key_id: str
    development: bool

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()

    def public_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def sign(self, data: bytes) -> str:
        return _b64(self.private_key.sign(data))

    def verify(self, data: bytes, signature: str) -> bool:
        try:
            self.public_key.verify(_unb64(signature), data)
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True

    def link_key(self) -> bytes:
        seed = self.private_key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return hashlib.sha256(b"crime-report download link\x00" + seed).digest()


@lru_cache(maxsize=8)
def _signer(configured: str) -> Signer:
    development = not configured
    if development:
        seed = hashlib.sha256(DEV_KEY_PHRASE).digest()
        log.warning("CRIME_SIGNING_KEY is not set: crime reports are signed with a development key. Set it in production.")
    else:
        try:
            seed = _unb64(configured)
        except (binascii.Error, ValueError):
            raise BadSigningKey("CRIME_SIGNING_KEY must be the base64 of a 32-byte Ed25519 seed") from None
        if len(seed) != 32:
            raise BadSigningKey("CRIME_SIGNING_KEY must be the base64 of a 32-byte Ed25519 seed")
    key = Ed25519PrivateKey.from_private_bytes(seed)
    raw_public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return Signer(key, hashlib.sha256(raw_public).hexdigest()[:16], development)


def signer(settings: Settings) -> Signer:
    return _signer(settings.crime_signing_key)


def new_signing_key() -> str:
    """A fresh CRIME_SIGNING_KEY value (python -m backoffice.crime.signing)."""
    seed = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return _b64(seed)


def canonical_json(document: Any) -> bytes:
    """The bytes that are signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------- download links


def download_token(settings: Settings, folio: str, ttl_seconds: int, now: Optional[float] = None) -> Tuple[str, int]:
    """(token, expiry as a Unix time) for downloading the folio's PDF."""
    expires = int((now if now is not None else time.time()) + ttl_seconds)
    payload = f"{folio}.{expires}"
    mac = hmac.new(signer(settings).link_key(), payload.encode("utf-8"), hashlib.sha256).digest()
    token = base64.urlsafe_b64encode(payload.encode("utf-8")).decode("ascii").rstrip("=")
    return f"{token}.{base64.urlsafe_b64encode(mac).decode('ascii').rstrip('=')}", expires


def folio_of_token(settings: Settings, token: str, now: Optional[float] = None) -> Optional[str]:
    """The folio a valid, unexpired token names; None otherwise."""
    try:
        body, mac_text = token.split(".", 1)
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode("utf-8")
        mac = base64.urlsafe_b64decode(mac_text + "=" * (-len(mac_text) % 4))
        folio, expires_text = payload.rsplit(".", 1)
        expires = int(expires_text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    expected = hmac.new(signer(settings).link_key(), payload.encode("utf-8"), hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        return None
    if (now if now is not None else time.time()) >= expires:
        return None
    return folio


if __name__ == "__main__":
    print(new_signing_key())
