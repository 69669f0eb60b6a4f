"""The control scenario's per-station hotspot evidence on Spark (smartmon.scenario.control.
station_runs) against the rule written out in plain Python: valid hours, hours above 75 ug/m3,
and the longest run of consecutive exceedances among the valid hours in time order (a missing
hour neither breaks nor extends a run)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from smartmon.scenario.control import EXCEEDANCE_UG, station_runs

T0 = datetime(2019, 1, 29)


def longest_run(values: list[float | None]) -> int:
    best = run = 0
    for v in values:
        if v is None:
            continue
        run = run + 1 if v > EXCEEDANCE_UG else 0
        best = max(best, run)
    return best


# station -> its hourly PM2.5 in time order (None: no valid value that hour)
CASES = {
    "two-runs": [80, 90, 10, 80, 80, 80],
    "none-above": [10, 20],
    "all-above": [76] * 5,
    "gap-inside-a-run": [80, None, 90, None, None, 100, 10],
    "exactly-the-limit": [75, 75.0001, 75],
    "one-hour": [200],
    "only-gaps-and-one": [None, None, 76, None],
}


@pytest.fixture(scope="module")
def random_cases():
    rng = np.random.default_rng(11)
    out = {}
    for i in range(300):
        n = int(rng.integers(1, 80))
        vals = rng.choice([10.0, 60.0, 76.0, 120.0], size=n, p=[0.3, 0.2, 0.25, 0.25]).tolist()
        out[f"r{i:03d}"] = [None if rng.random() < 0.15 else v for v in vals]
    return out


def _frame(spark, cases: dict[str, list[float | None]]):
    rows = [(sid, T0 + timedelta(hours=h), None if v is None else float(v)) for sid, vals in cases.items() for h, v in enumerate(vals)]
    rng = np.random.default_rng(3)
    rows = [rows[i] for i in rng.permutation(len(rows))]  # arrival order is not time order
    return spark.createDataFrame(rows, "station_id string, ts timestamp, pm25 double").repartition(3)


def test_station_runs_equal_the_rule_written_out(spark, random_cases):
    cases = {**CASES, **random_cases}
    got = {r.station_id: (r.hours, r.exceed, r.run) for r in station_runs(_frame(spark, cases)).collect()}
    want = {sid: (sum(v is not None for v in vals), sum(v is not None and v > EXCEEDANCE_UG for v in vals), longest_run(vals))
            for sid, vals in cases.items() if any(v is not None for v in vals)}
    assert got == want
    assert got["two-runs"] == (6, 5, 3) and got["gap-inside-a-run"] == (4, 3, 3) and got["none-above"] == (2, 0, 0)
