"""Spatial consistency: each station against the median of its neighbours, hour by hour.

d = ln((x + 5) / (neighbour median + 5)) is centred on the station's own median d over the
window, so a station that always reads higher than its neighbours (a kerbside site, a valley)
is not an outlier; only a change against its usual relation is. Robust z uses the MAD.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from smartmon.beijing_time import beijing_day
from smartmon.catalog.names import SILVER_AIR_HOURLY
from smartmon.qc.flagframe import as_flags, fmt, hour_index, hour_runs, median_of
from smartmon.qc.rules import Rules

MAD_SCALE = 1.4826
# rows of whole hours handed to the neighbour kernel at a time: bounded memory whatever the window
KERNEL_ROWS = 500_000
MEDIAN_SCHEMA = "station_id string, parameter string, ts timestamp, value double, nb_median double, n_nb long"


@dataclass(frozen=True)
class NeighbourTable:
    """The neighbour pairs as arrays: stations[i] is station i, nbr[i] its neighbours' indices
    (-1 past the last), so a row's neighbours are found by arithmetic instead of a join."""

    stations: pd.Index
    nbr: np.ndarray

    @classmethod
    def of(cls, pairs: pd.DataFrame) -> NeighbourTable:
        """pairs: station_id, neighbour_id (smartmon.qc.neighbours.neighbour_pairs)."""
        ids = pd.Index(sorted(set(pairs["station_id"]) | set(pairs["neighbour_id"])))
        i = ids.get_indexer(pairs["station_id"])
        slot = pairs.groupby("station_id", sort=False).cumcount().to_numpy()
        nbr = np.full((len(ids), int(slot.max()) + 1 if len(slot) else 1), -1, dtype=np.int64)
        nbr[i, slot] = ids.get_indexer(pairs["neighbour_id"])
        return cls(ids, nbr)


def neighbour_medians(rows: pd.DataFrame, table: NeighbourTable, parameters: tuple[str, ...], min_neighbours: int) -> pd.DataFrame:
    """For rows of whole hours (station_id, parameter, ts, value, _h: hour index), the median of
    the same parameter at the same hour over the station's neighbours that have it (n_nb of
    them); rows with fewer than min_neighbours are dropped.

    A join of every value to every neighbour's and a grouped median shuffles twelve rows per
    value; here each (hour, parameter, station) is one integer key, the neighbours' keys are
    looked up in the sorted keys, and the median of the row of up to twelve is taken in place.
    The median of an even count is the mean of the two middle values, as Spark's median gives."""
    cols = ["station_id", "parameter", "ts", "value"]
    s = table.stations.get_indexer(rows["station_id"])
    p = pd.Index(parameters).get_indexer(rows["parameter"])
    ok = (s >= 0) & (p >= 0)
    rows, s, p = rows[ok], s[ok], p[ok]
    if rows.empty:
        return rows[cols].assign(nb_median=pd.Series(dtype=float), n_nb=pd.Series(dtype="int64"))
    n_st = len(table.stations)
    slot = rows["_h"].to_numpy(np.int64) * len(parameters) + p
    key = slot * n_st + s
    order = np.argsort(key, kind="stable")
    keys, values = key[order], rows["value"].to_numpy(float)[order]
    nbr = table.nbr[s]
    want = slot[:, None] * n_st + nbr
    pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
    found = (nbr >= 0) & (keys[pos] == want)
    # the found values first, in order; the rest NaN, which sorts last as Spark sorts NaN above
    # every number, so a NaN value counts where Spark's median counts it
    got = np.sort(np.where(found, values[pos], np.nan), axis=1)
    n = found.sum(axis=1)
    keep = n >= max(min_neighbours, 1)
    got, n = got[keep], n[keep]
    r = np.arange(len(n))
    lo, hi = got[r, np.maximum((n - 1) // 2, 0)], got[r, n // 2]
    med = np.where(n % 2 == 1, hi, (lo + hi) / 2)
    out = rows.loc[keep, cols].reset_index(drop=True)
    out["nb_median"] = med
    out["n_nb"] = n.astype("int64")
    return out


def whole_hours(batches: Iterator[pd.DataFrame], limit: int) -> Iterator[pd.DataFrame]:
    """Batches of rows sorted by _h -> frames of whole hours (an hour split across batches is
    held back until its last row has come)."""
    held: list[pd.DataFrame] = []
    size = 0
    for b in batches:
        held.append(b)
        size += len(b)
        if size < limit:
            continue
        rows = pd.concat(held, ignore_index=True)
        last = rows["_h"].iloc[-1]
        done = rows["_h"].to_numpy() < last
        held, size = [rows[~done]], int((~done).sum())
        if done.any():
            yield rows[done]
    if size:
        yield pd.concat(held, ignore_index=True)


def with_neighbour_medians(values: DataFrame, pairs: pd.DataFrame, parameters: tuple[str, ...], min_neighbours: int,
                           block_rows: int = KERNEL_ROWS) -> DataFrame:
    """values (station_id, parameter, ts, value) -> MEDIAN_SCHEMA rows: each value beside the
    median of its neighbours at the same hour. The rows go to the executors by hour (each
    hour's stations together), sorted by hour within a partition, so the kernel sees whole
    hours a bounded block at a time; only the small neighbour table is shipped to them."""
    table = NeighbourTable.of(pairs)

    def kernel(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for rows in whole_hours(batches, block_rows):
            yield neighbour_medians(rows, table, parameters, min_neighbours)

    v = values.select("station_id", "parameter", "ts", "value", hour_index(F.col("ts")).alias("_h"))
    return v.repartition("_h").sortWithinPartitions("_h").mapInPandas(kernel, MEDIAN_SCHEMA)


def spatial_frame(values: DataFrame, pairs: pd.DataFrame, rules: Rules) -> DataFrame:
    """station_id, parameter, ts, value, nb_median, n_nb, dev (centred d), z, day.
    pairs: station_id, neighbour_id (the rule book's neighbours, smartmon.qc.neighbours)."""
    cfg = rules.air["spatial"]
    v = values.where(F.col("parameter").isin(*cfg["parameters"]))
    f = with_neighbour_medians(v, pairs, tuple(cfg["parameters"]), int(cfg["min_neighbours"]))
    f = f.withColumn("d", F.log((F.col("value") + 5) / (F.col("nb_median") + 5)))
    # station statistics as window aggregates: one shuffle, and f is not recomputed per join
    station = Window.partitionBy("station_id", "parameter")
    f = f.withColumn("dev", F.col("d") - F.median("d").over(station))
    f = f.withColumn("spread", F.median(F.abs("dev")).over(station) * MAD_SCALE)
    f = f.withColumn("z", F.col("dev") / F.greatest(F.col("spread"), F.lit(0.1)))
    return f.withColumn("day", beijing_day(F.col("ts"))).drop("d")


def outlier_flags(frame: DataFrame, rules: Rules) -> DataFrame:
    cfg = rules.air["spatial"]
    hits = frame.where(F.abs("z") > float(cfg["outlier_z"]))
    runs = hour_runs(hits.select("station_id", "parameter", "ts", F.col("z").alias("value")))
    detail = F.concat(F.lit("robust z against neighbours from "), fmt(F.col("min_value")), F.lit(" to "), fmt(F.col("max_value")),
                      F.lit(" over "), F.col("hours"), F.lit(" h"))
    return as_flags(runs, "spatial_outlier", "INFO", detail, rules.version, SILVER_AIR_HOURLY)


def drop_flags(frame: DataFrame, rules: Rules) -> DataFrame:
    """A sudden drop against the neighbours lasting hours (typical of interference at the inlet)."""
    cfg = rules.air["spatial"]
    hits = frame.where((F.col("z") < float(cfg["drop_z"])) & (F.col("dev") < math.log(float(cfg["drop_ratio"]))))
    runs = hour_runs(hits.select("station_id", "parameter", "ts", F.col("z").alias("value")), int(cfg["drop_hours"]))
    detail = F.concat(F.lit("below the neighbours for "), F.col("hours"), F.lit(" h, robust z down to "), fmt(F.col("min_value")))
    return as_flags(runs, "spatial_drop", "WARNING", detail, rules.version, SILVER_AIR_HOURLY)


def daily_offsets(frame: DataFrame, rules: Rules) -> DataFrame:
    """station_id, parameter, day, mdev (daily median dev, recentred), zd (mdev in units of the
    daily spread), mz (median hourly z), n_hours, ts_from, ts_to."""
    cfg = rules.air["spatial"]
    def median(c: Column | str) -> Column:
        return median_of(F.collect_list(c))

    days = frame.groupBy("station_id", "parameter", "day").agg(
        median("dev").alias("mdev"), median("z").alias("mz"), F.count("*").alias("n_hours"),
        F.min("ts").alias("ts_from"), F.max("ts").alias("ts_to")
    ).where(F.col("n_hours") >= int(cfg["min_hours_day"]))
    centre = days.groupBy("station_id", "parameter").agg(median("mdev").alias("c"))
    days = days.join(centre, ["station_id", "parameter"]).withColumn("mdev", F.col("mdev") - F.col("c")).drop("c")
    sd = days.groupBy("station_id", "parameter").agg((median(F.abs("mdev")) * MAD_SCALE).alias("sd"))
    return days.join(sd, ["station_id", "parameter"]).withColumn("zd", F.col("mdev") / F.greatest(F.col("sd"), F.lit(0.05)))


def offset_flags(frame: DataFrame, rules: Rules) -> DataFrame:
    """Days on which the station sits off its usual relation to its neighbours, persisting over
    offset_days consecutive days with the same sign (a drifting or mis-calibrated analyser).

    Each day of the run must lean the same way (|z| > offset_day_z, |d| > offset_day_min); the
    run as a whole must be strong (mean |d| >= offset_min, sum of |z| >= offset_run_z), so two
    moderately shifted days count as much as one extreme day would."""
    cfg = rules.air["spatial"]
    days = daily_offsets(frame, rules)
    z = F.greatest(F.abs("zd"), F.abs("mz"))
    cand = (z > float(cfg["offset_day_z"])) & (F.abs("mdev") > float(cfg["offset_day_min"]))
    d = days.withColumn("sign", F.when(cand, F.signum("mdev")).otherwise(F.lit(0.0))).withColumn("_z", z)
    w = Window.partitionBy("station_id", "parameter", "sign").orderBy("day")
    d = d.withColumn("_di", F.datediff("day", F.lit("1970-01-01")))
    d = d.where(F.col("sign") != 0).withColumn("_grp", F.col("_di") - F.row_number().over(w))
    run = Window.partitionBy("station_id", "parameter", "sign", "_grp")
    d = (d.withColumn("_len", F.count("*").over(run)).withColumn("_mean", F.avg(F.abs("mdev")).over(run))
         .withColumn("_zsum", F.sum("_z").over(run)))
    d = d.where((F.col("_len") >= int(cfg["offset_days"])) & (F.col("_mean") >= float(cfg["offset_min"]))
                & (F.col("_zsum") >= float(cfg["offset_run_z"])))
    detail = F.concat(F.lit("daily median "), F.when(F.col("mdev") > 0, "above").otherwise("below"),
                      F.lit(" its usual relation to the neighbours by x"), fmt(F.exp(F.abs("mdev")), 2),
                      F.lit(" (z "), fmt(F.col("_z")), F.lit("), "), F.col("_len"), F.lit(" days in a row"))
    return as_flags(d, "spatial_offset", "WARNING", detail, rules.version, SILVER_AIR_HOURLY)


def spatial_flags(frame: DataFrame, rules: Rules) -> DataFrame:
    return outlier_flags(frame, rules).unionByName(drop_flags(frame, rules)).unionByName(offset_flags(frame, rules))
