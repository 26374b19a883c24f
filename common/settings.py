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

    @property
    def city_pack_dir(self) -> Path:
        return ROOT / "citypack" / self.city_pack


def get_settings() -> Settings:
    """Read the environment now (tests change it between cases)."""
    return Settings()
