"""Telling the conversation that the resident signed in, through Rasa's HTTP
API (external event ``EXTERNAL_identity_verified``), so the assistant goes
on by itself. Nothing personal travels in the event: the action server reads
the verified profile from the back office."""
from __future__ import annotations

import logging
from typing import Optional
from urllib.parse import quote

import httpx

from common.settings import Settings

log = logging.getLogger(__name__)

INTENT = "EXTERNAL_identity_verified"


def notify_identity_verified(settings: Settings, conversation_id: str) -> Optional[str]:
    """Trigger the intent on the conversation; None on success, else a short error (no URL, no id)."""
    # Sanic 21.12 does not decode %2B in paths: keep '+' and ':' as they are (as notifications.py does).
    url = f"{settings.rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe='+:')}/trigger_intent"
    try:
        response = httpx.post(
            url,
            params={"output_channel": "latest", "token": settings.rasa_token},
            json={"name": INTENT, "entities": {}},
            timeout=settings.notification_timeout,
        )
    except httpx.TimeoutException:
        return "timeout"
    except Exception as exc:  # noqa: BLE001 - the sign-in stands whatever happens here
        return type(exc).__name__
    if response.is_success:
        return None
    return f"HTTP {response.status_code}"
