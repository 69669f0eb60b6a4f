"""Property tests of the H3 column functions against h3-py itself."""

import h3
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from smartmon.geo.h3cells import cells

lat = st.floats(min_value=-89.9, max_value=89.9, allow_nan=False)
lon = st.floats(min_value=-179.9, max_value=179.9, allow_nan=False)
res = st.integers(min_value=0, max_value=15)


@given(st.lists(st.tuples(lat, lon), min_size=1, max_size=50), res)
@settings(max_examples=60, deadline=None)
def test_vectorized_cells_equal_h3_py(points, r):
    la = np.array([p[0] for p in points])
    lo = np.array([p[1] for p in points])
    got = cells(la, lo, r).to_pylist()
    assert got == [h3.str_to_int(h3.latlng_to_cell(a, b, r)) for a, b in points]


@given(lat, lon, st.integers(min_value=1, max_value=15))
@settings(max_examples=200, deadline=None)
def test_cell_invariants(a, b, r):
    (cell,) = cells(np.array([a]), np.array([b]), r).to_pylist()
    text = h3.int_to_str(cell)
    assert h3.is_valid_cell(text) and h3.get_resolution(text) == r
    assert 0 < cell < 2**63  # fits a signed BIGINT
    # The cell's own centre lies in the cell.
    assert h3.latlng_to_cell(*h3.cell_to_latlng(text), r) == text
    # Coarser cells of the same point are the parent or one of its neighbours (H3 children do
    # not tile their parent exactly).
    (coarse,) = cells(np.array([a]), np.array([b]), r - 1).to_pylist()
    assert h3.grid_distance(h3.cell_to_parent(text, r - 1), h3.int_to_str(coarse)) <= 1


@given(st.lists(st.one_of(st.none(), st.just(float("nan")), st.just(200.0), lat), min_size=1, max_size=20))
@settings(max_examples=50, deadline=None)
def test_missing_or_invalid_coordinates_give_null(lats):
    la = np.array([np.nan if v is None else v for v in lats], dtype=float)
    lo = np.full(la.shape, 116.4)
    got = cells(la, lo, 7).to_pylist()
    for v, c in zip(la, got, strict=True):
        assert (c is None) == (not np.isfinite(v) or abs(v) > 90)
