"""QC job: the rule book over silver air, water and HJ 212 values -> silver.qc_flags, and the
falsification screening -> gold.qc_screening.

Flags of the days whose air values changed (smartmon.changes; the given days on the command
line) are recomputed and MERGEd, so a re-run with the same data and rules changes nothing, and
flags that no longer apply (data corrected, rules changed) are removed. Manual audit flags are never touched here.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from functools import reduce

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.gold import scope
from smartmon import changes
from smartmon.catalog.names import (
    GOLD_QC_SCREENING,
    SILVER_AIR_HOURLY,
    SILVER_CHANGE_MARKS,
    SILVER_CHANGED_DAYS,
    SILVER_HJ212_VALUES,
    SILVER_QC_FLAGS,
    SILVER_STATIONS,
    SILVER_WATER_OBS,
)
from smartmon.changes import DayWindow
from smartmon.io import Lake
from smartmon.jobspec import Job, by_day
from smartmon.qc.air import air_flags, hourly_context
from smartmon.qc.device import device_flags
from smartmon.qc.flagframe import AIR_PARAMETERS, long_values
from smartmon.qc.neighbours import rule_book_pairs
from smartmon.qc.rules import Rules, load_rules
from smartmon.qc.screening import station_day_scores
from smartmon.qc.spatial import spatial_frame
from smartmon.qc.water import water_flags

log = logging.getLogger(__name__)
LOOKBACK = timedelta(hours=24)  # every rule window whole: 8 h constant runs and 2-day offset runs across midnight


def air_station_pairs(lake: Lake, rules: Rules) -> pd.DataFrame:
    """Neighbour pairs of the air stations (computed on the driver from silver.stations)."""
    cfg = rules.air["spatial"]
    st = lake.read(SILVER_STATIONS).where(F.col("kind") == "air").select("station_id", "lat", "lon").toPandas()
    pairs = rule_book_pairs(st, cfg)
    log.info("QC neighbours: %d pairs among %d stations (the %s nearest within %s km)", len(pairs), len(st), cfg["k_nearest"], cfg["radius_km"])
    return pairs


def air_products(air: DataFrame, pairs: pd.DataFrame, rules: Rules) -> tuple[DataFrame, DataFrame, list[DataFrame]]:
    """(air flags, station-day screening scores, cached frames to unpersist) for air rows."""
    # the rows go to their station's partition once, wide: the per-station windows of the context
    # then need no shuffle of the six times as many long values
    context = hourly_context(long_values(air.repartition("station_id"), AIR_PARAMETERS)).cache()
    frame = spatial_frame(context, pairs, rules).cache()
    return air_flags(air, context, frame, rules), station_day_scores(frame, context, rules), [context, frame]


def run(lake: Lake, days: list[date] | None = None, rules: Rules | None = None, run_id: str = "") -> dict[str, int]:
    """Flags and screening for the days whose air values changed (every day of the air data
    under a rule book version not run before), or for the given days.

    Each day is checked with the LOOKBACK days before it read too: the temporal rules see the
    hours across midnight, and a station's usual relation to its neighbours (the spatial
    rules' centre and spread) is taken over the days read, not one day alone. The flags kept
    are those ending in the days checked; the flags of other days are left alone."""
    rules = rules or load_rules()
    summary = {"days": 0, "rows_out": 0}
    other = reduce(DataFrame.unionByName, [water_flags(lake.read(SILVER_WATER_OBS), rules),
                                           device_flags(lake.read(SILVER_HJ212_VALUES), rules)])
    other_scope = f"rule <> 'manual_audit' AND source_table IN ('{SILVER_WATER_OBS}', '{SILVER_HJ212_VALUES}')"
    summary["rows_out"] += lake.merge(other, SILVER_QC_FLAGS, delete_missing_where=other_scope).rows_written
    consumer = f"{SILVER_QC_FLAGS}@{rules.version}"
    with changes.consuming(lake, consumer, (SILVER_AIR_HOURLY,), lambda: scope.air_days(lake), days) as p:
        win = DayWindow.of(p.days, lookback=LOOKBACK)
        summary["days"] = len(win.days)
        if win:
            log.info("QC of air data for %s (read from %d h before)", win.describe(), LOOKBACK.total_seconds() // 3600)
            air = lake.read(SILVER_AIR_HOURLY).where(win.where())
            flags, scores, cached = air_products(air, air_station_pairs(lake, rules), rules)
            # the days are replaced, not merged: see jobs/gold/aqi_daily.py
            ending = win.predicate("ts_to", widen=False)
            air_scope = f"rule <> 'manual_audit' AND source_table = '{SILVER_AIR_HOURLY}' AND ({ending})"
            # flags are sparse (a few in a hundred station-hours): one file per month partition,
            # not one per month and task of the rules' shuffles (hundreds on a first load)
            n = lake.overwrite(flags.where(ending).repartition("month"), SILVER_QC_FLAGS, replace_where=air_scope).rows_written
            scores = scores.where(win.day_predicate()).repartition("month")
            n_scores = lake.overwrite(scores, GOLD_QC_SCREENING, replace_where=win.daily_where()).rows_written
            for df in cached:
                df.unpersist()
            if n:
                changes.note(lake, SILVER_QC_FLAGS, win.days, run_id)
            summary["rows_out"] += n + n_scores
    levels = lake.read(SILVER_QC_FLAGS).groupBy("level").count().collect()
    summary.update({f"flags_{r['level'].lower()}": int(r["count"]) for r in levels})
    log.info("silver.qc_flags (rules %s): %s", rules.version, summary)
    return summary


def summary_by_rule(lake: Lake, months: list[str] | None = None) -> list[tuple[str, str, str, int]]:
    """(source_table, rule, level, flags) from silver.qc_flags, for reports and the CLI."""
    f = lake.read(SILVER_QC_FLAGS)
    if months:
        f = f.where(F.col("month").isin(months))
    rows = f.groupBy("source_table", "rule", "level").agg(F.count("*").alias("n")).orderBy("source_table", "rule", "level").collect()
    return [(r.source_table, r.rule, r.level, int(r.n)) for r in rows]


JOB = Job(
    name=SILVER_QC_FLAGS,
    layer="qc",
    reads=(SILVER_AIR_HOURLY, SILVER_WATER_OBS, SILVER_HJ212_VALUES, SILVER_STATIONS),
    writes=(SILVER_QC_FLAGS, GOLD_QC_SCREENING),
    run=lambda ctx: run(ctx.lake, run_id=ctx.run_id),
    scope=by_day(lookback=LOOKBACK),
    records=(SILVER_CHANGED_DAYS, SILVER_CHANGE_MARKS),
    transform=air_products,
    doc="the QC rule book and the falsification screening",
)
