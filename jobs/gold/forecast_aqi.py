"""What forecasters publish, from the concentration forecasts (pure transforms).

Every rule here is one the observed products already apply, called on forecast values instead
of measurements, so a forecast AQI and an observed AQI cannot differ in how they are computed:

- O3-8h: gold.air_moving's moving_frame (the 8 hours ending at the hour within the same Beijing
  day, 6 of 8 valid). The nightly's issue ends a Beijing day, so every 8-hour window of its
  horizons lies in forecast hours only.
- hourly IAQI, AQI, primary pollutant and level: gold.aqi_hourly's aqi_hourly (HJ 633 real-time:
  1 h values, PM on the 24 h table, O3-8h not in the hourly AQI).
- daily values and daily AQI: gold.aqi_daily's daily_values and daily_aqi (24 h means, O3 daily
  maximum 1 h and 8 h); a city's daily value is the mean of its stations' daily values.

SO2 and CO are not forecast (they are almost never the primary pollutant); forecast AQIs are
combined without HJ 633-2026's partial rule, which is about measurements that failed.

A frame holds many series (issues, kinds) of one station; the moving and daily functions group
by `station_id`, so the transforms key each series by `station_id|issued_at|kind` and split the
key again at the end.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.gold.air_moving import moving_frame
from jobs.gold.aqi_daily import daily_aqi, daily_values
from jobs.gold.aqi_hourly import aqi_hourly, rule_set_by_date
from smartmon.beijing_time import beijing_day
from smartmon.standards.aqi import HJ633_2026, iaqi_column

POLLUTANT_TARGETS = ("pm25", "pm10", "o3", "no2")  # the forecast concentrations the AQI is made of
DERIVED_TARGETS = ("o3_8h", "aqi")
NOT_FORECAST = ("so2", "co")
SERIES = ("station_id", "issued_at", "kind")
_SEP = "|"
CITY_DAY_COLUMNS = ("city_code", "issued_at", "kind", "day", "lead_days", "month", "pm25", "pm10", "no2", "o3_1h_max",
                    "o3_8h_max", "iaqi_pm25", "iaqi_pm10", "iaqi_no2", "iaqi_o3", "iaqi_o3_8h", "aqi", "aqi_p10",
                    "aqi_p90", "level", "category", "primary_pollutant", "n_stations", "rule_set", "model_version")


def _key() -> Column:
    return F.concat_ws(_SEP, "station_id", F.date_format("issued_at", "yyyy-MM-dd HH:mm:ss"), "kind")


def _unkey(df: DataFrame) -> DataFrame:
    parts = F.split(F.col("station_id"), r"\|")
    return (df.withColumn("issued_at", F.to_timestamp(parts[1])).withColumn("kind", parts[2])
            .withColumn("station_id", parts[0]))


def wide(rows: DataFrame) -> DataFrame:
    """gold.forecasts rows of the pollutant targets -> one row per series and hour, keyed by
    series (station_id|issued_at|kind), with a column per pollutant (SO2 and CO null) and the
    forecast hour's month, as the observed products' functions expect."""
    w = (rows.where(F.col("target").isin(*POLLUTANT_TARGETS)).withColumn("station_id", _key())
         .groupBy("station_id", "ts", "horizon_h").pivot("target", list(POLLUTANT_TARGETS)).agg(F.first("value")))
    for p in NOT_FORECAST:
        w = w.withColumn(p, F.lit(None).cast("double"))
    return (w.withColumn("so2_24h", F.lit(None).cast("double")).withColumn("n_excluded", F.lit(0))
            .withColumn("month", F.date_format("ts", "yyyy-MM")))


def _meta(rows: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(per series issue and target: model name, version, trained_until; per issue: the AQI's,
    made of its pollutants' models: the scenario's prefix, 'pm25:3,...' and the earliest
    trained_until)."""
    per = (rows.where(F.col("target").isin(*POLLUTANT_TARGETS)).groupBy("issued_at", "kind", "target")
           .agg(F.first("model_name").alias("model_name"), F.first("model_version").alias("model_version"),
                F.min("trained_until").alias("trained_until")))
    aqi = per.groupBy("issued_at", "kind").agg(
        F.first(F.regexp_extract("model_name", r"^(.*)\.[a-z0-9_]+$", 1)).alias("model_name"),
        F.concat_ws(",", F.sort_array(F.collect_list(F.concat_ws(":", "target", "model_version")))).alias("model_version"),
        F.min("trained_until").alias("trained_until"))
    return per, aqi


def hourly_products(rows: DataFrame) -> DataFrame:
    """gold.forecasts rows of the pollutant targets of some issues -> the same rows with their
    IAQI, plus the derived rows: `o3_8h` (with its IAQI on the 8 h table) and `aqi` (value and
    iaqi the AQI, with the primary pollutant and level), in gold.forecasts' layout."""
    w = wide(rows)
    hourly = aqi_hourly(w, partial_rule=False).select("station_id", "ts", "aqi", "primary_pollutant", "level",
                                                      *[f"iaqi_{p}" for p in POLLUTANT_TARGETS])
    moving = moving_frame(w).select("station_id", "ts", "o3_8h")
    rs = rule_set_by_date(F.col("ts"))
    o3_8h_iaqi = iaqi_column(F.col("o3_8h"), "o3_8h", rs)
    # above the 8 h table's top (800): 300 under HJ 633-2026; under 2012 the 1 h IAQI decides (the aqi row)
    o3_8h_iaqi = F.when(F.col("o3_8h").isNotNull() & o3_8h_iaqi.isNull() & (rs == HJ633_2026), F.lit(300)).otherwise(o3_8h_iaqi)
    full = _unkey(w.select("station_id", "ts", "horizon_h", *POLLUTANT_TARGETS)
                  .join(hourly, ["station_id", "ts"]).join(moving, ["station_id", "ts"], "left"))
    per, aqi_meta = _meta(rows)
    common = ["station_id", "issued_at", "kind", "horizon_h", "ts"]
    pollutants = full.select(*common, F.explode(F.array(*[
        F.struct(F.lit(t).alias("target"), F.col(t).alias("value"), F.col(f"iaqi_{t}").alias("iaqi"))
        for t in POLLUTANT_TARGETS])).alias("r")).select(*common, "r.*").where(F.col("value").isNotNull())
    o3_8h = (full.where(F.col("o3_8h").isNotNull())
             .select(*common, F.lit("o3_8h").alias("target"), F.col("o3_8h").cast("double").alias("value"),
                     o3_8h_iaqi.alias("iaqi")))
    made = (pollutants.unionByName(o3_8h).withColumn("model_target", F.when(F.col("target") == "o3_8h", F.lit("o3"))
                                                     .otherwise(F.col("target")))
            .join(per.withColumnRenamed("target", "model_target"), ["issued_at", "kind", "model_target"]).drop("model_target")
            .withColumn("primary_pollutant", F.lit(None).cast("string")).withColumn("level", F.lit(None).cast("int")))
    aqi = (full.where(F.col("aqi").isNotNull())
           .select(*common, F.lit("aqi").alias("target"), F.col("aqi").cast("double").alias("value"),
                   F.col("aqi").cast("int").alias("iaqi"), "primary_pollutant", F.col("level").cast("int").alias("level"))
           .join(aqi_meta, ["issued_at", "kind"]))
    return made.unionByName(aqi).withColumn("month", F.date_format("issued_at", "yyyy-MM"))


def station_days(hourly: DataFrame) -> DataFrame:
    """A keyed wide hourly frame (`wide`, or observed values keyed the same way) -> daily values
    and the daily AQI per series and Beijing day, combined without the partial rule."""
    return daily_aqi(daily_values(hourly, moving_frame(hourly)), partial_rule=False)


def city_days(rows: DataFrame, stations: DataFrame) -> DataFrame:
    """gold.forecasts pollutant rows of some issues + silver.stations -> per city, issue and
    Beijing day of its horizons: the city's daily values (means of its stations' forecast daily
    values), IAQIs, AQI, level and primary pollutant (HJ 633), and the 10th-90th percentile
    range of the stations' own daily AQIs. A day the horizons cover only in part is left out."""
    days = _unkey(station_days(wide(rows))).where(F.col("day") > beijing_day(F.col("issued_at")))
    cities = days.join(stations.select("station_id", "city_code").where(F.col("city_code").isNotNull()), "station_id")
    means = ["pm25", "pm10", "no2", "o3_1h_max", "o3_8h_max"]
    city = cities.groupBy("city_code", "issued_at", "kind", "day").agg(
        *[F.avg(c).alias(c) for c in means],
        F.percentile("aqi", 0.1).alias("aqi_p10"), F.percentile("aqi", 0.9).alias("aqi_p90"),
        F.countDistinct("station_id").cast("int").alias("n_stations"))
    for p in NOT_FORECAST:
        city = city.withColumn(p, F.lit(None).cast("double"))
    out = daily_aqi(city, partial_rule=False)
    _, aqi_meta = _meta(rows)
    return (out.join(aqi_meta.select("issued_at", "kind", "model_version"), ["issued_at", "kind"])
            .withColumn("lead_days", F.datediff("day", beijing_day(F.col("issued_at"))).cast("int"))
            .withColumn("month", F.date_format("issued_at", "yyyy-MM"))
            .withColumn("level", F.col("level").cast("int"))
            .select(*CITY_DAY_COLUMNS))
