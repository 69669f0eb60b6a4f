"""Spatial consistency: each station against the median of its neighbours, hour by hour.

d = ln((x + 5) / (neighbour median + 5)) is centred on the station's own median d over the
window, so a station that always reads higher than its neighbours (a kerbside site, a valley)
is not an outlier; only a change against its usual relation is. Robust z uses the MAD.
"""

from __future__ import annotations

import math

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from smartmon.beijing_time import beijing_day
from smartmon.catalog.names import SILVER_AIR_HOURLY
from smartmon.qc.flagframe import as_flags, fmt, hour_runs
from smartmon.qc.rules import Rules

MAD_SCALE = 1.4826


def spatial_frame(values: DataFrame, pairs: DataFrame, rules: Rules) -> DataFrame:
    """station_id, parameter, ts, value, nb_median, n_nb, dev (centred d), z, day."""
    cfg = rules.air["spatial"]
    v = values.where(F.col("parameter").isin(*cfg["parameters"])).select("station_id", "parameter", "ts", "value")
    nb = v.select(F.col("station_id").alias("neighbour_id"), "ts", "parameter", F.col("value").alias("nb_value"))
    joined = F.broadcast(pairs.select("station_id", "neighbour_id")).join(nb, "neighbour_id")
    med = joined.groupBy("station_id", "parameter", "ts").agg(F.median("nb_value").alias("nb_median"), F.count("*").alias("n_nb"))
    med = med.where(F.col("n_nb") >= int(cfg["min_neighbours"]))
    f = v.join(med, ["station_id", "parameter", "ts"])
    f = f.withColumn("d", F.log((F.col("value") + 5) / (F.col("nb_median") + 5)))
    # station statistics as window aggregates: one shuffle, and f is not recomputed per join
    station = Window.partitionBy("station_id", "parameter")
    f = f.withColumn("dev", F.col("d") - F.median("d").over(station))
    f = f.withColumn("spread", F.median(F.abs("dev")).over(station) * MAD_SCALE)
    f = f.withColumn("z", F.col("dev") / F.greatest(F.col("spread"), F.lit(0.1)))
    return f.withColumn("day", beijing_day(F.col("ts"))).drop("d")


def outlier_flags(frame: DataFrame, rules: Rules) -> DataFrame:
    cfg = rules.air["spatial"]
    hits = frame.where(F.abs("z") > float(cfg["outlier_z"]))
    runs = hour_runs(hits.select("station_id", "parameter", "ts", F.col("z").alias("value")))
    detail = F.concat(F.lit("robust z against neighbours from "), fmt(F.col("min_value")), F.lit(" to "), fmt(F.col("max_value")),
                      F.lit(" over "), F.col("hours"), F.lit(" h"))
    return as_flags(runs, "spatial_outlier", "INFO", detail, rules.version, SILVER_AIR_HOURLY)


def drop_flags(frame: DataFrame, rules: Rules) -> DataFrame:
    """A sudden drop against the neighbours lasting hours (typical of interference at the inlet)."""
    cfg = rules.air["spatial"]
    hits = frame.where((F.col("z") < float(cfg["drop_z"])) & (F.col("dev") < math.log(float(cfg["drop_ratio"]))))
    runs = hour_runs(hits.select("station_id", "parameter", "ts", F.col("z").alias("value")), int(cfg["drop_hours"]))
    detail = F.concat(F.lit("below the neighbours for "), F.col("hours"), F.lit(" h, robust z down to "), fmt(F.col("min_value")))
    return as_flags(runs, "spatial_drop", "WARNING", detail, rules.version, SILVER_AIR_HOURLY)


def daily_offsets(frame: DataFrame, rules: Rules) -> DataFrame:
    """station_id, parameter, day, mdev (daily median dev, recentred), zd (mdev in units of the
    daily spread), mz (median hourly z), n_hours, ts_from, ts_to."""
    cfg = rules.air["spatial"]
    days = frame.groupBy("station_id", "parameter", "day").agg(
        F.median("dev").alias("mdev"), F.median("z").alias("mz"), F.count("*").alias("n_hours"),
        F.min("ts").alias("ts_from"), F.max("ts").alias("ts_to")
    ).where(F.col("n_hours") >= int(cfg["min_hours_day"]))
    centre = days.groupBy("station_id", "parameter").agg(F.median("mdev").alias("c"))
    days = days.join(centre, ["station_id", "parameter"]).withColumn("mdev", F.col("mdev") - F.col("c")).drop("c")
    sd = days.groupBy("station_id", "parameter").agg((F.median(F.abs("mdev")) * MAD_SCALE).alias("sd"))
    return days.join(sd, ["station_id", "parameter"]).withColumn("zd", F.col("mdev") / F.greatest(F.col("sd"), F.lit(0.05)))


def offset_flags(frame: DataFrame, rules: Rules) -> DataFrame:
    """Days on which the station sits off its usual relation to its neighbours, persisting over
    offset_days consecutive days with the same sign (a drifting or mis-calibrated analyser).

    Each day of the run must lean the same way (|z| > offset_day_z, |d| > offset_day_min); the
    run as a whole must be strong (mean |d| >= offset_min, sum of |z| >= offset_run_z), so two
    moderately shifted days count as much as one extreme day would."""
    cfg = rules.air["spatial"]
    days = daily_offsets(frame, rules)
    z = F.greatest(F.abs("zd"), F.abs("mz"))
    cand = (z > float(cfg["offset_day_z"])) & (F.abs("mdev") > float(cfg["offset_day_min"]))
    d = days.withColumn("sign", F.when(cand, F.signum("mdev")).otherwise(F.lit(0.0))).withColumn("_z", z)
    w = Window.partitionBy("station_id", "parameter", "sign").orderBy("day")
    d = d.withColumn("_di", F.datediff("day", F.lit("1970-01-01")))
    d = d.where(F.col("sign") != 0).withColumn("_grp", F.col("_di") - F.row_number().over(w))
    run = Window.partitionBy("station_id", "parameter", "sign", "_grp")
    d = (d.withColumn("_len", F.count("*").over(run)).withColumn("_mean", F.avg(F.abs("mdev")).over(run))
         .withColumn("_zsum", F.sum("_z").over(run)))
    d = d.where((F.col("_len") >= int(cfg["offset_days"])) & (F.col("_mean") >= float(cfg["offset_min"]))
                & (F.col("_zsum") >= float(cfg["offset_run_z"])))
    detail = F.concat(F.lit("daily median "), F.when(F.col("mdev") > 0, "above").otherwise("below"),
                      F.lit(" its usual relation to the neighbours by x"), fmt(F.exp(F.abs("mdev")), 2),
                      F.lit(" (z "), fmt(F.col("_z")), F.lit("), "), F.col("_len"), F.lit(" days in a row"))
    return as_flags(d, "spatial_offset", "WARNING", detail, rules.version, SILVER_AIR_HOURLY)


def spatial_flags(frame: DataFrame, rules: Rules) -> DataFrame:
    return outlier_flags(frame, rules).unionByName(drop_flags(frame, rules)).unionByName(offset_flags(frame, rules))
