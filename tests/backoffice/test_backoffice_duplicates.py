"""A new request at the place of an open one of the same type is linked to it."""
from __future__ import annotations

from backoffice_helpers import STAFF_HEADERS, filed_folio, post_request

# Zócalo; 0.0003° of latitude is about 33 m, 0.0008° about 89 m.
LAT, LON = 19.4326, -99.1332


def record(client, folio):
    return client.get(f"/open311/v2/requests/{folio}.json").json()[0]


def test_nearby_open_request_of_the_same_type_is_linked(client):
    original = filed_folio(post_request(client, lat=str(LAT), long=str(LON)))
    response = post_request(client, lat=str(LAT + 0.0003), long=str(LON))
    assert response.status_code == 201
    (answer,) = response.json()
    assert answer["duplicate_of"] == original
    assert original in answer["service_notice"]
    assert answer["service_request_id"] != original

    stored = record(client, answer["service_request_id"])
    assert stored["duplicate_of"] == original
    assert stored["service_notice"] == answer["service_notice"]
    assert record(client, original)["duplicate_of"] is None


def test_xml_answer_carries_duplicate_of(client):
    import xml.etree.ElementTree as ET

    original = filed_folio(post_request(client))
    response = post_request(client, fmt="xml")
    item = ET.fromstring(response.content).find("request")
    assert item.findtext("duplicate_of") == original
    assert original in item.findtext("service_notice")


def test_farther_than_50_m_or_another_type_is_not_linked(client):
    filed_folio(post_request(client, lat=str(LAT), long=str(LON)))
    far = post_request(client, lat=str(LAT + 0.0008), long=str(LON)).json()[0]
    other_type = post_request(client, service_code="alumbrado", lat=str(LAT), long=str(LON)).json()[0]
    assert far["duplicate_of"] is None and far["service_notice"] is None
    assert other_type["duplicate_of"] is None


def test_same_address_after_folding_case_accents_and_punctuation(client):
    original = filed_folio(post_request(client, address_string="Av. Juárez #10, Col. Centro"))
    same = post_request(client, address_string="  av juarez 10 col centro ").json()[0]
    other = post_request(client, address_string="Av. Juárez #12, Col. Centro").json()[0]
    assert same["duplicate_of"] == original
    assert other["duplicate_of"] is None


def test_duplicates_link_to_the_original_not_to_each_other(client):
    original = filed_folio(post_request(client))
    second = post_request(client).json()[0]
    third = post_request(client).json()[0]
    assert second["duplicate_of"] == original
    assert third["duplicate_of"] == original


def test_a_closed_request_is_not_a_duplicate_target(client):
    original = filed_folio(post_request(client))
    response = client.post(
        f"/staff/api/requests/{original}/status", json={"status": "closed", "note": "Reparado"}, headers=STAFF_HEADERS
    )
    assert response.status_code == 200
    again = post_request(client).json()[0]
    assert again["duplicate_of"] is None


def test_closing_the_original_closes_its_open_duplicates(client):
    original = filed_folio(post_request(client))
    duplicate = post_request(client).json()[0]["service_request_id"]
    response = client.post(
        f"/staff/api/requests/{original}/status",
        json={"status": "closed", "note": "Bache tapado"},
        headers=STAFF_HEADERS,
    )
    assert response.status_code == 200
    assert response.json()["duplicates"] == [duplicate]
    linked = record(client, duplicate)
    assert linked["status"] == "closed"
    assert linked["status_notes"] == "Bache tapado"
    history = client.get(f"/staff/api/requests/{duplicate}", headers=STAFF_HEADERS).json()["history"]
    assert [h["status"] for h in history] == ["open", "closed"]
