"""The one place that reads the environment.

Every process (back office, action server, Rasa custom components, scripts)
reads its configuration from here, so a variable has one name and one
default everywhere. Defaults are for a local development run.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_int(name: str, default: int) -> int:
    return int(_env(name, str(default)))


def _env_float(name: str, default: float) -> float:
    return float(_env(name, str(default)))


def _env_bool(name: str, default: bool) -> bool:
    return _env(name, "1" if default else "0").strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Settings:
    # Ports of the four local processes (architecture.md).
    rasa_port: int = field(default_factory=lambda: _env_int("RASA_PORT", 5005))
    actions_port: int = field(default_factory=lambda: _env_int("ACTIONS_PORT", 5055))
    backoffice_port: int = field(default_factory=lambda: _env_int("BACKOFFICE_PORT", 8080))
    idp_port: int = field(default_factory=lambda: _env_int("IDP_PORT", 9400))

    # Back office.
    database_url: str = field(
        default_factory=lambda: _env("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'backoffice.db'}")
    )
    backoffice_url: str = field(
        default_factory=lambda: _env("BACKOFFICE_URL", f"http://127.0.0.1:{_env_int('BACKOFFICE_PORT', 8080)}")
    )
    # Open311 api_key the assistant uses to file requests; other clients get their own keys.
    backoffice_api_key: str = field(default_factory=lambda: _env("BACKOFFICE_API_KEY", "dev-assistant-key"))
    # Bearer token for staff endpoints (status changes, statistics) in development.
    staff_token: str = field(default_factory=lambda: _env("STAFF_TOKEN", "dev-staff-token"))
    # Seconds the action server waits for the back office before telling the resident to retry.
    backoffice_timeout: float = field(default_factory=lambda: _env_float("BACKOFFICE_TIMEOUT", 5.0))
    # Interface the back office listens on; loopback unless deliberately exposed.
    backoffice_host: str = field(default_factory=lambda: _env("BACKOFFICE_HOST", "127.0.0.1"))
    # An open request of the same type within this many metres is treated as the same problem.
    duplicate_radius_m: float = field(default_factory=lambda: _env_float("DUPLICATE_RADIUS_M", 50.0))
    # Seconds the back office waits for Rasa when sending a status update to a resident.
    notification_timeout: float = field(default_factory=lambda: _env_float("NOTIFICATION_TIMEOUT", 5.0))
    timezone: str = field(default_factory=lambda: _env("CITY_TIMEZONE", "America/Mexico_City"))
    city_pack: str = field(default_factory=lambda: _env("CITY_PACK", "cdmx"))

    # Channels (channels/, credentials.yml). A channel whose secret is empty
    # refuses every webhook call instead of accepting unsigned ones.
    # Shared stores (dedupe, SMS options and opt-outs) live in Redis when set,
    # in process memory otherwise (one Rasa replica only).
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", ""))
    # A platform message id seen within this many seconds is a retry, not a new message.
    channel_dedupe_ttl: int = field(default_factory=lambda: _env_int("CHANNEL_DEDUPE_TTL", 86400))
    # Seconds a webhook waits for the dialogue before answering the platform
    # (the work goes on in the background), so platforms do not time out and retry.
    channel_ack_seconds: float = field(default_factory=lambda: _env_float("CHANNEL_ACK_SECONDS", 2.5))
    # Key for the pseudonyms that stand for phone numbers and user ids in logs;
    # empty: a random key per process (pseudonyms then differ between replicas).
    log_hash_key: str = field(default_factory=lambda: _env("LOG_HASH_KEY", ""))
    # SMS (Twilio).
    twilio_account_sid: str = field(default_factory=lambda: _env("TWILIO_ACCOUNT_SID", ""))
    twilio_auth_token: str = field(default_factory=lambda: _env("TWILIO_AUTH_TOKEN", ""))
    twilio_number: str = field(default_factory=lambda: _env("TWILIO_NUMBER", ""))
    twilio_api_base: str = field(default_factory=lambda: _env("TWILIO_API_BASE", "https://api.twilio.com"))
    # Public URL Twilio posts to (the signature covers it); empty: the URL of the request,
    # which differs from the public one behind a proxy.
    twilio_webhook_url: str = field(default_factory=lambda: _env("TWILIO_WEBHOOK_URL", ""))
    # Longest SMS the assistant sends, in segments; longer replies become several SMS.
    sms_max_segments: int = field(default_factory=lambda: _env_int("SMS_MAX_SEGMENTS", 3))
    # Telegram.
    telegram_bot_token: str = field(default_factory=lambda: _env("TELEGRAM_BOT_TOKEN", ""))
    telegram_secret_token: str = field(default_factory=lambda: _env("TELEGRAM_SECRET_TOKEN", ""))
    telegram_api_base: str = field(default_factory=lambda: _env("TELEGRAM_API_BASE", "https://api.telegram.org"))
    # Facebook Messenger.
    facebook_verify_token: str = field(default_factory=lambda: _env("FACEBOOK_VERIFY_TOKEN", ""))
    facebook_app_secret: str = field(default_factory=lambda: _env("FACEBOOK_APP_SECRET", ""))
    facebook_page_access_token: str = field(default_factory=lambda: _env("FACEBOOK_PAGE_ACCESS_TOKEN", ""))
    facebook_api_base: str = field(default_factory=lambda: _env("FACEBOOK_API_BASE", "https://graph.facebook.com"))
    # X (Twitter) direct messages: app keys, the account's tokens and its numeric id.
    x_consumer_key: str = field(default_factory=lambda: _env("X_CONSUMER_KEY", ""))
    x_consumer_secret: str = field(default_factory=lambda: _env("X_CONSUMER_SECRET", ""))
    x_access_token: str = field(default_factory=lambda: _env("X_ACCESS_TOKEN", ""))
    x_access_token_secret: str = field(default_factory=lambda: _env("X_ACCESS_TOKEN_SECRET", ""))
    x_account_id: str = field(default_factory=lambda: _env("X_ACCOUNT_ID", ""))
    x_api_base: str = field(default_factory=lambda: _env("X_API_BASE", "https://api.twitter.com"))

    # Rasa HTTP API (the back office sends external events through it).
    rasa_url: str = field(default_factory=lambda: _env("RASA_URL", f"http://127.0.0.1:{_env_int('RASA_PORT', 5005)}"))
    rasa_token: str = field(default_factory=lambda: _env("RASA_TOKEN", "dev-rasa-token"))

    # Identity provider (OpenID Connect, identity.md). The defaults point at the
    # development provider (idp/run.py), which registers this same client.
    oidc_issuer: str = field(
        default_factory=lambda: _env("OIDC_ISSUER", f"http://127.0.0.1:{_env_int('IDP_PORT', 9400)}")
    )
    oidc_client_id: str = field(default_factory=lambda: _env("OIDC_CLIENT_ID", "asistente-cdmx"))
    oidc_client_secret: str = field(default_factory=lambda: _env("OIDC_CLIENT_SECRET", "dev-oidc-secret"))
    # Where the provider sends the browser back: the back office's callback.
    oidc_redirect_url: str = field(
        default_factory=lambda: _env(
            "OIDC_REDIRECT_URL", f"http://127.0.0.1:{_env_int('BACKOFFICE_PORT', 8080)}/identity/callback"
        )
    )
    oidc_scopes: str = field(default_factory=lambda: _env("OIDC_SCOPES", "openid profile email phone"))
    # Name of the (non-standard) ID token claim that carries the resident's CURP.
    oidc_curp_claim: str = field(default_factory=lambda: _env("OIDC_CURP_CLAIM", "curp"))
    # Seconds to wait for the provider (discovery, keys, token endpoint).
    oidc_timeout: float = field(default_factory=lambda: _env_float("OIDC_TIMEOUT", 5.0))

    # Signing residents in from the chat and two-factor codes (backoffice/identity/).
    # Base of the links residents open (sign-in links); the back office's own URL by default.
    backoffice_public_url: str = field(
        default_factory=lambda: _env(
            "BACKOFFICE_PUBLIC_URL",
            _env("BACKOFFICE_URL", f"http://127.0.0.1:{_env_int('BACKOFFICE_PORT', 8080)}"),
        )
    )
    # Seconds a sign-in link stays valid (and then the sign-in it starts).
    sign_in_link_ttl: int = field(default_factory=lambda: _env_int("SIGN_IN_LINK_TTL", 600))
    # Seconds a conversation stays linked to the verified person after signing in.
    identity_session_ttl: int = field(default_factory=lambda: _env_int("IDENTITY_SESSION_TTL", 8 * 3600))
    # Key of the HMAC that one-time codes are stored as. **Change it in production.**
    identity_secret: str = field(default_factory=lambda: _env("IDENTITY_SECRET", "dev-identity-secret"))
    # How often one resident may ask for a one-time code (limits' notation, ';' between limits).
    verification_code_rate: str = field(
        default_factory=lambda: _env("VERIFICATION_CODE_RATE", "3 per 10 minutes; 10 per day")
    )
    # Development: SMS and e-mail (one-time codes) go to an outbox shown at
    # /dev/outbox instead of being sent. Turn off in production.
    dev_outbox: bool = field(default_factory=lambda: _env_bool("DEV_OUTBOX", True))
    # E-mail (one-time codes to residents without a verified phone). Empty host: no e-mail.
    smtp_host: str = field(default_factory=lambda: _env("SMTP_HOST", ""))
    smtp_port: int = field(default_factory=lambda: _env_int("SMTP_PORT", 587))
    smtp_user: str = field(default_factory=lambda: _env("SMTP_USER", ""))
    smtp_password: str = field(default_factory=lambda: _env("SMTP_PASSWORD", ""))
    smtp_from: str = field(default_factory=lambda: _env("SMTP_FROM", "no-reply@localhost"))
    smtp_starttls: bool = field(default_factory=lambda: _env_bool("SMTP_STARTTLS", True))

    # Crime reports (backoffice/crime/).
    # Bearer token of the prosecutor's office API (/staff/api/crime-reports/...);
    # the 311 staff token does not open it. **Change it in production.**
    prosecutor_token: str = field(default_factory=lambda: _env("PROSECUTOR_TOKEN", "dev-prosecutor-token"))
    # Ed25519 key that signs accepted reports: base64 of a 32-byte seed
    # (python -m backoffice.crime.signing makes one). Empty: a development key. **Set it in production.**
    crime_signing_key: str = field(default_factory=lambda: _env("CRIME_SIGNING_KEY", ""))
    # Seconds a resident's link to download their signed report stays valid.
    crime_download_ttl: int = field(default_factory=lambda: _env_int("CRIME_DOWNLOAD_TTL", 24 * 3600))

    @property
    def city_pack_dir(self) -> Path:
        return ROOT / "citypack" / self.city_pack


def get_settings() -> Settings:
    """Read the environment now (tests change it between cases)."""
    return Settings()


if __name__ == "__main__":
    # `python -m common.settings --shell` prints the settings the run script
    # needs as shell assignments, so bash and Python agree on one source.
    import shlex
    import sys

    if "--shell" in sys.argv:
        s = get_settings()
        values = {
            "RASA_PORT": s.rasa_port,
            "ACTIONS_PORT": s.actions_port,
            "BACKOFFICE_PORT": s.backoffice_port,
            "IDP_PORT": s.idp_port,
            "BACKOFFICE_URL": s.backoffice_url,
            "RASA_TOKEN": s.rasa_token,
        }
        for key, value in values.items():
            print(f"{key}={shlex.quote(str(value))}")
