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

from smartmon.io import Lake
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
    st = lake.read("silver.stations").where(F.col("kind") == "air").select("station_id", "lat", "lon").toPandas()
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
        lake.read("silver.air_hourly")
        .groupBy("month")
        .agg(F.count("*").alias("air_rows"), F.max("ingested_at").alias("air_last_ingested"))
        .withColumn("rule_version", F.lit(rules.version))
    ).cache()
    done = lake.read("silver.qc_runs")
    todo = state.join(done, ["month", "air_rows", "air_last_ingested", "rule_version"], "left_anti")
    return sorted(r.month for r in todo.select("month").collect()), state


def run(lake: Lake, months: list[str] | None = None, rules: Rules | None = None) -> dict[str, int]:
    """Flags and screening for the given months, or for every month that changed."""
    rules = rules or load_rules()
    state = None
    if months is None:
        months, state = months_to_check(lake, rules)
    summary = {"months": len(months), "rows_out": 0}
    other = reduce(DataFrame.unionByName, [water_flags(lake.read("silver.water_obs"), rules),
                                           device_flags(lake.read("silver.hj212_values"), rules)])
    scope = "rule <> 'manual_audit' AND source_table IN ('silver.water_obs', 'silver.hj212_values')"
    summary["rows_out"] += lake.merge(other, "silver.qc_flags", delete_missing_where=scope).rows_written
    if months:
        log.info("QC of air data for %s", ", ".join(months))
        air = lake.read("silver.air_hourly").where(F.col("month").isin(months))
        flags, scores, cached = air_products(air, pairs_frame(lake, rules), rules)
        flags = flags.where(F.col("month").isin(months)).cache()
        flags.count()  # materialise once: MERGE reads its source more than once
        scope = f"rule <> 'manual_audit' AND source_table = 'silver.air_hourly' AND month IN {_in(months)}"
        summary["rows_out"] += lake.merge(flags, "silver.qc_flags", delete_missing_where=scope).rows_written
        summary["rows_out"] += lake.merge(scores, "gold.qc_screening", delete_missing_where=f"month IN {_in(months)}").rows_written
        for df in (flags, *cached):
            df.unpersist()
        if state is not None:
            lake.merge(state.where(F.col("month").isin(months)), "silver.qc_runs")
    if state is not None:
        state.unpersist()
    levels = lake.read("silver.qc_flags").groupBy("level").count().collect()
    summary.update({f"flags_{r['level'].lower()}": int(r["count"]) for r in levels})
    log.info("silver.qc_flags (rules %s): %s", rules.version, summary)
    return summary


def summary_by_rule(lake: Lake, months: list[str] | None = None) -> list[tuple[str, str, str, int]]:
    """(source_table, rule, level, flags) from silver.qc_flags, for reports and the CLI."""
    f = lake.read("silver.qc_flags")
    if months:
        f = f.where(F.col("month").isin(months))
    rows = f.groupBy("source_table", "rule", "level").agg(F.count("*").alias("n")).orderBy("source_table", "rule", "level").collect()
    return [(r.source_table, r.rule, r.level, int(r.n)) for r in rows]
