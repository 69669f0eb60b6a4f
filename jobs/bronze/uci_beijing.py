"""uci-beijing: UCI Beijing Multi-Site air quality and meteorology (PRSA_Data_<site>_*.csv)."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame

from jobs.bronze.base import Parsed, csv_records, table
from jobs.silver.air_rows import uci_base, wide
from smartmon.catalog.names import (
    BRONZE_UCI_HOURLY,
    SILVER_AIR_HOURLY,
    SILVER_METEO_HOURLY,
    SILVER_STATION_ALIASES,
)
from smartmon.io import Lake

NAME = "uci-beijing"
BRONZE = BRONZE_UCI_HOURLY
HEADER = ["No", "year", "month", "day", "hour", "PM2.5", "PM10", "SO2", "NO2", "CO", "O3",
          "TEMP", "PRES", "DEWP", "RAIN", "wd", "WSPM", "station"]
COLUMNS = ["no", "year", "month", "day", "hour", "pm25", "pm10", "so2", "no2", "co", "o3",
           "temp", "pres", "dewp", "rain", "wd", "wspm", "station"]


FOLDER = "beijing_multisite"
SOURCE = NAME
FEEDS = (SILVER_AIR_HOURLY, SILVER_METEO_HOURLY)


def matches(path: Path) -> bool:
    return path.name.startswith("PRSA_Data_") and path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    _, records, rejects, read = csv_records(path, HEADER)
    cols: dict[str, list] = {c: [] for c in COLUMNS}
    for _, fields in records:
        for c, v in zip(COLUMNS, fields, strict=True):
            cols[c].append(v)
    return Parsed(table(cols, [line for line, _ in records]), rejects, read)


def air_rows(bronze: DataFrame, lake: Lake) -> DataFrame:
    """Wide rows for silver.air_hourly: sites named as the national stations they are
    (silver.station_aliases); "NA" is the file's missing value."""
    return wide(*uci_base(bronze, lake.read(SILVER_STATION_ALIASES)), ("", "NA"))
