"""silver.air_hourly: every air source conformed to one row per station and hour.

Every source is first reshaped to long cells (station_id, ts, column, text, scale, lineage),
then one pivot makes the rows. Conventions (README, "Time and units"):
- cnemc-archive: date/hour in Beijing time, the value at hour h is the mean of the hour ending
  at h, so ts = that hour in UTC. Units already standard.
- uci-beijing: year/month/day/hour in Beijing time, taken with the same convention; CO arrives
  in ug/m3 and is divided by 1000.
- kdd2018: times are UTC and taken as the end of the hour; CO is already mg/m3.
- provincial-air, county-air, township-sensors: see jobs/silver/air_tiers.py.
Non-numeric values are refused cell by cell (the rest of the row lands); rows of stations not
in silver.stations are refused.
"""

from __future__ import annotations

import logging

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.silver.air_tiers import county_cells, provincial_cells, township_cells
from jobs.silver.conform import (
    LINEAGE_COLS,
    beijing_to_utc,
    bronze_rows,
    invalid_number,
    melt,
    month_local,
    refusals,
    unknown_stations,
)
from smartmon.io import VOLATILE, Lake
from smartmon.lineage import quarantine

log = logging.getLogger(__name__)

CNEMC_TYPES = {
    "PM2.5": "pm25", "PM2.5_24h": "pm25_24h", "PM10": "pm10", "PM10_24h": "pm10_24h",
    "SO2": "so2", "SO2_24h": "so2_24h", "NO2": "no2", "NO2_24h": "no2_24h",
    "O3": "o3", "O3_24h": "o3_24h", "O3_8h": "o3_8h", "O3_8h_24h": "o3_8h_24h",
    "CO": "co", "CO_24h": "co_24h", "AQI": "aqi_published",
}
VALUE_COLS = list(dict.fromkeys(CNEMC_TYPES.values()))
POLLUTANTS = ["pm25", "pm10", "so2", "no2", "co", "o3"]


def cnemc_cells(bronze: DataFrame) -> DataFrame:
    local = F.to_timestamp(F.concat(F.col("date"), F.lpad(F.col("hour"), 2, "0")), "yyyyMMddHH")
    mapping = F.create_map(*[x for k, v in CNEMC_TYPES.items() for x in (F.lit(k), F.lit(v))])
    return bronze.select(
        F.explode("cells").alias("station_id", "text"),
        beijing_to_utc(local).alias("ts"),
        mapping[F.col("type")].alias("column"),
        F.lit(1.0).alias("scale"),
        F.lit(None).cast("string").alias("source_unit"),
        *LINEAGE_COLS,
    ).where(F.col("column").isNotNull())


def uci_cells(bronze: DataFrame, aliases: DataFrame) -> DataFrame:
    site = aliases.where("source = 'uci-beijing'").select(F.col("source_station").alias("station"), "station_id")
    local = F.make_timestamp(F.col("year").cast("int"), F.col("month").cast("int"), F.col("day").cast("int"),
                             F.col("hour").cast("int"), F.lit(0), F.lit(0))
    base = bronze.join(F.broadcast(site), "station", "left").select(
        F.coalesce(F.col("station_id"), F.concat(F.lit("uci:"), F.col("station"))).alias("station_id"),
        beijing_to_utc(local).alias("ts"),
        *POLLUTANTS, *LINEAGE_COLS,
    )
    return melt(base, {p: (p, 0.001, "co ug/m3") if p == "co" else (p, 1.0, None) for p in POLLUTANTS})


def kdd_cells(bronze: DataFrame) -> DataFrame:
    ts = F.coalesce(F.to_timestamp("time", "yyyy-MM-dd HH:mm:ss"), F.to_timestamp("time", "yyyy/M/d H:mm"))
    base = bronze.select("station_id", ts.alias("ts"), *POLLUTANTS, *LINEAGE_COLS)
    return melt(base, {p: (p, 1.0, None) for p in POLLUTANTS})


def bad_cells(cells: DataFrame, missing: tuple[str, ...]) -> DataFrame:
    bad = cells.where(invalid_number(F.col("text"), missing))
    return refusals(
        bad,
        F.concat(F.lit("non-numeric value for "), F.col("column"), F.lit(" at station "), F.col("station_id")),
        F.col("text"),
    )


def bad_times(cells: DataFrame) -> DataFrame:
    bad = cells.where(F.col("ts").isNull()).groupBy("station_id", *LINEAGE_COLS).agg(F.count("*").alias("n"))
    return refusals(bad, F.lit("time not readable"), F.col("station_id"))


def to_rows(cells: DataFrame) -> DataFrame:
    """Long cells -> one row per station and hour (single aggregation, no join)."""
    value = F.trim(F.col("text")).try_cast("double") * F.col("scale")
    cells = cells.where(F.col("ts").isNotNull()).withColumn("value", value)
    aggs: list[Column] = [F.max(F.when(F.col("column") == c, F.col("value"))).alias(c) for c in VALUE_COLS]
    aggs += [
        F.min("source").alias("source"),
        F.min("source_file").alias("source_file"),
        F.min("source_line").alias("source_line"),
        F.min("batch_id").alias("batch_id"),
        F.min("ingested_at").alias("ingested_at"),
        F.max("source_unit").alias("source_unit"),
    ]
    rows = cells.groupBy("station_id", "ts").agg(*aggs)
    return rows.withColumn("month", month_local(F.col("ts"))).withColumn("status", F.lit("preliminary"))


def run(lake: Lake, batches: dict[str, list[str]] | None = None) -> dict[str, int]:
    """Conform new bronze batches (all bronze when batches is None) into silver.air_hourly."""
    stations = lake.read("silver.stations")
    parts = []
    if (rows := bronze_rows(lake, "bronze.cnemc_hourly", "cnemc-archive", batches)) is not None:
        parts.append((cnemc_cells(rows), ("",)))
    if (rows := bronze_rows(lake, "bronze.uci_hourly", "uci-beijing", batches)) is not None:
        parts.append((uci_cells(rows, lake.read("silver.station_aliases")), ("", "NA")))
    if (rows := bronze_rows(lake, "bronze.kdd_aq", "kdd2018", batches)) is not None:
        parts.append((kdd_cells(rows), ("",)))
    for table, adapter, cells_of in (("bronze.provincial_air", "provincial-air", provincial_cells),
                                     ("bronze.county_air", "county-air", county_cells),
                                     ("bronze.township_sensors", "township-sensors", township_cells)):
        if (rows := bronze_rows(lake, table, adapter, batches)) is not None:
            parts.append((cells_of(rows), ("",)))
    if not parts:
        return {"rows_in": 0}
    cells = None
    refused = None
    for part, missing in parts:
        r = bad_cells(part, missing).unionByName(bad_times(part))
        cells = part if cells is None else cells.unionByName(part)
        refused = r if refused is None else refused.unionByName(r)
    cells, unknown = unknown_stations(cells, stations)
    refused = refused.unionByName(unknown)
    # status is the auditors' (smartmon audit): the same values arriving again keep it; a
    # corrected value sets the row back to preliminary.
    result = lake.merge(to_rows(cells), "silver.air_hourly", ignore_in_compare=VOLATILE | {"status"})
    q = quarantine(lake, refused, stage="silver.air_hourly")
    summary = {"rows_out": result.rows_written, "quarantined": q.rows_inserted if q.table == "bronze.quarantine" else 0}
    log.info("silver.air_hourly: %s", summary)
    return summary
