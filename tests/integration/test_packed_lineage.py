"""Lineage through silver.air_hourly's hash aggregation (jobs.silver.packed_lineage): the coded
aggregation must give, per station and hour, each value from the latest delivery that carries it
(arrival: batch, file, line), the whole lineage of the latest delivery, and the greatest unit,
exactly as a plain sort of the rows would."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from jobs.silver.air_hourly import rows_of
from jobs.silver.air_rows import VALUE_COLS
from jobs.silver.packed_lineage import codes_of, decode, encode, lineage_facts

T0, T1 = datetime(2019, 1, 1, 1), datetime(2019, 1, 1, 2)
AT = datetime(2019, 2, 1, 3)
SCHEMA = ("station_id string, ts timestamp, pm25 double, source_unit string, source string, source_file string, "
          "source_line bigint, batch_id string, ingested_at timestamp")


@pytest.mark.parametrize(("facts", "files", "units"), [
    ([("county-air", "/l/b.csv", "B1", AT, "co ug/m3"), ("county-air", "/l/a.csv", "B1", AT, None)],
     [("county-air", "/l/a.csv", "B1", AT), ("county-air", "/l/b.csv", "B1", AT)], ("co ug/m3",)),
    ([("township-sensors", "/t.csv", "B2", AT, "so2 ppb"), ("county-air", "/c.csv", "B1", AT, "co ug/m3"),
      ("township-sensors", "/t.csv", "B2", AT, "co ppm")],
     [("county-air", "/c.csv", "B1", AT), ("township-sensors", "/t.csv", "B2", AT)], ("co ppm", "co ug/m3", "so2 ppb")),
    ([("kdd2018", None, None, None, None)], [("kdd2018", None, None, None)], ()),
])
def test_codes_order_files_and_units(facts, files, units):
    codes = codes_of(facts)
    assert list(codes.files) == files
    assert codes.units == units


def test_encode_then_decode_gives_the_rows_back(spark):
    rows = spark.createDataFrame([
        ("a", T0, 1.0, "co ug/m3", "county-air", "/l/a.csv", 7, "B1", AT),
        ("b", T0, None, None, "county-air", "/l/b.csv", None, "B1", AT),
        ("c", T1, 2.0, "so2 ppb", "township-sensors", "/l/t.csv", 4_294_967_294, "B2", AT),
        ("d", T1, 3.0, None, "kdd2018", None, 1, None, None),
    ], SCHEMA)
    codes = codes_of(tuple(r) for r in lineage_facts(rows).collect())
    back = decode(encode(rows, codes), codes).select(*rows.columns)
    assertDataFrameEqual(back, rows, rtol=0, atol=0)


def _arrival(r: tuple) -> tuple:
    """A row's delivery in arrival order: batch (time, id), file (path, source), line."""
    return (r[8], r[7] or "", r[5] or "", r[4], 0 if r[6] is None else r[6] + 1)


def _expected(rows: list[tuple]) -> dict:
    """Per (station, ts): the latest delivered pm25, the lineage of the latest delivery, max unit."""
    out: dict = {}
    for key in {(r[0], r[1]) for r in rows}:
        group = [r for r in rows if (r[0], r[1]) == key]
        carrying = [r for r in group if r[2] is not None]
        units = [r[3] for r in group if r[3] is not None]
        last = max(group, key=_arrival)
        value = max(carrying, key=_arrival)[2] if carrying else None
        out[key] = (value, max(units) if units else None, last[4], last[5], last[6], last[7], last[8])
    return out


row = st.tuples(
    st.sampled_from(["s1", "s2"]), st.sampled_from([T0, T1]), st.none() | st.floats(0, 500, allow_nan=False),
    st.sampled_from([None, "co ug/m3", "so2 ppb"]), st.sampled_from(["county-air", "township-sensors"]),
    st.sampled_from(["/l/x.csv", "/l/y.csv"]), st.none() | st.integers(1, 50), st.sampled_from(["B1", "B2"]), st.just(AT),
)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=12, unique_by=lambda r: (r[0], r[1], r[4], r[5], r[6], r[7])))
def test_one_row_per_station_hour_takes_the_latest_delivery(spark, rows):
    """A correction downwards wins when it comes later (the old rule kept the greater value), and a
    delivery that lacks the value does not blank it."""
    df = spark.createDataFrame(rows, SCHEMA)
    for c in VALUE_COLS:
        if c != "pm25":
            df = df.withColumn(c, F.lit(None).cast("double"))
    got = {(r.station_id, r.ts): (r.pm25, r.source_unit, r.source, r.source_file, r.source_line, r.batch_id, r.ingested_at)
           for r in rows_of(df).collect()}
    assert got == _expected(rows)
