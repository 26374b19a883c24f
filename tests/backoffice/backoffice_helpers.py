"""Constants and helpers shared by the back office tests (a module name of its own,
since several conftest.py files live in this test tree)."""
from __future__ import annotations

import re

from common.settings import Settings

API_KEY = "test-api-key"
STAFF_TOKEN = "test-staff-token"
RASA_TOKEN = "test-rasa-token"
STAFF_HEADERS = {"Authorization": f"Bearer {STAFF_TOKEN}"}
FOLIO = re.compile(r"^311-\d{6}$")


def make_settings(database_url: str, **overrides) -> Settings:
    values = dict(
        database_url=database_url,
        backoffice_api_key=API_KEY,
        staff_token=STAFF_TOKEN,
        rasa_token=RASA_TOKEN,
        timezone="America/Mexico_City",
        city_pack="cdmx",
        duplicate_radius_m=50.0,
        notification_timeout=5.0,
    )
    values.update(overrides)
    return Settings(**values)


def post_request(client: TestClient, fmt: str = "json", as_json: bool = False, headers=None, **fields):
    """POST requests.{fmt} with the test api_key (unless given) and a default location."""
    body = {"api_key": API_KEY, "service_code": "bache", "description": "Bache enorme"}
    if "address_string" not in fields and "lat" not in fields:
        body.update(lat="19.4326", long="-99.1332")
    body.update(fields)
    body = {k: v for k, v in body.items() if v is not None}
    url = f"/open311/v2/requests.{fmt}"
    if as_json:
        return client.post(url, json=body, headers=headers)
    return client.post(url, data=body, headers=headers)


def filed_folio(response) -> str:
    assert response.status_code in (200, 201), response.text
    return response.json()[0]["service_request_id"]
