"""Staff API: bearer token, full record, status changes and their history."""
from __future__ import annotations

from datetime import datetime

import pytest
from backoffice_helpers import STAFF_HEADERS, filed_folio, post_request


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dGVzdDp0ZXN0"}, {"Authorization": "Bearer "}],
)
def test_staff_endpoints_need_the_bearer_token(client, headers):
    folio = filed_folio(post_request(client))
    read = client.get(f"/staff/api/requests/{folio}", headers=headers)
    change = client.post(
        f"/staff/api/requests/{folio}/status", json={"status": "closed", "note": "x"}, headers=headers
    )
    for response in (read, change):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
    # The refused change changed nothing.
    assert client.get(f"/open311/v2/requests/{folio}.json").json()[0]["status"] == "open"


def test_full_record_has_contact_conversation_and_history(client):
    folio = filed_folio(
        post_request(
            client,
            description="Coladera sin tapa",
            service_code="drenaje",
            email="vecino@example.org",
            phone="5512345678",
            first_name="Juan",
            last_name="Pérez",
            channel="telegram",
            conversation_id="tg-42",
            alcaldia="Coyoacán",
        )
    )
    response = client.get(f"/staff/api/requests/{folio}", headers=STAFF_HEADERS)
    assert response.status_code == 200
    body = response.json()
    assert body["service_request_id"] == folio
    assert body["description"] == "Coladera sin tapa"
    assert body["contact"] == {
        "first_name": "Juan",
        "last_name": "Pérez",
        "email": "vecino@example.org",
        "phone": "5512345678",
    }
    assert body["channel"] == "telegram"
    assert body["conversation_id"] == "tg-42"
    assert body["alcaldia"] == "Coyoacán"
    assert body["agency_responsible"] == "SACMEX"
    (filed,) = body["history"]
    assert filed["status"] == "open" and filed["agency"] == "SACMEX"
    assert body["notifications"] == []


def test_status_change_appends_history_and_updates_the_public_record(client):
    folio = filed_folio(post_request(client, service_code="arbol"))
    before = client.get(f"/open311/v2/requests/{folio}.json").json()[0]

    response = client.post(
        f"/staff/api/requests/{folio}/status",
        json={"status": "open", "note": "Cuadrilla asignada", "agency": "SEDEMA"},
        headers=STAFF_HEADERS,
    )
    assert response.status_code == 200
    response = client.post(
        f"/staff/api/requests/{folio}/status",
        json={"status": "closed", "note": "Árbol retirado"},
        headers=STAFF_HEADERS,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "closed"
    assert [(h["status"], h["note"], h["agency"]) for h in body["history"]] == [
        ("open", None, "Alcaldía / SEDEMA"),
        ("open", "Cuadrilla asignada", "SEDEMA"),
        ("closed", "Árbol retirado", "SEDEMA"),
    ]

    public = client.get(f"/open311/v2/requests/{folio}.json").json()[0]
    assert public["status"] == "closed"
    assert public["status_notes"] == "Árbol retirado"
    assert public["agency_responsible"] == "SEDEMA"
    assert datetime.fromisoformat(public["updated_datetime"]) >= datetime.fromisoformat(before["updated_datetime"])
    assert public["requested_datetime"] == before["requested_datetime"]


def test_bad_status_changes(client):
    folio = filed_folio(post_request(client))
    response = client.post(
        f"/staff/api/requests/{folio}/status", json={"status": "solved", "note": "x"}, headers=STAFF_HEADERS
    )
    assert response.status_code == 422
    response = client.post(f"/staff/api/requests/{folio}/status", json={"status": "closed"}, headers=STAFF_HEADERS)
    assert response.status_code == 422
    response = client.post(
        "/staff/api/requests/311-999999/status", json={"status": "closed", "note": "x"}, headers=STAFF_HEADERS
    )
    assert response.status_code == 404
    assert client.get("/staff/api/requests/311-999999", headers=STAFF_HEADERS).status_code == 404
    history = client.get(f"/staff/api/requests/{folio}", headers=STAFF_HEADERS).json()["history"]
    assert len(history) == 1
