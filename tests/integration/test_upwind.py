"""Upwind attribution on real KDD Cup 2018 Beijing data: the municipal stations' April 2018 API
feed and the grid meteorology of 1-2 April, ingested here (after the other modules' counts)."""

from datetime import datetime

import pytest

EPISODE = (datetime(2018, 4, 1, 12), datetime(2018, 4, 2, 12))  # UTC


@pytest.fixture(scope="module")
def kdd_april(lake, ingested, data_root):
    from jobs.bronze.ingest import ingest
    from jobs.silver.pipeline import conform

    kdd = data_root / "kddcup2018_beijing"
    ingest(lake, "kdd2018", [kdd / "api_aq_2018-04/bj_aq_2018-03-31-0_to_2018-04-23-00.csv",
                             kdd / "api_grid_meo_2018-04/bj_grid_2018-04-1-0_2018-04-1-23.csv",
                             kdd / "api_grid_meo_2018-04/bj_grid_2018-04-2-0_2018-04-2-23.csv"])
    conform(lake, "silver.air_hourly")
    conform(lake, "silver.meteo_hourly")


@pytest.fixture(scope="module")
def dongsi(lake, kdd_april):
    from jobs.gold import upwind

    return upwind.run(lake, "dongsi_aq", *EPISODE)


def test_episode_gets_a_sector_from_the_nearest_grid_winds_and_ranked_candidates(lake, dongsi):
    sec = dongsi["sector"]
    assert dongsi["met_station"].startswith("beijing_grid_") and dongsi["met_km"] < 5
    assert 0 <= sec.bearing_deg < 360 and sec.label in ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
    ranked = dongsi["candidates"]
    assert len(ranked) >= 30 and "dongsi_aq" not in set(ranked["candidate_id"])
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert ranked["score"].is_monotonic_decreasing
    top = ranked.iloc[0]
    assert top["residence_h"] > 0 and top["lead_r"] > 0  # the leader had air pass near it and led the receptor
    stored = lake.read("gold.upwind_candidates").where("receptor_id = 'dongsi_aq'").count()
    assert stored == len(ranked)


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
