"""What the nightly's maintenance decides from a table's log, without Spark: which partitions
to compact, and whether a VACUUM is due."""

import pytest

from jobs.maintenance import COMPACT_ABOVE, TableState, crowded_partitions, vacuum_due


def _files(month: str, n: int) -> list[str]:
    return [f"file:///lake/silver/air_hourly/month={month}/part-{i:05d}.parquet" for i in range(n)]


@pytest.mark.parametrize(("files", "table", "expected"), [
    (_files("2019-01", COMPACT_ABOVE + 1) + _files("2019-02", COMPACT_ABOVE), "silver.air_hourly", ["`month` = '2019-01'"]),
    (_files("2019-01", 3), "silver.air_hourly", []),
    ([f"file:///lake/gold/model_aliases/part-{i}.parquet" for i in range(COMPACT_ABOVE + 1)], "gold.model_aliases", ["true"]),
    ([f"file:///lake/gold/model_aliases/part-{i}.parquet" for i in range(2)], "gold.model_aliases", []),
])
def test_only_partitions_with_more_than_the_limit_of_files_are_compacted(files, table, expected):
    assert crowded_partitions(TableState(tuple(files), None, 1.0), table) == expected


@pytest.mark.parametrize(("last_vacuum", "age", "due"), [
    (None, 2.0, False),      # a first night: nothing can have been removed a retention ago
    (None, 168.0, True),     # never vacuumed and as old as the retention
    (None, 500.0, True),
    (24.0, 500.0, False),    # vacuumed yesterday
    (168.0, 500.0, True),    # a week since the last
])
def test_vacuum_runs_weekly_and_not_before_a_table_could_have_anything_to_delete(last_vacuum, age, due):
    assert vacuum_due(TableState((), last_vacuum, age), retention_hours=168, every_hours=168) is due
