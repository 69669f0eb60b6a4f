"""cnemc-archive: the CNEMC national hourly archive, china_sites_YYYYMMDD.csv (wide)."""

from __future__ import annotations

import re
from pathlib import Path

from jobs.bronze.base import Parsed, csv_records, table
from smartmon.catalog.names import BRONZE_CNEMC_HOURLY

NAME = "cnemc-archive"
BRONZE = BRONZE_CNEMC_HOURLY
HEADER = ["date", "hour", "type"]


FOLDER = "china_national_aq_hourly"


def matches(path: Path) -> bool:
    return re.fullmatch(r"china_sites_\d{8}\.csv", path.name) is not None


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
