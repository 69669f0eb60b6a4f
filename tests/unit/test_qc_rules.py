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
