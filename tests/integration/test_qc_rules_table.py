"""Each QC rule on small hand-made series (table-driven): what must be flagged, what must not."""

from datetime import datetime, timedelta

import pytest
from pyspark.sql import functions as F

from smartmon.qc import air, water
from smartmon.qc.device import device_flags
from smartmon.qc.flagframe import long_values
from smartmon.qc.rules import load_rules

T0 = datetime(2019, 1, 1, 0, 0)
RULES = load_rules()


def _series(spark, parameter, values, station="S1"):
    rows = [(station, T0 + timedelta(hours=i), v) for i, v in enumerate(values) if v is not None]
    wide = spark.createDataFrame(rows, f"station_id string, ts timestamp, {parameter} double")
    for p in ("pm25", "pm10", "so2", "no2", "co", "o3"):
        if p != parameter:
            wide = wide.withColumn(p, F.lit(None).cast("double"))
    return wide


def _rule(spark, parameter, values, fn):
    wide = _series(spark, parameter, values)
    ctx = air.hourly_context(long_values(wide))
    return [(r.rule, r.level, r.ts_from.hour, r.ts_to.hour) for r in fn(ctx, RULES).collect()]


CASES = [
    # (parameter, series, rule function, expected flags as (rule, level, first hour, last hour))
    ("pm25", [40.0] * 8, air.constant_flags, [("constant", "WARNING", 0, 7)]),
    ("pm25", [40.0] * 7, air.constant_flags, []),  # 7 h is not enough
    ("pm25", [5.0] * 12, air.constant_flags, []),  # below the floor: instrument resolution
    ("co", [0.5] * 12, air.constant_flags, []),
    ("pm25", [40.0] * 4 + [None] + [40.0] * 4, air.constant_flags, []),  # a gap breaks the run
    ("pm25", [30, 32, 31, 250, 33, 30, 29], air.spike_flags, [("spike", "WARNING", 3, 3)]),
    ("pm25", [30, 32, 31, 80, 33, 30, 29], air.spike_flags, []),  # within the floor
    ("pm25", [30, 150, 160, 170, 165, 150, 30], air.spike_flags, []),  # an episode, not a spike
    ("pm25", [30, 32, 31, -3, 33, 30, 29], air.range_flags, [("range", "ERROR", 3, 3)]),
    ("co", [1.0, 99.0, 99.0, 1.0], air.range_flags, [("range", "ERROR", 1, 2)]),
]


@pytest.mark.parametrize("parameter,series,fn,expected", CASES, ids=[f"{c[2].__name__}-{i}" for i, c in enumerate(CASES)])
def test_temporal_rules(spark, parameter, series, fn, expected):
    assert _rule(spark, parameter, [float(v) if v is not None else None for v in series], fn) == expected


def test_pm_ratio(spark):
    rows = [("S1", T0 + timedelta(hours=i), float(a), float(b)) for i, (a, b) in enumerate([(55, 40), (41, 40), (30, 60), (10, 200)])]
    wide = spark.createDataFrame(rows, "station_id string, ts timestamp, pm25 double, pm10 double")
    got = sorted((r.rule, r.level, r.ts_from.hour) for r in air.pm_ratio_flags(wide, RULES).collect())
    assert got == [("pm_low_ratio", "INFO", 3), ("pm_ratio", "INFO", 1), ("pm_ratio", "WARNING", 0)]


def test_water_rules(spark):
    rows = [
        ("W", T0, "nh3n", 70765.0, "mg/L", "70765.0"),
        ("W", T0, "nh3n", 0.42, "mg/L", "0.42"),
        ("W", T0, "ph", 11.04089755612263, "pH", "11.04089755612263"),
        ("W", T0, "ph", 7.6, "pH", "7.6"),
        ("W", T0, "water_temp", 25.0, "degC", "25.0"),
        ("W", T0, "do", 19.0, "mg/L", "19.0"),  # 8.26 mg/L saturates at 25 degC: 230 %
        ("W", T0 + timedelta(hours=4), "water_temp", 25.0, "degC", "25.0"),
        ("W", T0 + timedelta(hours=4), "do", 9.0, "mg/L", "9.0"),
    ]
    obs = spark.createDataFrame(rows, "station_id string, ts timestamp, parameter string, value double, unit string, value_text string")
    got = sorted((r.rule, r.level, r.detail.split(" ")[0]) for r in water.water_flags(obs, RULES).collect())
    assert got == [("do_saturation", "WARNING", "DO"), ("impossible", "ERROR", "nh3n"),
                   ("ph", "WARNING", "pH"), ("precision", "WARNING", "11.04089755612263:")]


def test_device_flags_become_windows(spark):
    flags = ["N", "C", "C", "C", "N", "D", "N"]
    rows = [("MN1", T0 + timedelta(minutes=10 * i), "a34004", "pm25", f) for i, f in enumerate(flags)]
    v = spark.createDataFrame(rows, "mn string, data_time timestamp, code string, parameter string, data_flag string")
    got = sorted((r.level, r.ts_from.minute, r.ts_to.minute, r.detail) for r in device_flags(v, RULES).collect())
    assert got == [("ERROR", 10, 30, "HJ 212 data flag C (calibration) on 3 values"),
                   ("ERROR", 50, 50, "HJ 212 data flag D (device fault) on 1 values")]


def test_neighbour_medians_on_spark_equal_the_join_they_replace(spark):
    """The spatial rules' neighbour medians as the job runs them (rows by hour to the executors,
    whole hours in blocks of a few rows, so an hour is held back across Arrow batches) equal the
    join of every value to every neighbour's and Spark's grouped median."""
    import random

    import pandas as pd

    from smartmon.qc.spatial import with_neighbour_medians

    rnd = random.Random(7)
    ids = [f"S{i}" for i in range(6)]
    pairs = pd.DataFrame([(a, b) for a in ids for b in ids if a != b and rnd.random() < 0.6], columns=["station_id", "neighbour_id"])
    rows = [(s, p, T0 + timedelta(hours=h), float(rnd.randint(0, 8) * 5)) for s in ids for p in ("pm25", "pm10", "o3")
            for h in range(40) if rnd.random() < 0.8]
    values = spark.createDataFrame(rows, "station_id string, parameter string, ts timestamp, value double")
    got = with_neighbour_medians(values, pairs, ("pm25", "pm10"), 2, block_rows=5)
    nb = values.select(F.col("station_id").alias("neighbour_id"), "parameter", "ts", F.col("value").alias("nb_value"))
    med = (spark.createDataFrame(pairs).join(nb, "neighbour_id").groupBy("station_id", "parameter", "ts")
           .agg(F.median("nb_value").alias("nb_median"), F.count("*").alias("n_nb")).where("n_nb >= 2"))
    want = values.where(F.col("parameter").isin("pm25", "pm10")).join(med, ["station_id", "parameter", "ts"])
    cols = ["station_id", "parameter", "ts", "value", "nb_median", "n_nb"]
    assert want.count() > 100
    assert sorted(got.select(cols).collect()) == sorted(want.select(cols).collect())
