"""Load the city pack: the data files that make this assistant Mexico City's.

Another city adopts the product by writing its own folder under citypack/
and setting CITY_PACK.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List

import yaml

from common.settings import get_settings


def _pack_dir() -> Path:
    return get_settings().city_pack_dir


@lru_cache(maxsize=None)
def load(name: str) -> Dict[str, Any]:
    """Read citypack/<pack>/<name>.yml."""
    with open(_pack_dir() / f"{name}.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def services() -> List[Dict[str, Any]]:
    return load("catalogue")["services"]


def service(code: str) -> Dict[str, Any] | None:
    return next((s for s in services() if s["code"] == code), None)


def service_codes() -> List[str]:
    return [s["code"] for s in services()]


def city() -> Dict[str, Any]:
    return load("city")
