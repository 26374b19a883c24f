"""Distance and address folding used to find duplicates."""
from __future__ import annotations

import pytest

from backoffice.geo import bounding_box, haversine_m, normalize_address


def test_haversine_known_distances():
    assert haversine_m(19.4326, -99.1332, 19.4326, -99.1332) == 0
    # One thousandth of a degree of latitude is about 111 m.
    assert haversine_m(19.4326, -99.1332, 19.4336, -99.1332) == pytest.approx(111.2, abs=0.5)
    # Zócalo to the Ángel de la Independencia: about 3.6 km.
    assert haversine_m(19.4326, -99.1332, 19.4270, -99.1677) == pytest.approx(3_670, rel=0.02)


def test_bounding_box_contains_the_circle():
    min_lat, max_lat, min_lon, max_lon = bounding_box(19.4326, -99.1332, 50)
    assert haversine_m(19.4326, -99.1332, max_lat, -99.1332) == pytest.approx(50, rel=0.01)
    assert haversine_m(19.4326, -99.1332, 19.4326, min_lon) == pytest.approx(50, rel=0.01)
    assert min_lat < 19.4326 < max_lat and min_lon < -99.1332 < max_lon


@pytest.mark.parametrize(
    "a, b",
    [
        ("Av. Juárez #10, Col. Centro", "av juarez 10 col centro"),
        ("CALLE  Niños Héroes 5", "calle ninos heroes 5"),
        ("Eje Central—45", "eje central 45"),
    ],
)
def test_addresses_that_fold_to_the_same_key(a, b):
    assert normalize_address(a) == normalize_address(b)


def test_different_addresses_stay_different_and_empty_is_none():
    assert normalize_address("Av. Juárez 10") != normalize_address("Av. Juárez 12")
    assert normalize_address(None) is None
    assert normalize_address(" ,.- ") is None
