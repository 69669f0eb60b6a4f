"""Manual audit decisions (HJ 818 practice: data is preliminary until audited).

An auditor marks a station, parameter and time range valid or invalid with a reason; the event
goes to silver.audit_log (append-only), the active decisions become manual_audit flags in
silver.qc_flags (invalid = ERROR, so gold leaves the values out; valid = INFO, which overrides
automatic ERROR flags), and the air rows covered get status 'audited'. Unmarking appends an
event too: history is never rewritten.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from smartmon import changes
from smartmon.catalog.names import (
    SILVER_AIR_HOURLY,
    SILVER_AUDIT_LOG,
    SILVER_QC_FLAGS,
    SILVER_STATIONS,
)
from smartmon.errors import InputError
from smartmon.io import Lake
from smartmon.lineage import now_utc
from smartmon.qc.flagframe import AIR_PARAMETERS, as_flags
from smartmon.qc.rules import load_rules

log = logging.getLogger(__name__)
VERDICTS = ("invalid", "valid")


@dataclass(frozen=True)
class Decision:
    station_id: str
    parameter: str
    ts_from: datetime  # UTC, naive
    ts_to: datetime
    verdict: str | None
    reason: str
    auditor: str


def _event(lake: Lake, action: str, d: Decision) -> DataFrame:
    at = now_utc()
    key = "\x1f".join(map(str, (action, d.station_id, d.parameter, d.ts_from, d.ts_to, d.verdict, d.reason, d.auditor, at)))
    row = (hashlib.sha256(key.encode()).hexdigest(), action, d.station_id, d.parameter, d.ts_from, d.ts_to,
           d.verdict, d.reason, d.auditor, at)
    return lake.spark.createDataFrame([row], lake.ensure(SILVER_AUDIT_LOG).schema)


def active_marks(lake: Lake, station_id: str | None = None) -> DataFrame:
    """The decisions in force: per station, parameter and range, the latest event if it is a mark."""
    log_ = lake.read(SILVER_AUDIT_LOG)
    if station_id:
        log_ = log_.where(F.col("station_id") == station_id)
    w = Window.partitionBy("station_id", "parameter", "ts_from", "ts_to").orderBy(F.desc("recorded_at"), F.desc("event_id"))
    return log_.withColumn("_n", F.row_number().over(w)).where("_n = 1 AND action = 'mark'").drop("_n")


def _check(lake: Lake, d: Decision) -> None:
    if d.ts_to < d.ts_from:
        raise InputError(f"audit range ends before it starts: {d.ts_from} > {d.ts_to}")
    if d.parameter != "*" and d.parameter not in AIR_PARAMETERS:
        raise InputError(f"unknown parameter {d.parameter!r}: use one of {', '.join(AIR_PARAMETERS)} or '*'")
    if not d.reason.strip() or not d.auditor.strip():
        raise InputError("an audit decision needs a reason and an auditor")
    if lake.read(SILVER_STATIONS).where(F.col("station_id") == d.station_id).limit(1).count() == 0:
        raise InputError(f"unknown station {d.station_id!r} (not in silver.stations)")


def mark(lake: Lake, d: Decision) -> dict[str, int]:
    if d.verdict not in VERDICTS:
        raise InputError(f"verdict must be one of {VERDICTS}, not {d.verdict!r}")
    _check(lake, d)
    lake.append(_event(lake, "mark", d), SILVER_AUDIT_LOG)
    out = refresh(lake, d.station_id)
    changes.note(lake, SILVER_AUDIT_LOG, changes.days_spanning(d.ts_from, d.ts_to))  # the gold of these days follows
    return out


def unmark(lake: Lake, d: Decision) -> dict[str, int]:
    _check(lake, d)
    active = active_marks(lake, d.station_id).where(
        (F.col("parameter") == d.parameter) & (F.col("ts_from") == F.lit(d.ts_from)) & (F.col("ts_to") == F.lit(d.ts_to))
    )
    if active.limit(1).count() == 0:
        raise InputError(f"no active audit mark for {d.station_id} {d.parameter} {d.ts_from}..{d.ts_to} (UTC); "
                         "`smartmon audit list` shows them")
    lake.append(_event(lake, "unmark", d), SILVER_AUDIT_LOG)
    out = refresh(lake, d.station_id)
    changes.note(lake, SILVER_AUDIT_LOG, changes.days_spanning(d.ts_from, d.ts_to))
    return out


def refresh(lake: Lake, station_id: str) -> dict[str, int]:
    """Make the station's manual flags and row status agree with its active marks."""
    marks = active_marks(lake, station_id).cache()
    level = F.when(F.col("verdict") == "invalid", "ERROR").otherwise("INFO")
    detail = F.concat(F.lit("audited "), F.col("verdict"), F.lit(" by "), F.col("auditor"), F.lit(": "), F.col("reason"))
    flags = as_flags(marks, "manual_audit", level, detail, load_rules().version, SILVER_AUDIT_LOG)
    scope = f"rule = 'manual_audit' AND station_id = '{station_id}'"
    f = lake.merge(flags, SILVER_QC_FLAGS, delete_missing_where=scope)
    ranges = [f"ts BETWEEN '{m.ts_from}' AND '{m.ts_to}'" for m in marks.select("ts_from", "ts_to").distinct().collect()]
    marks.unpersist()
    covered = "(" + " OR ".join(ranges) + ")" if ranges else "false"
    # only rows whose status changes are written: rows audited before and still covered stay as they are
    station = f"station_id = '{station_id}'"
    reset = lake.update(SILVER_AIR_HOURLY, f"{station} AND status = 'audited' AND NOT {covered}", {"status": "'preliminary'"})
    audited = lake.update(SILVER_AIR_HOURLY, f"{station} AND NOT (status <=> 'audited') AND {covered}", {"status": "'audited'"})
    log.info("audit %s: %d manual flags, %d rows audited, %d back to preliminary", station_id, f.rows_written,
             audited.rows_updated, reset.rows_updated)
    return {"flags_written": f.rows_written, "rows_reset": reset.rows_updated, "rows_audited": audited.rows_updated}
