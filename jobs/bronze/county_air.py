"""county-air: county micro-station hourly exports (simulated): UTF-8, ISO 8601 times with the
+08:00 offset at the START of the hour, every pollutant in ug/m3 (CO too)."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame

from jobs.bronze.base import Parsed, flat_csv
from jobs.silver.air_rows import wide
from jobs.silver.air_tiers import county_base
from smartmon.catalog.names import BRONZE_COUNTY_AIR, SILVER_AIR_HOURLY
from smartmon.io import Lake

NAME = "county-air"
BRONZE = BRONZE_COUNTY_AIR
FOLDER = ""  # landing zone only
SOURCE = NAME
FEEDS = (SILVER_AIR_HOURLY,)
HEADER = ["station_code", "time_start", "pm25", "pm10", "so2", "no2", "co_ugm3", "o3"]


def matches(path: Path) -> bool:
    return path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    return flat_csv(path, HEADER, HEADER)


def air_rows(bronze: DataFrame, lake: Lake) -> DataFrame:
    """Wide rows for silver.air_hourly (units and time convention: jobs/silver/air_tiers.py)."""
    return wide(*county_base(bronze))
