"""Inverse-distance weights from weather points to air stations (smartmon.geo.idw), table-driven."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmon.geo.idw import idw_weights

GRID = [(f"g{i}{j}", 39.9 + 0.1 * i, 116.3 + 0.1 * j) for i in range(3) for j in range(3)]  # a 0.1-degree grid


@pytest.mark.parametrize(
    "target, expect",
    [
        (("on_a_point", 40.0, 116.4), {"g11": 1.0}),  # sits on g11: that point alone
        (("centre_of_a_cell", 39.95, 116.35), {"g00": 0.25, "g01": 0.25, "g10": 0.25, "g11": 0.25}),  # about equidistant
        (("far_away", 31.2, 121.5), {}),  # Shanghai: nothing within 25 km
    ],
)
def test_weights_by_inverse_square_distance(target, expect):
    got = {s: w for _, s, w in idw_weights([target], GRID)}
    assert got.keys() == expect.keys() and all(math.isclose(got[s], w, rel_tol=1e-2) for s, w in expect.items())


def test_the_nearer_point_weighs_more_and_a_station_without_coordinates_is_skipped():
    got = {s: w for _, s, w in idw_weights([("a", 40.01, 116.41), ("b", None, None)], GRID)}
    assert max(got, key=got.get) == "g11" and len(got) == 4


@given(st.floats(39.85, 40.15), st.floats(116.25, 116.55))
@settings(max_examples=200, deadline=None)
def test_weights_of_a_station_sum_to_one_and_are_positive(lat, lon):
    rows = idw_weights([("t", lat, lon)], GRID)
    assert rows and math.isclose(sum(w for *_, w in rows), 1.0) and all(w > 0 for *_, w in rows)
    assert len(rows) <= 4


def test_the_reach_filter_changes_no_weight():
    """in_reach spares the per-target loop the stations no weather point can reach: the weights
    of a national-like scatter (most far away, some near the grid, some at its 25 km edge, one
    without coordinates) must be exactly those of the loop over every station."""
    import numpy as np

    from smartmon.geo import idw

    rng = np.random.default_rng(7)
    lat, lon = 25 + rng.random(3000) * 20, 100 + rng.random(3000) * 25
    near = [(f"n{i}", 40 + rng.normal(0, 0.2), 116.4 + rng.normal(0, 0.2)) for i in range(400)]
    edge = [(f"e{i}", 39.9 + (0.2 + d / 111.2) * s, 116.5) for i, (d, s) in enumerate([(24.9, 1), (25.1, 1), (25.0, -1)])]
    targets = [(f"f{i}", a, b) for i, (a, b) in enumerate(zip(lat, lon, strict=True))] + near + edge + [("x", None, None)]
    everything = idw.idw_weights(targets, GRID)
    kept = idw.in_reach(targets, np.array([g[1] for g in GRID]), np.array([g[2] for g in GRID]), idw.MAX_KM + idw.REACH_MARGIN_KM)
    assert {t for t, *_ in everything} <= {k[0] for k in kept} and len(kept) < 600

    def loop_over_all(pts):  # the loop without the filter: every target through the same code
        orig = idw.in_reach
        try:
            idw.in_reach = lambda t, *_: list(t)
            return idw.idw_weights(pts, GRID)
        finally:
            idw.in_reach = orig

    assert everything == loop_over_all(targets) and len(everything) > 1000
