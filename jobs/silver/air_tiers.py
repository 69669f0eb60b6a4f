"""The sub-national air feeds for silver.air_hourly: each as its bronze columns renamed and timed
(station_id, ts, the pollutant columns as text, lineage) plus the map of target column ->
(source column, scale to the standard unit, source unit), the shape jobs.silver.air_hourly
turns into wide rows (and into long cells only for the cell-by-cell number checks).

Conventions (README, "Time and units"):
- provincial-air: '2019/1/5 13:00' Beijing time, end of the hour; CO mg/m3, others ug/m3.
- county-air: ISO 8601 with offset at the START of the hour, so ts = that instant + 1 h; CO in
  ug/m3, divided by 1000.
- township-sensors: epoch seconds UTC at the end of the hour; gases in ppb (CO ppm) converted to
  ug/m3 (CO mg/m3) at 25 degC and 101.325 kPa (GB 3095-2012 as amended in 2018):
  ug/m3 = ppb x M / 24.465.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.silver.conform import LINEAGE_COLS, beijing_to_utc
from smartmon.simulate.air import MOLAR_MASS, MOLAR_VOLUME_L

POLLUTANTS = ["pm25", "pm10", "so2", "no2", "co", "o3"]
Columns = dict[str, tuple[str, float, str | None]]


def provincial_base(bronze: DataFrame) -> tuple[DataFrame, Columns]:
    local = F.try_to_timestamp(F.col("time"), F.lit("yyyy/M/d H:mm"))
    base = bronze.select(F.col("station_code").alias("station_id"), beijing_to_utc(local).alias("ts"), *POLLUTANTS, *LINEAGE_COLS)
    return base, {p: (p, 1.0, None) for p in POLLUTANTS}


def county_base(bronze: DataFrame) -> tuple[DataFrame, Columns]:
    start = F.try_to_timestamp(F.col("time_start"), F.lit("yyyy-MM-dd'T'HH:mm:ssXXX"))
    base = bronze.select(F.col("station_code").alias("station_id"), (start + F.expr("INTERVAL 1 HOUR")).alias("ts"),
                         *[c for c in bronze.columns if c in ("pm25", "pm10", "so2", "no2", "co_ugm3", "o3")], *LINEAGE_COLS)
    cols = {p: (p, 1.0, None) for p in POLLUTANTS if p != "co"}
    cols["co"] = ("co_ugm3", 0.001, "co ug/m3")
    return base, cols


def township_base(bronze: DataFrame) -> tuple[DataFrame, Columns]:
    ts = F.timestamp_seconds(F.col("ts").try_cast("bigint"))
    base = bronze.select(F.col("device").alias("station_id"), ts.alias("ts"),
                         "pm25", "pm10", "so2_ppb", "no2_ppb", "co_ppm", "o3_ppb", *LINEAGE_COLS)
    cols = {"pm25": ("pm25", 1.0, None), "pm10": ("pm10", 1.0, None)}
    for gas in ("so2", "no2", "o3", "co"):
        unit = "ppm" if gas == "co" else "ppb"
        cols[gas] = (f"{gas}_{unit}", MOLAR_MASS[gas] / MOLAR_VOLUME_L, f"{gas} {unit}")
    return base, cols
