"""kdd2018: KDD Cup 2018 Beijing air quality (three file layouts) and meteorology (observed, grid)."""

from __future__ import annotations

import re
from pathlib import Path

from pyspark.sql import DataFrame

from jobs.bronze.base import Parsed, csv_records, table
from jobs.silver.air_rows import kdd_base, wide
from smartmon.catalog.names import BRONZE_KDD_AQ, SILVER_AIR_HOURLY
from smartmon.io import Lake

NAME = "kdd2018"
BRONZE = BRONZE_KDD_AQ
VALUES = ["pm25", "pm10", "no2", "co", "o3", "so2"]
# layout -> (header, index of station, time, then the six values in VALUES order)
AQ_LAYOUTS = {
    "supplement": (["stationId", "utc_time", "PM2.5", "PM10", "NO2", "CO", "O3", "SO2"], [0, 1, 2, 3, 4, 5, 6, 7]),
    "api": (
        ["id", "station_id", "time", "PM25_Concentration", "PM10_Concentration", "NO2_Concentration",
         "CO_Concentration", "O3_Concentration", "SO2_Concentration"],
        [1, 2, 3, 4, 5, 6, 7, 8],
    ),
}


FOLDER = "kddcup2018_beijing"
SOURCE = NAME
FEEDS = (SILVER_AIR_HOURLY,)


def matches(path: Path) -> bool:
    return path.suffix == ".csv" and (re.fullmatch(r"beijing_.*_aq\.csv", path.name) is not None or path.name.startswith("bj_aq_"))


def _layout(path: Path) -> str:
    with open(path, encoding="utf-8", errors="replace") as fh:
        first = fh.readline()
    return "api" if first.startswith("id,") else "supplement"


def parse(path: Path) -> Parsed:
    layout = _layout(path)
    header, idx = AQ_LAYOUTS[layout]
    _, records, rejects, read = csv_records(path, header)
    cols: dict[str, list] = {"layout": [], "station_id": [], "time": [], **{v: [] for v in VALUES}}
    for _, fields in records:
        # The API file re-saved through Excel writes times as 2018/3/31 7:00.
        cols["layout"].append("api-excel" if layout == "supplement" and "/" in fields[1] else layout)
        cols["station_id"].append(fields[idx[0]])
        cols["time"].append(fields[idx[1]])
        for name, i in zip(VALUES, idx[2:], strict=True):
            cols[name].append(fields[i])
    return Parsed(table(cols, [line for line, _ in records]), rejects, read)


def air_rows(bronze: DataFrame, lake: Lake) -> DataFrame:
    """Wide rows for silver.air_hourly."""
    return wide(*kdd_base(bronze))
