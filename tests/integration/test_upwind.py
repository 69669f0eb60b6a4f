"""Upwind attribution on real KDD Cup 2018 Beijing data: the municipal stations' April 2018 API
feed and the grid meteorology of 1-2 April, ingested here (after the other modules' counts)."""

from datetime import datetime

import pytest

EPISODE = (datetime(2018, 4, 1, 12), datetime(2018, 4, 2, 12))  # UTC


@pytest.fixture(scope="module")
def kdd_april(lake, ingested, data_root):
    from jobs.bronze.ingest import ingest
    from tests.conftest import run_silver

    kdd = data_root / "kddcup2018_beijing"
    ingest(lake, "kdd2018", [kdd / "api_aq_2018-04/bj_aq_2018-03-31-0_to_2018-04-23-00.csv",
                             kdd / "api_grid_meo_2018-04/bj_grid_2018-04-1-0_2018-04-1-23.csv",
                             kdd / "api_grid_meo_2018-04/bj_grid_2018-04-2-0_2018-04-2-23.csv"])
    run_silver(lake)  # silver.air_hourly and silver.meteo_hourly conform the new KDD batches


@pytest.fixture(scope="module")
def dongsi(lake, kdd_april):
    from jobs.gold import upwind

    return upwind.run(lake, "dongsi_aq", *EPISODE)


def test_episode_gets_a_sector_from_the_nearest_grid_winds_and_ranked_candidates(lake, dongsi):
    sec = dongsi["sector"]
    assert dongsi["met_station"].startswith("beijing_grid_") and dongsi["met_km"] < 5
    assert 0 <= sec.bearing_deg < 360 and sec.label in ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
    ranked = dongsi["candidates"]
    ranked = ranked[ranked["candidate_kind"] == "monitoring station"]
    assert len(ranked) >= 30 and "dongsi_aq" not in set(ranked["candidate_id"])
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert ranked["score"].is_monotonic_decreasing
    top = ranked.iloc[0]
    assert top["residence_h"] > 0 and top["lead_r"] > 0  # the leader had air pass near it and led the receptor
    stored = lake.read("gold.upwind_candidates").where("receptor_id = 'dongsi_aq'").count()
    assert stored == len(dongsi["candidates"])


def test_rerun_writes_nothing_and_bad_requests_are_refused_by_name(lake, dongsi):
    from jobs.gold import upwind
    from smartmon.errors import InputError

    assert upwind.run(lake, "dongsi_aq", *EPISODE)["rows_out"] == 0
    with pytest.raises(InputError, match="unknown receptor station 'nowhere'"):
        upwind.run(lake, "nowhere", *EPISODE)
    with pytest.raises(InputError, match="no wind observations"):
        upwind.run(lake, "dongsi_aq", datetime(2019, 1, 5), datetime(2019, 1, 6))
    with pytest.raises(InputError, match="ends .* before it starts"):
        upwind.run(lake, "dongsi_aq", EPISODE[1], EPISODE[0])


def test_emission_sources_ranked_with_their_planted_anomaly(lake, kdd_april, simulated):
    """The simulated Beijing enterprises of 1-2 April 2018: the one whose anomaly the generator
    planted on 2 April shows it in its evidence, the others do not, and its score carries it."""
    import pandas as pd

    from jobs.gold import upwind

    out = simulated[0]
    planted = pd.read_csv(out / "_truth/anomalies.csv", dtype=str).iloc[0]
    assert planted["day"] == "2018-04-02"
    day = (datetime(2018, 4, 1, 16), datetime(2018, 4, 2, 15))  # 2 April, Beijing time, in UTC
    result = upwind.run(lake, "dongsi_aq", *day)
    src = result["candidates"].query("candidate_kind == 'emission source'").set_index("candidate_id")
    registry = pd.read_csv(out / "enterprises/enterprises.csv", dtype=str, encoding="utf-8-sig")
    assert set(src.index) == set(registry["企业编码"])  # all of Beijing lies within 150 km of Dongsi
    assert src["rank"].tolist() == list(range(1, len(src) + 1)) and src["score"].is_monotonic_decreasing
    me, others = src.loc[planted["source_id"]], src.drop(index=planted["source_id"])
    assert 0.8 < me["power_ratio"] < 1.25  # it produced as usual
    if planted["kind"] == "emission_spike":
        assert 2.4 < me["emission_ratio"] < 3.6 and me["reporting_gap_h"] == 0
    else:
        assert me["reporting_gap_h"] == 13
    air = others[~others["source_sector"].isin(["wastewater", "paper"])]  # water sources emit nothing PM2.5 answers to
    assert air["emission_ratio"].between(0.6, 1.6).all() and (air["reporting_gap_h"] == 0).all()
    water = others[others["source_sector"].isin(["wastewater", "paper"])]
    assert water["emission_ratio"].isna().all() and water["reporting_gap_h"].isna().all()
    total = me["score"] / (me["residence_h"] or 1)  # score = residence share x (1 + anomaly)
    normal = others[others["residence_h"] > 0]
    if me["residence_h"] > 0 and len(normal):
        assert total > (normal["score"] / normal["residence_h"]).max()


def test_kdd_air_stations_get_the_grid_weather_around_them_hour_by_hour(lake, kdd_april):
    """features.air_forecast.weather_for: a KDD Cup air station measures no weather; it gets the
    inverse-distance mean of the grid points within 25 km, each hour from that hour's values only."""
    import math

    from pyspark.sql import functions as F

    from features import air_forecast
    from smartmon.geo.idw import idw_weights

    stations = lake.read("silver.stations").where("station_id = 'dongsi_aq'").select("station_id", "lat", "lon")
    meteo = lake.read("silver.meteo_hourly").where(F.col("ts").between(*EPISODE))
    got = air_forecast.weather_for(meteo, stations, air_forecast.weather_sources(lake)).where("temp_c IS NOT NULL").collect()
    assert len(got) >= 20 and {r.station_id for r in got} == {"dongsi_aq"}
    have = {r[0] for r in meteo.select("station_id").distinct().collect()}
    points = [(r.station_id, r.lat, r.lon) for r in air_forecast.weather_sources(lake).collect() if r.station_id in have]
    st = stations.first()
    weights = {s: w for _, s, w in idw_weights([(st.station_id, st.lat, st.lon)], points)}
    assert len(weights) == 4 and all(s.startswith("beijing_grid_") for s in weights)
    for row in got[:5]:
        at = {r.station_id: r.temp_c for r in meteo.where((F.col("ts") == F.lit(row.ts)) & F.col("station_id").isin(*weights)).collect()
              if r.temp_c is not None}
        expected = sum(weights[s] * v for s, v in at.items()) / sum(weights[s] for s in at)
        assert math.isclose(row.temp_c, expected, rel_tol=1e-9)
