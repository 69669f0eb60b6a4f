"""county-air: county micro-station hourly exports (simulated): UTF-8, ISO 8601 times with the
+08:00 offset at the START of the hour, every pollutant in ug/m3 (CO too)."""

from __future__ import annotations

from pathlib import Path

from jobs.bronze.base import Parsed, flat_csv
from smartmon.catalog.names import BRONZE_COUNTY_AIR

NAME = "county-air"
BRONZE = BRONZE_COUNTY_AIR
FOLDER = ""  # landing zone only
HEADER = ["station_code", "time_start", "pm25", "pm10", "so2", "no2", "co_ugm3", "o3"]


def matches(path: Path) -> bool:
    return path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    return flat_csv(path, HEADER, HEADER)
