"""Bearer-token check for staff endpoints."""
from __future__ import annotations

import hmac

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backoffice.deps import app_settings
from common.settings import Settings

_bearer = HTTPBearer(auto_error=False)


def require_staff(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    settings: Settings = Depends(app_settings),
) -> None:
    token = credentials.credentials if credentials else ""
    if not token or not hmac.compare_digest(token.encode("utf-8"), settings.staff_token.encode("utf-8")):
        raise HTTPException(
            status_code=401,
            detail="a valid staff bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
