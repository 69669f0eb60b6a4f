"""Hex-map data: gold.hex_daily's resolution-7 PM2.5 sums rolled up to a display resolution.

hex_daily keeps sums and station counts so that they add up across resolutions; rolling them
up (rather than averaging means) gives the station-day weighted mean of each coarser cell and
lets a map pick the resolution that fits the area: the nation's 9.6 million km2 at res 3, a
province at res 5, a city at res 6.
"""

from __future__ import annotations

import h3
import pandas as pd

DISPLAY_RES = {"national": 3, "province": 5, "city": 6}


def roll_up(hex_rows: pd.DataFrame, res: int) -> pd.DataFrame:
    """(cell res 7, value_sum, n_stations) rows -> one row per parent cell at `res`: the mean over
    the period's station-days and how many there were."""
    if hex_rows.empty:
        return pd.DataFrame(columns=["cell", "value", "n"])
    parents = {c: h3.cell_to_parent(h3.int_to_str(int(c)), res) for c in hex_rows["cell"].unique()}
    rows = hex_rows.assign(parent=hex_rows["cell"].map(parents))
    g = rows.groupby("parent").agg(value_sum=("value_sum", "sum"), n=("n_stations", "sum")).reset_index()
    g = g[g["n"] > 0]
    return pd.DataFrame({"cell": g["parent"], "value": g["value_sum"] / g["n"], "n": g["n"].astype(int)})


def area_cells(hex_rows: pd.DataFrame, station_cells: pd.Series) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split hex rows into the area's (cells holding an area station) and the others (context)."""
    mine = set(pd.to_numeric(station_cells, errors="coerce").dropna().astype("int64"))
    inside = hex_rows["cell"].astype("int64").isin(mine)
    return hex_rows[inside], hex_rows[~inside]


def boundary_lonlat(cell: str) -> list[tuple[float, float]]:
    """The cell's outline as (lon, lat) pairs: h3 v4 returns (lat, lng)."""
    return [(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]
