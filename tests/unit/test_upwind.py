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
