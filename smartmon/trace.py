"""`smartmon trace`: from a published value down to the bytes a source sent.

The chain: gold row -> the silver row it was computed from, with the QC flags over it ->
the bronze rows that silver row came from -> the landing file, its line and whether the file
still has the SHA-256 recorded at ingest (or, for HJ 212, the frame and its CRC checked again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pyspark.sql import Row
from pyspark.sql import functions as F

from smartmon.beijing_time import to_beijing, to_utc_naive
from smartmon.catalog.names import (
    BRONZE_HJ212_FRAMES,
    BRONZE_INGEST_BATCHES,
    GOLD_AQI_HOURLY,
    SILVER_AIR_HOURLY,
    SILVER_HJ212_VALUES,
    SILVER_QC_FLAGS,
    SILVER_VALUE_CORRECTIONS,
    SILVER_WATER_OBS,
)
from smartmon.errors import InputError
from smartmon.io import Lake
from smartmon.lineage import sha256_file
from smartmon.standards.hj212 import crc16

TRACEABLE = (GOLD_AQI_HOURLY, SILVER_AIR_HOURLY, SILVER_WATER_OBS, SILVER_HJ212_VALUES)


@dataclass
class Trace:
    sections: list[tuple[str, list[str]]] = field(default_factory=list)

    def add(self, title: str, lines: list[str]) -> None:
        self.sections.append((title, lines))

    def text(self) -> str:
        out = []
        for title, lines in self.sections:
            out.append(title)
            out += [f"  {line}" for line in lines] or ["  (nothing)"]
        return "\n".join(out)


def parse_time(text: str) -> datetime:
    """ISO time -> naive UTC. Without a zone the time is Beijing time, as users read the data."""
    try:
        t = datetime.fromisoformat(text)  # Python 3.11 reads a trailing Z
    except ValueError as exc:
        raise InputError(f"not an ISO time: {text!r} (e.g. 2019-01-15T08:00, Beijing time)") from exc
    return to_utc_naive(t)


def _fmt(row: Row, skip: tuple[str, ...] = ()) -> str:
    return ", ".join(f"{k}={v}" for k, v in row.asDict().items() if v is not None and k not in skip)


def _landing(lake: Lake, trace: Trace, source_file: str, lines: list[int]) -> None:
    manifest = (lake.read(BRONZE_INGEST_BATCHES).where(F.col("source_file") == source_file)
                .where("status = 'ingested'").select("file_sha256", "batch_id").first())
    path = Path(source_file)
    out = [f"file {source_file}"]
    if manifest is None:
        out.append("no ingest manifest names this file")
    if not path.exists():
        out.append("MISSING: the landing file is no longer there")
    else:
        if manifest is not None:
            same = sha256_file(path) == manifest.file_sha256
            out.append(f"sha256 {manifest.file_sha256[:16]}... batch {manifest.batch_id}: "
                       + ("unchanged since ingest" if same else "CHANGED since ingest"))
        wanted = set(lines)
        with open(path, encoding="utf-8", errors="replace") as fh:
            for n, text in enumerate(fh, start=1):
                if n in wanted:
                    text = text.rstrip("\r\n")
                    out.append(f"line {n}: {text[:160]}{' ...' if len(text) > 160 else ''}")
                if n >= max(wanted, default=0):
                    break
    trace.add("landing", out)


def _bronze_of(lake: Lake, trace: Trace, row: Row, station_id: str, ts: datetime) -> None:
    from jobs.bronze.adapter import adapters

    adapter = adapters().get(row.source)
    if adapter is None:
        trace.add("bronze", [f"source {row.source!r} has no adapter"])
        return
    bronze = lake.read(adapter.BRONZE).where(F.col("source_file") == row.source_file)
    if row.source == "cnemc-archive":
        local = to_beijing(ts)
        bronze = bronze.where((F.col("date") == local.strftime("%Y%m%d")) & (F.col("hour").cast("int") == local.hour))
        bronze = bronze.where(F.map_contains_key("cells", station_id)).select(
            "source_line", "date", "hour", "type", F.col("cells")[station_id].alias("value_text"), "batch_id")
    else:
        bronze = bronze.where(F.col("source_line") == row.source_line)
        if "cells" in bronze.columns:
            bronze = bronze.drop("cells")
    rows = bronze.orderBy("source_line").collect()
    trace.add(f"bronze ({adapter.BRONZE})", [_fmt(r, ("ingested_at",)) for r in rows])
    if row.source == "hj212":
        checks = []
        for r in lake.read(BRONZE_HJ212_FRAMES).where(
                (F.col("source_file") == row.source_file) & (F.col("source_line") == row.source_line)).collect():
            data = r.frame[6:-4]
            calc = f"{crc16(data.encode('latin-1')):04X}"
            checks.append(f"frame {r.frame[:120]}...  CRC sent {r.crc}, recomputed {calc}: " + ("ok" if calc == r.crc else "MISMATCH"))
        trace.add("HJ 212 frame", checks)
    _landing(lake, trace, row.source_file, sorted({r.source_line for r in rows} | {row.source_line}))


def _flags(lake: Lake, station_id: str, ts: datetime, parameter: str | None = None) -> list[str]:
    f = lake.read(SILVER_QC_FLAGS).where(
        (F.col("station_id") == station_id) & (F.col("ts_from") <= F.lit(ts)) & (F.col("ts_to") >= F.lit(ts)))
    if parameter:
        f = f.where(F.col("parameter").isin(parameter, "*"))
    return [f"{r.level} {r.rule} [{r.parameter}] {r.detail} (rules {r.rule_version})" for r in f.orderBy("parameter", "rule").collect()]


def superseded(lake: Lake, table: str, station_id: str, ts: datetime) -> list[str]:
    """Every value of the row a later delivery replaced, oldest first, with both deliveries."""
    if not lake.exists(SILVER_VALUE_CORRECTIONS):
        return []
    rows = (lake.read(SILVER_VALUE_CORRECTIONS)
            .where((F.col("table_name") == table) & (F.col("station_id") == station_id) & (F.col("ts") == F.lit(ts)))
            .orderBy("corrected_at", "column").collect())
    return [f"{r.column}: {r.old_value} ({r.old_source_file}:{r.old_source_line}, {r.old_status}) -> {r.new_value} "
            f"({r.new_source_file}:{r.new_source_line}, batch {r.new_batch_id}, at {r.corrected_at:%Y-%m-%d %H:%M:%S} UTC)"
            for r in rows]


def trace(lake: Lake, table: str, keys: list[str]) -> Trace:
    if table not in TRACEABLE:
        raise InputError(f"cannot trace {table}: traceable tables are {', '.join(TRACEABLE)}")
    if len(keys) < 2:
        raise InputError(f"{table}: give STATION (or MN) and TIME, e.g. 1001A 2019-01-15T08:00 (Beijing time)")
    station_id, ts = keys[0], parse_time(keys[1])
    t = Trace()
    t.add("key", [f"{table} {station_id} at {ts:%Y-%m-%d %H:%M} UTC"])
    if table == GOLD_AQI_HOURLY:
        rows = lake.read(table).where((F.col("station_id") == station_id) & (F.col("ts") == F.lit(ts))).collect()
        if not rows:
            raise InputError(f"no gold.aqi_hourly row for {station_id} at {ts} UTC")
        t.add(GOLD_AQI_HOURLY, [_fmt(r) for r in rows])
        table = SILVER_AIR_HOURLY
    if table == SILVER_HJ212_VALUES:
        rows = lake.read(table).where((F.col("mn") == station_id) & (F.col("data_time") == F.lit(ts))).collect()
    else:
        rows = lake.read(table).where((F.col("station_id") == station_id) & (F.col("ts") == F.lit(ts))).collect()
    if not rows:
        raise InputError(f"no {table} row for {station_id} at {ts} UTC")
    t.add(table, [_fmt(r, ("month",)) for r in rows])
    if table == SILVER_AIR_HOURLY:
        t.add("superseded values (silver.value_corrections)", superseded(lake, table, station_id, ts))
    t.add(SILVER_QC_FLAGS, _flags(lake, station_id, ts))
    seen = set()
    for r in rows:
        if (r.source_file, r.source_line) not in seen:
            seen.add((r.source_file, r.source_line))
            _bronze_of(lake, t, r, station_id, ts)
    return t
