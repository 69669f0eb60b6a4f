"""Upwind attribution for a receptor and an episode (pure functions; jobs/gold/upwind.py reads
and writes).

A simple back-trajectory: from the receptor at each hour of the episode, step back hour by hour
against the wind observed at the nearest meteorological station (one wind for the whole area:
a straight-line, single-station approximation, fine over tens of kilometres and a day, not
for long-range transport). Where the trajectories spent their time is the upwind footprint
(hours per H3 cell); its mean bearing is the upwind sector. Candidates are ranked by the hours
the air spent near them and by whether their concentrations led the receptor's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import h3
import numpy as np
import pandas as pd

from smartmon.geo.distance import distance_km

EARTH_M_PER_DEG = 111_320.0
FOOTPRINT_RES = 6  # H3 cells of ~36 km2; a candidate counts trajectory hours within one ring of its cell
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


@dataclass(frozen=True)
class Sector:
    bearing_deg: float  # direction from the receptor towards where the air came from
    spread_deg: float  # circular standard deviation of the trajectory bearings
    label: str


def back_trajectories(winds: pd.DataFrame, lat: float, lon: float, arrivals: list[pd.Timestamp], hours_back: int = 24) -> pd.DataFrame:
    """winds: ts, wind_u, wind_v (m/s, the direction the air moves towards). One trajectory per
    arrival hour: points (arrival, age_h, lat, lon); a missing wind holds the position (calm)."""
    w = winds.set_index("ts")[["wind_u", "wind_v"]].astype(float)
    out = []
    for t in arrivals:
        y, x = lat, lon
        out.append((t, 0, y, x))
        for age in range(1, hours_back + 1):
            ts = t - pd.Timedelta(hours=age - 1)
            u, v = (w.loc[ts].to_numpy() if ts in w.index else (np.nan, np.nan))
            if not (np.isnan(u) or np.isnan(v)):
                y -= v * 3600 / EARTH_M_PER_DEG
                x -= u * 3600 / (EARTH_M_PER_DEG * math.cos(math.radians(y)))
            out.append((t, age, y, x))
    return pd.DataFrame(out, columns=["arrival", "age_h", "lat", "lon"])


def bearing(lat1, lon1, lat2, lon2):
    """Initial bearing from point(s) 1 to point(s) 2, degrees clockwise from north (numpy broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    y = np.sin(dl) * np.cos(p2)
    x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(dl)
    return (np.degrees(np.arctan2(y, x)) + 360) % 360


def sector(traj: pd.DataFrame, lat: float, lon: float, weights: pd.Series | None = None) -> Sector:
    """Mean bearing of the trajectory points (age >= 1 h), weighted by the receptor's
    concentration at each arrival so the polluted hours decide the sector."""
    pts = traj[traj["age_h"] > 0]
    moved = distance_km(lat, lon, pts["lat"], pts["lon"]) > 0.5
    pts = pts[moved]
    if pts.empty:
        return Sector(float("nan"), float("nan"), "calm")
    b = np.radians(bearing(lat, lon, pts["lat"], pts["lon"]))
    wt = pts["arrival"].map(weights).fillna(0).to_numpy(float) if weights is not None else np.ones(len(pts))
    wt = wt if wt.sum() > 0 else np.ones(len(pts))
    s, c = np.average(np.sin(b), weights=wt), np.average(np.cos(b), weights=wt)
    mean = (math.degrees(math.atan2(s, c)) + 360) % 360
    r = min(1.0, math.hypot(s, c))
    spread = math.degrees(math.sqrt(-2 * math.log(r))) if r > 0 else 180.0
    return Sector(mean, spread, COMPASS[int(((mean + 22.5) % 360) // 45)])


def footprint(traj: pd.DataFrame, res: int = FOOTPRINT_RES) -> pd.Series:
    """Trajectory hours per H3 cell (age >= 1 h)."""
    pts = traj[traj["age_h"] > 0]
    cells = [h3.latlng_to_cell(a, b, res) for a, b in zip(pts["lat"], pts["lon"], strict=True)]
    return pd.Series(cells, dtype=object).value_counts().astype(float)


def residence_near(fp: pd.Series, lat: float, lon: float, res: int = FOOTPRINT_RES) -> float:
    ring = h3.grid_disk(h3.latlng_to_cell(lat, lon, res), 1)
    return float(fp.reindex(ring).fillna(0).sum())


def lead(receptor: pd.Series, candidate: pd.Series, max_lag: int = 6) -> tuple[int, float]:
    """The lag (1..max_lag h) at which the candidate's hour-to-hour changes best correlate with
    the receptor's later changes, and that correlation (nan when too few common hours).
    Changes, not levels: a whole city's stations rise and fall together over days, so levels
    correlate near 1 everywhere; who changes first is what transport leaves behind."""
    receptor, candidate = _changes(receptor), _changes(candidate)
    best = (0, float("nan"))
    for lag in range(1, max_lag + 1):
        shifted = candidate.copy()
        shifted.index = shifted.index + pd.Timedelta(hours=lag)
        pair = pd.concat([receptor, shifted], axis=1, join="inner").dropna()
        if len(pair) < 12 or pair.iloc[:, 0].std() == 0 or pair.iloc[:, 1].std() == 0:
            continue
        r = float(np.corrcoef(pair.iloc[:, 0], pair.iloc[:, 1])[0, 1])
        if np.isnan(best[1]) or r > best[1]:
            best = (lag, r)
    return best


def _changes(series: pd.Series) -> pd.Series:
    """Hour-to-hour differences over consecutive hours only (a gap breaks the difference)."""
    s = series.sort_index()
    step = s.index.to_series().diff() == pd.Timedelta(hours=1)
    return s.diff()[step.to_numpy()]


def angular_gap(a: float, b: float) -> float:
    return abs((a - b + 180) % 360 - 180)


def rank_candidates(cands: pd.DataFrame, sec: Sector, fp: pd.Series, lat: float, lon: float, receptor: pd.Series,
                    series: dict[str, pd.Series], baseline: dict[str, float], episode: tuple[pd.Timestamp, pd.Timestamp],
                    lead_hours_before: int = 24) -> pd.DataFrame:
    """cands: candidate_id, lat, lon. Score = share of trajectory hours near the candidate x
    its best lead correlation (>= 0) over the episode and the hours before it; the evidence
    columns say why."""
    total = float(fp.sum()) or 1.0
    rows = []
    window = episode[0] - pd.Timedelta(hours=lead_hours_before), episode[1]
    in_window = receptor[(receptor.index >= window[0]) & (receptor.index <= window[1])]
    for c in cands.itertuples():
        s = series.get(c.candidate_id, pd.Series(dtype=float))
        lag, r = lead(in_window, s)
        during = s[(s.index >= episode[0]) & (s.index <= episode[1])]
        base = baseline.get(c.candidate_id, float("nan"))
        b = float(bearing(lat, lon, c.lat, c.lon))
        res_h = residence_near(fp, c.lat, c.lon)
        rows.append({"candidate_id": c.candidate_id, "bearing_deg": b, "distance_km": float(distance_km(lat, lon, c.lat, c.lon)),
                     "in_sector": bool(not math.isnan(sec.bearing_deg) and angular_gap(b, sec.bearing_deg) <= 45),
                     "residence_h": res_h, "lead_h": lag, "lead_r": r,
                     "episode_mean": float(during.mean()) if len(during) else float("nan"),
                     "excess_ratio": float(during.mean() / base) if len(during) and base and base > 0 else float("nan"),
                     "score": res_h / total * max(0.0, 0.0 if math.isnan(r) else r)})
    out = pd.DataFrame(rows).sort_values(["score", "residence_h", "distance_km"], ascending=[False, False, True]).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out


# emission pollutants that make up (or lead to) each ambient pollutant of an episode
EMITTED_FOR = {"pm25": ("smoke_dust", "so2", "nox"), "pm10": ("smoke_dust",), "so2": ("so2",), "no2": ("nox",),
               "co": ("nox",), "o3": ("nox",)}


def source_evidence(emissions: pd.DataFrame, power: pd.DataFrame, episode: tuple[pd.Timestamp, pd.Timestamp],
                    days: tuple[pd.Timestamp, pd.Timestamp]) -> pd.DataFrame:
    """Per source: emission_ratio (mean hourly emission in the episode / in its other hours of the
    fortnight around it), reporting_gap_h (episode hours without HJ 212 data), power_ratio (daily
    kWh on the episode's days / on its other days). emissions: source_id, ts, amount (kg, summed
    over the relevant pollutants); power: source_id, date, kwh. Baselines use both sides of the
    episode: tracing is done after the fact."""
    hours = int((episode[1] - episode[0]) / pd.Timedelta(hours=1)) + 1
    inside = (emissions["ts"] >= episode[0]) & (emissions["ts"] <= episode[1])
    during = emissions[inside].groupby("source_id")["amount"].agg(["mean", "count"])
    other = emissions[~inside].groupby("source_id")["amount"].mean()
    p_in = (power["date"] >= days[0]) & (power["date"] <= days[1])
    kwh_in = power[p_in].groupby("source_id")["kwh"].mean()
    kwh_out = power[~p_in].groupby("source_id")["kwh"].mean()
    ids = sorted(set(emissions["source_id"]) | set(power["source_id"]))
    out = pd.DataFrame(index=pd.Index(ids, name="source_id"))
    out["emission_ratio"] = during["mean"] / other.replace(0, np.nan)
    # a gap only means something for a source that sends these pollutants at all (a water
    # discharger sends no dust, SO2 or NOx: NaN, not 24 silent hours)
    gap = hours - during["count"].reindex(out.index).fillna(0)
    out["reporting_gap_h"] = gap.where(out.index.isin(emissions["source_id"].unique()))
    out["power_ratio"] = kwh_in / kwh_out.replace(0, np.nan)
    return out.reset_index()


def rank_sources(srcs: pd.DataFrame, evidence: pd.DataFrame, sec: Sector, fp: pd.Series, lat: float, lon: float) -> pd.DataFrame:
    """srcs: candidate_id, lat, lon. Score = share of trajectory hours near the source x (1 + its
    anomaly): the emission excess over its baseline (ratio - 1, when above 1) plus 1 when it sent
    no data for part of the episode while its electricity use says it was producing (power
    ratio >= 0.5). A source off the trajectories scores 0 whatever its anomaly."""
    total = float(fp.sum()) or 1.0
    ev = evidence.set_index("source_id")
    rows = []
    for c in srcs.itertuples():
        e = ev.loc[c.candidate_id] if c.candidate_id in ev.index else None
        ratio = float(e.emission_ratio) if e is not None else float("nan")
        gap = float(e.reporting_gap_h) if e is not None else float("nan")
        power = float(e.power_ratio) if e is not None else float("nan")
        anomaly = max(0.0, ratio - 1) if not math.isnan(ratio) else 0.0
        anomaly += 1.0 if gap > 0 and not math.isnan(power) and power >= 0.5 else 0.0
        b = float(bearing(lat, lon, c.lat, c.lon))
        res_h = residence_near(fp, c.lat, c.lon)
        rows.append({"candidate_id": c.candidate_id, "bearing_deg": b, "distance_km": float(distance_km(lat, lon, c.lat, c.lon)),
                     "in_sector": bool(not math.isnan(sec.bearing_deg) and angular_gap(b, sec.bearing_deg) <= 45),
                     "residence_h": res_h, "emission_ratio": ratio, "reporting_gap_h": gap, "power_ratio": power,
                     "score": res_h / total * (1 + anomaly)})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out = out.sort_values(["score", "residence_h", "distance_km"], ascending=[False, False, True]).reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out
