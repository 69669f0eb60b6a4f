"""water-auto: surface-water automatic station exports with Chinese headers.

Two layouts are known: the Zhejiang platform's hourly export (序号,站点名称,...,检测时间,...) and
a 4-hourly file whose header is shifted by one column ('KMnOAmmonia nitrogen' is two names
merged, and the line ends with a comma). For the second, the field names are the real order
found by magnitude checks (SOURCE.txt), not the header's."""

from __future__ import annotations

from pathlib import Path

from jobs.bronze.base import Parsed, csv_records, table
from smartmon.catalog.names import BRONZE_WATER_AUTO, SILVER_WATER_OBS

NAME = "water-auto"
BRONZE = BRONZE_WATER_AUTO
SHIFTED_FIELDS = ["date", "WaterQuality", "Temperature", "pH", "Dissolved Oxygen Concentration", "KMnO4",
                  "Ammonia nitrogen", "phosphorus", "N2", "Conductivity", "Turbidity"]


FOLDER = "china_surface_water"
SOURCE = NAME
FEEDS = (SILVER_WATER_OBS,)


def matches(path: Path) -> bool:
    return path.suffix == ".csv"


def parse(path: Path) -> Parsed:
    header, records, rejects, read = csv_records(path)
    if "检测时间" in header:
        layout, names = "zhejiang-hourly", header
        station_col, time_col = header.index("站点名称"), header.index("检测时间")
    elif header[:1] == ["date"] and "KMnOAmmonia nitrogen" in header:
        layout, names, station_col, time_col = "4hourly-shifted", SHIFTED_FIELDS, None, 0
    else:
        return Parsed(table({}, []), [(1, ",".join(header), f"unknown water export layout, header {header}")], 1)
    cols: dict[str, list] = {"layout": [], "station": [], "time": []}
    fields_col = []
    for _, fields in records:
        cols["layout"].append(layout)
        cols["station"].append(fields[station_col] if station_col is not None else path.stem)
        cols["time"].append(fields[time_col])
        fields_col.append([(n, v) for n, v in zip(names, fields, strict=True) if n and v != "" and n not in ("检测时间", "date")])
    return Parsed(table(cols, [line for line, _ in records], {"fields": fields_col}), rejects, read)
