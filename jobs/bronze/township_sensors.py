"""township-sensors: township low-cost sensors (simulated), JSON lines: device, ts (epoch seconds,
UTC, end of the hour), PM in ug/m3, gases in ppb and CO in ppm. Keys other than those are kept
in 'other'; a line that is not a JSON object with device and ts is refused."""

from __future__ import annotations

import json
from pathlib import Path

from pyspark.sql import DataFrame

from jobs.bronze.base import Parsed, decode_reason, raw_text, read_lines, table
from jobs.silver.air_rows import wide
from jobs.silver.air_tiers import township_base
from smartmon.catalog.names import BRONZE_TOWNSHIP_SENSORS, SILVER_AIR_HOURLY
from smartmon.io import Lake

NAME = "township-sensors"
BRONZE = BRONZE_TOWNSHIP_SENSORS
FOLDER = ""  # landing zone only
SOURCE = NAME
FEEDS = (SILVER_AIR_HOURLY,)
FIELDS = ["device", "ts", "pm25", "pm10", "so2_ppb", "no2_ppb", "co_ppm", "o3_ppb"]


def matches(path: Path) -> bool:
    return path.suffix == ".jsonl"


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def parse(path: Path) -> Parsed:
    cols: dict[str, list] = {f: [] for f in FIELDS}
    other, lines, rejects, read = [], [], [], 0
    for line in read_lines(path):
        read += 1
        if line.text is None:
            rejects.append((line.number, raw_text(line), decode_reason(line, "utf-8")))
            continue
        try:
            rec = json.loads(line.text)
        except json.JSONDecodeError as exc:
            rejects.append((line.number, line.text, f"not valid JSON: {exc.msg} at column {exc.colno}"))
            continue
        if not isinstance(rec, dict) or rec.get("device") in (None, "") or rec.get("ts") in (None, ""):
            rejects.append((line.number, line.text, "not a JSON object with device and ts"))
            continue
        for f in FIELDS:
            cols[f].append(_text(rec.get(f)))
        other.append([(k, str(v)) for k, v in rec.items() if k not in FIELDS and v is not None])
        lines.append(line.number)
    return Parsed(table(cols, lines, {"other": other}), rejects, read)


def air_rows(bronze: DataFrame, lake: Lake) -> DataFrame:
    """Wide rows for silver.air_hourly (units and time convention: jobs/silver/air_tiers.py)."""
    return wide(*township_base(bronze))
