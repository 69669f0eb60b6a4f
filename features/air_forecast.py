"""features.air_forecast and features.air_climatology: what a forecaster knows at issue time.

Forecasts are issued daily at 00:00 UTC (the KDD Cup 2018 setting: the next 48 hours from data
up to the hour ending at issue). Every statistic is a window over the hourly grid ending at the
issue hour, so nothing after issued_at enters a row; tests/integration/test_features.py proves
it by recomputing rows from data cut at the issue time.
"""

from __future__ import annotations

import logging
import math

import h3
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from smartmon.beijing_time import utc_to_beijing
from smartmon.catalog.features import LAG_POLLUTANTS, TARGETS, feature_columns
from smartmon.catalog.names import (
    FEATURES_AIR_CLIMATOLOGY,
    FEATURES_AIR_FORECAST,
    SILVER_AIR_HOURLY,
    SILVER_METEO_HOURLY,
    SILVER_QC_FLAGS,
    SILVER_STATIONS,
)
from smartmon.io import Lake
from smartmon.jobspec import WHOLE_TABLE, Job
from smartmon.qc.apply import valid_air
from smartmon.qc.flagframe import hour_index

log = logging.getLogger(__name__)
ISSUE_HOUR_UTC = 0
KRING = (5, 2)  # H3 resolution and ring size of the neighbour aggregate
METEO_COLS = ("temp_c", "dewpoint_c", "humidity_pct", "pressure_hpa", "rain_mm", "wind_u", "wind_v")


def hourly_grid(air: DataFrame, meteo: DataFrame) -> DataFrame:
    """One row per station and hour between its first and last value (missing hours as nulls),
    so windows count hours, not rows."""
    bounds = air.groupBy("station_id").agg(F.min("ts").alias("t0"), F.max("ts").alias("t1"))
    grid = bounds.select("station_id", F.explode(F.sequence("t0", "t1", F.expr("INTERVAL 1 HOUR"))).alias("ts"))
    df = grid.join(air.select("station_id", "ts", *LAG_POLLUTANTS), ["station_id", "ts"], "left")
    df = df.join(meteo.select("station_id", "ts", *METEO_COLS), ["station_id", "ts"], "left")
    return df.withColumn("_h", hour_index(F.col("ts")))


def _w(hours: int) -> Window:
    return Window.partitionBy("station_id").orderBy("_h").rangeBetween(-(hours - 1), 0)


def _lag(c: str, hours: int) -> Column:
    return F.first(F.col(c)).over(Window.partitionBy("station_id").orderBy("_h").rangeBetween(-hours, -hours))


def station_features(grid: DataFrame) -> DataFrame:
    """Per station and issue hour: lags and rolling statistics, meteorology, calendar."""
    df = grid
    for p in LAG_POLLUTANTS:
        df = (df.withColumn(f"{p}_last", F.col(p)).withColumn(f"{p}_mean3", F.avg(p).over(_w(3)))
              .withColumn(f"{p}_mean6", F.avg(p).over(_w(6))).withColumn(f"{p}_mean24", F.avg(p).over(_w(24)))
              .withColumn(f"{p}_max24", F.max(p).over(_w(24))).withColumn(f"{p}_lag24", _lag(p, 24)))
    df = (df.withColumn("pressure_d24", F.col("pressure_hpa") - _lag("pressure_hpa", 24))
          .withColumn("wind_u_mean24", F.avg("wind_u").over(_w(24))).withColumn("wind_v_mean24", F.avg("wind_v").over(_w(24)))
          .withColumn("rain_sum24", F.sum("rain_mm").over(_w(24))))
    df = df.where(F.hour("ts") == ISSUE_HOUR_UTC).withColumnRenamed("ts", "issued_at")
    local = utc_to_beijing(F.col("issued_at"))
    angle = F.lit(2 * math.pi) * F.dayofyear(local) / F.lit(365.25)
    return (df.withColumn("doy_sin", F.sin(angle)).withColumn("doy_cos", F.cos(angle))
            .withColumn("dow", F.dayofweek(local).cast("double"))
            .withColumn("month", F.date_format("issued_at", "yyyy-MM")))


def kring_pairs(stations: list[tuple[str, int | None]]) -> list[tuple[str, str]]:
    """(station, neighbour) for stations whose res-5 cells are within KRING[1] rings."""
    _, k = KRING
    by_cell: dict[int, list[str]] = {}
    for sid, cell in stations:
        if cell is not None:
            by_cell.setdefault(int(cell), []).append(sid)
    pairs = []
    for cell, members in by_cell.items():
        disk = {h3.str_to_int(c) for c in h3.grid_disk(h3.int_to_str(cell), k)}
        near = [s for c in disk if c in by_cell for s in by_cell[c]]
        pairs += [(a, b) for a in members for b in near if a != b]
    return pairs


def with_neighbours(feats: DataFrame, pairs: DataFrame) -> DataFrame:
    nb = feats.select(F.col("station_id").alias("neighbour_id"), "issued_at", "pm25_last", "pm25_mean24", "o3_last")
    agg = pairs.join(nb, "neighbour_id").groupBy("station_id", "issued_at").agg(
        F.avg("pm25_last").alias("nb_pm25_last"), F.avg("pm25_mean24").alias("nb_pm25_mean24"),
        F.avg("o3_last").alias("nb_o3_last"), F.count("pm25_last").cast("double").alias("nb_count"))
    out = feats.join(agg, ["station_id", "issued_at"], "left")
    return out.withColumn("nb_count", F.coalesce("nb_count", F.lit(0.0)))


def climatology(grid: DataFrame) -> DataFrame:
    """Mean of each target at the same UTC hour of day over the 30 days before day D."""
    df = grid.withColumn("day", F.to_date("ts")).withColumn("hod", F.hour("ts").cast("int"))
    w = Window.partitionBy("station_id", "hod").orderBy(F.unix_date("day")).rangeBetween(-30, -1)
    for t in TARGETS:
        df = df.withColumn(f"clim_{t}", F.avg(t).over(w))
    return df.select("station_id", "day", "hod", F.date_format("day", "yyyy-MM").alias("month"), *[f"clim_{t}" for t in TARGETS])


def horizon_rows(feats: DataFrame, clim: DataFrame, horizons: int = 48) -> DataFrame:
    """Feature rows x horizons 1..horizons, with the target hour (ts, target_hod) and the
    climatology of that hour known at issue (the training and the inference input)."""
    hz = feats.sparkSession.range(1, horizons + 1).select(F.col("id").cast("int").alias("horizon_h"))
    rows = (feats.crossJoin(hz).withColumn("ts", F.col("issued_at") + F.make_interval(hours=F.col("horizon_h")))
            .withColumn("day", F.to_date("issued_at")).withColumn("target_hod", F.hour("ts")))
    return rows.join(clim.withColumnRenamed("hod", "target_hod").drop("month"), ["station_id", "day", "target_hod"], "left")


def build(air: DataFrame, meteo: DataFrame, stations: DataFrame) -> tuple[DataFrame, DataFrame]:
    """Valid hourly air + meteorology + registry -> (features, climatology) (pure transform)."""
    grid = hourly_grid(air, meteo)
    cells = [(r.station_id, r.h3_r5) for r in stations.select("station_id", "h3_r5").collect()]
    spark = air.sparkSession
    pairs = spark.createDataFrame(kring_pairs(cells) or [("", "")], "station_id string, neighbour_id string")
    feats = with_neighbours(station_features(grid), pairs)
    return feats.select("station_id", "issued_at", "month", *feature_columns()), climatology(grid)


def run(lake: Lake, sources: tuple[str, ...] = ("uci-beijing", "kdd2018")) -> dict[str, int]:
    """Feature tables for the stations of the given sources (the forecasting networks)."""
    air = lake.read(SILVER_AIR_HOURLY).where(F.col("source").isin(*sources))
    valid = valid_air(air, lake.read(SILVER_QC_FLAGS))
    ids = valid.select("station_id").distinct()
    stations = lake.read(SILVER_STATIONS).join(ids, "station_id")
    meteo = lake.read(SILVER_METEO_HOURLY).join(ids, "station_id")
    feats, clim = build(valid, meteo, stations)
    n = lake.merge(feats, FEATURES_AIR_FORECAST).rows_written
    n += lake.merge(clim, FEATURES_AIR_CLIMATOLOGY).rows_written
    return {"rows_out": n}


JOB = Job(
    name=FEATURES_AIR_FORECAST,
    layer="features",
    reads=(SILVER_AIR_HOURLY, SILVER_METEO_HOURLY, SILVER_QC_FLAGS, SILVER_STATIONS),
    writes=(FEATURES_AIR_FORECAST, FEATURES_AIR_CLIMATOLOGY),
    run=lambda ctx: run(ctx.lake),
    scope=WHOLE_TABLE,
    transform=build,
    doc="point-in-time forecast features and station climatology",
)
