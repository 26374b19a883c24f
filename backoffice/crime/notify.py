"""Telling the resident about their report through Rasa's HTTP API (trigger_intent).

Only the folio travels in the event; the action server asks the back office
for whatever it shows (the pending question, a download link), so nothing of
the report's content goes through Rasa's external-event API.
"""
from __future__ import annotations

from typing import Any, Dict, Optional
from urllib.parse import quote

import httpx

from common.settings import Settings

ACCEPTED_INTENT = "EXTERNAL_crime_report_accepted"
INFO_REQUESTED_INTENT = "EXTERNAL_crime_info_requested"


def trigger_intent(settings: Settings, conversation_id: str, intent: str, entities: Dict[str, Any]) -> Optional[str]:
    """None on success, else a short error without URL, token or conversation id."""
    # Sanic 21.12 does not decode %2B in paths: keep '+' and ':' (as notifications.py does).
    url = f"{settings.rasa_url.rstrip('/')}/conversations/{quote(conversation_id, safe='+:')}/trigger_intent"
    try:
        response = httpx.post(
            url,
            params={"output_channel": "latest", "token": settings.rasa_token},
            json={"name": intent, "entities": entities},
            timeout=settings.notification_timeout,
        )
    except httpx.TimeoutException:
        return "timeout"
    except Exception as exc:  # noqa: BLE001 - the review stands whatever happens here
        return type(exc).__name__
    if response.is_success:
        return None
    return f"HTTP {response.status_code}"
