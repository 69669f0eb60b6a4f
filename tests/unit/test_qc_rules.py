"""The QC rule book loads and is consistent; the k-nearest neighbour search within the radius
equals brute force (property test)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmon.errors import ConfigError
from smartmon.geo.distance import distance_km
from smartmon.qc.flagframe import AIR_PARAMETERS
from smartmon.qc.neighbours import neighbour_pairs
from smartmon.qc.rules import load_rules


def test_rule_book_covers_every_air_parameter_and_has_a_version():
    rules = load_rules()
    assert rules.version
    for section in ("range", ):
        assert set(rules.air[section]) == set(AIR_PARAMETERS)
    assert set(rules.air["constant"]["floor"]) == set(AIR_PARAMETERS)
    assert set(rules.air["spike"]["floor"]) == set(AIR_PARAMETERS)
    assert rules.device_flag("N") is None and rules.device_flag("c") == ("ERROR", "calibration")


def test_a_broken_rule_book_is_a_clear_error(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("version: x\nair: {}\n")
    with pytest.raises(ConfigError, match="rules.yaml"):
        load_rules(bad)
    bad.write_text("version: x\nair: {}\nwater: {}\nscreening: {}\ndevice: {flags: {C: [SEVERE, calibration]}}\n")
    with pytest.raises(ConfigError, match="level 'SEVERE'"):
        load_rules(bad)


points = st.lists(
    st.tuples(st.floats(min_value=20, max_value=45), st.floats(min_value=100, max_value=125)), min_size=2, max_size=40
)


@settings(max_examples=60, deadline=None)
@given(points, st.floats(min_value=0.5, max_value=1.5), st.integers(min_value=1, max_value=50))
def test_nearest_neighbours_equal_brute_force(pts, spread, k):
    # cluster the points so that many pairs fall near the radius; repeat some so ties occur
    base = np.array(pts[0])
    arr = base + (np.array(pts + pts[:3]) - base) * spread / 10
    df = pd.DataFrame({"station_id": [f"s{i:03d}" for i in range(len(arr))], "lat": arr[:, 0], "lon": arr[:, 1]})
    radius = float(load_rules().air["spatial"]["radius_km"])
    got = neighbour_pairs(df, radius, k)
    for i in range(len(df)):
        d = distance_km(np.full(len(arr), arr[i, 0]), np.full(len(arr), arr[i, 1]), arr[:, 0], arr[:, 1])
        # brute force: every other station within the radius, nearest first, ties by station order
        within = sorted((d[j], f"s{j:03d}") for j in range(len(arr)) if j != i and d[j] <= radius)
        want = [sid for _, sid in within[:k]]
        mine = got[got["station_id"] == f"s{i:03d}"]
        assert list(mine["neighbour_id"]) == want
        assert np.allclose(mine["distance_km"], [dist for dist, _ in within[:k]])


def test_the_rule_book_caps_neighbours_per_station():
    # 30 stations on one spot: each keeps k_nearest of the 29 others, not all of them
    k = int(load_rules().air["spatial"]["k_nearest"])
    df = pd.DataFrame({"station_id": [f"s{i:02d}" for i in range(30)], "lat": 39.9, "lon": 116.4})
    counts = neighbour_pairs(df, 30.0, k).groupby("station_id").size()
    assert len(counts) == 30 and set(counts) == {k}


def _brute_medians(rows: pd.DataFrame, pairs: pd.DataFrame, min_neighbours: int) -> pd.DataFrame:
    """The join the spatial rules were first written as: every value to every neighbour's."""
    nb = rows.rename(columns={"station_id": "neighbour_id", "value": "nb_value"})[["neighbour_id", "parameter", "_h", "nb_value"]]
    joined = pairs[["station_id", "neighbour_id"]].merge(nb, on="neighbour_id")
    med = joined.groupby(["station_id", "parameter", "_h"]).agg(nb_median=("nb_value", "median"), n_nb=("nb_value", "size")).reset_index()
    med = med[med["n_nb"] >= min_neighbours]
    return rows.merge(med, on=["station_id", "parameter", "_h"])


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    cols = ["station_id", "parameter", "_h", "value", "nb_median", "n_nb"]
    return df[cols].sort_values(cols[:3]).reset_index(drop=True).astype({"n_nb": "int64"})


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 7), st.integers(0, 2**31 - 1), st.integers(1, 4))
def test_neighbour_medians_equal_a_join_and_a_grouped_median(n_stations, seed, min_neighbours):
    """The spatial rules' neighbour medians by key arithmetic (smartmon.qc.spatial) against the
    join and grouped median they replace: ties, missing neighbours, stations without pairs."""
    from smartmon.qc.spatial import NeighbourTable, neighbour_medians

    rng = np.random.default_rng(seed)
    ids = [f"S{i}" for i in range(n_stations)]
    pairs = pd.DataFrame([(a, b) for a in ids[:-1] for b in ids if a != b and rng.random() < 0.7],
                         columns=["station_id", "neighbour_id"])
    if pairs.empty:
        pairs = pd.DataFrame({"station_id": [ids[0]], "neighbour_id": [ids[1]]})
    cells = [(s, p, h) for s in ids for p in ("pm25", "pm10") for h in range(400_000, 400_006) if rng.random() < 0.75]
    rows = pd.DataFrame(cells, columns=["station_id", "parameter", "_h"])
    rows["value"] = rng.integers(0, 6, len(rows)).astype(float) * 2.5  # few distinct values: ties
    rows["ts"] = pd.to_datetime(rows["_h"] * 3600, unit="s")
    got = neighbour_medians(rows, NeighbourTable.of(pairs), ("pm25", "pm10"), min_neighbours)
    want = _brute_medians(rows, pairs, min_neighbours)
    pd.testing.assert_frame_equal(_sorted(got.assign(_h=(got["ts"].astype("int64") // 3_600_000_000_000))), _sorted(want))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 4), min_size=1, max_size=60), st.integers(1, 9), st.integers(1, 12))
def test_whole_hours_never_split_an_hour(steps, batch, limit):
    """The kernel's blocks hold every row once and each hour in one block, however the rows
    arrive in batches."""
    from smartmon.qc.spatial import whole_hours

    hours = np.cumsum(steps)
    rows = pd.DataFrame({"_h": hours, "i": np.arange(len(hours))})
    batches = (rows.iloc[i:i + batch] for i in range(0, len(rows), batch))
    blocks = list(whole_hours(batches, limit))
    assert pd.concat(blocks)["i"].tolist() == rows["i"].tolist()
    seen = [set(b["_h"]) for b in blocks]
    assert all(not (a & b) for i, a in enumerate(seen) for b in seen[i + 1:])


def test_a_nan_value_counts_in_the_median_as_spark_counts_it():
    """Spark sorts NaN above every number and its median interpolates through it; the kernel
    must give the same, not skip it (pandas would) nor let the padding of absent neighbours
    sort before it."""
    from smartmon.qc.spatial import NeighbourTable, neighbour_medians

    pairs = pd.DataFrame({"station_id": ["A"] * 4 + ["D"] * 3, "neighbour_id": ["B", "C", "E", "F", "B", "C", "E"]})
    rows = pd.DataFrame({"station_id": ["A", "B", "C", "D", "E"], "parameter": "pm25", "ts": pd.Timestamp("2019-01-01 01:00"),
                         "_h": 430_000, "value": [10.0, 3.0, np.nan, 7.0, 5.0]})
    got = neighbour_medians(rows, NeighbourTable.of(pairs), ("pm25",), 2).set_index("station_id")
    # A: B, C and E found (F absent): [3, 5, NaN], the middle is 5
    assert got.loc["A", "n_nb"] == 3 and got.loc["A", "nb_median"] == 5.0
    # without E: B and C found, [3, NaN], the mean of the two middle values is NaN (as in Spark)
    two = neighbour_medians(rows[rows["station_id"] != "E"], NeighbourTable.of(pairs), ("pm25",), 2).set_index("station_id")
    assert two.loc["A", "n_nb"] == 2 and np.isnan(two.loc["A", "nb_median"])
