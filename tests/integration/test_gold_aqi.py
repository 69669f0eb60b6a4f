"""gold.aqi_hourly: the Spark expressions equal the reference, and the real-time AQI equals what
CNEMC published for the station-hours whose inputs are present."""

import random

import pytest
from pyspark.sql import functions as F

from jobs.gold import aqi_hourly as job
from smartmon.standards.aqi import HJ633_2012, HJ633_2026, category, hourly_aqi


def test_spark_expressions_equal_the_reference(spark):
    rng = random.Random(7)
    rows = []
    for i in range(400):
        conc = {"so2": rng.choice([None, rng.uniform(0, 1000)]), "no2": rng.uniform(0, 2500), "co": rng.uniform(0, 100),
                "o3": rng.uniform(0, 1300), "pm10": rng.uniform(0, 700), "pm25": rng.choice([None, rng.uniform(0, 600)])}
        so2_24h = rng.uniform(0, 2000)
        rows.append((f"s{i}", conc["so2"], conc["no2"], conc["co"], conc["o3"], conc["pm10"], conc["pm25"], so2_24h))
    df = spark.createDataFrame(rows, "station_id string, so2 double, no2 double, co double, o3 double, pm10 double, pm25 double, so2_24h double")
    df = df.withColumn("ts", F.lit("2019-01-01 00:00:00").cast("timestamp")).withColumn("month", F.lit("2019-01"))
    for rs in (HJ633_2012, HJ633_2026):
        got = {r.station_id: r for r in job.aqi_hourly(df, rs).collect()}
        for sid, so2, no2, co, o3, pm10, pm25, so2_24h in rows:
            ref = hourly_aqi({"so2": so2, "no2": no2, "co": co, "o3": o3, "pm10": pm10, "pm25": pm25}, rs, so2_24h=so2_24h)
            r = got[sid]
            assert (r.aqi, r.primary_pollutant) == (ref.aqi, ref.primary), (rs, sid)
            assert [r.iaqi_so2, r.iaqi_no2, r.iaqi_co, r.iaqi_o3, r.iaqi_pm10, r.iaqi_pm25] == [
                ref.iaqi[k] for k in ("so2", "no2", "co", "o3", "pm10", "pm25")]


def test_rule_set_follows_the_beijing_date_of_the_hour(spark):
    # The hour ending 2026-03-01 00:00 Beijing (16:00 UTC the day before) still belongs to February.
    df = spark.createDataFrame([("a", "2026-02-28 16:00:00"), ("b", "2026-02-28 17:00:00")], "station_id string, ts string")
    got = dict(df.select("station_id", job.rule_set_by_date(F.col("ts").cast("timestamp")).alias("rs")).collect())
    assert got == {"a": HJ633_2012, "b": HJ633_2026}


def test_unknown_rule_set_is_refused(spark):
    with pytest.raises(ValueError, match="unknown rule set"):
        job.aqi_hourly(spark.createDataFrame([], "ts timestamp"), "HJ633-1999")


def test_realtime_aqi_equals_the_published_aqi(lake, ingested):
    summary = job.run(lake)
    assert summary["rows_out"] > 0
    air = lake.read("silver.air_hourly").where("source = 'cnemc-archive'")
    gold = lake.read("gold.aqi_hourly").where(F.col("rule_set") == HJ633_2012)
    both = air.join(gold, ["station_id", "ts"]).where(
        " AND ".join(f"{p} IS NOT NULL" for p in ("so2", "no2", "co", "o3", "pm10", "pm25", "aqi_published"))
    )
    n, agree = both.select(F.count("*"), F.sum((F.col("aqi") == F.col("aqi_published")).cast("int"))).first()
    assert n > 50_000
    assert agree / n >= 0.99, (agree, n)
    # Re-running the job changes nothing.
    assert job.run(lake)["rows_out"] == 0


def test_categories_and_colours_are_consistent(lake, ingested):
    rows = lake.read("gold.aqi_hourly").where("aqi IS NOT NULL").select("aqi", "level", "category", "colour").distinct().collect()
    assert len({r.level for r in rows}) >= 4  # January 2019 has good days and heavy pollution
    for r in rows:
        assert (r.level, r.category, r.colour) == category(r.aqi), r
