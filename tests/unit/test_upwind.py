"""Upwind attribution: trajectories go against the wind, the sector points where the air came
from, residence counts the hours near a candidate, and a leading candidate is found at its lag."""

import numpy as np
import pandas as pd
import pytest

from smartmon.upwind import Sector, angular_gap, back_trajectories, bearing, distance_km, footprint, lead, rank_candidates, sector

T0 = pd.Timestamp("2018-04-01 12:00")
LAT, LON = 39.93, 116.42  # Dongsi


def winds(u: float, v: float, hours: int = 48) -> pd.DataFrame:
    ts = pd.date_range(T0 - pd.Timedelta(hours=hours), T0 + pd.Timedelta(hours=6), freq="h")
    return pd.DataFrame({"ts": ts, "wind_u": u, "wind_v": v})


@pytest.mark.parametrize("u, v, label, expected", [
    (0.0, -5.0, "N", 0.0),     # northerly wind (air moving south): air came from the north
    (5.0, 0.0, "W", 270.0),    # westerly
    (-3.0, 3.0, "SE", 135.0),  # south-easterly
    (3.0, 3.0, "SW", 225.0),
])
def test_sector_is_where_the_wind_came_from(u, v, label, expected):
    traj = back_trajectories(winds(u, v), LAT, LON, [T0], hours_back=12)
    sec = sector(traj, LAT, LON)
    assert sec.label == label and angular_gap(sec.bearing_deg, expected) < 2 and sec.spread_deg < 1


def test_trajectory_length_matches_wind_speed_and_calm_holds_position():
    traj = back_trajectories(winds(0.0, -5.0), LAT, LON, [T0], hours_back=10)
    end = traj[traj["age_h"] == 10].iloc[0]
    assert float(distance_km(LAT, LON, end["lat"], end["lon"])) == pytest.approx(5 * 3.6 * 10, rel=0.01)
    calm = back_trajectories(winds(np.nan, np.nan), LAT, LON, [T0], hours_back=5)
    assert (calm["lat"] == LAT).all() and (calm["lon"] == LON).all()
    assert sector(calm, LAT, LON).label == "calm"


def test_bearing_and_distance_agree_with_known_points():
    assert float(bearing(0, 0, 1, 0)) == pytest.approx(0) and float(bearing(0, 0, 0, 1)) == pytest.approx(90)
    assert float(distance_km(0, 0, 0, 1)) == pytest.approx(111.19, abs=0.05)


def test_lead_finds_the_lag_of_a_candidate_that_precedes_the_receptor():
    idx = pd.date_range(T0 - pd.Timedelta(hours=72), T0, freq="h")
    rng = np.random.default_rng(1)
    upstream = pd.Series(np.cumsum(rng.normal(0, 5, len(idx))) + 100, index=idx)
    receptor = upstream.shift(3).dropna() + rng.normal(0, 0.5, len(idx) - 3)
    lag, r = lead(receptor, upstream)
    assert lag == 3 and r > 0.95


def test_ranking_puts_the_upwind_leading_station_first():
    traj = back_trajectories(winds(0.0, -4.0), LAT, LON, list(pd.date_range(T0 - pd.Timedelta(hours=6), T0, freq="h")), 24)
    fp = footprint(traj)
    sec = sector(traj, LAT, LON)
    idx = pd.date_range(T0 - pd.Timedelta(days=8), T0, freq="h")
    rng = np.random.default_rng(2)
    north = pd.Series(np.cumsum(rng.normal(0, 4, len(idx))) + 80, index=idx)
    receptor = north.shift(4).dropna()
    south = pd.Series(rng.normal(60, 10, len(idx)), index=idx)
    cands = pd.DataFrame({"candidate_id": ["north", "south"], "lat": [LAT + 0.5, LAT - 0.5], "lon": [LON, LON]})
    ranked = rank_candidates(cands, sec, fp, LAT, LON, receptor, {"north": north, "south": south},
                             {"north": 80.0, "south": 60.0}, (T0 - pd.Timedelta(hours=6), T0))
    first = ranked.iloc[0]
    assert first["candidate_id"] == "north" and first["in_sector"] and first["lead_h"] == 4 and first["residence_h"] > 0
    assert not ranked.iloc[1]["in_sector"] and ranked.iloc[1]["residence_h"] == 0 and ranked["rank"].tolist() == [1, 2]
    assert isinstance(sec, Sector)


def _hourly(source: str, level: float, spike: float = 1.0, gap: range | None = None) -> pd.DataFrame:
    ts = pd.date_range(T0 - pd.Timedelta(days=2), T0 + pd.Timedelta(days=2) - pd.Timedelta(hours=1), freq="h")
    amount = np.where((ts >= T0) & (ts < T0 + pd.Timedelta(days=1)), level * spike, level)
    df = pd.DataFrame({"source_id": source, "ts": ts, "amount": amount})
    if gap is not None:
        df = df[~df["ts"].isin([T0 + pd.Timedelta(hours=h) for h in gap])]
    return df


@pytest.mark.parametrize("spike, gap, power_in, ratio, gap_h, anomaly", [
    (1.0, None, 100.0, 1.0, 0, 0.0),          # a normal day: no anomaly
    (3.0, None, 100.0, 3.0, 0, 2.0),          # emissions x3: anomaly = ratio - 1
    (1.0, range(8, 21), 100.0, 1.0, 13, 1.0),  # silent 13 h while producing: +1
    (1.0, range(8, 21), 10.0, 1.0, 13, 0.0),   # silent and its electricity says it stopped: no anomaly
])
def test_source_anomaly_evidence_and_score(spike, gap, power_in, ratio, gap_h, anomaly):
    from smartmon.upwind import rank_sources, source_evidence

    episode = (T0, T0 + pd.Timedelta(hours=23))
    days = pd.date_range(T0.normalize() - pd.Timedelta(days=2), periods=4, freq="D")
    power = pd.DataFrame({"source_id": "E1", "date": days, "kwh": [100.0, 100.0, power_in, 100.0]})
    ev = source_evidence(_hourly("E1", 5.0, spike, gap), power, episode, (days[2], days[2]))
    row = ev.set_index("source_id").loc["E1"]
    assert row["emission_ratio"] == pytest.approx(ratio) and row["reporting_gap_h"] == gap_h
    assert row["power_ratio"] == pytest.approx(power_in / 100.0)
    # the source sits on the trajectories: score = residence share x (1 + anomaly)
    traj = back_trajectories(winds(5.0, 0.0), LAT, LON, [T0], hours_back=12)
    fp = footprint(traj)
    src = pd.DataFrame({"candidate_id": ["E1", "far"], "lat": [LAT, LAT + 1.0], "lon": [LON - 0.3, LON + 1.5]})
    ranked = rank_sources(src, ev, sector(traj, LAT, LON), fp, LAT, LON).set_index("candidate_id")
    share = ranked.loc["E1", "residence_h"] / fp.sum()
    assert share > 0 and ranked.loc["E1", "score"] == pytest.approx(share * (1 + anomaly))
    assert ranked.loc["far", "score"] == 0 and ranked.loc["E1", "rank"] == 1


def test_a_source_without_the_pollutants_has_no_gap():
    from smartmon.upwind import source_evidence

    episode = (T0, T0 + pd.Timedelta(hours=23))
    days = pd.date_range(T0.normalize(), periods=1, freq="D")
    power = pd.DataFrame({"source_id": ["W1", "E1"], "date": [days[0]] * 2, "kwh": [50.0, 100.0]})
    ev = source_evidence(_hourly("E1", 5.0), power, episode, (days[0], days[0])).set_index("source_id")
    assert np.isnan(ev.loc["W1", "reporting_gap_h"]) and ev.loc["E1", "reporting_gap_h"] == 0
