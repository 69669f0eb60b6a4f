"""The control scenario (精细化管控): PM2.5 hotspots on H3 cells, their contributors, and the effect
of a temporary control (named sources cut on named days).

Hotspot evidence per cell (res 7 and 9), over the hourly values of its stations in the period:
exceedance frequency (share of valid hours above 75 ug/m3, the GB 3095 grade II 24 h limit taken
hour by hour) and persistence (longest run of consecutive exceedance hours at one of its stations).
Hotspots are the cells with frequency >= HOTSPOT_FREQ, ranked by frequency x (1 + log1p(persistence)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

EXCEEDANCE_UG = 75.0
HOTSPOT_FREQ = 0.1


def longest_run(flags: np.ndarray) -> int:
    best = run = 0
    for f in flags:
        run = run + 1 if f else 0
        best = max(best, run)
    return best


def hotspots(hourly: pd.DataFrame, cell_col: str) -> pd.DataFrame:
    """hourly: station_id, ts, pm25, <cell_col>. Returns cell, hours, exceedance_freq, persistence_h,
    score, rank (hotspots only)."""
    h = hourly.dropna(subset=["pm25"]).sort_values(["station_id", "ts"])
    h = h.assign(exceed=h["pm25"] > EXCEEDANCE_UG)
    runs = h.groupby("station_id")["exceed"].apply(lambda s: longest_run(s.to_numpy())).rename("run")
    per_cell = h.groupby(cell_col).agg(hours=("exceed", "size"), exceed=("exceed", "sum"))
    cell_of = h[["station_id", cell_col]].drop_duplicates().join(runs, on="station_id")
    per_cell["persistence_h"] = cell_of.groupby(cell_col)["run"].max()
    per_cell["exceedance_freq"] = per_cell["exceed"] / per_cell["hours"]
    per_cell["score"] = per_cell["exceedance_freq"] * (1 + np.log1p(per_cell["persistence_h"]))
    hot = per_cell[per_cell["exceedance_freq"] >= HOTSPOT_FREQ].sort_values("score", ascending=False)
    hot = hot.assign(rank=np.arange(1, len(hot) + 1)).reset_index().rename(columns={cell_col: "cell"})
    return hot[["cell", "hours", "exceedance_freq", "persistence_h", "score", "rank"]]
