from pathlib import Path

import pytest
from pyspark.sql import types as T

from smartmon import catalog
from smartmon.catalog_doc import catalog_markdown
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
