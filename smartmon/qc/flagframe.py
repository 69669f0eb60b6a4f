"""Shared shapes of QC: values in long form, flags in the silver.qc_flags layout, and runs of
consecutive flagged hours collapsed into one flag each."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from smartmon.beijing_time import month_local

AIR_PARAMETERS = ("pm25", "pm10", "so2", "no2", "co", "o3")
FLAG_COLUMNS = ("station_id", "parameter", "ts_from", "ts_to", "month", "rule", "rule_version", "level", "detail", "source_table")


def long_values(wide: DataFrame, parameters: tuple[str, ...] = AIR_PARAMETERS) -> DataFrame:
    """(station_id, ts, parameter, value) for every non-null value of the given columns."""
    pairs = F.explode(F.array(*[F.struct(F.lit(p).alias("parameter"), F.col(p).cast("double").alias("value")) for p in parameters]))
    return wide.select("station_id", "ts", pairs.alias("c")).select("station_id", "ts", "c.*").where(F.col("value").isNotNull())


def hour_index(ts: Column) -> Column:
    return (F.unix_timestamp(ts) / 3600).cast("long")


def as_flags(df: DataFrame, rule: str, level: Column | str, detail: Column, version: str, source_table: str) -> DataFrame:
    """Rows with station_id, parameter, ts_from, ts_to -> the qc_flags layout."""
    lvl = F.lit(level) if isinstance(level, str) else level
    return df.select(
        "station_id", "parameter", "ts_from", "ts_to",
        month_local("ts_from").alias("month"),
        F.lit(rule).alias("rule"), F.lit(version).alias("rule_version"), lvl.alias("level"),
        detail.alias("detail"), F.lit(source_table).alias("source_table"),
    )


def hour_runs(flagged: DataFrame, min_hours: int = 1) -> DataFrame:
    """Flagged hourly rows (station_id, parameter, ts, value) -> one row per run of consecutive
    hours: ts_from, ts_to, hours, max_value, min_value."""
    w = Window.partitionBy("station_id", "parameter").orderBy("ts")
    grouped = flagged.withColumn("_grp", hour_index(F.col("ts")) - F.row_number().over(w))
    runs = grouped.groupBy("station_id", "parameter", "_grp").agg(
        F.min("ts").alias("ts_from"), F.max("ts").alias("ts_to"), F.count("*").alias("hours"),
        F.max("value").alias("max_value"), F.min("value").alias("min_value"),
    )
    return runs.where(F.col("hours") >= min_hours).drop("_grp")


def median_of(values: Column) -> Column:
    """The median of an array column (null when empty; the mean of the two middle values of an
    even count, as Spark's median gives; NaN sorts above every number in both). Over
    collect_list it takes the place of F.median in a grouped aggregation: a sorted array per
    group instead of a map of value counts per group."""
    s = F.array_sort(values)
    n = F.size(s)
    mid = F.element_at(s, (n / 2).cast("int") + 1)
    low = F.element_at(s, F.greatest((n / 2).cast("int"), F.lit(1)))
    return F.when(n == 0, None).when(n % 2 == 1, mid).otherwise((low + mid) / 2)


def lookup(mapping: dict[str, object]) -> Column:
    """A literal map column, for per-parameter thresholds: lookup(t)[F.col("parameter")]."""
    return F.create_map(*[x for k, v in mapping.items() for x in (F.lit(k), F.lit(v))])


def fmt(x: Column, digits: int = 1) -> Column:
    return F.format_number(x, digits)
