"""silver.meteo_hourly: observed meteorology from UCI Beijing (per national site) and KDD 2018
(observed stations and grid points). Wind direction 999017 (KDD's calm marker) and UCI's 'cv'
(calm and variable) give a null direction; u/v are computed from speed and direction."""

from __future__ import annotations

import logging
import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.silver.conform import (
    LINEAGE_COLS,
    beijing_to_utc,
    bronze_rows,
    month_local,
    months_of,
    unknown_stations,
)
from jobs.silver.pipeline import silver_job
from smartmon.catalog.names import (
    BRONZE_KDD_MEO,
    BRONZE_UCI_HOURLY,
    SILVER_METEO_HOURLY,
    SILVER_STATION_ALIASES,
    SILVER_STATIONS,
)
from smartmon.io import Lake
from smartmon.lineage import quarantine

log = logging.getLogger(__name__)

COMPASS = ["N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE", "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW"]
CALM_DIRECTION = 999017.0
FIELDS = ["temp_c", "pressure_hpa", "humidity_pct", "dewpoint_c", "rain_mm", "wind_speed_ms", "wind_dir_deg", "weather"]


def compass_degrees(wd: Column) -> Column:
    mapping = F.create_map(*[x for i, name in enumerate(COMPASS) for x in (F.lit(name), F.lit(i * 22.5))])
    return mapping[F.upper(F.trim(wd))]


def with_uv(df: DataFrame) -> DataFrame:
    """u = -s sin(d), v = -s cos(d): the vector the wind blows towards, from the direction it comes from."""
    rad = F.col("wind_dir_deg") * F.lit(math.pi / 180)
    calm = F.col("wind_dir_deg").isNull() & (F.col("wind_speed_ms") == 0)
    u = F.when(calm, 0.0).otherwise(-F.col("wind_speed_ms") * F.sin(rad))
    v = F.when(calm, 0.0).otherwise(-F.col("wind_speed_ms") * F.cos(rad))
    return df.withColumn("wind_u", u).withColumn("wind_v", v)


def num(name: str) -> Column:
    return F.trim(F.col(name)).try_cast("double")


def uci_meteo(bronze: DataFrame, aliases: DataFrame) -> DataFrame:
    site = aliases.where("source = 'uci-beijing'").select(F.col("source_station").alias("station"), "station_id")
    local = F.make_timestamp(F.col("year").cast("int"), F.col("month").cast("int"), F.col("day").cast("int"),
                             F.col("hour").cast("int"), F.lit(0), F.lit(0))
    return bronze.join(F.broadcast(site), "station", "left").select(
        F.coalesce("station_id", F.concat(F.lit("uci:"), F.col("station"))).alias("station_id"),
        beijing_to_utc(local).alias("ts"),
        num("temp").alias("temp_c"), num("pres").alias("pressure_hpa"), F.lit(None).cast("double").alias("humidity_pct"),
        num("dewp").alias("dewpoint_c"), num("rain").alias("rain_mm"), num("wspm").alias("wind_speed_ms"),
        compass_degrees(F.col("wd")).alias("wind_dir_deg"), F.lit(None).cast("string").alias("weather"),
        *LINEAGE_COLS,
    )


def kdd_meteo(bronze: DataFrame) -> DataFrame:
    ts = F.coalesce(F.to_timestamp("time", "yyyy-MM-dd HH:mm:ss"), F.to_timestamp("time", "yyyy/M/d H:mm"))
    direction = num("wind_direction")
    return bronze.select(
        "station_id", ts.alias("ts"),
        num("temperature").alias("temp_c"), num("pressure").alias("pressure_hpa"), num("humidity").alias("humidity_pct"),
        F.lit(None).cast("double").alias("dewpoint_c"), F.lit(None).cast("double").alias("rain_mm"),
        num("wind_speed").alias("wind_speed_ms"),
        F.when((direction == CALM_DIRECTION) | (direction > 360) | (direction < 0), None).otherwise(direction).alias("wind_dir_deg"),
        F.col("weather"), *LINEAGE_COLS,
    )


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    parts = []
    if (rows := bronze_rows(lake, BRONZE_UCI_HOURLY, "uci-beijing", batches)) is not None:
        parts.append(uci_meteo(rows, lake.read(SILVER_STATION_ALIASES)))
    if (rows := bronze_rows(lake, BRONZE_KDD_MEO, "kdd2018-meo", batches)) is not None:
        parts.append(kdd_meteo(rows))
    if not parts:
        return {"rows_in": 0}
    rows = parts[0]
    for p in parts[1:]:
        rows = rows.unionByName(p)
    rows, refused = unknown_stations(rows.where(F.col("ts").isNotNull()), lake.read(SILVER_STATIONS))
    months = months_of(rows)
    rows = with_uv(rows).withColumn("month", month_local(F.col("ts"))).dropDuplicates(["station_id", "ts"])
    result = lake.merge(rows, SILVER_METEO_HOURLY, within={"month": months}, keys_unique=True)
    q = quarantine(lake, refused, stage=SILVER_METEO_HOURLY)
    return {"rows_out": result.rows_written, "quarantined": q.rows_inserted}


JOB = silver_job(SILVER_METEO_HOURLY, run, reads=(SILVER_STATIONS, SILVER_STATION_ALIASES))
