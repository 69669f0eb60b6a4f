"""Inverse-distance weights from sources (weather grid points, met stations) to targets (air
stations that measure no weather of their own).

A target takes its K nearest sources within MAX_KM, each weighted 1/d^2 and normalised to sum to
1; a source closer than EXACT_KM stands alone (the station sits on it). Beyond MAX_KM nothing is
mapped: a weather value from far away is worse than none, which the models handle as missing.
The KDD Cup 2018 grid is 0.1 degrees (about 8.5 x 11 km at Beijing), so 4 points within 25 km
are the cell around a station.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from smartmon.geo.distance import distance_km

K = 4
MAX_KM = 25.0
EXACT_KM = 0.1

Point = tuple[str, float, float]  # (id, lat, lon)


def idw_weights(targets: Sequence[Point], sources: Sequence[Point], k: int = K, max_km: float = MAX_KM
                ) -> list[tuple[str, str, float]]:
    """(target_id, source_id, weight) for every target with a source within max_km; the weights
    of a target sum to 1."""
    if not targets or not sources:
        return []
    s_ids = [s[0] for s in sources]
    s_lat = np.array([s[1] for s in sources], dtype=float)
    s_lon = np.array([s[2] for s in sources], dtype=float)
    out: list[tuple[str, str, float]] = []
    for tid, lat, lon in targets:
        if lat is None or lon is None or np.isnan(lat) or np.isnan(lon):
            continue
        d = distance_km(lat, lon, s_lat, s_lon)
        near = [i for i in np.argsort(d)[:k] if d[i] <= max_km]
        if not near:
            continue
        if d[near[0]] < EXACT_KM:
            out.append((tid, s_ids[near[0]], 1.0))
            continue
        w = 1.0 / d[near] ** 2
        out += [(tid, s_ids[i], float(wi)) for i, wi in zip(near, w / w.sum())]
    return out
