"""gold.forecast_skill: every issue scored as its hours come true.

Each night scores the issues of the three Beijing days before the run date (the nightly's issue
covers the three days after its own, so the issue of D-3 comes fully true on D, that of D-1 for
its first 24 hours): every forecast hour with a valid observation (QC applied, as the gold
products read them) is paired with the observation and with two baselines on the same pairs,
persistence (the last valid observation the issue knew, within 24 h: the hour before the issue,
as the night had it) and the
climatology of the target hour (the one features.air_climatology gave the model). Observed O3-8h and AQI come from the functions that
make gold.air_moving and gold.aqi_hourly (the AQI of all six pollutants: what was published).
Rows are kept per target, horizon, network and city with n, so any grouping re-aggregates
exactly (SMAPE and bias as n-weighted means, RMSE through n * rmse^2).

The city-day forecasts (gold.forecast_city_daily) are scored against the observed daily AQI of
the same stations (the measure forecasters report): the AQI, whether the level and the primary
pollutant were right, and the level persistence (the issue day's observed level) would have had.

An issue is re-scored each night until its last hour has come true (MERGE: rows that did not
change are not rewritten; re-running a night changes nothing).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from features.air_forecast import issue_time, known_until_col
from jobs.gold import scope
from jobs.gold.air_moving import moving_frame
from jobs.gold.aqi_daily import daily_aqi, daily_values
from jobs.gold.aqi_hourly import aqi_hourly
from jobs.gold.forecast_aqi import POLLUTANT_TARGETS
from smartmon.beijing_time import beijing_day, to_beijing
from smartmon.catalog.features import CLIM_TARGETS
from smartmon.catalog.names import (
    FEATURES_AIR_CLIMATOLOGY,
    GOLD_FORECAST_CITY_DAILY,
    GOLD_FORECAST_SKILL,
    GOLD_FORECASTS,
    SILVER_AIR_HOURLY,
    SILVER_AUDIT_LOG,
    SILVER_QC_FLAGS,
    SILVER_STATIONS,
)
from smartmon.changes import DayWindow, issues_where
from smartmon.forecast.metrics import HORIZON_BLOCKS
from smartmon.io import Lake
from smartmon.jobspec import Job, Scope

log = logging.getLogger(__name__)
SCORED_TARGETS = (*POLLUTANT_TARGETS, "o3_8h", "aqi")
SCORE_DAYS = 3  # issues of the three Beijing days before the run date
KINDS = ("nightly", "backtest")
PERSISTENCE_HOURS = 24


def weighted(skill: DataFrame, *by: str | Column) -> DataFrame:
    """gold.forecast_skill rows re-aggregated per `by`: issues, pairs (n) and the n-weighted SMAPE
    of the forecast, persistence and (over its own pairs) the climatology: the one way every
    reader (the retrain check, the nightly summary, the backtest) rolls the rows up."""
    n = F.col("n")
    return skill.groupBy(*by).agg(
        F.countDistinct("issued_at").alias("issues"), F.min("issued_at").alias("first"), F.sum(n).alias("n"),
        (F.sum(F.col("smape") * n) / F.sum(n)).alias("smape"),
        (F.sum(F.col("persistence_smape") * n) / F.sum(n)).alias("persistence_smape"),
        (F.sum(F.col("climatology_smape") * F.col("n_climatology")) / F.sum("n_climatology")).alias("climatology_smape"))


def block_column(h: Column) -> Column:
    """'lo-hi' of the horizon block (smartmon.forecast.metrics.HORIZON_BLOCKS) as a Spark expression."""
    out = F.lit(None).cast("string")
    for lo, hi in reversed(HORIZON_BLOCKS):
        out = F.when(h.between(lo, hi), F.lit(f"{lo}-{hi}")).otherwise(out)
    return out


def observed_hourly(valid: DataFrame, moving: DataFrame) -> DataFrame:
    """Valid hourly values and their moving_frame -> (station_id, ts, target, observed) for every
    scored target."""
    aqi = aqi_hourly(valid).select("station_id", "ts", F.col("aqi").cast("double").alias("aqi"))
    moving = moving.select("station_id", "ts", F.col("o3_8h").cast("double").alias("o3_8h"))
    wide = (valid.select("station_id", "ts", *POLLUTANT_TARGETS).join(moving, ["station_id", "ts"], "left")
            .join(aqi, ["station_id", "ts"], "left"))
    long = wide.select("station_id", "ts", F.explode(F.array(*[
        F.struct(F.lit(t).alias("target"), F.col(t).cast("double").alias("observed")) for t in SCORED_TARGETS])).alias("o"))
    return long.select("station_id", "ts", "o.*").where(F.col("observed").isNotNull())


def _term(f: Column, a: Column) -> Column:
    """The SMAPE term of one pair (smartmon.forecast.metrics.smape: F clipped at 0, 0 where F + A is 0)."""
    f = F.greatest(f, F.lit(0.0))
    return F.when(f + a == 0, F.lit(0.0)).otherwise(F.lit(2.0) * F.abs(f - a) / (f + a))


def _scores(prefix: str, f: Column, a: Column, only: Column | None = None) -> list[Column]:
    keep = (lambda c: F.when(only, c)) if only is not None else (lambda c: c)
    return [F.avg(keep(_term(f, a))).alias(f"{prefix}smape"), F.sqrt(F.avg(keep((f - a) ** 2))).alias(f"{prefix}rmse"),
            F.avg(keep(f - a)).alias(f"{prefix}bias")]


def persistence(observed: DataFrame, issued: DataFrame) -> DataFrame:
    """(station_id, issued_at, target, persistence): the last valid observation each issue knew
    (at or before its known_until: the night did not have the issue's own hour yet), within
    PERSISTENCE_HOURS of the issue (what a forecaster would carry forward; a station that missed
    that hour keeps its latest value, as the models' base does)."""
    lo = F.col("issued_at") - F.make_interval(hours=F.lit(PERSISTENCE_HOURS))
    near = observed.join(F.broadcast(issued), (F.col("ts") <= known_until_col(F.col("issued_at"))) & (F.col("ts") > lo))
    return near.groupBy("station_id", "issued_at", "target").agg(F.max_by("observed", "ts").alias("persistence"))


def pairs(forecasts: DataFrame, observed: DataFrame, clim: DataFrame) -> DataFrame:
    """Forecast rows x the observation of their hour x persistence (`persistence`) x the
    climatology of the target hour; only rows where all but the climatology exist."""
    obs = observed.withColumnRenamed("observed", "actual")
    last = persistence(observed, forecasts.select("issued_at").distinct())
    c = clim.select("station_id", "day", F.col("hod").alias("_hod"),
                    F.explode(F.array(*[F.struct(F.lit(t).alias("target"), F.col(f"clim_{t}").alias("climatology"))
                                        for t in CLIM_TARGETS])).alias("c")).select("station_id", "day", "_hod", "c.*")
    return (forecasts.join(obs, ["station_id", "ts", "target"]).join(last, ["station_id", "issued_at", "target"])
            .withColumn("day", F.to_date("issued_at")).withColumn("_hod", F.hour("ts"))
            .join(c, ["station_id", "day", "_hod", "target"], "left").drop("day", "_hod"))


def station_hour_skill(paired: DataFrame, stations: DataFrame) -> DataFrame:
    """Pairs -> gold.forecast_skill rows of grain station_hour (pure transform)."""
    st = stations.select("station_id", F.coalesce("network", F.lit("")).alias("network"),
                         F.coalesce("city_code", F.lit("")).alias("city_code"))
    has_clim = F.col("climatology").isNotNull()
    f, a = F.col("value"), F.col("actual")
    return (paired.join(st, "station_id", "left").fillna({"network": "", "city_code": ""})
            .groupBy("issued_at", "kind", "target", "horizon_h", "network", "city_code")
            .agg(F.count("*").cast("int").alias("n"), *_scores("", f, a), *_scores("persistence_", F.col("persistence"), a),
                 *_scores("climatology_", F.col("climatology"), a, has_clim),
                 F.count(F.when(has_clim, 1)).cast("int").alias("n_climatology"))
            .withColumn("grain", F.lit("station_hour"))
            .withColumn("lead_days", F.ceil(F.col("horizon_h") / F.lit(24)).cast("int"))
            .withColumn("month", F.date_format("issued_at", "yyyy-MM")))


def observed_city_days(valid: DataFrame, moving: DataFrame, forecast_stations: DataFrame, stations: DataFrame) -> DataFrame:
    """The observed daily AQI per issue's city and Beijing day, from the daily values of the
    stations that issue forecast in the city (all six pollutants, as published)."""
    days = daily_values(valid, moving)
    cities = (forecast_stations.join(stations.select("station_id", "city_code").where(F.col("city_code").isNotNull()), "station_id")
              .join(days, "station_id"))
    means = ["so2", "no2", "co", "pm10", "pm25", "o3_1h_max", "o3_8h_max"]
    city = cities.groupBy("city_code", "issued_at", "kind", "day").agg(*[F.avg(c).alias(c) for c in means])
    return daily_aqi(city).select("city_code", "issued_at", "kind", "day", "aqi", "level", "primary_pollutant")


def city_day_skill(forecast: DataFrame, observed: DataFrame) -> DataFrame:
    """gold.forecast_city_daily rows + observed city days (observed_city_days) -> rows of grain
    city_day (pure transform): only city-days whose forecast, observation and persistence exist."""
    obs = observed.select("city_code", "issued_at", "kind", "day", F.col("aqi").alias("o_aqi"), F.col("level").alias("o_level"),
                          F.col("primary_pollutant").alias("o_primary"))
    last = observed.where(F.col("day") == beijing_day(F.col("issued_at"))).select(
        "city_code", "issued_at", "kind", F.col("aqi").alias("p_aqi"), F.col("level").alias("p_level"))
    j = (forecast.join(obs, ["city_code", "issued_at", "kind", "day"]).join(last, ["city_code", "issued_at", "kind"])
         .where(F.col("aqi").isNotNull() & F.col("o_aqi").isNotNull() & F.col("p_aqi").isNotNull()))
    f, a, p = F.col("aqi").cast("double"), F.col("o_aqi").cast("double"), F.col("p_aqi").cast("double")
    hit = lambda c: c.cast("int")  # noqa: E731
    return j.select(
        F.lit("city_day").alias("grain"), "issued_at", "kind", F.lit("aqi").alias("target"),
        (F.col("lead_days") * 24).cast("int").alias("horizon_h"), "lead_days", F.lit("all").alias("network"), "city_code",
        F.date_format("issued_at", "yyyy-MM").alias("month"), F.lit(1).alias("n"),
        _term(f, a).alias("smape"), F.abs(f - a).alias("rmse"), (f - a).alias("bias"),
        _term(p, a).alias("persistence_smape"), F.abs(p - a).alias("persistence_rmse"), (p - a).alias("persistence_bias"),
        F.lit(0).alias("n_climatology"),
        hit(F.col("level") == F.col("o_level")).alias("level_hit"),
        hit(F.coalesce("primary_pollutant", F.lit("")) == F.coalesce("o_primary", F.lit(""))).alias("primary_hit"),
        hit(F.col("p_level") == F.col("o_level")).alias("persistence_level_hit"),
        F.col("o_aqi").cast("int").alias("observed_aqi"))


def score(lake: Lake, issued: list[datetime], kinds: tuple[str, ...] = KINDS, until: date | None = None) -> dict[str, int]:
    """Score the given issues with the observations the lake has of their hours, up to the end
    of Beijing day `until` (the night's run date: a night re-run later sees what it saw then)."""
    if not issued or not lake.exists(GOLD_FORECASTS):
        return {"issues": 0, "rows_out": 0}
    months = sorted({i.strftime("%Y-%m") for i in issued})
    fc = (lake.read(GOLD_FORECASTS).where(F.col("month").isin(*months) & F.col("issued_at").isin([F.lit(i) for i in issued])
                                          & F.col("kind").isin(*kinds) & F.col("target").isin(*SCORED_TARGETS))
          .select("station_id", "issued_at", "kind", "target", "horizon_h", "ts", "value"))
    # the Beijing days from the first issue's own (persistence) to the last one's third after
    first = (to_beijing(min(issued)) - timedelta(hours=1)).date()
    last = (to_beijing(max(issued)) - timedelta(hours=1)).date() + timedelta(days=SCORE_DAYS)
    last = min(last, until) if until else last
    win = DayWindow.of([first + timedelta(days=k) for k in range((last - first).days + 1)],
                       lookback=timedelta(hours=PERSISTENCE_HOURS))
    _, valid = scope.valid_in(lake, win)
    # only the stations these issues forecast: every score is per forecast station, and a night
    # of a national network holds stations not forecast yet (less than a week of data), whose
    # hours would go through the windows and joins for nothing
    forecast_ids = F.broadcast(fc.select("station_id").distinct())
    valid = valid.join(forecast_ids, "station_id").persist()
    try:
        stations = lake.read(SILVER_STATIONS)
        clim = (lake.read(FEATURES_AIR_CLIMATOLOGY).where(F.col("month").isin(*months))
                .where(F.col("day").isin([F.lit(i.date()) for i in issued])))
        moving = moving_frame(valid)  # observed O3-8h and daily maxima: one window pass for both
        hourly = station_hour_skill(pairs(fc, observed_hourly(valid, moving), clim), stations)
        rows = hourly
        if lake.exists(GOLD_FORECAST_CITY_DAILY):
            cf = lake.read(GOLD_FORECAST_CITY_DAILY).where(F.col("month").isin(*months) & F.col("kind").isin(*kinds)
                                                          & F.col("issued_at").isin([F.lit(i) for i in issued]))
            who = fc.where(F.col("target") == "pm25").select("station_id", "issued_at", "kind").distinct()
            rows = rows.unionByName(city_day_skill(cf, observed_city_days(valid, moving, who, stations)), allowMissingColumns=True)
        # the rows of these issues only: the MERGE reads the files of these issues, not the month's
        n = lake.merge(rows, GOLD_FORECAST_SKILL, within={"month": months}, where=issues_where(issued, kinds)).rows_written
    finally:
        valid.unpersist()
    return {"issues": len(issued), "rows_out": n}


def nightly(lake: Lake, day: date) -> dict[str, int]:
    """Score the issues of the SCORE_DAYS Beijing days before `day` that gold.forecasts holds."""
    if not lake.exists(GOLD_FORECASTS):
        return {"issues": 0, "rows_out": 0}
    wanted = [issue_time(day - timedelta(days=k)) for k in range(SCORE_DAYS, 0, -1)]
    months = sorted({i.strftime("%Y-%m") for i in wanted})
    have = sorted(r[0] for r in lake.read(GOLD_FORECASTS).where(F.col("month").isin(*months))
                  .where(F.col("issued_at").isin([F.lit(i) for i in wanted])).select("issued_at").distinct().collect())
    return score(lake, have, ("nightly",), until=day)


JOB = Job(
    name=GOLD_FORECAST_SKILL,
    layer="forecasts",
    reads=(GOLD_FORECASTS, GOLD_FORECAST_CITY_DAILY, FEATURES_AIR_CLIMATOLOGY, SILVER_AIR_HOURLY, SILVER_QC_FLAGS,
           SILVER_AUDIT_LOG, SILVER_STATIONS),
    writes=(GOLD_FORECAST_SKILL,),
    run=lambda ctx: nightly(ctx.lake, ctx.run_date),
    scope=Scope("days", days=SCORE_DAYS + 1),
    transform=station_hour_skill,
    doc="the issues of the three days before scored as their hours come true: SMAPE, RMSE, bias against "
    "persistence and climatology by target, horizon, network and city; city-day AQI level and primary pollutant",
)
