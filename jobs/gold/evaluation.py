"""gold.eval_monthly / gold.eval_annual: HJ 663 evaluation of stations, cities, provinces and
the nation, and the city ranking by comprehensive index.

How the tiers are built (HJ 663): a station's statistics come from its daily values; a city's
daily value is the mean of its national stations' daily values, and its statistics come from
those city days; a province's (and the nation's) statistics are the means of its cities'
statistics, so a province number is what its cities say (三级贯通). Statistics are rounded as
published (whole ug/m3, CO 0.1 mg/m3) before the comprehensive index is formed. The limit set of
a period is the one in force on its first day unless pinned.
"""

from __future__ import annotations

import logging
from datetime import date

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.gold import scope
from jobs.gold.aqi_daily import by_date, daily_aqi
from smartmon.catalog.names import (
    GOLD_AQI_DAILY,
    GOLD_EVAL_ANNUAL,
    GOLD_EVAL_MONTHLY,
    SILVER_CHANGE_MARKS,
    SILVER_CHANGED_DAYS,
    SILVER_STATIONS,
)
from smartmon.changes import DayWindow
from smartmon.io import Lake
from smartmon.jobspec import Job, by_day
from smartmon.standards.evaluation import (
    MIN_DAYS_FEBRUARY,
    MIN_DAYS_MONTH,
    MIN_DAYS_YEAR,
)
from smartmon.standards.limits import (
    by_limit_set,
    check_limit_set,
    index_standards,
    limit_set_column,
)
from smartmon.standards.rounding import standard_round

log = logging.getLogger(__name__)
NATION = "000000"
# statistic column -> (daily column, aggregate, decimals)
STATS: dict[str, tuple[str, str, int]] = {
    "so2": ("so2", "mean", 0), "no2": ("no2", "mean", 0), "pm10": ("pm10", "mean", 0), "pm25": ("pm25", "mean", 0),
    "co_p95": ("co", "p95", 1), "o3_8h_p90": ("o3_8h_max", "p90", 0),
    "so2_p98": ("so2", "p98", 0), "no2_p98": ("no2", "p98", 0), "pm10_p95": ("pm10", "p95", 0), "pm25_p95": ("pm25", "p95", 0),
}
# comprehensive index: pollutant -> statistic column
INDEX = {"so2": "so2", "no2": "no2", "pm10": "pm10", "pm25": "pm25", "co": "co_p95", "o3": "o3_8h_p90"}
DISPLAY = {"so2": "SO2", "no2": "NO2", "pm10": "PM10", "pm25": "PM2.5", "co": "CO", "o3": "O3"}


def _stat(col: str, how: str, decimals: int) -> Column:
    raw = F.avg(col) if how == "mean" else F.percentile(F.col(col), int(how[1:]) / 100.0)
    return standard_round(raw, decimals)


def _min_days(period: Column) -> Column:
    return (F.when(F.length(period) == 4, F.lit(MIN_DAYS_YEAR))
            .when(period.endswith("-02"), F.lit(MIN_DAYS_FEBRUARY)).otherwise(F.lit(MIN_DAYS_MONTH)))


def period_of(daily: DataFrame, annual: bool) -> DataFrame:
    return daily.withColumn("period", F.substring("month", 1, 4) if annual else F.col("month"))


def statistics(daily: DataFrame, keys: list[str], min_days: int | None = None) -> DataFrame:
    """Daily rows with a `period` column -> statistics per keys and period. `valid` says whether
    every index statistic rests on the period's minimum number of daily values (min_days
    overrides it); the statistics are given either way, so an incomplete month is still seen."""
    aggs = [F.count("aqi").cast("int").alias("aqi_days"),
            F.sum((F.col("aqi") <= 100).cast("int")).cast("int").alias("good_days"),
            F.sum((F.col("aqi") > 100).cast("int")).cast("int").alias("exceedance_days")]
    for name, (col, how, dec) in STATS.items():
        aggs += [_stat(col, how, dec).alias(name), F.count(col).alias(f"_n_{name}")]
    out = daily.groupBy(*keys, "period").agg(*aggs)
    need = F.lit(min_days) if min_days is not None else _min_days(F.col("period"))
    n_days = F.greatest(*[F.col(f"_n_{n}") for n in INDEX.values()])
    valid = F.lit(True)
    for n in INDEX.values():
        valid = valid & (F.col(f"_n_{n}") >= need)
    return (out.withColumn("n_days", n_days.cast("int")).withColumn("valid", valid)
            .withColumn("good_share", F.col("good_days") / F.col("aqi_days"))
            .drop(*[f"_n_{n}" for n in STATS]))


def with_index(stats: DataFrame, limit_set: str | None = None) -> DataFrame:
    """Comprehensive index and primary pollutant of each row, by its period's limit set."""
    check_limit_set(limit_set)
    first_day = F.to_date(F.when(F.length("period") == 4, F.concat("period", F.lit("-01-01"))).otherwise(F.concat("period", F.lit("-01"))))
    df = stats.withColumn("limit_set", F.lit(limit_set) if limit_set else limit_set_column(first_day))
    parts = {p: F.col(col) / by_limit_set(F.col("limit_set"), lambda name, p=p: index_standards(name)[p]) for p, col in INDEX.items()}
    total = sum(parts.values(), F.lit(0.0))
    top = F.greatest(*parts.values())
    primary = F.concat_ws(",", *[F.when(F.abs(v - top) < 1e-12, F.lit(DISPLAY[p])) for p, v in parts.items()])
    return df.withColumn("comprehensive_index", F.bround(total, 2)).withColumn(
        "primary_pollutant", F.when(F.col("comprehensive_index").isNotNull(), primary))


def city_daily(daily: DataFrame, stations: DataFrame) -> DataFrame:
    """City daily values: mean of the city's national stations' daily values, then the daily AQI."""
    nat = stations.where((F.col("tier") == "national") & F.col("city_code").isNotNull()).select("station_id", "city_code")
    cols = ("so2", "no2", "co", "pm10", "pm25", "o3_1h_max", "o3_8h_max")
    rows = daily.join(nat, "station_id").groupBy("city_code", "day", "month").agg(
        *[standard_round(F.avg(c), 1 if c == "co" else 0).alias(c) for c in cols], F.countDistinct("station_id").cast("int").alias("n_stations")
    )
    return daily_aqi(rows)


def _names(stations: DataFrame) -> tuple[DataFrame, DataFrame]:
    st = stations.select(F.col("station_id").alias("code"), "name", F.col("city_code").alias("parent_code"))
    city = (stations.where(F.col("city_code").isNotNull()).groupBy("city_code")
            # the name most of the city's stations carry (ties: the smallest), not whichever row came
            # first: first() followed the partitioning and named a city differently on a cluster
            .agg(F.mode("city_name", deterministic=True).alias("name"), F.mode("province_code", deterministic=True).alias("parent_code"))
            .withColumnRenamed("city_code", "code"))
    return st, city


def _mean_of_cities(cities: DataFrame, key: Column, scope_name: str) -> DataFrame:
    aggs = [standard_round(F.avg(n), STATS[n][2]).alias(n) for n in STATS]
    aggs += [F.sum("good_days").cast("int").alias("good_days"), F.sum("aqi_days").cast("int").alias("aqi_days"),
             F.sum("exceedance_days").cast("int").alias("exceedance_days"), F.avg("good_share").alias("good_share"),
             F.count("*").cast("int").alias("n_cities"), F.sum("n_stations").cast("int").alias("n_stations"),
             F.max("n_days").cast("int").alias("n_days"), F.min(F.col("valid").cast("int")).cast("boolean").alias("valid")]
    return cities.groupBy(key.alias("code"), "period").agg(*aggs).withColumn("scope", F.lit(scope_name))


def evaluate(daily: DataFrame, stations: DataFrame, annual: bool, *, limit_set: str | None = None, min_days: int | None = None) -> DataFrame:
    """gold.aqi_daily rows (+ silver.stations) -> evaluation rows of every scope, ranked."""
    st_names, city_names = _names(stations)
    st = statistics(period_of(daily, annual), ["station_id"], min_days).withColumnRenamed("station_id", "code")
    st = st.join(st_names, "code", "left").withColumn("scope", F.lit("station")).withColumn("n_stations", F.lit(1)).withColumn("n_cities", F.lit(None).cast("int"))
    cd = city_daily(daily, stations)
    counts = cd.groupBy("city_code", F.substring("month", 1, 4).alias("_y") if annual else F.col("month").alias("_y")).agg(
        F.max("n_stations").cast("int").alias("n_stations"))
    city = statistics(period_of(cd, annual), ["city_code"], min_days).join(
        counts.withColumnRenamed("_y", "period"), ["city_code", "period"]).withColumnRenamed("city_code", "code")
    city = city.join(city_names, "code", "left").withColumn("scope", F.lit("city")).withColumn("n_cities", F.lit(None).cast("int"))
    prov = _mean_of_cities(city, F.col("parent_code"), "province").where(F.col("code").isNotNull())
    prov = prov.withColumn("name", F.lit(None).cast("string")).withColumn("parent_code", F.lit(NATION))
    nation = _mean_of_cities(city, F.lit(NATION), "nation").withColumn("name", F.lit("全国")).withColumn("parent_code", F.lit(None).cast("string"))
    rows = st.unionByName(city).unionByName(prov).unionByName(nation)
    rows = with_index(rows, limit_set)
    ranked = rows.where(F.col("comprehensive_index").isNotNull())
    w = Window.partitionBy("scope", "period").orderBy(F.col("comprehensive_index"))
    ranked = ranked.withColumn("rank", F.rank().over(w).cast("int"))
    return ranked.unionByName(rows.where(F.col("comprehensive_index").isNull()).withColumn("rank", F.lit(None).cast("int")))


def run(lake: Lake, days: list[date] | None = None, limit_set: str | None = None) -> dict[str, int]:
    """Monthly evaluation of the months whose daily values changed, annual of their years (both
    from gold.aqi_daily, never the hourly values), or of the given days' months."""
    with scope.consuming_daily(lake, GOLD_EVAL_MONTHLY, days) as p:
        months = DayWindow.of(p.days).day_months()
        if not months:
            return {"months": 0, "rows_out": 0}
        years = sorted({m[:4] for m in months})
        daily = by_date(lake.read(GOLD_AQI_DAILY))
        stations = lake.read(SILVER_STATIONS)
        in_months = f"period IN ({', '.join(repr(m) for m in months)})"
        monthly = evaluate(daily.where(F.col("month").isin(months)), stations, annual=False, limit_set=limit_set)
        n = lake.merge(monthly, GOLD_EVAL_MONTHLY, delete_missing_where=in_months).rows_written
        in_years = f"period IN ({', '.join(repr(y) for y in years)})"
        year_months = [f"{y}-{m:02d}" for y in years for m in range(1, 13)]
        annual = evaluate(daily.where(F.col("month").isin(year_months)), stations, annual=True, limit_set=limit_set)
        n += lake.merge(annual, GOLD_EVAL_ANNUAL, delete_missing_where=in_years).rows_written
        log.info("evaluation of %s", ", ".join(months))
    return {"months": len(months), "rows_out": n}


JOB = Job(
    name="gold.eval",
    layer="gold",
    reads=(GOLD_AQI_DAILY, SILVER_STATIONS),
    writes=(GOLD_EVAL_MONTHLY, GOLD_EVAL_ANNUAL),
    run=lambda ctx: run(ctx.lake),
    scope=by_day(),
    transform=evaluate,
    records=(SILVER_CHANGED_DAYS, SILVER_CHANGE_MARKS),
    doc="HJ 663 monthly and annual evaluation, city rankings",
)
