"""gold.hex_daily and gold.region_daily: daily station values per H3 cell and per county, city,
province and nation.

Every row carries the sum and the count of the station values it averages, so any tier or
resolution can be rebuilt from the one below and gives the same number (三级贯通); the tests
check that provinces equal the sum of their cities and res-5 cells the sum of their res-7
children (res-5 cells are the parents of the stations' res-7 cells).
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.gold import scope
from jobs.gold.aqi_daily import by_date
from smartmon.catalog.names import (
    GOLD_AQI_DAILY,
    GOLD_HEX_DAILY,
    GOLD_REGION_DAILY,
    SILVER_CHANGE_MARKS,
    SILVER_CHANGED_DAYS,
    SILVER_STATIONS,
)
from smartmon.changes import DayWindow
from smartmon.geo.h3cells import parent_map
from smartmon.io import Lake
from smartmon.jobspec import Job, by_day
from smartmon.standards.rounding import snap

POLLUTANTS = ("so2", "no2", "co", "pm10", "pm25", "o3_8h_max")
NATION = "000000"


def air_stations(stations: DataFrame) -> DataFrame:
    """Air stations with their res-7 cell and that cell's res-5 parent (not the station's own
    res-5 cell: H3 children do not tile their parent exactly, and the hex tiers must add up)."""
    st = stations.where(F.col("kind") == "air").select("station_id", "h3_r7", "county_code", "city_code", "province_code")
    r7 = [r.h3_r7 for r in st.where(F.col("h3_r7").isNotNull()).select("h3_r7").distinct().collect()]
    parents = stations.sparkSession.createDataFrame(list(parent_map(r7, 5).items()) or [(0, 0)], "h3_r7 bigint, h3_r5 bigint")
    return st.join(F.broadcast(parents), "h3_r7", "left")


def long_daily(daily: DataFrame, stations: DataFrame) -> DataFrame:
    """gold.aqi_daily -> one row per station, day and pollutant with a value, with its cells and codes."""
    st = air_stations(stations)
    pairs = F.explode(F.array(*[F.struct(F.lit(p).alias("pollutant"), F.col(p).cast("double").alias("v")) for p in POLLUTANTS]))
    return (daily.select("station_id", "day", "month", pairs.alias("_x")).select("station_id", "day", "month", "_x.pollutant", "_x.v")
            .where(F.col("v").isNotNull()).join(st, "station_id"))


def _agg(df: DataFrame, keys: list[str]) -> DataFrame:
    return df.groupBy(*keys, "day", "month", "pollutant").agg(
        snap(F.sum("v")).alias("value_sum"), F.count("v").cast("int").alias("n_stations")
    ).withColumn("value", snap(F.col("value_sum") / F.col("n_stations")))


def hex_daily(long: DataFrame) -> DataFrame:
    parts = [_agg(long.where(F.col(f"h3_r{r}").isNotNull()).withColumn("cell", F.col(f"h3_r{r}")), ["cell"]).withColumn("resolution", F.lit(r))
             for r in (5, 7)]
    return parts[0].unionByName(parts[1])


def region_daily(long: DataFrame) -> DataFrame:
    parts = [
        _agg(long.where(F.col(f"{s}_code").isNotNull()).withColumn("code", F.col(f"{s}_code")), ["code"]).withColumn("scope", F.lit(s))
        for s in ("county", "city", "province")
    ]
    parts.append(_agg(long.where(F.col("province_code").isNotNull()).withColumn("code", F.lit(NATION)), ["code"]).withColumn("scope", F.lit("nation")))
    out = parts[0]
    for p in parts[1:]:
        out = out.unionByName(p)
    return out


def run(lake: Lake, days: list[date] | None = None, run_id: str = "") -> dict[str, int]:
    """Aggregates for the days whose daily values changed (or the given days)."""
    with scope.consuming_daily(lake, GOLD_HEX_DAILY, days) as p:
        win = DayWindow.of(p.days)
        if not win:
            return {"days": 0, "rows_out": 0}
        daily = by_date(lake.read(GOLD_AQI_DAILY)).where(win.daily_where())
        long = long_daily(daily, lake.read(SILVER_STATIONS)).cache()
        # replaced, not merged (see jobs/gold/aqi_daily.py): only the days' files are rewritten
        n = lake.overwrite(hex_daily(long), GOLD_HEX_DAILY, replace_where=win.daily_where()).rows_written
        n += lake.overwrite(region_daily(long), GOLD_REGION_DAILY, replace_where=win.daily_where()).rows_written
        long.unpersist()
    return {"days": len(win.days), "rows_out": n}


JOB = Job(
    name="gold.aggregates",
    layer="gold",
    reads=(GOLD_AQI_DAILY, SILVER_STATIONS),
    writes=(GOLD_HEX_DAILY, GOLD_REGION_DAILY),
    run=lambda ctx: run(ctx.lake),
    scope=by_day(),
    transform=hex_daily,
    records=(SILVER_CHANGED_DAYS, SILVER_CHANGE_MARKS),
    doc="H3 and admin-area daily aggregates of every tier",
)
