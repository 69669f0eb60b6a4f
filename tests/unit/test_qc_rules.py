"""The QC rule book loads and is consistent; neighbour search through the H3 k-ring equals
brute force (property test)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmon.errors import ConfigError
from smartmon.qc.flagframe import AIR_PARAMETERS
from smartmon.qc.neighbours import haversine_np, neighbour_pairs
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


@settings(max_examples=40, deadline=None)
@given(points, st.floats(min_value=0.5, max_value=1.5))
def test_k_ring_neighbours_equal_brute_force(pts, spread):
    # cluster the points so that many pairs fall near the radius
    base = np.array(pts[0])
    arr = base + (np.array(pts) - base) * spread / 10
    df = pd.DataFrame({"station_id": [f"s{i}" for i in range(len(arr))], "lat": arr[:, 0], "lon": arr[:, 1]})
    rules = load_rules()
    radius, k = float(rules.air["spatial"]["radius_km"]), int(rules.air["spatial"]["k_ring"])
    got = {(a, b) for a, b in zip(*neighbour_pairs(df, radius, k)[["station_id", "neighbour_id"]].T.values, strict=True)}
    want = set()
    for i in range(len(df)):
        for j in range(len(df)):
            if i != j and haversine_np(arr[i, 0], arr[i, 1], arr[j, 0], arr[j, 1]) <= radius:
                want.add((f"s{i}", f"s{j}"))
    assert got == want
