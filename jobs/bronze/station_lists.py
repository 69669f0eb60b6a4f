"""station-lists: the station lists each sub-national tier publishes (simulated feeds).

Provincial lists are GBK with Chinese headers (provincial_<code>.csv); county and township lists
UTF-8 with English headers (county.csv, township.csv)."""

from __future__ import annotations

from pathlib import Path

from jobs.bronze.base import Parsed, mapped_csv
from smartmon.catalog.names import BRONZE_STATION_LISTS, SILVER_STATIONS

NAME = "station-lists"
BRONZE = BRONZE_STATION_LISTS
FOLDER = ""  # landing zone only
SOURCE = NAME
FEEDS = (SILVER_STATIONS,)
LAYOUTS = {
    "provincial": ["站点编码", "站点名称", "站点类型", "城市", "区县代码", "经度", "纬度"],
    "county-township": ["station_code", "name", "tier", "city", "county_code", "lat", "lon"],
}


def matches(path: Path) -> bool:
    return path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    return mapped_csv(path, LAYOUTS, encoding="gbk" if path.name.startswith("provincial_") else "utf-8")
