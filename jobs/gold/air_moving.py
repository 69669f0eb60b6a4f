"""gold.air_moving: moving values per station-hour computed from the valid hourly values, and
gold.moving_agreement: how they compare with the values a source published itself.

Conventions found from the January 2019 CNEMC archive (README "Moving values"):
- 24 h moving means: the 24 hours ending at ts; a value needs >= 20 valid hours (GB 3095);
  rounded by GB/T 8170 (half to even) to whole ug/m3, CO to 0.1 mg/m3.
- O3 8 h moving mean as published in real time: the 8 hours ending at ts *within the same
  Beijing day* (the window restarts with the hour ending 01:00, so early hours average fewer
  hours); needs 3/4 of the window's hours (6 of 8).
- O3_24h: the maximum 1 h value of the last 24 hours; O3_8h_24h: the maximum O3 8 h value of
  the Beijing day so far.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from jobs.gold import scope
from smartmon import changes
from smartmon.beijing_time import beijing_day, utc_to_beijing
from smartmon.catalog.names import (
    GOLD_AIR_MOVING,
    GOLD_MOVING_AGREEMENT,
    SILVER_AIR_HOURLY,
    SILVER_AUDIT_LOG,
    SILVER_CHANGE_MARKS,
    SILVER_CHANGED_DAYS,
    SILVER_QC_FLAGS,
)
from smartmon.changes import DayWindow
from smartmon.io import Lake
from smartmon.jobspec import Job, by_day
from smartmon.qc.flagframe import hour_index
from smartmon.standards.rounding import standard_round

log = logging.getLogger(__name__)
MEANS_24H = ("pm25", "pm10", "so2", "no2", "co")
MIN_HOURS_24H = 20
SHARE_8H = 0.75
LOOKBACK = timedelta(hours=24)  # a 24 h window ending in the day's first hour reaches 23 h back
PRODUCT = GOLD_AIR_MOVING
# measure -> (published column in silver.air_hourly, hours column, hours of a complete window
# (a number, "day8": the day's hours so far up to 8, "day": the day's hours so far), decimals)
MEASURES: dict[str, tuple[str, str, int | str, int]] = {
    **{f"{p}_24h": (f"{p}_24h", f"n_{p}_24h", 24, 1 if p == "co" else 0) for p in MEANS_24H},
    "o3_8h": ("o3_8h", "n_o3_8h", "day8", 0),
    "o3_24h": ("o3_24h", "n_o3_24h", 24, 0),
    "o3_8h_24h": ("o3_8h_24h", "n_o3_day", "day", 0),
}


def _complete(full: int | str) -> Column:
    if full == "day8":
        return F.least(F.col("_pos"), F.lit(8))
    return F.col("_pos") if full == "day" else F.lit(full)


def day_position(ts: Column) -> Column:
    """1..24: the hour of the Beijing day that ends at ts (the hour ending 00:00 is the 24th)."""
    h = F.hour(utc_to_beijing(ts))
    return F.when(h == 0, F.lit(24)).otherwise(h)


def _round(c: Column, decimals: int) -> Column:
    return standard_round(c, decimals)


def moving_frame(air: DataFrame) -> DataFrame:
    """Valid hourly values -> moving values with their hour counts and the unrounded means
    (`_raw_*`, used to tell exact rounding ties in the agreement report)."""
    df = air.select("station_id", "ts", "month", *MEANS_24H, "o3")
    df = df.withColumn("_h", hour_index(F.col("ts"))).withColumn("_day", beijing_day(F.col("ts"))).withColumn("_pos", day_position(F.col("ts")))
    w24 = Window.partitionBy("station_id").orderBy("_h").rangeBetween(-23, 0)
    for p in MEANS_24H:
        n = F.count(p).over(w24)
        raw = F.avg(p).over(w24)
        df = df.withColumn(f"n_{p}_24h", n.cast("int")).withColumn(f"_raw_{p}_24h", raw)
        df = df.withColumn(f"{p}_24h", F.when(F.col(f"n_{p}_24h") >= MIN_HOURS_24H, _round(F.col(f"_raw_{p}_24h"), 1 if p == "co" else 0)))
    df = df.withColumn("n_o3_24h", F.count("o3").over(w24).cast("int"))
    df = df.withColumn("o3_24h", F.when(F.col("n_o3_24h") >= MIN_HOURS_24H, F.max("o3").over(w24)))
    w8 = Window.partitionBy("station_id", "_day").orderBy("_h").rangeBetween(-7, 0)
    need = F.ceil(F.least(F.col("_pos"), F.lit(8)) * F.lit(SHARE_8H))
    df = df.withColumn("n_o3_8h", F.count("o3").over(w8).cast("int")).withColumn("_raw_o3_8h", F.avg("o3").over(w8))
    df = df.withColumn("o3_8h", F.when(F.col("n_o3_8h") >= need, _round(F.col("_raw_o3_8h"), 0)))
    so_far = Window.partitionBy("station_id", "_day").orderBy("_h").rangeBetween(Window.unboundedPreceding, 0)
    df = df.withColumn("n_o3_day", F.count("o3").over(so_far).cast("int")).withColumn("o3_8h_24h", F.max("o3_8h").over(so_far))
    return df


COLUMNS = ("station_id", "ts", "month", *(f"{p}_24h" for p in MEANS_24H), "o3_8h", "o3_24h", "o3_8h_24h",
           *(f"n_{p}_24h" for p in MEANS_24H), "n_o3_8h", "n_o3_24h")


def agreement(moving: DataFrame, published: DataFrame) -> DataFrame:
    """Per source, Beijing day and measure: how many computed values equal the published ones, for
    complete windows (every hour present) and partial ones apart. A tie is a mean exactly half
    way between two reportable values: the source rounds its unrounded inputs there, which the
    archive does not carry, so either neighbour counts as agreeing in `n_equal_or_tie`."""
    both = moving.join(published, ["station_id", "ts"])
    parts = []
    for measure, (pub, ncol, full, dec) in MEASURES.items():
        mine = F.col(measure)
        scale = F.lit(10.0 ** dec)
        raw = F.col(f"_raw_{measure}") if f"_raw_{measure}" in moving.columns else None
        if raw is not None:
            frac = raw * scale - F.floor(raw * scale)
            tie = (F.abs(frac - F.lit(0.5)) < F.lit(1e-6)) & (
                (F.col(f"p_{pub}") == F.floor(raw * scale) / scale) | (F.col(f"p_{pub}") == F.ceil(raw * scale) / scale)
            )
        else:
            tie = F.lit(False)
        sel = both.where(mine.isNotNull() & F.col(f"p_{pub}").isNotNull()).select(
            "source", "month", beijing_day(F.col("ts")).alias("day"), F.lit(measure).alias("measure"),
            F.when(F.col(ncol) >= _complete(full), F.lit("complete")).otherwise(F.lit("partial")).alias("window"),
            (F.abs(mine - F.col(f"p_{pub}")) < F.lit(1e-6)).alias("_eq"), tie.alias("_tie"),
        )
        parts.append(sel)
    union = parts[0]
    for p in parts[1:]:
        union = union.unionByName(p)
    return union.groupBy("source", "month", "day", "measure", "window").agg(
        F.count("*").cast("bigint").alias("n_compared"),
        F.sum(F.col("_eq").cast("int")).cast("bigint").alias("n_equal"),
        F.sum((~F.col("_eq") & F.col("_tie")).cast("int")).cast("bigint").alias("n_tie"),
    ).withColumn("n_equal_or_tie", F.col("n_equal") + F.col("n_tie")).withColumn(
        "share_equal", F.col("n_equal") / F.col("n_compared")
    ).withColumn("share_equal_or_tie", F.col("n_equal_or_tie") / F.col("n_compared"))


def published_frame(air: DataFrame) -> DataFrame:
    cols = sorted({pub for pub, _, _, _ in MEASURES.values()})
    has = air.where(F.coalesce(*[F.col(c) for c in cols]).isNotNull())
    return has.select("station_id", "ts", "source", *[F.col(c).alias(f"p_{c}") for c in cols])


def run(lake: Lake, days: list[date] | None = None, run_id: str = "") -> dict[str, int]:
    """Moving values for the days whose valid data changed and the day after each (its 24 h
    windows reach back into the changed day), or for the given days; and the agreement with
    the published values of those days."""
    with scope.consuming_air(lake, PRODUCT, days) as p:
        build = DayWindow.of([*p.days, *(d + timedelta(days=1) for d in p.days)])
        if not build:
            log.info("%s: no day changed", PRODUCT)
            return {"days": 0, "rows_out": 0}
        air, valid = scope.valid_in(lake, DayWindow.of(build.days, lookback=LOOKBACK))
        built = build.predicate(widen=False)
        frame = moving_frame(valid).where(built).cache()
        # replaced, not merged: see jobs/gold/aqi_daily.py (a MERGE would copy older days' rows along)
        out = lake.overwrite(frame.select(*COLUMNS), PRODUCT, replace_where=build.where(widen=False))
        agree = agreement(frame, published_frame(air.where(built)))
        # rows of the month-level layout an older lake kept (no day) go with the first rebuild
        stale = " OR `day` IS NULL" if p.first else ""
        out_agree = lake.merge(agree, GOLD_MOVING_AGREEMENT, delete_missing_where=f"({build.day_predicate()}){stale}")
        frame.unpersist()
        if out.rows_written:
            changes.note(lake, PRODUCT, build.days, run_id)
    return {"days": len(build.days), "rows_out": out.rows_written + out_agree.rows_written}


JOB = Job(
    name=GOLD_AIR_MOVING,
    layer="gold",
    reads=(SILVER_AIR_HOURLY, SILVER_QC_FLAGS, SILVER_AUDIT_LOG),
    writes=(GOLD_AIR_MOVING, GOLD_MOVING_AGREEMENT),
    run=lambda ctx: run(ctx.lake, run_id=ctx.run_id),
    scope=by_day(lookback=LOOKBACK),
    transform=moving_frame,
    records=(SILVER_CHANGED_DAYS, SILVER_CHANGE_MARKS),
    doc="24 h and 8 h moving values, and their agreement with the published ones",
)
