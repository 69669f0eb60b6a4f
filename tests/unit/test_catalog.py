from pathlib import Path

import pytest
from pyspark.sql import types as T

from pipelines.catalog_doc import catalog_markdown
from smartmon import catalog
from smartmon.config import REPO_ROOT
from smartmon.errors import TableError


def test_every_table_is_valid_and_documented():
    tables = catalog.all_tables()
    assert {"silver.stations", "bronze.quarantine", "gold.pipeline_runs"} <= {t.fqn for t in tables}
    for spec in tables:
        assert spec.description and all(c.doc for c in spec.columns), spec.fqn
        assert isinstance(spec.schema, T.StructType)
        assert spec.properties["delta.enableDeletionVectors"] == "false"
        if spec.layer in ("silver", "gold"):
            assert spec.properties["delta.enableChangeDataFeed"] == "true"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("string", T.StringType()),
        ("bigint", T.LongType()),
        ("array<string>", T.ArrayType(T.StringType())),
        ("map<string,double>", T.MapType(T.StringType(), T.DoubleType())),
    ],
)
def test_type_vocabulary(name, expected):
    assert catalog.spark_type(name) == expected


def test_unknown_type_and_table_are_refused():
    with pytest.raises(TableError, match="unsupported column type"):
        catalog.spark_type("decimal(3,1)")
    with pytest.raises(TableError, match="smartmon tables"):
        catalog.get("silver.nope")


def test_tables_md_is_up_to_date():
    doc = Path(REPO_ROOT / "TABLES.md").read_text(encoding="utf-8")
    assert doc == catalog_markdown(), "TABLES.md is stale: run `make tables-doc`"


@pytest.mark.parametrize(
    ("within", "expected"),
    [
        ({"month": ["2019-02", "2019-01", "2019-01"]}, "t.`month` IN ('2019-01', '2019-02')"),
        ({"month": []}, "false"),  # nothing to merge: match no target file
        ({}, "true"),
    ],
)
def test_merge_partition_predicate_is_a_literal_list(within, expected):
    from smartmon.io import partition_predicate

    assert partition_predicate(catalog.get("silver.air_hourly"), within) == expected


@pytest.mark.parametrize(
    ("fqn", "within", "message"),
    [
        ("silver.air_hourly", {"station_id": ["1001A"]}, "not a partition column"),
        ("silver.stations", {"month": ["2019-01"]}, "not a partition column"),
        ("silver.air_hourly", {"month": ["2019-01' OR '1'='1"]}, "cannot be a SQL literal"),
    ],
)
def test_merge_partition_predicate_refuses_what_would_not_prune(fqn, within, message):
    from smartmon.io import partition_predicate

    with pytest.raises(TableError, match=message):
        partition_predicate(catalog.get(fqn), within)


def test_month_partitions_follow_from_a_time_key():
    """Lake.merge(within=...) relies on it: a month-partitioned table's month is derived from one
    of its keys, so a key can never arrive in another month than the one it is stored in."""
    time_keys = {"ts", "day", "issued_at", "ts_from", "data_time", "sample_time", "month", "period"}
    for spec in catalog.all_tables():
        if "month" in spec.partition_by:
            assert time_keys & set(spec.keys), spec.fqn
