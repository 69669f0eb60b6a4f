"""land-use: land-cover shares per H3 resolution-6 cell and year (simulated)."""

from __future__ import annotations

from pathlib import Path

from jobs.bronze.base import Parsed, mapped_csv
from smartmon.catalog.names import BRONZE_LAND_USE, SILVER_LAND_USE

NAME = "land-use"
BRONZE = BRONZE_LAND_USE
FOLDER = ""  # landing zone only
SOURCE = NAME
FEEDS = (SILVER_LAND_USE,)
LAYOUTS = {"h3-shares": ["h3_r6", "year", "cropland", "forest", "grassland", "water", "built_up", "unused"]}


def matches(path: Path) -> bool:
    return path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    return mapped_csv(path, LAYOUTS)
