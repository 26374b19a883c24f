"""The 311 service types, read from the city pack (citypack/<pack>/catalogue.yml)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Tuple

from common import citypack

# Residents of the city read Spanish first; the catalogue carries both.
LANGUAGE = "es"


@dataclass(frozen=True)
class ServiceType:
    code: str
    name: str
    description: str
    agency: str
    group: str
    keywords: Tuple[str, ...]


def _from_pack(entry: dict) -> ServiceType:
    return ServiceType(
        code=entry["code"],
        name=entry["name"][LANGUAGE],
        description=entry["description"][LANGUAGE],
        agency=entry["agency"],
        group=entry.get("group") or "",
        keywords=tuple(entry.get("keywords") or ()),
    )


def service_types() -> List[ServiceType]:
    return [_from_pack(entry) for entry in citypack.services()]


def service_type(code: str) -> Optional[ServiceType]:
    entry = citypack.service(code)
    return _from_pack(entry) if entry else None
