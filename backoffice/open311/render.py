"""Open311 documents in JSON and XML, and the public view of a request."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any, Dict, Iterable, List

from fastapi.responses import JSONResponse, Response

from backoffice.catalogue import ServiceType, service_type
from backoffice.models import ServiceRequest
from backoffice.timeutil import to_local_iso

FORMATS = ("json", "xml")
XML_MEDIA_TYPE = "text/xml; charset=utf-8"

# Tag of each element inside a list in the XML form of the spec's documents.
XML_ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
}

# Characters XML 1.0 cannot carry at all, not even escaped.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def service_document(service: ServiceType) -> Dict[str, Any]:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": service.description,
        # No extra attributes to fill in: the assistant asks the crew's questions in the description.
        "metadata": False,
        "type": "realtime",
        "keywords": ",".join(service.keywords),
        "group": service.group,
    }


def service_definition_document(service: ServiceType) -> Dict[str, Any]:
    return {"service_code": service.code, "attributes": []}


def public_request_document(request: ServiceRequest, tz_name: str) -> Dict[str, Any]:
    """What anyone may read about a request: an explicit list, so contact data,
    channel and conversation never leak by accident."""
    service = service_type(request.service_code)
    return {
        "service_request_id": request.folio,
        "status": request.status,
        "status_notes": request.status_notes,
        "service_name": service.name if service else request.service_code,
        "service_code": request.service_code,
        "description": request.description,
        "agency_responsible": request.agency_responsible,
        "service_notice": request.service_notice,
        "requested_datetime": to_local_iso(request.requested_at, tz_name),
        "updated_datetime": to_local_iso(request.updated_at, tz_name),
        "expected_datetime": to_local_iso(request.expected_at, tz_name),
        "address": request.address_string,
        "address_id": None,
        "zipcode": None,
        "lat": request.lat,
        "long": request.long,
        "media_url": request.media_url,
        # Non-standard additions.
        "alcaldia": request.alcaldia,
        "duplicate_of": request.parent.folio if request.parent else None,
    }


def filing_document(request: ServiceRequest) -> Dict[str, Any]:
    """The POST requests answer; status and duplicate_of are non-standard additions."""
    return {
        "service_request_id": request.folio,
        "service_notice": request.service_notice,
        "account_id": None,
        "status": request.status,
        "duplicate_of": request.parent.folio if request.parent else None,
    }


def respond(fmt: str, root: str, content: Any, status_code: int = 200, headers=None) -> Response:
    """content is a list for list documents (root names the list) or a dict (root names it)."""
    if fmt == "xml":
        return Response(
            to_xml(root, content), status_code=status_code, media_type=XML_MEDIA_TYPE, headers=headers
        )
    return JSONResponse(content, status_code=status_code, headers=headers)


def to_xml(root: str, content: Any) -> bytes:
    element = ET.Element(root)
    _fill(element, root, content)
    return ET.tostring(element, encoding="utf-8", xml_declaration=True)


def _fill(element: ET.Element, tag: str, value: Any) -> None:
    if isinstance(value, dict):
        for key, child_value in value.items():
            _fill(ET.SubElement(element, key), key, child_value)
    elif isinstance(value, (list, tuple)):
        item_tag = XML_ITEM_TAGS.get(tag, "item")
        for item in value:
            _fill(ET.SubElement(element, item_tag), item_tag, item)
    elif value is None:
        pass
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        # ElementTree escapes markup; characters XML cannot hold become U+FFFD.
        element.text = _XML_ILLEGAL.sub("\ufffd", str(value))


def documents(items: Iterable[ServiceRequest], tz_name: str) -> List[Dict[str, Any]]:
    return [public_request_document(item, tz_name) for item in items]
