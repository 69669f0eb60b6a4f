"""Neighbouring stations: candidates from the H3 k-ring, kept within a great-circle radius.

The k-ring turns an all-pairs search into a lookup (100,000 stations stay cheap); the
distance filter makes the result exact, provided the ring reaches past the radius
(tests/unit/test_qc_neighbours.py checks it against brute force).
"""

from __future__ import annotations

from collections import defaultdict

import h3
import numpy as np
import pandas as pd

from smartmon.geo.admin import EARTH_RADIUS_KM


def haversine_np(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def neighbour_pairs(stations: pd.DataFrame, radius_km: float, k: int, res: int = 5) -> pd.DataFrame:
    """(station_id, neighbour_id, distance_km) for every ordered pair within radius_km.

    stations: station_id, lat, lon (rows without a position are left out)."""
    st = stations.dropna(subset=["lat", "lon"]).drop_duplicates("station_id").reset_index(drop=True)
    if st.empty:
        return pd.DataFrame({"station_id": [], "neighbour_id": [], "distance_km": []})
    cell = [h3.latlng_to_cell(a, b, res) for a, b in zip(st["lat"], st["lon"], strict=True)]
    by_cell: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cell):
        by_cell[c].append(i)
    left, right = [], []
    for i, c in enumerate(cell):
        for ring_cell in h3.grid_disk(c, k):
            for j in by_cell.get(ring_cell, ()):
                if j != i:
                    left.append(i)
                    right.append(j)
    li, ri = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
    lat, lon = st["lat"].to_numpy(float), st["lon"].to_numpy(float)
    d = haversine_np(lat[li], lon[li], lat[ri], lon[ri]) if len(li) else np.zeros(0)
    keep = d <= radius_km
    ids = st["station_id"].to_numpy()
    return pd.DataFrame({"station_id": ids[li[keep]], "neighbour_id": ids[ri[keep]], "distance_km": d[keep]})
