"""Cost follows data (issue #26): the air chain builds the days whose inputs changed, reads them
with their declared lookback, and leaves every other day's files alone; a late correction for an
old day rebuilds that day and what depends on it; the incremental tables equal a recomputation
of everything from scratch. Real CNEMC lines of two Beijing stations, on a lake of their own.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from jobs.gold import air_moving, aqi_daily, aqi_hourly
from smartmon.beijing_time import beijing_day
from smartmon.catalog.names import (
    GOLD_AIR_MOVING,
    GOLD_AQI_DAILY,
    GOLD_AQI_HOURLY,
    GOLD_EVAL_MONTHLY,
    SILVER_AIR_HOURLY,
    SILVER_CHANGED_DAYS,
    SILVER_QC_FLAGS,
    SILVER_STATIONS,
)
from smartmon.qc.apply import valid_air

# Five nights of the air chain on a lake of their own take six to seven minutes: `make test-all`.
pytestmark = pytest.mark.heavy
from tests.integration.test_values_not_rows import _day

STATIONS = {"1001A": (39.8673, 116.3660), "1002A": (40.2865, 116.1700)}
CHAIN = (SILVER_AIR_HOURLY, SILVER_QC_FLAGS, GOLD_AQI_HOURLY, GOLD_AIR_MOVING, GOLD_AQI_DAILY, "gold.eval", "gold.aggregates")


@pytest.fixture(scope="module")
def own(spark, settings, tmp_path_factory):
    from smartmon import catalog
    from smartmon.io import Lake

    root = tmp_path_factory.mktemp("dayscope")
    lake = Lake(spark, replace(settings, lake=str(root / "lake"), landing=str(root / "landing")))
    spec = catalog.get(SILVER_STATIONS)
    rows = [(s, "air", "national", "test", lat, lon, "110000", "110100", "110102") for s, (lat, lon) in STATIONS.items()]
    st = spark.createDataFrame(rows, "station_id string, kind string, tier string, source string, lat double, lon double, "
                                     "province_code string, city_code string, county_code string")
    lake.merge(st.select(*[F.col(c.name).cast(c.type) if c.name in st.columns else F.lit(None).cast(c.type).alias(c.name)
                           for c in spec.columns]), SILVER_STATIONS)
    return lake, root


def _deliver(lake, root: Path, name: str, text: str, mtime: float) -> None:
    from jobs.bronze.ingest import ingest

    path = root / "landing" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.utime(path, (mtime, mtime))
    [report] = ingest(lake, "cnemc-archive", [path])
    assert report.lost == 0


def _night(lake, run_date: date) -> dict[str, dict[str, int]]:
    """The air chain's jobs of the graph, in order, as the nightly runs them."""
    from pipelines.definitions import graph
    from smartmon.jobspec import RunContext

    g = graph()
    ctx = RunContext(lake=lake, run_date=run_date, run_id=f"dayscope-{run_date}")
    return {name: g.jobs[name].run(ctx) for name in CHAIN}


def _files(lake, table: str, day: date) -> set[str]:
    """The data files holding a Beijing day's rows of a table (hourly: by ts; daily: by day)."""
    df = lake.read(table)
    where = F.col("day") == F.lit(day) if "day" in df.columns else beijing_day(F.col("ts")) == F.lit(day)
    return {r.f for r in df.where(where).select(F.col("_metadata.file_path").alias("f")).distinct().collect()}


def _digest(df: DataFrame, cols: list[str]) -> tuple[int, int]:
    return df.count(), df.select(F.sum(F.xxhash64(*cols))).first()[0]


def test_a_night_builds_its_day_and_a_late_correction_its_own(own, data_root):
    lake, root = own
    t0 = datetime(2019, 2, 1).timestamp()
    gold = (GOLD_AQI_HOURLY, GOLD_AIR_MOVING, GOLD_AQI_DAILY)
    _deliver(lake, root, "day-20190114.csv", _day(data_root, "20190114", range(24)), t0)
    first = _night(lake, date(2019, 1, 14))
    # a first run builds every day: the 13th (the hour ending 00:00 on the 14th) and the 14th; the
    # daily AQI also the 15th, whose moving values the 14th's last hours reach (none yet)
    assert first[SILVER_QC_FLAGS]["days"] == 2 and first[GOLD_AQI_DAILY]["days"] == 3
    _deliver(lake, root, "day-20190115.csv", _day(data_root, "20190115", range(24)), t0 + 1)
    _night(lake, date(2019, 1, 15))

    # the next day's file arrives: its day is checked and built, and the day before, whose last
    # hour (ending 00:00) the file carries; moving values also the day after
    kept = {t: _files(lake, t, date(2019, 1, 13)) for t in gold}
    _deliver(lake, root, "day-20190116.csv", _day(data_root, "20190116", range(24)), t0 + 2)
    night = _night(lake, date(2019, 1, 16))
    assert night[SILVER_AIR_HOURLY]["days"] == 2
    assert night[SILVER_QC_FLAGS]["days"] == 2 and night[GOLD_AQI_HOURLY]["days"] == 2
    assert night[GOLD_AIR_MOVING]["days"] == 3 and night[GOLD_AQI_DAILY]["days"] == 3
    assert night["gold.eval"]["months"] == 1
    assert {t: _files(lake, t, date(2019, 1, 13)) for t in gold} == kept  # older days' files are not rewritten
    assert lake.read(GOLD_AQI_DAILY).where("day = DATE'2019-01-16'").count() == 2

    # the same night again: nothing to do
    again = _night(lake, date(2019, 1, 16))
    assert all(again[j].get("days", 0) == 0 and again[j].get("rows_out", 0) == 0 for j in CHAIN[1:]), again

    # a correction of one value on the 14th, delivered late
    lines = _day(data_root, "20190114", range(10, 11)).splitlines()
    pm25 = next(i for i, line in enumerate(lines) if ",PM2.5," in line)
    f = lines[pm25].split(",")
    f[3] = str(float(f[3]) + 200)
    lines[pm25] = ",".join(f)
    hourly = (SILVER_AIR_HOURLY, GOLD_AQI_HOURLY)  # upserts: only the files of rows that change are rewritten
    kept16 = {t: _files(lake, t, date(2019, 1, 16)) for t in hourly}
    _deliver(lake, root, "fix-20190114.csv", "\n".join(lines) + "\n", t0 + 3)
    late = _night(lake, date(2019, 1, 17))
    assert late[SILVER_AIR_HOURLY]["corrected"] == 1
    assert late[SILVER_QC_FLAGS]["days"] == 1 and late[GOLD_AQI_HOURLY]["days"] == 1
    assert late[GOLD_AIR_MOVING]["days"] == 2 and late[GOLD_AQI_DAILY]["days"] == 2  # the 14th and the 15th
    assert {t: _files(lake, t, date(2019, 1, 16)) for t in hourly} == kept16  # the 16th's hours are left alone
    noted = lake.read(SILVER_CHANGED_DAYS).where("`table` = 'silver.air_hourly'").select("day", "_metadata.row_commit_version")
    last = noted.agg(F.max("row_commit_version")).first()[0]
    assert [r.day for r in noted.where(F.col("row_commit_version") == last).collect()] == [date(2019, 1, 14)]
    assert lake.read(GOLD_EVAL_MONTHLY).where("period = '2019-01'").count() > 0


def test_the_incremental_tables_equal_a_recomputation_from_scratch(own):
    lake, _ = own
    air = lake.read(SILVER_AIR_HOURLY)
    valid = valid_air(air, lake.read(SILVER_QC_FLAGS))
    hourly = aqi_hourly.aqi_hourly(valid)
    moving = air_moving.moving_frame(valid).select(*air_moving.COLUMNS)
    daily = aqi_daily.daily_aqi(aqi_daily.daily_values(valid, moving))
    for table, fresh in ((GOLD_AQI_HOURLY, hourly), (GOLD_AIR_MOVING, moving), (GOLD_AQI_DAILY, daily)):
        stored = lake.read(table)
        cols = [c for c in stored.columns if c in fresh.columns]
        assert _digest(stored, cols) == _digest(fresh.select(*cols), cols), table
