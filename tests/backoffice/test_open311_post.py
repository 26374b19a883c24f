"""POST requests: validation, errors, verbatim descriptions, what stays private."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from backoffice_helpers import API_KEY, FOLIO, filed_folio, post_request

HOSTILE = (
    "<script>alert('x')</script> & \"quotes\" ]]> <![CDATA[ nope ]]> "
    "'; DROP TABLE service_requests; -- \u00bfqu\u00e9 pas\u00f3? \U0001F573\ufe0f"
)


def get_json(client, folio):
    response = client.get(f"/open311/v2/requests/{folio}.json")
    assert response.status_code == 200, response.text
    (record,) = response.json()
    return record


def test_form_post_files_a_request_with_a_folio(client):
    response = post_request(
        client, description="Bache frente al 10", alcaldia="Cuauhtémoc", media_url="https://x.mx/a.jpg"
    )
    assert response.status_code == 201
    (answer,) = response.json()
    assert FOLIO.match(answer["service_request_id"])
    assert answer["status"] == "open"
    assert answer["duplicate_of"] is None
    assert answer["service_notice"] is None

    record = get_json(client, answer["service_request_id"])
    assert record["service_code"] == "bache"
    assert record["service_name"] == "Bache"
    assert record["status"] == "open"
    assert record["description"] == "Bache frente al 10"
    assert record["agency_responsible"] == "Alcaldía / Obras"
    assert record["lat"] == pytest.approx(19.4326)
    assert record["long"] == pytest.approx(-99.1332)
    assert record["alcaldia"] == "Cuauhtémoc"
    assert record["media_url"] == "https://x.mx/a.jpg"


def test_folios_follow_the_sequence(client):
    first = filed_folio(post_request(client, service_code="grafiti", address_string="Calle 1"))
    second = filed_folio(post_request(client, service_code="ruido", address_string="Calle 2"))
    assert (first, second) == ("311-000001", "311-000002")


def test_json_body_and_xml_answer(client):
    response = post_request(
        client, fmt="xml", as_json=True, service_code="fuga_agua", lat=19.36, long=-99.16,
        description="Fuga de agua limpia",
    )
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    (item,) = root.findall("request")
    folio = item.findtext("service_request_id")
    assert FOLIO.match(folio)
    assert item.findtext("status") == "open"
    assert get_json(client, folio)["agency_responsible"] == "SACMEX"


@pytest.mark.parametrize("api_key", [None, "", "wrong-key"])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_api_key_is_required(client, api_key, fmt):
    response = post_request(client, fmt=fmt, api_key=api_key)
    assert response.status_code == 403
    if fmt == "json":
        assert response.json() == [{"code": 403, "description": "invalid or missing api_key"}]
    else:
        root = ET.fromstring(response.content)
        assert root.findtext("error/code") == "403"
        assert root.findtext("error/description") == "invalid or missing api_key"
    # Nothing was stored.
    assert client.get("/open311/v2/requests.json").json() == []


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"service_code": None}, "service_code is required"),
        ({"service_code": "ovni"}, "unknown service_code: ovni"),
        ({"lat": None, "long": None}, "a location is required: lat and long, or address_string"),
        ({"lat": "19.4", "long": None}, "lat and long must be given together"),
        ({"lat": "north", "long": "-99.1"}, "lat must be a number"),
        ({"lat": "91", "long": "-99.1"}, "lat must be between -90 and 90"),
        ({"lat": "nan", "long": "-99.1"}, "lat must be between -90 and 90"),
        ({"media_url": "javascript:alert(1)"}, "media_url must be an http or https URL"),
        ({"email": "not an email"}, "email is not an e-mail address"),
        ({"description": "a\x00b"}, "description contains characters that cannot be stored"),
        ({"address_string": "x" * 501}, "address_string is too long: at most 500 characters"),
    ],
)
def test_invalid_submissions_are_400_with_a_clear_message(client, fields, message):
    if fields.get("lat", "") is None:
        fields = {**fields, "address_string": None}
    response = post_request(client, **fields)
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": message}]


def test_address_alone_is_a_location(client):
    folio = filed_folio(post_request(client, address_string="Eje Central 45, Centro"))
    record = get_json(client, folio)
    assert record["address"] == "Eje Central 45, Centro"
    assert record["lat"] is None and record["long"] is None


def test_description_limit_is_ten_thousand_characters(client):
    at_limit = "á" * 10_000
    folio = filed_folio(post_request(client, description=at_limit))
    assert get_json(client, folio)["description"] == at_limit

    response = post_request(client, description="a" * 10_001)
    assert response.status_code == 400
    assert response.json() == [
        {"code": 400, "description": "description is too long: 10001 characters, the maximum is 10000"}
    ]


@pytest.mark.parametrize("as_json", [False, True])
def test_long_and_hostile_descriptions_are_stored_verbatim_and_escaped_in_xml(client, as_json):
    long_text = ("Bache  profundo\n\tcon agua; " * 200)[:5_000]
    assert len(long_text) == 5_000
    hostile_folio = filed_folio(post_request(client, as_json=as_json, description=HOSTILE))
    long_folio = filed_folio(post_request(client, as_json=as_json, description=long_text, lat="19.5", long="-99.2"))

    assert get_json(client, hostile_folio)["description"] == HOSTILE
    assert get_json(client, long_folio)["description"] == long_text

    response = client.get(f"/open311/v2/requests/{hostile_folio}.xml")
    assert response.status_code == 200
    assert b"<script>" not in response.content
    assert b"&lt;script&gt;" in response.content
    root = ET.fromstring(response.content)
    assert root.findtext("request/description") == HOSTILE

    response = client.get(f"/open311/v2/requests/{long_folio}.xml")
    assert ET.fromstring(response.content).findtext("request/description") == long_text

    # The table is still there and both requests are listed.
    listed = client.get("/open311/v2/requests.json").json()
    assert {r["service_request_id"] for r in listed} == {hostile_folio, long_folio}


def test_characters_xml_cannot_carry_keep_the_xml_well_formed(client):
    text = "bell\x07 and form feed\x0c"
    folio = filed_folio(post_request(client, description=text))
    assert get_json(client, folio)["description"] == text  # verbatim in the store and JSON
    root = ET.fromstring(client.get(f"/open311/v2/requests/{folio}.xml").content)
    assert root.findtext("request/description") == "bell\ufffd and form feed\ufffd"


def test_contact_channel_and_conversation_are_never_public(client):
    private = {
        "email": "vecina@example.org",
        "phone": "5512345678",
        "first_name": "Guadalupe",
        "last_name": "Hernández",
        "channel": "telegram",
        "conversation_id": "conv-secret-771",
    }
    folio = filed_folio(post_request(client, **private))
    pages = [
        client.get(f"/open311/v2/requests/{folio}.json").text,
        client.get(f"/open311/v2/requests/{folio}.xml").text,
        client.get("/open311/v2/requests.json").text,
        client.get("/open311/v2/requests.xml").text,
    ]
    for page in pages:
        assert folio in page
        for name, value in private.items():
            assert value not in page
            assert name not in page


def test_unsupported_content_type_and_bad_json(client):
    response = client.post(
        "/open311/v2/requests.json", content=b"<x/>", headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 415
    assert response.json()[0]["code"] == 415

    response = client.post(
        "/open311/v2/requests.json", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": "the body is not valid JSON"}]

    response = client.post("/open311/v2/requests.json", json=["a", "list"])
    assert response.status_code == 400

    response = client.post(
        "/open311/v2/requests.json", json={"api_key": API_KEY, "service_code": ["bache"], "lat": 1, "long": 1}
    )
    assert response.status_code == 400
    assert response.json()[0]["description"] == "service_code must be a string or a number"
