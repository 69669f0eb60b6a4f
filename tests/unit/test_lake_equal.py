"""bench.lake_equal, the "results unchanged" check of the benchmarks: it must tell a changed
value, a missing row and a moved last bit apart, without Spark (delta-rs tables in tmp_path)."""

import pyarrow as pa
import pytest
from deltalake import write_deltalake

from bench.lake_equal import compare_table


def _table(path, ids, values, stamps):
    write_deltalake(str(path), pa.table({"station_id": ids, "aqi": pa.array(values, pa.float64()), "level": [1] * len(ids),
                                         "run_id": stamps}))
    return path


@pytest.mark.parametrize(("values_b", "ids_b", "problems"), [
    ([10.0, 20.0], ["a", "b"], []),                                    # the same values, other run stamps
    ([10.0, 20.0 * (1 + 1e-15)], ["a", "b"], []),                      # a float's last bits (summation order)
    ([10.0, 21.0], ["a", "b"], ["aqi: 1 rows differ"]),                # a changed value
    ([10.0, 20.0], ["a", "c"], ["2 rows in one lake only"]),           # a row for another key
    ([10.0, None], ["a", "b"], ["aqi: 1 rows differ"]),                # a value gone
])
def test_tables_equal_only_when_every_value_agrees(tmp_path, values_b, ids_b, problems):
    a = _table(tmp_path / "a", ["a", "b"], [10.0, 20.0], ["run-1", "run-1"])
    b = _table(tmp_path / "b", ids_b, values_b, ["run-2", "run-2"])
    assert compare_table(a, b, ("station_id",), rtol=1e-12) == problems


def test_a_table_of_another_length_is_reported(tmp_path):
    a = _table(tmp_path / "a", ["a", "b"], [10.0, 20.0], ["r", "r"])
    b = _table(tmp_path / "b", ["a"], [10.0], ["r"])
    assert compare_table(a, b, ("station_id",), rtol=1e-12) == ["2 rows vs 1"]
