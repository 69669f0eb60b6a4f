"""The I/O layer on a real Delta table: declared schemas, idempotent MERGE, retry on conflict."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

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
    assertDataFrameEqual(lake.read(fqn).orderBy("source", "source_station"), first, checkRowOrder=True, ignoreNullable=False, rtol=0, atol=0)
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


def _air(lake, spark, rows):
    """silver.air_hourly rows (station, day of January or February 2019, hour, pm25)."""
    from datetime import datetime

    spec = lake.ensure("silver.air_hourly")
    recs = []
    for station, month, day, hour, pm25 in rows:
        ts = datetime(2019, month, day, hour)
        recs.append({**dict.fromkeys(spec.column_names), "station_id": station, "ts": ts, "month": f"2019-{month:02d}",
                     "pm25": pm25, "status": "preliminary", "source": "test", "source_line": 1})
    return spark.createDataFrame(recs, spec.schema)


def test_first_load_of_a_month_is_a_partition_write_and_reloads_merge(spark, settings, tmp_path):
    """keys_unique: an empty month is written without a MERGE; the same rows again change
    nothing, a corrected value updates its row, and the table equals the MERGE-only one."""
    import dataclasses

    from smartmon.io import Lake

    fast = Lake(spark, dataclasses.replace(settings, lake=str(tmp_path / "fast")))
    plain = Lake(spark, dataclasses.replace(settings, lake=str(tmp_path / "plain")))
    fqn = "silver.air_hourly"
    loads = [
        ([("s1", 1, 5, 3, 10.0), ("s2", 1, 5, 3, 20.0)], ["2019-01"]),  # empty table: a partition write
        ([("s1", 1, 5, 3, 10.0), ("s2", 1, 5, 3, 20.0)], ["2019-01"]),  # the same rows: nothing changes
        ([("s1", 1, 5, 3, 11.0), ("s3", 1, 5, 3, 30.0)], ["2019-01"]),  # a correction and a new station
        ([("s1", 2, 1, 0, 40.0)], ["2019-02"]),  # a new month beside a filled one: a partition write
    ]
    ops = []
    for rows, months in loads:
        ops.append(fast.merge(_air(fast, spark, rows), fqn, within={"month": months}, keys_unique=True))
        plain.merge(_air(plain, spark, rows), fqn, within={"month": months})
    assert [(r.operation == "WRITE", r.rows_inserted, r.rows_updated) for r in ops] == [
        (True, 2, 0), (False, 0, 0), (False, 1, 1), (True, 1, 0)]
    order = ["station_id", "ts"]
    assertDataFrameEqual(fast.read(fqn).orderBy(order), plain.read(fqn).orderBy(order), checkRowOrder=True, rtol=0, atol=0)


def test_staged_arrow_rows_equal_create_dataframe(spark, settings, tmp_path, monkeypatch):
    """A large parsed batch goes to Spark through Parquet files in the lake's _staging folder:
    the same rows and types as createDataFrame, and the folder is gone afterwards."""
    from datetime import datetime

    import pyarrow as pa

    from jobs.bronze import handoff

    n = 2_500
    table = pa.table({"station_code": pa.array([f"s{i % 7}" for i in range(n)]), "pm25": pa.array([str(i) for i in range(n)]),
                      "source_line": pa.array(range(2, n + 2), type=pa.int64()),
                      "fields": pa.array([[("k", str(i))] for i in range(n)], type=pa.map_(pa.string(), pa.string())),
                      "empty": pa.nulls(n),  # Arrow's null type (an all-empty column)
                      "ingested_at": pa.array([datetime(2019, 1, 5, 3)] * n, type=pa.timestamp("us"))})
    monkeypatch.setattr(handoff, "STAGE_MIN_ROWS", 1_000)
    monkeypatch.setattr(handoff, "PART_ROWS", 1_000)
    root = tmp_path / "_staging"
    with handoff.arrow_frame(spark, table, None) as direct, handoff.arrow_frame(spark, table, root) as staged:
        assert len(list(root.iterdir())) == 1 and len(list(next(root.iterdir()).glob("*.parquet"))) == 3
        cols = [F.col(c) for c in table.column_names[:-2]] + [F.col("empty").cast("string"), F.col("ingested_at").cast("timestamp")]
        assertDataFrameEqual(staged.select(cols).orderBy("source_line"), direct.select(cols).orderBy("source_line"), checkRowOrder=True, rtol=0, atol=0)
    assert list(root.iterdir()) == []
    with handoff.arrow_frame(spark, table.slice(0, 10), root) as small:  # below the threshold: no files
        assert small.count() == 10 and list(root.iterdir()) == []


def test_columns_declared_after_a_table_was_made_are_added(spark, settings, tmp_path):
    """An upgrade that declares a new column: the table's existing rows stay, the column is added
    (null) without going through the session catalog, and a second ensure changes nothing."""
    import dataclasses

    from smartmon import catalog
    from smartmon.io import Lake

    lake = Lake(spark, dataclasses.replace(settings, lake=str(tmp_path / "lake")))
    fqn = "silver.station_aliases"
    spec = catalog.get(fqn)
    older = [c for c in spec.columns][:-1]  # the table as an older release made it
    rows = spark.createDataFrame([tuple("x" if c.type == "string" else None for c in older)],
                                 ", ".join(f"`{c.name}` {catalog.spark_type(c.type).simpleString()}" for c in older))
    rows.write.format("delta").save(lake.path(fqn))
    lake.ensure(fqn)
    got = lake.read(fqn)
    assert got.columns == list(spec.column_names) and got.count() == 1
    assert got.first()[spec.columns[-1].name] is None
    version = lake.version(fqn)
    Lake(spark, lake.cfg).ensure(fqn)
    assert lake.version(fqn) == version


@pytest.mark.parametrize("road", ["delta-rs", "spark"])
def test_bookkeeping_merge_from_arrow_inserts_updates_only_changes_and_reads_back(spark, settings, tmp_path, monkeypatch, road):
    """The ingest manifest's road (jobs.bronze.handoff.merge_arrow/read_arrow): delta-rs on a
    local lake, Spark where delta-rs cannot write (a cluster): the same rows either way, the
    same rows again commit nothing, a changed value updates its row alone."""
    import dataclasses
    from datetime import datetime

    import pyarrow as pa

    from jobs.bronze import handoff
    from smartmon.catalog.names import BRONZE_INGEST_BATCHES
    from smartmon.io import Lake

    if road == "spark":
        monkeypatch.setattr(handoff, "_rs_path", lambda lake, fqn: None)
    lake = Lake(spark, dataclasses.replace(settings, lake=str(tmp_path / road)))
    names = ["batch_id", "source", "source_file", "file_sha256", "file_size", "records_read", "records_accepted",
             "records_quarantined", "bronze_table", "delta_versions", "status", "ingested_at", "file_order"]

    def rows(*files):
        return pa.Table.from_pylist([dict(zip(names, ("b1", "src", f, sha, 10, n, n, 0, "bronze.x", None, "ingested",
                                                      datetime(2019, 1, 5, 3), i), strict=True))
                                     for i, (f, sha, n) in enumerate(files)])

    first = handoff.merge_arrow(lake, rows(("a.csv", "s1", 3), ("b.csv", "s2", 4)), BRONZE_INGEST_BATCHES)
    assert (first.rows_inserted, first.rows_updated) == (2, 0)
    version = lake.version(BRONZE_INGEST_BATCHES)
    again = handoff.merge_arrow(lake, rows(("a.csv", "s1", 3), ("b.csv", "s2", 4)), BRONZE_INGEST_BATCHES)
    assert again.rows_written == 0
    if road == "delta-rs":  # (Spark's MERGE commits an empty version)
        assert again.operation == "NOOP" and lake.version(BRONZE_INGEST_BATCHES) == version
    changed = handoff.merge_arrow(lake, rows(("a.csv", "s1", 3), ("b.csv", "s2", 5)), BRONZE_INGEST_BATCHES)
    assert (changed.rows_inserted, changed.rows_updated) == (0, 1)
    got = sorted((r["source_file"], r["records_read"], r["ingested_at"].replace(tzinfo=None))
                 for r in handoff.read_arrow(lake, BRONZE_INGEST_BATCHES, ["source_file", "records_read", "ingested_at"]).to_pylist())
    assert got == [("a.csv", 3, datetime(2019, 1, 5, 3)), ("b.csv", 5, datetime(2019, 1, 5, 3))]
    assert sorted(r.records_read for r in lake.read(BRONZE_INGEST_BATCHES).collect()) == [3, 5]
    only_b = handoff.read_arrow(lake, BRONZE_INGEST_BATCHES, ["records_read"], where={"source_file": ["b.csv"], "status": ["ingested"]})
    assert only_b["records_read"].to_pylist() == [5]


def test_maintenance_reads_the_same_state_from_the_log_by_delta_rs_and_by_spark(spark, settings, tmp_path, monkeypatch):
    """jobs.maintenance.table_state: delta-rs on a local lake, Spark elsewhere: the same live
    files, no VACUUM yet, and the table's age from its first commit."""
    import dataclasses
    from urllib.parse import unquote

    from jobs import maintenance
    from smartmon.io import Lake

    lake = Lake(spark, dataclasses.replace(settings, lake=str(tmp_path / "m")))
    lake.merge(_aliases(spark, [("a", "x", "1", 1.0)]), "silver.station_aliases")
    lake.merge(_aliases(spark, [("b", "y", "2", 2.0)]), "silver.station_aliases")
    by_rs = maintenance.table_state(lake, "silver.station_aliases")
    monkeypatch.setattr(maintenance, "is_local_uri", lambda uri: False)
    by_spark = maintenance.table_state(lake, "silver.station_aliases")

    def names(state):
        return sorted(unquote(f).rsplit("/", 1)[-1] for f in state.files)

    assert names(by_rs) == names(by_spark) and len(by_rs.files) >= 2
    assert by_rs.last_vacuum_hours is None and by_spark.last_vacuum_hours is None
    assert 0 <= by_rs.age_hours < 1 and abs(by_rs.age_hours - by_spark.age_hours) < 0.01
    assert not maintenance.vacuum_due(by_rs, retention_hours=168, every_hours=168)
