"""The control scenario (精细化管控): PM2.5 hotspots on H3 cells, their contributors, and the effect
of a temporary control (named sources cut on named days).

Hotspot evidence per cell (res 7 and 9), over the hourly values of its stations in the period
(per station on the executors, `station_runs`; per cell from the stations, `hotspots`):
exceedance frequency (share of valid hours above 75 ug/m3, the GB 3095 grade II 24 h limit taken
hour by hour) and persistence (longest run of consecutive exceedance hours at one of its stations).
Hotspots are the cells with frequency >= HOTSPOT_FREQ, ranked by frequency x (1 + log1p(persistence)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

EXCEEDANCE_UG = 75.0
HOTSPOT_FREQ = 0.1


def station_runs(hourly: DataFrame) -> DataFrame:
    """hourly: station_id, ts, pm25 (Spark) -> per station with a valid hour: hours (valid
    hours), exceed (of them above EXCEEDANCE_UG) and run (the longest run of consecutive
    exceedances among its valid hours, in time order; a missing hour neither breaks nor extends
    it). Computed where the rows are, by gaps and islands: within a station, an hour's place
    among all valid hours minus its place among the hours of its own kind (above or not) is
    constant along a run of that kind, so the runs partition the hours and one aggregation of
    their lengths gives all three. A national network's period is millions of station-hours;
    what leaves the executors is one row per station."""
    h = hourly.where(F.col("pm25").isNotNull()).select("station_id", "ts", (F.col("pm25") > EXCEEDANCE_UG).alias("exceed"))
    island = (F.row_number().over(Window.partitionBy("station_id").orderBy("ts"))
              - F.row_number().over(Window.partitionBy("station_id", "exceed").orderBy("ts")))
    runs = h.withColumn("island", island).groupBy("station_id", "exceed", "island").agg(F.count("*").alias("n"))
    above = F.when(F.col("exceed"), F.col("n"))
    return runs.groupBy("station_id").agg(
        F.sum("n").alias("hours"), F.coalesce(F.sum(above), F.lit(0)).alias("exceed"),
        F.coalesce(F.max(above), F.lit(0)).alias("run"))


def hotspots(stations: pd.DataFrame, cell_col: str) -> pd.DataFrame:
    """stations: station_runs' rows with the station's <cell_col>. Returns cell, hours,
    exceedance_freq, persistence_h (the longest run at one of its stations), score, rank
    (hotspots only, by score; equal scores in cell order)."""
    per_cell = stations.groupby(cell_col).agg(hours=("hours", "sum"), exceed=("exceed", "sum"), persistence_h=("run", "max"))
    per_cell["exceedance_freq"] = per_cell["exceed"] / per_cell["hours"]
    per_cell["score"] = per_cell["exceedance_freq"] * (1 + np.log1p(per_cell["persistence_h"]))
    hot = per_cell[per_cell["exceedance_freq"] >= HOTSPOT_FREQ].sort_values("score", ascending=False, kind="stable")
    hot = hot.assign(rank=np.arange(1, len(hot) + 1)).reset_index().rename(columns={cell_col: "cell"})
    return hot[["cell", "hours", "exceedance_freq", "persistence_h", "score", "rank"]]
