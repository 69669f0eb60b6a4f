"""Falsification screening: a per station-day score for patterns typical of interference with
an analyser, ranked so reviewers look at the most suspicious days first.

Components (each about 1 at its review threshold, rules.yaml `screening`):
- drop: the lowest 3-hour mean of the robust z against the neighbours (a sudden dip while the
  area stays polluted, e.g. spraying at the inlet);
- flat: the longest run of an unchanged value that day (a frozen or replaced signal);
- shape: how much less the station's diurnal course follows its neighbours than it usually does.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from smartmon.beijing_time import beijing_day
from smartmon.qc.flagframe import hour_index
from smartmon.qc.rules import Rules


def station_day_scores(frame: DataFrame, context: DataFrame, rules: Rules) -> DataFrame:
    """frame: spatial_frame rows; context: hourly_context rows. -> one row per station-day, ranked."""
    cfg = rules.screening
    p = cfg["parameter"]
    f = frame.where(F.col("parameter") == p).withColumn("_h", hour_index(F.col("ts")))
    w3 = Window.partitionBy("station_id").orderBy("_h").rangeBetween(-2, 0)
    f = f.withColumn("z3", F.when(F.count("z").over(w3) == 3, F.avg("z").over(w3)))
    days = f.groupBy("station_id", "day").agg(
        F.min("z3").alias("min_z3"), F.corr("value", "nb_median").alias("corr"), F.count("*").alias("n_hours")
    ).where(F.col("n_hours") >= int(rules.air["spatial"]["min_hours_day"]))  # too few hours say nothing
    usual = days.groupBy("station_id").agg(F.median("corr").alias("usual_corr"))
    days = days.join(usual, "station_id", "left")

    v = context.where(F.col("parameter") == p)
    v = v.withColumn("run_hours", F.count("*").over(Window.partitionBy("station_id", "_run")))
    flat = v.groupBy("station_id", beijing_day(F.col("ts")).alias("day")).agg(F.max("run_hours").alias("longest_run"))

    s = days.join(flat, ["station_id", "day"], "left")
    s = s.select(
        "station_id", "day", "n_hours", "longest_run", "corr", "usual_corr",
        (F.greatest(-F.col("min_z3"), F.lit(0.0)) / float(cfg["drop_scale"])).alias("drop_score"),
        (F.coalesce(F.col("longest_run"), F.lit(0)) / float(cfg["flat_scale"])).alias("flat_score"),
        (F.greatest(F.col("usual_corr") - F.col("corr"), F.lit(0.0)) / float(cfg["shape_scale"])).alias("shape_score"),
    ).fillna(0.0, subset=["drop_score", "shape_score"])
    score = F.greatest("drop_score", "flat_score", "shape_score")
    reason = (F.when(F.col("drop_score") == score, "drop").when(F.col("flat_score") == score, "flat").otherwise("shape"))
    s = s.withColumn("score", score).withColumn("reason", reason)
    s = s.withColumn("rank", F.row_number().over(Window.orderBy(F.desc("score"), "station_id", "day")))
    return s.select(
        "station_id", "day", F.date_format("day", "yyyy-MM").alias("month"), F.round("score", 4).alias("score"), "rank", "reason",
        F.round("drop_score", 4).alias("drop_score"), F.round("flat_score", 4).alias("flat_score"),
        F.round("shape_score", 4).alias("shape_score"), F.col("n_hours").cast("int").alias("n_hours"),
        F.lit(p).alias("parameter"), F.lit(rules.version).alias("rule_version"),
    )



