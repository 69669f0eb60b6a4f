"""QC job: the rule book over silver air, water and HJ 212 values -> silver.qc_flags, and the
falsification screening -> gold.qc_screening.

Flags of the months given (default: every month with air data) are recomputed and MERGEd, so a
re-run with the same data and rules changes nothing, and flags that no longer apply (data
corrected, rules changed) are removed. Manual audit flags are never touched here.
"""

from __future__ import annotations

import logging
from functools import reduce

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from smartmon.catalog.names import (
    GOLD_QC_SCREENING,
    SILVER_AIR_HOURLY,
    SILVER_HJ212_VALUES,
    SILVER_QC_FLAGS,
    SILVER_QC_RUNS,
    SILVER_STATIONS,
    SILVER_WATER_OBS,
)
from smartmon.io import Lake
from smartmon.jobspec import Job, by_month
from smartmon.qc.air import air_flags, hourly_context
from smartmon.qc.device import device_flags
from smartmon.qc.flagframe import AIR_PARAMETERS, long_values
from smartmon.qc.neighbours import rule_book_pairs
from smartmon.qc.rules import Rules, load_rules
from smartmon.qc.screening import station_day_scores
from smartmon.qc.spatial import spatial_frame
from smartmon.qc.water import water_flags

log = logging.getLogger(__name__)


def pairs_frame(lake: Lake, rules: Rules) -> DataFrame:
    """Neighbour pairs of the air stations (computed on the driver from silver.stations)."""
    cfg = rules.air["spatial"]
    st = lake.read(SILVER_STATIONS).where(F.col("kind") == "air").select("station_id", "lat", "lon").toPandas()
    pairs = rule_book_pairs(st, cfg)
    log.info("QC neighbours: %d pairs among %d stations (the %s nearest within %s km)", len(pairs), len(st), cfg["k_nearest"], cfg["radius_km"])
    schema = "station_id string, neighbour_id string, distance_km double"
    return lake.spark.createDataFrame(pairs, schema) if len(pairs) else lake.spark.createDataFrame([], schema)


def air_products(air: DataFrame, pairs: DataFrame, rules: Rules) -> tuple[DataFrame, DataFrame, list[DataFrame]]:
    """(air flags, station-day screening scores, cached frames to unpersist) for air rows."""
    context = hourly_context(long_values(air, AIR_PARAMETERS)).cache()
    frame = spatial_frame(context, pairs, rules).cache()
    return air_flags(air, context, frame, rules), station_day_scores(frame, context, rules), [context, frame]


def _in(months: list[str]) -> str:
    return "(" + ", ".join(f"'{m}'" for m in months) + ")"


def months_to_check(lake: Lake, rules: Rules) -> tuple[list[str], DataFrame]:
    """Months of air data whose rows changed since the last check, or checked with other rules."""
    state = (
        lake.read(SILVER_AIR_HOURLY)
        .groupBy("month")
        .agg(F.count("*").alias("air_rows"), F.max("ingested_at").alias("air_last_ingested"))
        .withColumn("rule_version", F.lit(rules.version))
    ).cache()
    done = lake.read(SILVER_QC_RUNS)
    todo = state.join(done, ["month", "air_rows", "air_last_ingested", "rule_version"], "left_anti")
    return sorted(r.month for r in todo.select("month").collect()), state


def run(lake: Lake, months: list[str] | None = None, rules: Rules | None = None) -> dict[str, int]:
    """Flags and screening for the given months, or for every month that changed."""
    rules = rules or load_rules()
    state = None
    if months is None:
        months, state = months_to_check(lake, rules)
    summary = {"months": len(months), "rows_out": 0}
    other = reduce(DataFrame.unionByName, [water_flags(lake.read(SILVER_WATER_OBS), rules),
                                           device_flags(lake.read(SILVER_HJ212_VALUES), rules)])
    scope = f"rule <> 'manual_audit' AND source_table IN ('{SILVER_WATER_OBS}', '{SILVER_HJ212_VALUES}')"
    summary["rows_out"] += lake.merge(other, SILVER_QC_FLAGS, delete_missing_where=scope).rows_written
    if months:
        log.info("QC of air data for %s", ", ".join(months))
        air = lake.read(SILVER_AIR_HOURLY).where(F.col("month").isin(months))
        flags, scores, cached = air_products(air, pairs_frame(lake, rules), rules)
        flags = flags.where(F.col("month").isin(months)).cache()
        flags.count()  # materialise once: MERGE reads its source more than once
        scope = f"rule <> 'manual_audit' AND source_table = '{SILVER_AIR_HOURLY}' AND month IN {_in(months)}"
        summary["rows_out"] += lake.merge(flags, SILVER_QC_FLAGS, delete_missing_where=scope).rows_written
        summary["rows_out"] += lake.merge(scores, GOLD_QC_SCREENING, delete_missing_where=f"month IN {_in(months)}").rows_written
        for df in (flags, *cached):
            df.unpersist()
        if state is not None:
            lake.merge(state.where(F.col("month").isin(months)), SILVER_QC_RUNS)
    if state is not None:
        state.unpersist()
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
    writes=(SILVER_QC_FLAGS, GOLD_QC_SCREENING, SILVER_QC_RUNS),
    run=lambda ctx: run(ctx.lake),
    scope=by_month(),
    transform=air_products,
    doc="the QC rule book and the falsification screening",
)
