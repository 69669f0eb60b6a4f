"""gold.aqi_daily: daily values and daily AQI per station and Beijing day.

Daily means need >= 20 valid hours (GB 3095); the O3 daily maximum 8 h takes the 8 h windows
ending 08:00-24:00 of the day (hours of the same day only) with >= 6 valid hours, and needs
>= 14 such windows (HJ 663; the 14 is marked unconfirmed in ../shared/STANDARDS.md). Daily AQI
(HJ 633): 24 h tables for SO2, NO2, CO, PM10, PM2.5; O3 maximum 1 h on the 1 h table and
maximum 8 h on the 8 h table (above 800: the 1 h IAQI under 2012, 300 under 2026).
"""

from __future__ import annotations

from datetime import date

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.gold import scope
from jobs.gold.air_moving import day_position
from smartmon import changes
from smartmon.beijing_time import beijing_day
from smartmon.catalog.names import (
    GOLD_AIR_MOVING,
    GOLD_AQI_DAILY,
    SILVER_AIR_HOURLY,
    SILVER_AUDIT_LOG,
    SILVER_CHANGE_MARKS,
    SILVER_CHANGED_DAYS,
    SILVER_QC_FLAGS,
)
from smartmon.changes import DayWindow
from smartmon.io import Lake
from smartmon.jobspec import Job, by_day
from smartmon.standards.aqi import (
    DAILY_TABLES,
    DISPLAY,
    HJ633_2012,
    HJ633_2026,
    RULE_SETS,
    SWITCH_DATE,
    category_columns,
    combine_columns,
    iaqi_column,
    rule_set_column,
)
from smartmon.standards.limits import (
    LIMITS,
    by_limit_set,
    check_limit_set,
    limit_set_column,
)
from smartmon.standards.rounding import standard_round

PRODUCT = GOLD_AQI_DAILY
MEANS = ("so2", "no2", "co", "pm10", "pm25")
MIN_HOURS = 20
MIN_O3_8H_WINDOWS = 14  # unconfirmed in HJ 663 (../shared/STANDARDS.md)
# IAQI key -> daily column (the breakpoint table is DAILY_TABLES[key])
DAILY_COLUMNS = {"so2": "so2", "no2": "no2", "co": "co", "o3": "o3_1h_max", "o3_8h": "o3_8h_max", "pm10": "pm10", "pm25": "pm25"}
# daily column -> (pollutant, averaging) of its GB 3095 limit
LIMITED = {"so2": ("so2", "24h"), "no2": ("no2", "24h"), "co": ("co", "24h"), "pm10": ("pm10", "24h"),
           "pm25": ("pm25", "24h"), "o3_8h_max": ("o3", "8h_max")}


def daily_values(valid: DataFrame, moving: DataFrame) -> DataFrame:
    """Valid hourly values and gold.air_moving -> one row per station and Beijing day."""
    hourly = valid.withColumn("day", beijing_day(F.col("ts")))
    aggs = []
    for p in MEANS:
        n = F.count(p)
        aggs += [n.cast("int").alias(f"n_{p}"), F.when(n >= MIN_HOURS, standard_round(F.avg(p), 1 if p == "co" else 0)).alias(p)]
    aggs += [F.count("o3").cast("int").alias("n_o3"), F.when(F.count("o3") >= MIN_HOURS, F.max("o3")).alias("o3_1h_max")]
    means = hourly.groupBy("station_id", "day").agg(*aggs)
    windows = (
        moving.withColumn("day", beijing_day(F.col("ts")))
        .where((day_position(F.col("ts")) >= 8) & (F.col("n_o3_8h") >= 6) & F.col("o3_8h").isNotNull())
        .groupBy("station_id", "day")
        .agg(F.count("*").cast("int").alias("n_o3_8h"), F.max("o3_8h").alias("_o3_8h"))
        .withColumn("o3_8h_max", F.when(F.col("n_o3_8h") >= MIN_O3_8H_WINDOWS, F.col("_o3_8h")))
        .drop("_o3_8h")
    )
    out = means.join(windows, ["station_id", "day"], "left").withColumn("n_o3_8h", F.coalesce("n_o3_8h", F.lit(0)))
    return out.withColumn("month", F.date_format("day", "yyyy-MM"))


def by_date(daily: DataFrame) -> DataFrame:
    """The rows under the rule set of their own date (pinned re-assessments left out)."""
    return daily.where(F.col("rule_set") == rule_set_column(F.col("day")))


def exceedances(limit_set: Column) -> Column:
    """Comma-separated pollutants above their limit of the row's limit set."""
    parts = []
    for col, key in LIMITED.items():
        lim = by_limit_set(limit_set, lambda name, key=key: LIMITS[name][key])
        parts.append(F.when(F.col(col) > lim, F.lit(DISPLAY.get(col, col) if col != "o3_8h_max" else "O3_8h")))
    return F.concat_ws(",", *parts)


def daily_aqi(daily: DataFrame, rule_set: str | None = None, limit_set: str | None = None,
              partial_rule: bool = True) -> DataFrame:
    """Daily values -> the same rows with every IAQI, AQI, primary pollutant, category and the
    GB 3095 exceedances (pure transform; used for stations, for city means and for the city-day
    forecasts, which combine without the partial rule: smartmon.standards.aqi.combine_columns)."""
    if rule_set is not None and rule_set not in RULE_SETS:
        raise ValueError(f"unknown rule set {rule_set!r}: use one of {RULE_SETS}")
    check_limit_set(limit_set)
    df = daily.withColumn("rule_set", F.lit(rule_set) if rule_set else rule_set_column(F.col("day")))
    df = df.withColumn("limit_set", F.lit(limit_set) if limit_set else limit_set_column(F.col("day")))
    rs = F.col("rule_set")
    for key, col in DAILY_COLUMNS.items():
        df = df.withColumn(f"iaqi_{key}", iaqi_column(F.col(col), DAILY_TABLES[key], rs))
    above = F.col("o3_8h_max").isNotNull() & F.col("iaqi_o3_8h").isNull()
    df = df.withColumn("iaqi_o3_8h", F.when(above & (rs == HJ633_2026), F.lit(300)).when(above, F.col("iaqi_o3")).otherwise(F.col("iaqi_o3_8h")))
    combined = combine_columns({k: F.col(f"iaqi_{k}") for k in DAILY_COLUMNS}, rs, aqi_stored_as="aqi", partial_rule=partial_rule)
    df = (df.withColumn("n_pollutants", combined.n_pollutants).withColumn("aqi", combined.aqi)
          .withColumn("primary_pollutant", combined.primary_pollutant))
    level, name, colour = category_columns(F.col("aqi"))
    return df.withColumn("level", level).withColumn("category", name).withColumn("colour", colour).withColumn(
        "exceedances", exceedances(F.col("limit_set"))
    )


def run(lake: Lake, days: list[date] | None = None, rule_set: str | None = None, run_id: str = "") -> dict[str, int]:
    """Daily values and AQI for the days whose valid data or moving values changed (or the
    given days): each day reads its own hours and moving values only."""
    consumer = PRODUCT if rule_set is None else f"{PRODUCT}:{rule_set}"
    with scope.consuming_air(lake, consumer, days, GOLD_AIR_MOVING) as p:
        win = DayWindow.of(p.days)
        if not win:
            return {"days": 0, "rows_out": 0}
        _, valid = scope.valid_in(lake, win)
        moving = lake.read(GOLD_AIR_MOVING).where(win.where())
        rows = daily_aqi(daily_values(valid, moving), rule_set).where(win.day_predicate())
        same_rules = f"rule_set = '{rule_set}'" if rule_set else (
            f"rule_set = CASE WHEN day >= DATE'{SWITCH_DATE}' THEN '{HJ633_2026}' ELSE '{HJ633_2012}' END")
        # the days' rows are replaced, not merged: a MERGE that updates yesterday's rows (its 24th
        # hour arrives with today's file) rewrites their files with every row copied in them, night
        # after night; a replaceWhere rewrites only the files of the days replaced
        n = lake.overwrite(rows, PRODUCT, replace_where=f"({win.daily_where()}) AND ({same_rules})").rows_written
        if n and rule_set is None:
            changes.note(lake, PRODUCT, win.days, run_id)
    return {"days": len(win.days), "rows_out": n}


JOB = Job(
    name=GOLD_AQI_DAILY,
    layer="gold",
    reads=(SILVER_AIR_HOURLY, SILVER_QC_FLAGS, SILVER_AUDIT_LOG, GOLD_AIR_MOVING),
    writes=(GOLD_AQI_DAILY,),
    run=lambda ctx: run(ctx.lake, run_id=ctx.run_id),
    scope=by_day(),
    transform=daily_aqi,
    records=(SILVER_CHANGED_DAYS, SILVER_CHANGE_MARKS),
    doc="daily values and daily AQI",
)
