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
REACH_MARGIN_KM = 1.0  # far above any rounding between the matrix and the per-target distances
CHUNK = 2000  # targets per block of the reach matrix


def in_reach(targets: Sequence[Point], s_lat: np.ndarray, s_lon: np.ndarray, km: float) -> list[Point]:
    """The targets with a source within km, found by blocks of a targets x sources matrix. The
    weights themselves come from the exact per-target loop; this only spares it the targets that
    cannot get any: at national scale nearly all of 10^5 stations are far from the weather
    points the lake has (the KDD grid covers Beijing), and a Python loop over them is slow."""
    lat = np.array([np.nan if t[1] is None else t[1] for t in targets], dtype=float)
    lon = np.array([np.nan if t[2] is None else t[2] for t in targets], dtype=float)
    keep = np.zeros(len(targets), dtype=bool)
    for i in range(0, len(targets), CHUNK):
        d = distance_km(lat[i:i + CHUNK, None], lon[i:i + CHUNK, None], s_lat[None, :], s_lon[None, :])
        keep[i:i + CHUNK] = (d <= km).any(axis=1)
    return [t for t, k in zip(targets, keep, strict=True) if k]


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
    for tid, lat, lon in in_reach(targets, s_lat, s_lon, max_km + REACH_MARGIN_KM):
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
