"""gold.upwind_candidates: upwind attribution of an episode at a receptor station.

Reads the receptor and the stations around it (silver.stations), the wind at the nearest
meteorological station with data (silver.meteo_hourly) and QC-valid concentrations
(silver.air_hourly minus ERROR flags); writes the ranked candidates with their evidence.
Two kinds of candidates, ranked within their kind: the monitoring stations upwind
(regional-transport evidence: lead correlation) and the registered emission sources within the
radius (silver.emission_sources), with their HJ 212 emission excess, reporting gaps and
electricity use during the episode (silver.source_emissions, silver.power_use).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from pyspark.sql import functions as F

from smartmon import upwind
from smartmon.beijing_time import beijing_date
from smartmon.catalog.names import (
    GOLD_UPWIND_CANDIDATES,
    SILVER_AIR_HOURLY,
    SILVER_EMISSION_SOURCES,
    SILVER_METEO_HOURLY,
    SILVER_POWER_USE,
    SILVER_QC_FLAGS,
    SILVER_SOURCE_EMISSIONS,
    SILVER_STATIONS,
)
from smartmon.errors import InputError
from smartmon.geo.distance import distance_km
from smartmon.io import Lake
from smartmon.qc.apply import valid_air

log = logging.getLogger(__name__)
TABLE = GOLD_UPWIND_CANDIDATES
BASELINE_DAYS = 7


def _stations(lake: Lake) -> pd.DataFrame:
    return lake.read(SILVER_STATIONS).select("station_id", "name", "network", "lat", "lon").where(
        F.col("lat").isNotNull() & F.col("lon").isNotNull()).toPandas()


def nearest_wind(lake: Lake, stations: pd.DataFrame, t0: datetime, t1: datetime, max_km: float = 50.0) -> tuple[str, float, pd.DataFrame]:
    """The nearest station within max_km (stations carry d, km from the receptor) with wind
    components in [t0, t1]."""
    near = stations[stations["d"] <= max_km].sort_values("d")
    met = (lake.read(SILVER_METEO_HOURLY).where(F.col("ts").between(t0, t1) & F.col("station_id").isin(*near["station_id"].tolist()))
           .where(F.col("wind_u").isNotNull()).select("station_id", "ts", "wind_u", "wind_v").toPandas())
    have = set(met["station_id"])
    for r in near.itertuples():
        if r.station_id in have:
            return r.station_id, float(r.d), met[met["station_id"] == r.station_id].drop(columns="station_id")
    raise InputError(f"no wind observations within {max_km:.0f} km of the receptor between {t0} and {t1} UTC")


def source_candidates(lake: Lake, lat: float, lon: float, radius_km: float, pollutant: str, t_from: pd.Timestamp,
                      t_to: pd.Timestamp, sec: upwind.Sector, fp: pd.Series) -> pd.DataFrame:
    """Registered emission sources within radius_km, ranked with their anomaly evidence."""
    reg = lake.read(SILVER_EMISSION_SOURCES).where(F.col("lat").isNotNull()).select(
        F.col("source_id").alias("candidate_id"), F.col("name").alias("candidate_name"), F.col("sector").alias("source_sector"),
        "lat", "lon").toPandas()
    if reg.empty:
        return reg
    reg = reg[distance_km(lat, lon, reg["lat"], reg["lon"]) <= radius_km]
    if reg.empty:
        return reg
    ids = reg["candidate_id"].tolist()
    week = timedelta(days=BASELINE_DAYS)
    emitted = upwind.EMITTED_FOR.get(pollutant, ())
    emissions = (lake.read(SILVER_SOURCE_EMISSIONS)
                 .where(F.col("source_id").isin(ids) & F.col("pollutant").isin(*emitted) & F.col("ts").between(t_from - week, t_to + week))
                 .groupBy("source_id", "ts").agg(F.sum("amount").alias("amount")).toPandas())
    days = (beijing_date(t_from), beijing_date(t_to))
    power = (lake.read(SILVER_POWER_USE).where(F.col("source_id").isin(ids))
             .where(F.col("date").between((days[0] - week).date(), (days[1] + week).date()))
             .select("source_id", "date", "kwh").toPandas())
    power["date"] = pd.to_datetime(power["date"])
    evidence = upwind.source_evidence(emissions, power, (t_from, t_to), days)
    ranked = upwind.rank_sources(reg[["candidate_id", "lat", "lon"]], evidence, sec, fp, lat, lon)
    return ranked.merge(reg[["candidate_id", "candidate_name", "source_sector"]], on="candidate_id")


def run(lake: Lake, station_id: str, t_from: datetime, t_to: datetime, hours_back: int = 24, pollutant: str = "pm25",
        radius_km: float = 150.0) -> dict:
    """Rank the candidates of one episode (times in UTC) and MERGE them into gold.upwind_candidates."""
    if t_to <= t_from:
        raise InputError(f"episode ends ({t_to}) before it starts ({t_from})")
    stations = _stations(lake)
    rec = stations[stations["station_id"] == station_id]
    if rec.empty:
        raise InputError(f"unknown receptor station {station_id!r} (not in silver.stations with coordinates)")
    lat, lon = float(rec["lat"].iloc[0]), float(rec["lon"].iloc[0])
    stations = stations.assign(d=distance_km(lat, lon, stations["lat"], stations["lon"]))
    met_id, met_km, winds = nearest_wind(lake, stations, t_from - timedelta(hours=hours_back), t_to)
    near = stations[stations["d"] <= radius_km]
    start = t_from - timedelta(days=BASELINE_DAYS, hours=hours_back)
    air = lake.read(SILVER_AIR_HOURLY).where(F.col("ts").between(start, t_to) & F.col("station_id").isin(*near["station_id"].tolist()))
    air = valid_air(air, lake.read(SILVER_QC_FLAGS)).select("station_id", "ts", pollutant).where(F.col(pollutant).isNotNull()).toPandas()
    series = {sid: g.set_index("ts")[pollutant].astype(float) for sid, g in air.groupby("station_id")}
    receptor = series.get(station_id)
    if receptor is None or receptor[(receptor.index >= pd.Timestamp(t_from)) & (receptor.index <= pd.Timestamp(t_to))].empty:
        raise InputError(f"receptor {station_id} has no valid {pollutant} between {t_from} and {t_to} UTC")
    arrivals = list(pd.date_range(pd.Timestamp(t_from), pd.Timestamp(t_to), freq="h"))
    traj = upwind.back_trajectories(winds, lat, lon, arrivals, hours_back)
    sec = upwind.sector(traj, lat, lon, receptor)
    fp = upwind.footprint(traj)
    cands = near[(near["station_id"] != station_id) & near["station_id"].isin(series)].rename(columns={"station_id": "candidate_id"})
    base = {sid: float(s[s.index < pd.Timestamp(t_from)].mean()) for sid, s in series.items()}
    ranked = upwind.rank_candidates(cands[["candidate_id", "lat", "lon"]], sec, fp, lat, lon, receptor, series, base,
                                    (pd.Timestamp(t_from), pd.Timestamp(t_to)), hours_back)
    names = dict(zip(stations["station_id"], stations["name"], strict=True))
    ranked = ranked.assign(receptor_id=station_id, from_ts=pd.Timestamp(t_from), to_ts=pd.Timestamp(t_to), pollutant=pollutant,
                           candidate_kind="monitoring station", candidate_name=ranked["candidate_id"].map(names),
                           sector_deg=sec.bearing_deg, sector_label=sec.label, met_station_id=met_id, met_distance_km=met_km,
                           hours_back=hours_back)
    ranked = ranked.assign(source_sector=None, emission_ratio=np.nan, reporting_gap_h=np.nan, power_ratio=np.nan)
    sources = source_candidates(lake, lat, lon, radius_km, pollutant, pd.Timestamp(t_from), pd.Timestamp(t_to), sec, fp)
    common = dict(receptor_id=station_id, from_ts=pd.Timestamp(t_from), to_ts=pd.Timestamp(t_to), pollutant=pollutant,
                  sector_deg=sec.bearing_deg, sector_label=sec.label, met_station_id=met_id, met_distance_km=met_km,
                  hours_back=hours_back)
    if not sources.empty:
        sources = sources.assign(**common, candidate_kind="emission source", lead_h=None, lead_r=np.nan, episode_mean=np.nan,
                                 excess_ratio=np.nan)
        ranked = pd.concat([ranked, sources], ignore_index=True)
    written = lake.merge(lake.from_pandas(ranked, TABLE), TABLE).rows_written
    log.info("%s %s..%s: upwind %s (%.0f deg), %d candidates, wind from %s (%.1f km)", station_id, t_from, t_to, sec.label,
             sec.bearing_deg, len(ranked), met_id, met_km)
    log.info("%d emission sources ranked", len(sources))
    return {"receptor": station_id, "sector": sec, "met_station": met_id, "met_km": met_km, "candidates": ranked,
            "footprint_cells": len(fp), "rows_out": written}
