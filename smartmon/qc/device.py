"""Device and data flags carried by HJ 212 (F, M, S, D, C, T, B, and P from 2005 messages):
each run of the same flag on a device and parameter becomes one flag, so a calibration or
maintenance window is one row with its start and end."""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from smartmon.catalog.names import SILVER_HJ212_VALUES
from smartmon.qc.flagframe import as_flags, lookup
from smartmon.qc.rules import Rules

SOURCE = SILVER_HJ212_VALUES


def device_flags(values: DataFrame, rules: Rules) -> DataFrame:
    """silver.hj212_values rows -> flags for every value whose data flag is not normal."""
    table = rules.device["flags"]
    level = lookup({k: lvl for k, (lvl, _) in table.items()})
    meaning = lookup({k: m for k, (_, m) in table.items()})
    v = values.select(
        F.col("mn").alias("station_id"), F.coalesce(F.col("parameter"), F.col("code")).alias("parameter"),
        F.col("data_time").alias("ts"), F.upper(F.trim("data_flag")).alias("flag"),
    ).dropDuplicates(["station_id", "parameter", "ts"])
    w = Window.partitionBy("station_id", "parameter").orderBy("ts")
    wf = Window.partitionBy("station_id", "parameter", "flag").orderBy("ts")
    v = v.withColumn("_grp", F.row_number().over(w) - F.row_number().over(wf))
    runs = v.where(level[F.col("flag")].isNotNull()).groupBy("station_id", "parameter", "flag", "_grp").agg(
        F.min("ts").alias("ts_from"), F.max("ts").alias("ts_to"), F.count("*").alias("n")
    )
    detail = F.concat(F.lit("HJ 212 data flag "), F.col("flag"), F.lit(" ("), meaning[F.col("flag")], F.lit(") on "),
                      F.col("n"), F.lit(" values"))
    return as_flags(runs, "device_flag", level[F.col("flag")], detail, rules.version, SOURCE)
