"""QC fault injection: inject known faults into real CNEMC hours and measure what QC catches.

Faults (each one event, on distinct stations, seeded):
- constant: a pollutant stuck at its reading for 10 h (readings above the rule's floor, where a
  stuck analyser can be told from an instrument at its resolution);
- spike: one hour at 4-8x its value plus twice the floor;
- pm_inversion: PM2.5 set to 1.3-2x PM10;
- offset: PM2.5 and PM10 of a station x1.8-2.5 for 2 Beijing days (a mis-calibrated analyser;
  the offset rule needs a window several times the fault's length: the nightly checks months);
- offset_small: the same at x1.3-1.6, reported but not required: below what the day-to-day
  variation of many stations against their neighbours lets one tell apart in a week;
- drop: PM2.5 and PM10 x0.2-0.4 for 6 daytime hours while the area is polluted (falsification).
Spatial faults go to stations with enough neighbours (the rules need them, by design).

An event is caught when a WARNING or ERROR flag covers one of its hours for the station and a
faulted parameter. False positives: station-hours nobody touched that carry a WARNING+ flag.

    python -m experiments.qc_fault_injection --days 31     # the month (README figures)
    python -m experiments.qc_fault_injection --smoke-test  # 2 days, quick
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.bronze import cnemc_archive
from jobs.qc.flags import air_products
from jobs.silver.air_hourly import to_rows
from jobs.silver.air_rows import cnemc_cells
from smartmon.beijing_time import beijing_date
from smartmon.catalog.names import SILVER_STATIONS
from smartmon.qc.flagframe import AIR_PARAMETERS
from smartmon.qc.neighbours import rule_book_pairs
from smartmon.qc.rules import Rules, load_rules

log = logging.getLogger(__name__)
H = pd.Timedelta(hours=1)
REQUIRED = ("constant", "spike", "pm_inversion", "offset", "drop")


@dataclass
class Event:
    kind: str
    station_id: str
    parameters: tuple[str, ...]
    hours: list[pd.Timestamp]


@dataclass
class Result:
    days: int
    station_hours: int
    events: dict[str, int] = field(default_factory=dict)
    caught: dict[str, int] = field(default_factory=dict)
    untouched_hours: int = 0
    false_positive_hours: int = 0
    drop_rank_percentile: float | None = None
    seconds: float = 0.0

    @property
    def recall(self) -> dict[str, float]:
        return {k: self.caught.get(k, 0) / n for k, n in self.events.items() if n}

    @property
    def overall_recall(self) -> float:
        """Over the required fault types (offset_small is reported, not required)."""
        kinds = [k for k in self.events if k in REQUIRED]
        return sum(self.caught.get(k, 0) for k in kinds) / max(sum(self.events[k] for k in kinds), 1)

    @property
    def false_positive_rate(self) -> float:
        return self.false_positive_hours / max(self.untouched_hours, 1)

    def as_dict(self) -> dict:
        return {"days": self.days, "station_hours": self.station_hours, "events": self.events, "recall": self.recall,
                "overall_recall": self.overall_recall,
                "false_positive_rate": self.false_positive_rate, "untouched_hours": self.untouched_hours,
                "drop_rank_percentile": self.drop_rank_percentile, "seconds": round(self.seconds, 1)}


def read_days(spark: SparkSession, folder: Path, days: int) -> pd.DataFrame:
    """The first `days` daily CNEMC files -> silver-shaped hourly rows (pure transforms, no lake)."""
    files = sorted(folder.glob("china_sites_*.csv"))[:days]
    tables = []
    for f in files:
        t = cnemc_archive.parse(f).rows
        n = t.num_rows
        for name, value in (("source", cnemc_archive.NAME), ("source_file", str(f)), ("batch_id", "injection")):
            t = t.append_column(name, pa.array([value] * n, type=pa.string()))
        tables.append(t.append_column("ingested_at", pa.array([pd.Timestamp("2019-01-01")] * n, type=pa.timestamp("us"))))
    rows = to_rows(cnemc_cells(spark.createDataFrame(pa.concat_tables(tables))))
    pdf = rows.select("station_id", "ts", "month", *AIR_PARAMETERS).toPandas()
    pdf["ts"] = pd.to_datetime(pdf["ts"])
    return pdf.sort_values(["station_id", "ts"]).reset_index(drop=True)


def inject(df: pd.DataFrame, with_neighbours: set[str], rules: Rules, seed: int = 20190101, n: int = 20) -> tuple[pd.DataFrame, list[Event]]:
    rng = np.random.default_rng(seed)
    df = df.copy()
    idx = df.set_index(["station_id", "ts"]).index
    used: set[str] = set()
    events: list[Event] = []
    floors = rules.air["constant"]["floor"]
    spike_floor = rules.air["spike"]["floor"]

    def pick(candidates: pd.DataFrame) -> pd.Series | None:
        candidates = candidates[~candidates["station_id"].isin(used)]
        if candidates.empty:
            return None
        row = candidates.iloc[int(rng.integers(len(candidates)))]
        used.add(row["station_id"])
        return row

    def rows_of(station: str, hours: list[pd.Timestamp]) -> np.ndarray:
        return np.flatnonzero(idx.isin([(station, h) for h in hours]))

    # rows whose station reports the 9 following hours too (a gap would end a stuck run anyway)
    full10 = df.groupby("station_id")["ts"].shift(-9) == df["ts"] + 9 * H
    stuck = ["pm25", "pm10", "no2", "o3"]
    ahead = {p: df.groupby("station_id")[p].shift(-9).notna() for p in stuck}
    for _ in range(n):  # constant
        p = str(rng.choice(stuck))
        row = pick(df[(df[p] > 2 * floors[p]) & full10 & ahead[p]])
        if row is not None:
            hours = [row["ts"] + i * H for i in range(10)]
            r = rows_of(row["station_id"], hours)
            df.loc[r, p] = row[p]
            events.append(Event("constant", row["station_id"], (p,), list(df.loc[r, "ts"])))
    for _ in range(n):  # spike
        p = str(rng.choice(list(AIR_PARAMETERS)))
        row = pick(df[df[p].notna()])
        if row is not None:
            r = rows_of(row["station_id"], [row["ts"]])
            df.loc[r, p] = row[p] * rng.uniform(4, 8) + 2 * spike_floor[p]
            events.append(Event("spike", row["station_id"], (p,), [row["ts"]]))
    for _ in range(n):  # PM2.5 above PM10
        row = pick(df[(df["pm10"] > 20) & df["pm25"].notna()])
        if row is not None:
            r = rows_of(row["station_id"], [row["ts"]])
            df.loc[r, "pm25"] = row["pm10"] * rng.uniform(1.3, 2.0)
            events.append(Event("pm_inversion", row["station_id"], ("pm25", "pm10"), [row["ts"]]))
    days = sorted(df["ts"].dt.normalize().unique())  # UTC days (toPandas gives naive UTC times)
    spatial = df[df["station_id"].isin(with_neighbours)]
    for kind, low, high in (("offset", 1.8, 2.5), ("offset_small", 1.3, 1.6)):
        for _ in range(n):  # over 2 Beijing days (16:00 UTC = Beijing midnight)
            start = pd.Timestamp(days[int(rng.integers(0, len(days) - 3))]) + 16 * H
            present = df[(df["ts"] >= start) & (df["ts"] < start + 48 * H) & df["pm25"].notna()].groupby("station_id").size()
            row = pick(spatial[spatial["station_id"].isin(present[present == 48].index)])
            if row is not None:
                hours = [start + i * H for i in range(48)]
                r = rows_of(row["station_id"], hours)
                df.loc[r, ["pm25", "pm10"]] = df.loc[r, ["pm25", "pm10"]] * rng.uniform(low, high)
                events.append(Event(kind, row["station_id"], ("pm25", "pm10"), list(df.loc[r, "ts"])))
    full6 = df.groupby("station_id")["ts"].shift(-5) == df["ts"] + 5 * H
    for _ in range(n):  # falsified drop, 6 daytime hours (02-08 UTC = 10-16 Beijing)
        polluted = df[(df["pm25"] > 75) & (df["ts"].dt.hour == 2) & full6 & df["station_id"].isin(with_neighbours)]
        row = pick(polluted)
        if row is not None:
            hours = [row["ts"] + i * H for i in range(6)]
            r = rows_of(row["station_id"], hours)
            df.loc[r, ["pm25", "pm10"]] = df.loc[r, ["pm25", "pm10"]] * rng.uniform(0.2, 0.4)
            events.append(Event("drop", row["station_id"], ("pm25", "pm10"), list(df.loc[r, "ts"])))
    return df, events


def evaluate(spark: SparkSession, clean: pd.DataFrame, stations: DataFrame, rules: Rules | None = None, seed: int = 20190101) -> Result:
    rules = rules or load_rules()
    t0 = time.monotonic()
    cfg = rules.air["spatial"]
    st = stations.where(F.col("kind") == "air").select("station_id", "lat", "lon").toPandas()
    pairs = rule_book_pairs(st, cfg)
    counts = pairs[pairs["neighbour_id"].isin(set(clean["station_id"]))].groupby("station_id").size()
    rich = set(counts[counts >= int(cfg["min_neighbours"]) + 2].index) & set(clean["station_id"])
    faulty, events = inject(clean, rich, rules, seed)
    air = spark.createDataFrame(faulty)
    flags, scores, cached = air_products(air, pairs, rules)
    warn = flags.where(F.col("level").isin("WARNING", "ERROR")).select("station_id", "parameter", "ts_from", "ts_to").toPandas()
    ranks = scores.select("station_id", "day", "rank").toPandas()
    for df in cached:
        df.unpersist()

    res = Result(days=int(clean["ts"].dt.normalize().nunique()), station_hours=len(clean))
    by_station = {s: g for s, g in warn.groupby("station_id")}
    touched: set[tuple[str, pd.Timestamp]] = set()
    for e in events:
        res.events[e.kind] = res.events.get(e.kind, 0) + 1
        touched |= {(e.station_id, h) for h in e.hours}
        g = by_station.get(e.station_id)
        if g is None:
            continue
        g = g[g["parameter"].isin([*e.parameters, "*"])]
        hit = any(((g["ts_from"] <= h) & (g["ts_to"] >= h)).any() for h in e.hours)
        res.caught[e.kind] = res.caught.get(e.kind, 0) + int(hit)
    flagged: set[tuple[str, pd.Timestamp]] = set()
    for r in warn.itertuples():
        flagged |= {(r.station_id, t) for t in pd.date_range(r.ts_from, r.ts_to, freq="h")}
    keys = set(zip(clean["station_id"], clean["ts"], strict=True))
    res.untouched_hours = len(keys - touched)
    res.false_positive_hours = len((flagged & keys) - touched)
    if len(ranks):
        ranks["day"] = pd.to_datetime(ranks["day"])
        drops = [e for e in events if e.kind == "drop"]
        pct = []
        for e in drops:
            day = beijing_date(e.hours[0])  # Beijing date of the drop
            m = ranks[(ranks["station_id"] == e.station_id) & (ranks["day"] == day)]
            if len(m):
                pct.append(float(m["rank"].iloc[0]) / len(ranks) * 100)
        res.drop_rank_percentile = float(np.median(pct)) if pct else None
    res.seconds = time.monotonic() - t0
    return res


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--smoke-test", action="store_true", help="2 days, for CI")
    parser.add_argument("--seed", type=int, default=20190101)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    from smartmon.io import Lake
    from smartmon.spark import get_spark

    lake = Lake(get_spark())
    days = 2 if args.smoke_test else args.days
    clean = read_days(lake.spark, lake.cfg.data_root / "china_national_aq_hourly", days)
    res = evaluate(lake.spark, clean, lake.read(SILVER_STATIONS), seed=args.seed)
    print(json.dumps(res.as_dict(), indent=2))


if __name__ == "__main__":
    main()
