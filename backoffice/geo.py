"""Distances and address comparison for finding duplicate requests."""
from __future__ import annotations

import math
import re
import unicodedata

EARTH_RADIUS_M = 6_371_008.8
# Metres per degree of latitude (near enough everywhere for a ~50 m box).
METRES_PER_DEGREE = 111_320.0


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlambda = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing a circle; lets the database pre-filter."""
    dlat = radius_m / METRES_PER_DEGREE
    dlon = radius_m / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 1e-6))
    return lat - dlat, lat + dlat, lon - dlon, lon + dlon


_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_address(text: str | None) -> str | None:
    """Fold case, accents and punctuation so "Av. Juárez 10" == "av juarez, 10".

    Returns None when nothing comparable is left.
    """
    if not text:
        return None
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    without_marks = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    folded = " ".join(_NOT_WORD.sub(" ", without_marks).split())
    return folded or None
