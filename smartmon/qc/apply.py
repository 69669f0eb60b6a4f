"""How flags act on data: values under an ERROR flag are left out of gold products (unless an
auditor marked the range valid), and the products count what they left out."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from smartmon.catalog.names import SILVER_AIR_HOURLY, SILVER_AUDIT_LOG
from smartmon.qc.flagframe import AIR_PARAMETERS


def _hours(flags: DataFrame) -> DataFrame:
    """Flag ranges -> one row per station, parameter and hour covered ('*' expanded)."""
    params = F.array(*[F.lit(p) for p in AIR_PARAMETERS])
    return flags.select(
        "station_id",
        F.explode(F.when(F.col("parameter") == "*", params).otherwise(F.array("parameter"))).alias("parameter"),
        F.explode(F.sequence(F.date_trunc("hour", "ts_from"), F.col("ts_to"), F.expr("INTERVAL 1 HOUR"))).alias("ts"),
    )


def excluded_hours(flags: DataFrame) -> DataFrame:
    """(station_id, ts, parameter) of air values gold must not use."""
    air = flags.where(F.col("source_table").isin(SILVER_AIR_HOURLY, SILVER_AUDIT_LOG))
    bad = _hours(air.where(F.col("level") == "ERROR"))
    confirmed = _hours(air.where((F.col("rule") == "manual_audit") & (F.col("level") == "INFO")))
    return bad.join(confirmed, ["station_id", "parameter", "ts"], "left_anti").distinct()


def valid_air(air: DataFrame, flags: DataFrame | None) -> DataFrame:
    """silver.air_hourly with excluded values set to null and n_excluded counting them."""
    if flags is None:
        return air.withColumn("n_excluded", F.lit(0))
    ex = excluded_hours(flags).groupBy("station_id", "ts").agg(F.collect_set("parameter").alias("_ex"))
    df = air.join(ex, ["station_id", "ts"], "left").withColumn("_ex", F.coalesce(F.col("_ex"), F.array().cast("array<string>")))
    hit = {p: F.array_contains(F.col("_ex"), p) & F.col(p).isNotNull() for p in AIR_PARAMETERS}
    df = df.withColumn("n_excluded", sum((h.cast("int") for h in hit.values()), F.lit(0)).cast("int"))
    for p, h in hit.items():
        df = df.withColumn(p, F.when(h, F.lit(None).cast("double")).otherwise(F.col(p)))
    return df.drop("_ex")
