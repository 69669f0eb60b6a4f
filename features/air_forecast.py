"""features.air_forecast and features.air_climatology: what a forecaster knows at issue time.

The nightly issues for Beijing day D at 16:00 UTC, the end of D's last hour (24:00 Beijing), for
every station of every network with data in the 31 days before (`issue_time`, `build_issues`):
what a provincial forecaster has when the day is complete. The research forecaster
(experiments/control_forecast.py) keeps the KDD Cup 2018 setting, issues at 00:00 UTC built on
request (`run`). Every statistic is a window over the hourly grid ending at the issue hour, so
nothing after issued_at enters a row; tests/integration/test_features_forecast.py proves it by
scrambling the data after the issue time.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import reduce

import h3
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from smartmon.beijing_time import beijing_day, utc_to_beijing
from smartmon.catalog.features import CLIM_TARGETS, LAG_POLLUTANTS, feature_columns
from smartmon.catalog.names import (
    FEATURES_AIR_CLIMATOLOGY,
    FEATURES_AIR_FORECAST,
    SILVER_AIR_HOURLY,
    SILVER_AUDIT_LOG,
    SILVER_CHANGE_MARKS,
    SILVER_CHANGED_DAYS,
    SILVER_METEO_HOURLY,
    SILVER_QC_FLAGS,
    SILVER_STATIONS,
)
from smartmon.changes import DayWindow, issues_where
from smartmon.io import Lake
from smartmon.jobspec import Job, by_day
from smartmon.qc.apply import valid_air
from smartmon.qc.flagframe import hour_index

log = logging.getLogger(__name__)
ISSUE_HOUR_UTC = 0  # the research forecaster's issues (KDD Cup 2018)
NIGHTLY_ISSUE_HOUR_UTC = 16  # the nightly's: the hour ending 24:00 Beijing
# What a nightly issue does not have yet: the night's file of Beijing day D (CNEMC's archive, and
# the tiers simulated from it) holds the hours ending 00:00..23:00 of D; the hour ending 24:00,
# the issue's own, comes with the next day's file. A nightly issue's statistics therefore end one
# hour before it, in training as in serving (built later, an issue would otherwise see an hour
# its own night did not have: every national station's `_last` was null at serving, present in
# every training issue).
NIGHTLY_DATA_LAG = timedelta(hours=1)
CLIM_DAYS = 30
LOOKBACK = timedelta(days=CLIM_DAYS + 1)  # the climatology's 30 days before the issue's UTC date, and that date
HORIZONS_NIGHTLY = 72  # hours ahead of the nightly's issue (the next three Beijing days)
MIN_HISTORY_DAYS = 7  # a station is forecast once it reported on this many of the last 31 days
KRING = (5, 2)  # H3 resolution and ring size of the neighbour aggregate
FEATURE_SPAN = timedelta(hours=24)  # the hours before an issue its statistics reach: 24 h means and maxima, the 24 h lag
METEO_COLS = ("temp_c", "dewpoint_c", "humidity_pct", "pressure_hpa", "rain_mm", "wind_u", "wind_v")


def issue_time(day: date) -> datetime:
    """The nightly's issue for Beijing day D: 16:00 UTC of D, the end of D's last hour."""
    return datetime(day.year, day.month, day.day, NIGHTLY_ISSUE_HOUR_UTC)


def known_until(issued_at: datetime) -> datetime:
    """The last hour a nightly issue knows (NIGHTLY_DATA_LAG before it)."""
    return issued_at - NIGHTLY_DATA_LAG


def known_until_col(issued_at: Column) -> Column:
    """known_until as a Spark expression (the skill's persistence takes the same hour)."""
    return issued_at - F.lit(NIGHTLY_DATA_LAG)


def hourly_grid(air: DataFrame, meteo: DataFrame, until: datetime | None = None,
                issues: Sequence[datetime] | None = None) -> DataFrame:
    """One row per station and hour between its first and last value (missing hours as nulls),
    so windows count hours, not rows. `until` extends every station's grid to that hour, so a
    station that missed the last hours before an issue is still issued (with what it had).
    Given (nightly) issues, only the hours their statistics reach (FEATURE_SPAN up to each one's
    known_until) are kept: a night's issue reads 31 days for its climatology, its windows one."""
    bounds = air.groupBy("station_id").agg(F.min("ts").alias("t0"), F.max("ts").alias("t1"))
    if until is not None:
        bounds = bounds.withColumn("t1", F.greatest("t1", F.lit(until)))
    grid = bounds.select("station_id", F.explode(F.sequence("t0", "t1", F.expr("INTERVAL 1 HOUR"))).alias("ts"))
    if issues:
        ends = sorted({known_until(i) for i in issues})
        near = reduce(Column.__or__, [F.col("ts").between(F.lit(e - FEATURE_SPAN), F.lit(e)) for e in ends])
        grid, air, meteo = grid.where(near), air.where(near), meteo.where(near)
    df = grid.join(air.select("station_id", "ts", *LAG_POLLUTANTS), ["station_id", "ts"], "left")
    df = df.join(meteo.select("station_id", "ts", *METEO_COLS), ["station_id", "ts"], "left")
    return df.withColumn("_h", hour_index(F.col("ts")))


def _w(hours: int) -> Window:
    return Window.partitionBy("station_id").orderBy("_h").rangeBetween(-(hours - 1), 0)


def _lag(c: str, hours: int) -> Column:
    return F.first(F.col(c)).over(Window.partitionBy("station_id").orderBy("_h").rangeBetween(-hours, -hours))


def station_features(grid: DataFrame, issues: Sequence[datetime] | None = None) -> DataFrame:
    """Per station and issue hour (the given nightly issues, each from the hour it knows last,
    NIGHTLY_DATA_LAG before it; else every 00:00 UTC, from that hour): lags and rolling
    statistics, meteorology, calendar."""
    df = grid
    for p in LAG_POLLUTANTS:
        df = (df.withColumn(f"{p}_last", F.col(p)).withColumn(f"{p}_mean3", F.avg(p).over(_w(3)))
              .withColumn(f"{p}_mean6", F.avg(p).over(_w(6))).withColumn(f"{p}_mean24", F.avg(p).over(_w(24)))
              .withColumn(f"{p}_max24", F.max(p).over(_w(24))).withColumn(f"{p}_lag24", _lag(p, 24)))
    df = (df.withColumn("pressure_d24", F.col("pressure_hpa") - _lag("pressure_hpa", 24))
          .withColumn("wind_u_mean24", F.avg("wind_u").over(_w(24))).withColumn("wind_v_mean24", F.avg("wind_v").over(_w(24)))
          .withColumn("rain_sum24", F.sum("rain_mm").over(_w(24))))
    if issues:
        df = (df.where(F.col("ts").isin([F.lit(known_until(i)) for i in issues]))
              .withColumn("ts", F.col("ts") + F.lit(NIGHTLY_DATA_LAG)))
    else:
        df = df.where(F.hour("ts") == ISSUE_HOUR_UTC)
    df = df.withColumnRenamed("ts", "issued_at")
    local = utc_to_beijing(F.col("issued_at"))
    angle = F.lit(2 * math.pi) * F.dayofyear(local) / F.lit(365.25)
    return (df.withColumn("doy_sin", F.sin(angle)).withColumn("doy_cos", F.cos(angle))
            .withColumn("dow", F.dayofweek(local).cast("double"))
            .withColumn("month", F.date_format("issued_at", "yyyy-MM")))


def weather_for(meteo: DataFrame, stations: DataFrame, sources: DataFrame) -> DataFrame:
    """The meteorology each air station is given: its own where it measures weather (the UCI
    sites), else the inverse-distance-weighted values of the weather stations and grid points
    within 25 km (smartmon.geo.idw: the KDD Cup stations from the KDD grid and observed
    meteorology), hour by hour, a source without a value at that hour left out of the mean.

    meteo: silver.meteo_hourly rows of the window (every station); stations: the air stations
    (station_id, lat, lon); sources: the registry's weather stations (station_id, lat, lon)."""
    from smartmon.geo.idw import idw_weights

    have = {r[0] for r in meteo.select("station_id").distinct().collect()}
    air = [(r.station_id, r.lat, r.lon) for r in stations.select("station_id", "lat", "lon").collect()]
    own = meteo.join(stations.select("station_id"), "station_id").select("station_id", "ts", *METEO_COLS)
    points = [(r.station_id, r.lat, r.lon) for r in sources.select("station_id", "lat", "lon").collect() if r.station_id in have]
    weights = idw_weights([a for a in air if a[0] not in have], points)
    if not weights:
        return own
    w = meteo.sparkSession.createDataFrame(weights, "station_id string, source_id string, weight double")
    src = meteo.select(F.col("station_id").alias("source_id"), "ts", *METEO_COLS).join(F.broadcast(w), "source_id")
    mapped = src.groupBy("station_id", "ts").agg(*[
        (F.sum(F.col(c) * F.col("weight")) / F.sum(F.when(F.col(c).isNotNull(), F.col("weight")))).alias(c) for c in METEO_COLS])
    log.info("weather for %d air stations from %d weather points (IDW)", len({t for t, _, _ in weights}), len(points))
    return own.unionByName(mapped)


def weather_sources(lake: Lake) -> DataFrame:
    """The registry's weather stations and grid points (kind meteorology) with coordinates."""
    return lake.read(SILVER_STATIONS).where((F.col("kind") == "meteorology") & F.col("lat").isNotNull()).select("station_id", "lat", "lon")


def neighbour_pairs(stations: DataFrame) -> DataFrame:
    """(station, neighbour) for stations whose res-5 cells are within KRING[1] rings, built on the
    executors: only the rings of the distinct cells are computed here (about 10^4 cells x 19 at
    national scale), the pairs come from joining the stations to them. A national network has
    10^5 stations and 10^7 pairs: as a Python list on the driver they were slow to build and
    held gigabytes there before Spark saw them."""
    _, k = KRING
    located = stations.where(F.col("h3_r5").isNotNull()).select("station_id", F.col("h3_r5").cast("long").alias("cell"))
    cells = {int(r[0]) for r in located.select("cell").distinct().collect()}
    rings = [(c, d) for c in sorted(cells) for d in sorted({h3.str_to_int(x) for x in h3.grid_disk(h3.int_to_str(c), k)} & cells)]
    ring = stations.sparkSession.createDataFrame(rings, "cell long, near long")
    near = located.select(F.col("station_id").alias("neighbour_id"), F.col("cell").alias("near"))
    return (located.join(F.broadcast(ring), "cell").join(near, "near")
            .where(F.col("station_id") != F.col("neighbour_id")).select("station_id", "neighbour_id"))


def stable_mean(c: str) -> Column:
    """The mean of a group's non-null values summed in sorted order: the same bits whatever order
    the shuffle brings the rows in (F.avg's last bits follow that order, and a re-run would then
    rewrite rows whose values did not change)."""
    xs = F.array_sort(F.collect_list(c))
    return F.when(F.size(xs) > 0, F.aggregate(xs, F.lit(0.0), lambda acc, x: acc + x) / F.size(xs))


def with_neighbours(feats: DataFrame, pairs: DataFrame) -> DataFrame:
    nb = feats.select(F.col("station_id").alias("neighbour_id"), "issued_at", "pm25_last", "pm25_mean24", "o3_last")
    agg = pairs.join(nb, "neighbour_id").groupBy("station_id", "issued_at").agg(
        stable_mean("pm25_last").alias("nb_pm25_last"), stable_mean("pm25_mean24").alias("nb_pm25_mean24"),
        stable_mean("o3_last").alias("nb_o3_last"), F.count("pm25_last").cast("double").alias("nb_count"))
    out = feats.join(agg, ["station_id", "issued_at"], "left")
    return out.withColumn("nb_count", F.coalesce("nb_count", F.lit(0.0)))


def history_days(air: DataFrame, feats: DataFrame, lag: timedelta = timedelta(0)) -> DataFrame:
    """feats + history_days: the Beijing days of the 31 ending with the issue's on which the
    station reported any pollutant by the hour the issue knows last (`lag` before it; who is
    forecast: MIN_HISTORY_DAYS). air: the station-hours (the hourly grid or the air rows: hours
    without a value do not count)."""
    seen = (air.where(F.coalesce(*[F.col(p) for p in LAG_POLLUTANTS]).isNotNull())
            .groupBy("station_id", beijing_day(F.col("ts")).alias("_d")).agg(F.min("ts").alias("_first")))
    issue = feats.select("station_id", "issued_at").distinct()
    n = (issue.join(seen, "station_id")
         .where((F.col("_first") <= F.col("issued_at") - F.lit(lag)) & (F.col("_d") >= F.date_sub(beijing_day(F.col("issued_at")), CLIM_DAYS)))
         .groupBy("station_id", "issued_at").agg(F.count("*").cast("double").alias("history_days")))
    return feats.join(n, ["station_id", "issued_at"], "left").withColumn("history_days", F.coalesce("history_days", F.lit(0.0)))


def climatology(grid: DataFrame, days: Sequence[date] | None = None) -> DataFrame:
    """Mean of each target at the same UTC hour of day over the 30 days before day D: for every
    day of the grid, or for the given UTC days, all 24 hours of each (also the hours after an
    issue that the data does not reach yet: a forecast needs them, and they use only the days
    before). With days given, `grid` may be the air rows themselves (hours without a value
    add nothing to a mean, and every station gets the days' 24 hours)."""
    df = grid.select("station_id", "ts", *CLIM_TARGETS)
    if days:
        slots = grid.sparkSession.createDataFrame([(datetime(d.year, d.month, d.day) + timedelta(hours=h),) for d in days for h in range(24)],
                                                  "ts timestamp")
        blank = grid.select("station_id").distinct().crossJoin(slots)
        df = df.unionByName(blank, allowMissingColumns=True)
    df = df.withColumn("day", F.to_date("ts")).withColumn("hod", F.hour("ts").cast("int"))
    w = Window.partitionBy("station_id", "hod").orderBy(F.unix_date("day")).rangeBetween(-CLIM_DAYS, -1)
    for t in CLIM_TARGETS:
        df = df.withColumn(f"clim_{t}", F.avg(t).over(w))
    if days:
        df = df.where(F.col("day").isin([F.lit(d) for d in days])).dropDuplicates(["station_id", "day", "hod"])
    return df.select("station_id", "day", "hod", F.date_format("day", "yyyy-MM").alias("month"), *[f"clim_{t}" for t in CLIM_TARGETS])


def horizon_rows(feats: DataFrame, clim: DataFrame, horizons: int = 48) -> DataFrame:
    """Feature rows x horizons 1..horizons, with the target hour (ts, target_hod) and the
    climatology of that hour known at issue (the training and the inference input)."""
    hz = feats.sparkSession.range(1, horizons + 1).select(F.col("id").cast("int").alias("horizon_h"))
    rows = (feats.crossJoin(hz).withColumn("ts", F.col("issued_at") + F.make_interval(hours=F.col("horizon_h")))
            .withColumn("day", F.to_date("issued_at")).withColumn("target_hod", F.hour("ts")))
    return rows.join(clim.withColumnRenamed("hod", "target_hod").drop("month"), ["station_id", "day", "target_hod"], "left")


def build(air: DataFrame, meteo: DataFrame, stations: DataFrame, issues: Sequence[datetime] | None = None
          ) -> tuple[DataFrame, DataFrame]:
    """Valid hourly air + meteorology + registry -> (features, climatology) (pure transform), for
    the given nightly issue times (each from the hour it knows last, every station's grid reaching
    the last issue's), else every 00:00 UTC."""
    grid = hourly_grid(air, meteo, until=known_until(max(issues)) if issues else None, issues=issues)
    feats = with_neighbours(station_features(grid, issues), neighbour_pairs(stations))
    # given issues, the grid holds only the hours near them: the days counted and the climatology
    # come from the air rows of the whole window
    hours = air.select("station_id", "ts", *LAG_POLLUTANTS) if issues else grid
    feats = history_days(hours, feats, NIGHTLY_DATA_LAG if issues else timedelta(0)).join(stations.select("station_id", "lat", "lon"), "station_id", "left")
    days = sorted({i.date() for i in issues}) if issues else None
    return feats.select("station_id", "issued_at", "month", *feature_columns()), climatology(hours, days)


def run(lake: Lake, sources: tuple[str, ...] = ("uci-beijing", "kdd2018")) -> dict[str, int]:
    """The research forecaster's feature tables: every 00:00 UTC issue of the stations of the
    given sources (the whole of their history; `smartmon features`)."""
    air = lake.read(SILVER_AIR_HOURLY).where(F.col("source").isin(*sources))
    valid = valid_air(air, lake.read(SILVER_QC_FLAGS))
    ids = valid.select("station_id").distinct()
    stations = lake.read(SILVER_STATIONS).join(ids, "station_id")
    meteo = weather_for(lake.read(SILVER_METEO_HOURLY), stations, weather_sources(lake))
    feats, clim = build(valid, meteo, stations)
    n = lake.merge(feats, FEATURES_AIR_FORECAST).rows_written
    n += lake.merge(clim, FEATURES_AIR_CLIMATOLOGY).rows_written
    return {"rows_out": n}


def build_issues(lake: Lake, days: Sequence[date]) -> dict[str, int]:
    """The nightly issues of the given Beijing days for every station with valid data in the 31
    days before: one pass over those days of silver (QC applied), merged into the two tables
    within the issues' months only."""
    from jobs.gold.scope import valid_in

    days = sorted(set(days))
    if not days:
        return {"issues": 0, "rows_out": 0}
    issues = [issue_time(d) for d in days]
    win = DayWindow.of(days, lookback=LOOKBACK)
    _, valid = valid_in(lake, win)
    # the 31 days of valid values feed the station list, the windows, the days counted and the
    # climatology: read and QC-applied once
    valid = valid.where(F.col("ts") <= F.lit(known_until(max(issues)))).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        ids = valid.where(F.coalesce(*[F.col(p) for p in LAG_POLLUTANTS]).isNotNull()).select("station_id").distinct()
        stations = lake.read(SILVER_STATIONS).join(ids, "station_id").cache()
        meteo = weather_for(lake.read(SILVER_METEO_HOURLY).where(win.predicate()), stations, weather_sources(lake))
        feats, clim = build(valid.join(ids, "station_id"), meteo, stations, issues)
        # a few rows per station: computed once (each MERGE would otherwise redo the windows for
        # its cut and its write), then written only where an issue is new or a value changed,
        # reading and rewriting only the files of these issues (a night rebuilds yesterday's
        # issue unchanged)
        feats, clim = feats.localCheckpoint(), clim.localCheckpoint()
    finally:
        valid.unpersist()
    stations.unpersist()
    months = sorted({i.strftime("%Y-%m") for i in issues})
    n = lake.merge(feats, FEATURES_AIR_FORECAST, within={"month": months}, keys_unique=True,
                   where=issues_where(issues)).rows_written
    clim_days = DayWindow.of({i.date() for i in issues})  # the climatology's UTC days are the issues' Beijing days
    n += lake.merge(clim, FEATURES_AIR_CLIMATOLOGY, within={"month": months}, keys_unique=True,
                    where=lambda a: clim_days.daily_where(alias=a)).rows_written
    log.info("features of %d issue(s) %s..%s: %d rows written", len(issues), days[0], days[-1], n)
    return {"issues": len(issues), "rows_out": n}


TRAINING_ISSUES = 25  # the night's and the retrain's 24 before it (experiments/national_forecast.py: 21 fitted + 3 held out)


def absent_issues(lake: Lake, days: Sequence[date]) -> list[date]:
    """The days whose nightly issue the table lacks."""
    issues = [issue_time(d) for d in days]
    have = {r[0] for r in lake.read(FEATURES_AIR_FORECAST).where(F.col("issued_at").isin([F.lit(i) for i in issues]))
            .select("issued_at").distinct().collect()}
    return [d for d in days if issue_time(d) not in have]


def nightly(lake: Lake, day: date) -> dict[str, int]:
    """The issues of the retrain's window (D and the 24 days before) that the table lacks or whose
    31 days of valid data changed since the task last ran (the change log: a late delivery, a QC
    flag, an auditor's mark); nothing at all when none did, so a re-run reads no silver."""
    from jobs.gold.scope import consuming_air

    window = [day - timedelta(days=i) for i in range(TRAINING_ISSUES - 1, -1, -1)]
    with consuming_air(lake, FEATURES_AIR_FORECAST, None) as p:
        changed = set(p.days)
        stale = window if p.first else [d for d in window if any(d - LOOKBACK <= c <= d for c in changed)]
        todo = sorted({*absent_issues(lake, window), *stale})
        if not todo:
            log.info("features: the issues of %s..%s are built and their data did not change", window[0], day)
            return {"issues": 0, "rows_out": 0}
        return build_issues(lake, todo)


JOB = Job(
    name=FEATURES_AIR_FORECAST,
    layer="features",
    reads=(SILVER_AIR_HOURLY, SILVER_METEO_HOURLY, SILVER_QC_FLAGS, SILVER_AUDIT_LOG, SILVER_STATIONS),
    writes=(FEATURES_AIR_FORECAST, FEATURES_AIR_CLIMATOLOGY),
    records=(SILVER_CHANGED_DAYS, SILVER_CHANGE_MARKS),
    run=lambda ctx: nightly(ctx.lake, ctx.run_date),
    scope=by_day(lookback=LOOKBACK),
    transform=build,
    doc="the night's issue (16:00 UTC): point-in-time features and climatology of every station "
    "(also the 24 issues before when missing or their data changed: the retrain learns from them)",
)
