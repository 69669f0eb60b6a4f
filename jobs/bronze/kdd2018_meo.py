"""kdd2018-meo: KDD Cup 2018 Beijing observed meteorology and the API grid files."""

from __future__ import annotations

import re
from pathlib import Path

from jobs.bronze.base import Parsed, csv_records, table
from smartmon.catalog.names import BRONZE_KDD_MEO, SILVER_METEO_HOURLY

NAME = "kdd2018-meo"
BRONZE = BRONZE_KDD_MEO
FIELDS = ["weather", "temperature", "pressure", "humidity", "wind_speed", "wind_direction"]
OBSERVED = ["station_id", "utc_time", "weather", "temperature", "pressure", "humidity", "wind_speed", "wind_direction"]
GRID = ["id", "station_id", "time", "weather", "temperature", "pressure", "humidity", "wind_direction", "wind_speed"]


FOLDER = "kddcup2018_beijing"
SOURCE = "kdd2018"
FEEDS = (SILVER_METEO_HOURLY,)


def matches(path: Path) -> bool:
    return path.suffix == ".csv" and (re.fullmatch(r"beijing_.*_me\.csv", path.name) is not None or path.name.startswith("bj_grid_"))


def parse(path: Path) -> Parsed:
    with open(path, encoding="utf-8", errors="replace") as fh:
        grid = fh.readline().startswith("id,")
    header = GRID if grid else OBSERVED
    _, records, rejects, read = csv_records(path, header)
    pos = {name: i for i, name in enumerate(header)}
    cols: dict[str, list] = {"layout": [], "station_id": [], "time": [], **{f: [] for f in FIELDS}}
    for _, fields in records:
        cols["layout"].append("grid" if grid else "observed")
        cols["station_id"].append(fields[pos["station_id"]])
        cols["time"].append(fields[pos["time" if grid else "utc_time"]])
        for f in FIELDS:
            cols[f].append(fields[pos[f]])
    return Parsed(table(cols, [line for line, _ in records]), rejects, read)
