"""GET services, service definitions and discovery, in JSON and XML."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from common import citypack

CODES = citypack.service_codes()


def test_services_json_lists_the_catalogue(client):
    response = client.get("/open311/v2/services.json")
    assert response.status_code == 200
    services = response.json()
    assert [s["service_code"] for s in services] == CODES
    assert len(services) == 14
    pothole = next(s for s in services if s["service_code"] == "bache")
    assert pothole == {
        "service_code": "bache",
        "service_name": "Bache",
        "description": "Bache en calle o avenida",
        "metadata": False,
        "type": "realtime",
        "keywords": "bache,pothole",
        "group": "calles",
    }


def test_services_xml_has_the_same_services(client):
    response = client.get("/open311/v2/services.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.content)
    assert root.tag == "services"
    services = root.findall("service")
    assert [s.findtext("service_code") for s in services] == CODES
    leak = next(s for s in services if s.findtext("service_code") == "fuga_agua")
    assert leak.findtext("service_name") == "Fuga de agua"
    assert leak.findtext("metadata") == "false"
    assert leak.findtext("type") == "realtime"
    assert leak.findtext("group") == "agua"


def test_service_definition_json_and_xml(client):
    response = client.get("/open311/v2/services/semaforo.json")
    assert response.status_code == 200
    assert response.json() == {"service_code": "semaforo", "attributes": []}

    response = client.get("/open311/v2/services/semaforo.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.content)
    assert root.tag == "service_definition"
    assert root.findtext("service_code") == "semaforo"
    attributes = root.find("attributes")
    assert attributes is not None and list(attributes) == []


def test_unknown_service_definition_is_an_open311_404(client):
    response = client.get("/open311/v2/services/ovni.json")
    assert response.status_code == 404
    assert response.json() == [{"code": 404, "description": "unknown service_code: ovni"}]

    response = client.get("/open311/v2/services/ovni.xml")
    assert response.status_code == 404
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    (error,) = root.findall("error")
    assert error.findtext("code") == "404"
    assert "ovni" in error.findtext("description")


def test_unknown_format_and_unknown_path_answer_in_open311_format(client):
    response = client.get("/open311/v2/services.yaml")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404

    response = client.get("/open311/v2/nothing-here.xml")
    assert response.status_code == 404
    assert ET.fromstring(response.content).findtext("error/code") == "404"


def test_discovery_points_at_the_v2_endpoint(client):
    response = client.get("/open311/discovery.json")
    assert response.status_code == 200
    body = response.json()
    (endpoint,) = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert set(endpoint["formats"]) == {"application/json", "text/xml"}
    assert "Locatel" in body["contact"]


def test_health_checks_the_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
