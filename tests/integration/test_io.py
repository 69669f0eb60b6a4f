"""The I/O layer on a real Delta table: declared schemas, idempotent MERGE, retry on conflict."""

import pytest
from chispa import assert_df_equality
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import Row

from smartmon.errors import TableError


def _aliases(spark, rows):
    return spark.createDataFrame(
        [Row(source=s, source_station=n, station_id=i, method="t", distance_km=d) for s, n, i, d in rows],
        "source string, source_station string, station_id string, method string, distance_km double",
    )


row = st.tuples(st.sampled_from(["a", "b"]), st.sampled_from(["x", "y", "z"]), st.sampled_from(["1", "2"]), st.one_of(st.none(), st.floats(0, 5)))


@given(st.lists(row, min_size=1, max_size=6, unique_by=lambda r: (r[0], r[1])))
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_merge_is_idempotent(lake, spark, rows):
    fqn = "silver.station_aliases"
    df = _aliases(spark, rows)
    lake.merge(df, fqn)
    first = lake.read(fqn).orderBy("source", "source_station").cache()
    first.count()
    again = lake.merge(df, fqn)
    assert again.rows_written == 0
    assert_df_equality(lake.read(fqn).orderBy("source", "source_station"), first)
    first.unpersist()


def test_merge_updates_a_corrected_value_and_keeps_history(lake, spark):
    fqn = "silver.station_aliases"
    lake.merge(_aliases(spark, [("corr", "s1", "1001A", 1.0)]), fqn)
    v = lake.version(fqn)
    res = lake.merge(_aliases(spark, [("corr", "s1", "1002A", 1.0)]), fqn)
    assert res.rows_updated == 1
    now = lake.read(fqn).where("source = 'corr'").collect()
    old = lake.read(fqn, version=v).where("source = 'corr'").collect()
    assert now[0].station_id == "1002A" and old[0].station_id == "1001A"


def test_conform_refuses_wrong_columns(lake, spark):
    with pytest.raises(TableError, match=r"missing columns \['distance_km'\]"):
        lake.merge(_aliases(spark, [("a", "b", "c", 1.0)]).drop("distance_km"), "silver.station_aliases")


def test_duplicate_keys_in_a_merge_get_a_clear_error(lake, spark):
    df = _aliases(spark, [("dup", "k", "1", 1.0), ("dup", "k", "2", 2.0)])
    lake.merge(_aliases(spark, [("dup", "k", "0", 0.0)]), "silver.station_aliases")
    with pytest.raises(TableError, match="repeat a key"):
        lake.merge(df, "silver.station_aliases")


def test_tables_are_created_with_declared_properties(lake, spark):
    lake.ensure("gold.pipeline_runs")
    detail = spark.sql(f"DESCRIBE DETAIL delta.`{lake.path('gold.pipeline_runs')}`").first()
    assert detail.properties["delta.enableChangeDataFeed"] == "true"
    assert detail.properties["delta.enableDeletionVectors"] == "false"
    assert "deletionVectors" not in (detail.tableFeatures or [])
