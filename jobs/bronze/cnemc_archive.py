"""cnemc-archive: the CNEMC national hourly archive, china_sites_YYYYMMDD.csv (wide)."""

from __future__ import annotations

import re
from pathlib import Path

from pyspark.sql import DataFrame

from jobs.bronze.base import Parsed, csv_records, first_line, table
from jobs.silver.air_rows import cnemc_cells, sparse_wide
from smartmon.catalog.names import BRONZE_CNEMC_HOURLY, SILVER_AIR_HOURLY
from smartmon.io import Lake

NAME = "cnemc-archive"
BRONZE = BRONZE_CNEMC_HOURLY
HEADER = ["date", "hour", "type"]


FOLDER = "china_national_aq_hourly"
SOURCE = NAME
FEEDS = (SILVER_AIR_HOURLY,)


def matches(path: Path) -> bool:
    """By name (china_sites_YYYYMMDD.csv) or by content: a re-delivered day saved as
    'china_sites_20190115 (1).csv' or '...-fix.csv' is still this archive's layout."""
    if re.fullmatch(r"china_sites_\d{8}\.csv", path.name):
        return True
    head = first_line(path) if path.suffix.lower() == ".csv" else None
    return head is not None and [h.strip() for h in head.split(",")[:3]] == HEADER


def parse(path: Path) -> Parsed:
    header, records, rejects, read = csv_records(path, HEADER)
    stations = header[3:]
    cols: dict[str, list] = {"date": [], "hour": [], "type": []}
    cells, lines = [], []
    for line, fields in records:
        cols["date"].append(fields[0])
        cols["hour"].append(fields[1])
        cols["type"].append(fields[2])
        cells.append([(s, v) for s, v in zip(stations, fields[3:], strict=True) if v != ""])
        lines.append(line)
    return Parsed(table(cols, lines, {"cells": cells}), rejects, read)


def air_rows(bronze: DataFrame, lake: Lake) -> DataFrame:
    """Each cell (pollutant type x station column) as a sparse wide row for silver.air_hourly."""
    return sparse_wide(cnemc_cells(bronze))
