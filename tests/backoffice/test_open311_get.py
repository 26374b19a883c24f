"""GET requests (search, filters, paging) and GET a request, in JSON and XML."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from backoffice_helpers import STAFF_HEADERS, filed_folio, post_request
from sqlalchemy import update

from backoffice.models import ServiceRequest

CDMX = ZoneInfo("America/Mexico_City")


def folios(response):
    assert response.status_code == 200, response.text
    return [r["service_request_id"] for r in response.json()]


def file_many(client, count, **fields):
    # Distinct addresses, so no request is linked to another as a duplicate.
    return [
        filed_folio(post_request(client, address_string=f"Calle {i}", **fields)) for i in range(count)
    ]


def set_requested_at(app, folio, when):
    with app.state.sessionmaker() as session:
        session.execute(
            update(ServiceRequest).where(ServiceRequest.folio == folio).values(requested_at=when)
        )
        session.commit()


def test_get_one_request_json_and_xml(client):
    folio = filed_folio(post_request(client, service_code="alumbrado", description="Luminaria apagada"))

    response = client.get(f"/open311/v2/requests/{folio}.json")
    assert response.status_code == 200
    (record,) = response.json()
    assert record["service_request_id"] == folio
    assert record["service_code"] == "alumbrado"
    assert record["service_name"] == "Alumbrado público"
    assert record["agency_responsible"] == "Alcaldía / SOBSE"
    for name in ("requested_datetime", "updated_datetime"):
        moment = datetime.fromisoformat(record[name])
        # ISO 8601 with the city's offset, close to now.
        assert moment.utcoffset() == datetime.now(CDMX).utcoffset()
        assert abs(moment - datetime.now(timezone.utc)) < timedelta(minutes=5)
    assert record["expected_datetime"] is None

    response = client.get(f"/open311/v2/requests/{folio}.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == "service_requests"
    (item,) = root.findall("request")
    assert item.findtext("service_request_id") == folio
    assert item.findtext("status") == "open"
    assert item.findtext("description") == "Luminaria apagada"
    assert item.findtext("requested_datetime") == record["requested_datetime"]
    assert float(item.findtext("lat")) == pytest.approx(record["lat"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_request_is_an_open311_404(client, fmt):
    response = client.get(f"/open311/v2/requests/311-999999.{fmt}")
    assert response.status_code == 404
    if fmt == "json":
        assert response.json() == [{"code": 404, "description": "unknown service_request_id: 311-999999"}]
    else:
        root = ET.fromstring(response.content)
        assert root.findtext("error/code") == "404"
        assert root.findtext("error/description") == "unknown service_request_id: 311-999999"


def test_list_newest_first_in_json_and_xml(client):
    filed = file_many(client, 3)
    response = client.get("/open311/v2/requests.json")
    assert folios(response) == list(reversed(filed))
    assert response.headers["X-Total-Count"] == "3"

    root = ET.fromstring(client.get("/open311/v2/requests.xml").content)
    assert root.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in root.findall("request")] == list(reversed(filed))


def test_filter_by_ids_overrides_other_filters(client):
    a, b, c = file_many(client, 3)
    assert sorted(folios(client.get(f"/open311/v2/requests.json?service_request_id={a},{c}"))) == [a, c]
    # The spec: service_request_id overrides the other parameters.
    assert sorted(
        folios(client.get(f"/open311/v2/requests.json?service_request_id={a},{c}&service_code=ruido"))
    ) == [a, c]


def test_filter_by_service_code_and_status(client):
    pothole = filed_folio(post_request(client, service_code="bache", address_string="A 1"))
    noise = filed_folio(post_request(client, service_code="ruido", address_string="B 2"))
    graffiti = filed_folio(post_request(client, service_code="grafiti", address_string="C 3"))
    response = client.post(
        f"/staff/api/requests/{noise}/status", json={"status": "closed", "note": "Atendido"}, headers=STAFF_HEADERS
    )
    assert response.status_code == 200

    assert folios(client.get("/open311/v2/requests.json?service_code=bache")) == [pothole]
    assert sorted(folios(client.get("/open311/v2/requests.json?service_code=bache,grafiti"))) == sorted(
        [pothole, graffiti]
    )
    assert folios(client.get("/open311/v2/requests.json?status=closed")) == [noise]
    assert sorted(folios(client.get("/open311/v2/requests.json?status=open"))) == sorted([pothole, graffiti])
    assert len(folios(client.get("/open311/v2/requests.json?status=open,closed"))) == 3
    assert folios(client.get("/open311/v2/requests.json?service_code=ruido&status=open")) == []

    closed = client.get("/open311/v2/requests.json?status=closed").json()[0]
    assert closed["status_notes"] == "Atendido"


def test_date_range_and_the_default_90_days(app, client):
    old, february, recent = file_many(client, 3)
    set_requested_at(app, old, datetime(2024, 1, 10, 18, 0, tzinfo=timezone.utc))
    set_requested_at(app, february, datetime(2024, 2, 10, 18, 0, tzinfo=timezone.utc))

    # Without dates: the last 90 days only.
    assert folios(client.get("/open311/v2/requests.json")) == [recent]
    in_feb = client.get("/open311/v2/requests.json?start_date=2024-02-01T00:00:00-06:00&end_date=2024-03-01T00:00:00Z")
    assert folios(in_feb) == [february]
    # A date without time or offset is city time.
    assert folios(client.get("/open311/v2/requests.json?start_date=2024-01-01&end_date=2024-02-01")) == [old]
    assert folios(client.get("/open311/v2/requests.json?start_date=2024-01-01")) == [recent, february, old]
    assert folios(client.get("/open311/v2/requests.json?end_date=2024-02-28")) == [february, old]

    # The stored time comes back in city time: 18:00 UTC is 12:00 in Mexico City.
    record = client.get(f"/open311/v2/requests/{old}.json").json()[0]
    assert record["requested_datetime"] == "2024-01-10T12:00:00-06:00"


def test_paging(client):
    filed = list(reversed(file_many(client, 7)))  # newest first
    first = client.get("/open311/v2/requests.json?page_size=3")
    second = client.get("/open311/v2/requests.json?page_size=3&page=2")
    third = client.get("/open311/v2/requests.json?page_size=3&page=3")
    beyond = client.get("/open311/v2/requests.json?page_size=3&page=4")
    assert folios(first) == filed[0:3]
    assert folios(second) == filed[3:6]
    assert folios(third) == filed[6:7]
    assert folios(beyond) == []
    assert first.headers["X-Total-Count"] == "7"
    assert second.headers["X-Page"] == "2"
    assert second.headers["X-Page-Size"] == "3"

    default = client.get("/open311/v2/requests.json")
    assert default.headers["X-Page-Size"] == "50"
    assert client.get("/open311/v2/requests.json?page_size=200").status_code == 200

    xml_page = ET.fromstring(client.get("/open311/v2/requests.xml?page_size=2&page=2").content)
    assert [r.findtext("service_request_id") for r in xml_page.findall("request")] == filed[2:4]


@pytest.mark.parametrize(
    "query, text",
    [
        ("page_size=201", "page_size: ensure this value is less than or equal to 200"),
        ("page_size=0", "page_size: ensure this value is greater than or equal to 1"),
        ("page=0", "page: ensure this value is greater than or equal to 1"),
        ("page=two", "page: value is not a valid integer"),
        ("status=pending", "status must be open or closed, not pending"),
        ("start_date=yesterday", "start_date must be an ISO 8601 date or datetime"),
        ("start_date=2024-03-01&end_date=2024-02-01", "start_date is after end_date"),
    ],
)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_search_parameters_are_open311_400s(client, query, text, fmt):
    response = client.get(f"/open311/v2/requests.{fmt}?{query}")
    assert response.status_code == 400
    if fmt == "json":
        assert response.json() == [{"code": 400, "description": text}]
    else:
        root = ET.fromstring(response.content)
        assert root.findtext("error/code") == "400"
        assert root.findtext("error/description") == text


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unexpected_failures_are_open311_500s(app, monkeypatch, fmt):
    from fastapi.testclient import TestClient

    from backoffice import queries

    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(queries, "search", broken)
    response = TestClient(app, raise_server_exceptions=False).get(f"/open311/v2/requests.{fmt}")
    assert response.status_code == 500
    if fmt == "json":
        assert response.json() == [{"code": 500, "description": "internal error; please try again later"}]
    else:
        assert ET.fromstring(response.content).findtext("error/code") == "500"
