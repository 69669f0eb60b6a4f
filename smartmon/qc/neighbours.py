"""Neighbouring stations: the k nearest within a great-circle radius.

The cap matters at national density: every station within 30 km was about 100 neighbours a
station among 100,000 stations (9.5 M pairs, each joined to every hour of the month), while a
robust median needs only a handful. A KD-tree on unit vectors finds them in O(n log n); chord
length grows with arc length, so the radius and the ordering are exact
(tests/unit/test_qc_rules.py checks both against brute force).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from smartmon.geo.distance import EARTH_RADIUS_KM, distance_km


def rule_book_pairs(stations: pd.DataFrame, spatial: dict) -> pd.DataFrame:
    """neighbour_pairs with the radius and cap of the rule book's `air.spatial` section."""
    return neighbour_pairs(stations, float(spatial["radius_km"]), int(spatial["k_nearest"]))


def _unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    p, l = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(p) * np.cos(l), np.cos(p) * np.sin(l), np.sin(p)])


def neighbour_pairs(stations: pd.DataFrame, radius_km: float, k_nearest: int) -> pd.DataFrame:
    """(station_id, neighbour_id, distance_km): each station's k_nearest nearest others within radius_km.

    stations: station_id, lat, lon (rows without a position are left out). Ties at the k-th
    distance are broken by station order, so the result is the same on every run."""
    st = stations.dropna(subset=["lat", "lon"]).drop_duplicates("station_id")
    st = st.sort_values("station_id", kind="stable").reset_index(drop=True)
    empty = pd.DataFrame({"station_id": pd.Series([], dtype=object), "neighbour_id": pd.Series([], dtype=object),
                          "distance_km": pd.Series([], dtype=float)})
    if len(st) < 2 or k_nearest < 1:
        return empty
    lat, lon = st["lat"].to_numpy(float), st["lon"].to_numpy(float)
    xyz = _unit_vectors(lat, lon)
    # a little slack on the chord bound; the haversine distance below decides
    chord = 2 * np.sin(min(radius_km / EARTH_RADIUS_KM, np.pi) / 2) * (1 + 1e-9) + 1e-12
    k = min(2 * k_nearest + 1, len(st))  # slack so ties at the k-th distance resolve by station order
    tree = cKDTree(xyz)
    dist, idx = tree.query(xyz, k=k, distance_upper_bound=chord)
    dist, idx = dist.reshape(len(st), k), idx.reshape(len(st), k)
    left = np.repeat(np.arange(len(st)), k)
    right = idx.ravel()
    found = (right < len(st)) & (right != left)
    li, ri = left[found], right[found]
    # a full query whose last distance ties the k-th neighbour's may have cut the tie short (the
    # tree returns any of the equally distant points): take every point up to that distance
    full = (idx[:, -1] < len(st)) & (k < len(st))
    cut = np.flatnonzero(full & (dist[:, min(k_nearest, k - 1)] >= dist[:, -1] * (1 - 1e-12)))
    if cut.size:
        balls = tree.query_ball_point(xyz[cut], r=dist[cut, -1] * (1 + 1e-9) + 1e-12)
        extra_l = np.concatenate([np.full(len(b), i) for i, b in zip(cut, balls)])
        extra_r = np.concatenate([np.asarray(b, dtype=int) for b in balls])
        keep_rows = ~np.isin(li, cut)
        li, ri = np.concatenate([li[keep_rows], extra_l]), np.concatenate([ri[keep_rows], extra_r])
        mine = ri != li
        li, ri = li[mine], ri[mine]
    d = distance_km(lat[li], lon[li], lat[ri], lon[ri])
    keep = d <= radius_km
    out = pd.DataFrame({"i": li[keep], "j": ri[keep], "d": d[keep]})
    # exact order (distance, then station order), k per station: the tree's own tie order is not promised
    out = out.sort_values(["i", "d", "j"], kind="stable").groupby("i", sort=False).head(k_nearest)
    ids = st["station_id"].to_numpy()
    return pd.DataFrame({"station_id": ids[out["i"].to_numpy()], "neighbour_id": ids[out["j"].to_numpy()],
                         "distance_km": out["d"].to_numpy()}).reset_index(drop=True)
