"""Air QC rules over silver.air_hourly (pure DataFrame -> DataFrame transforms).

Each rule returns flags in the silver.qc_flags layout. The thresholds come from rules.yaml;
how they were chosen is in the README ("Quality control").
"""

from __future__ import annotations

from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from smartmon.catalog.names import SILVER_AIR_HOURLY
from smartmon.qc.flagframe import (
    as_flags,
    fmt,
    hour_index,
    hour_runs,
    lookup,
    median_of,
)
from smartmon.qc.rules import Rules
from smartmon.qc.spatial import spatial_flags

SOURCE = SILVER_AIR_HOURLY


def _by_parameter(mapping: dict[str, float]) -> Column:
    return lookup({k: float(v) for k, v in mapping.items()})


def range_flags(values: DataFrame, rules: Rules) -> DataFrame:
    """Negative or physically impossible values -> ERROR, one flag per run of such hours."""
    lo = _by_parameter({k: a for k, (a, _) in rules.air["range"].items()})
    hi = _by_parameter({k: b for k, (_, b) in rules.air["range"].items()})
    p = F.col("parameter")
    bad = values.where((F.col("value") < lo[p]) | (F.col("value") > hi[p]))
    runs = hour_runs(bad)
    detail = F.concat(F.lit("outside ["), fmt(lo[p], 0), F.lit(", "), fmt(hi[p], 0), F.lit("]: min "), fmt(F.col("min_value")),
                      F.lit(" max "), fmt(F.col("max_value")), F.lit(" over "), F.col("hours"), F.lit(" h"))
    return as_flags(runs, "range", "ERROR", detail, rules.version, SOURCE)


def hourly_context(values: DataFrame) -> DataFrame:
    """Long values with what the temporal rules need, from one sort per station and parameter:
    _h (hour index), prev / next (the adjacent hours' values), _around (values within 3 h either
    side), _run (id of the run of unchanged values in consecutive hours)."""
    w = Window.partitionBy("station_id", "parameter").orderBy("_h")
    v = values.withColumn("_h", hour_index(F.col("ts")))
    h = F.col("_h")

    def near(fn, j: int) -> Column:
        return F.when(F.abs(fn("_h", j).over(w) - h) <= 3, fn("value", j).over(w))

    around = F.filter(F.array(*[near(F.lag, j) for j in (1, 2, 3)], *[near(F.lead, j) for j in (1, 2, 3)]), lambda x: x.isNotNull())
    prev = F.when(F.lag("_h", 1).over(w) == h - 1, F.lag("value", 1).over(w))
    nxt = F.when(F.lead("_h", 1).over(w) == h + 1, F.lead("value", 1).over(w))
    new = F.coalesce(prev != F.col("value"), F.lit(True)).cast("int")
    v = v.select("*", around.alias("_around"), prev.alias("prev"), nxt.alias("next"), new.alias("_new"))
    return v.withColumn("_run", F.sum("_new").over(w.rowsBetween(Window.unboundedPreceding, 0))).drop("_new")


def constant_runs(context: DataFrame) -> DataFrame:
    """Runs of the same value in consecutive hours: station_id, parameter, value, ts_from, ts_to, hours."""
    return context.groupBy("station_id", "parameter", "_run").agg(
        F.first("value").alias("value"), F.min("ts").alias("ts_from"), F.max("ts").alias("ts_to"), F.count("*").alias("hours"),
    ).drop("_run")


def constant_flags(context: DataFrame, rules: Rules) -> DataFrame:
    cfg = rules.air["constant"]
    runs = constant_runs(context).where(F.col("hours") >= cfg["hours"])
    runs = runs.where(F.col("value") > _by_parameter(cfg["floor"])[F.col("parameter")])
    detail = F.concat(F.lit("value "), fmt(F.col("value"), 2), F.lit(" unchanged for "), F.col("hours"), F.lit(" h"))
    return as_flags(runs, "constant", "WARNING", detail, rules.version, SOURCE)


def spike_flags(context: DataFrame, rules: Rules) -> DataFrame:
    """A value far above the 3 hours either side and above both adjacent hours -> WARNING."""
    cfg = rules.air["spike"]
    k = float(cfg["factor"])
    floor = _by_parameter(cfg["floor"])[F.col("parameter")]
    # the cheap tests first: the median of the hours around is sorted only for the few values
    # already above both adjacent hours
    above = (
        (F.size("_around") >= 4)
        & (F.col("prev").isNull() | (F.col("value") > k * F.col("prev")))
        & (F.col("next").isNull() | (F.col("value") > k * F.col("next")))
    )
    v = context.where(above).withColumn("med", median_of(F.col("_around")))
    hits = v.where((F.col("value") > k * F.col("med")) & (F.col("value") - F.col("med") > floor)).select("station_id", "parameter", F.col("ts").alias("ts_from"), F.col("ts").alias("ts_to"), "value", "med")
    detail = F.concat(F.lit("value "), fmt(F.col("value")), F.lit(" against a median of "), fmt(F.col("med")), F.lit(" in the 3 h either side"))
    return as_flags(hits, "spike", "WARNING", detail, rules.version, SOURCE)


def pm_ratio_flags(wide: DataFrame, rules: Rules) -> DataFrame:
    """PM2.5 above PM10 (WARNING beyond tolerance, INFO within) and implausibly low PM2.5/PM10 (INFO)."""
    cfg = rules.air["pm_ratio"]
    both = wide.where(F.col("pm25").isNotNull() & F.col("pm10").isNotNull()).select(
        "station_id", "ts", F.lit("pm25").alias("parameter"), "pm25", "pm10"
    )
    beyond = (F.col("pm25") > F.col("pm10") * float(cfg["tolerance_factor"])) & (F.col("pm25") - F.col("pm10") > float(cfg["tolerance_abs"]))
    inverted = both.where(F.col("pm25") > F.col("pm10")).withColumn("level", F.when(beyond, "WARNING").otherwise("INFO"))
    low = both.where((F.col("pm25") < float(cfg["low_ratio"]) * F.col("pm10")) & (F.col("pm10") > float(cfg["low_ratio_pm10"])))
    detail = F.concat(F.lit("PM2.5 "), fmt(F.col("pm25")), F.lit(" / PM10 "), fmt(F.col("pm10")))
    inv = inverted.select("*", F.col("ts").alias("ts_from"), F.col("ts").alias("ts_to"))
    lo = low.select("*", F.col("ts").alias("ts_from"), F.col("ts").alias("ts_to"))
    return as_flags(inv, "pm_ratio", F.col("level"), detail, rules.version, SOURCE).unionByName(
        as_flags(lo, "pm_low_ratio", "INFO", detail, rules.version, SOURCE)
    )


def air_flags(air: DataFrame, context: DataFrame, frame: DataFrame | None, rules: Rules) -> DataFrame:
    """Every air rule. context: hourly_context(long_values(air)); frame: spatial_frame(...) or
    None to leave the spatial rules out (passed in so callers can cache and reuse them)."""
    parts = [range_flags(context, rules), constant_flags(context, rules), spike_flags(context, rules), pm_ratio_flags(air, rules)]
    if frame is not None:
        parts.append(spatial_flags(frame, rules))
    return reduce(DataFrame.unionByName, parts)
