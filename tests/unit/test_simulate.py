"""The feed generator without Spark: determinism, formats, planted faults, unit conversions."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from smartmon import config
from smartmon.simulate.air import MOLAR_MASS, ppb_to_ugm3, ugm3_to_ppb
from smartmon.simulate.run import simulate
from smartmon.standards.hj212 import parse_frame

ROOT = config.SHARED_DATA


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def feeds(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("sim")
    return out, simulate(ROOT, out, stations=80, days=2, seed=11, fault_rate=0.01)


def test_same_seed_same_bytes(feeds, tmp_path):
    out, _ = feeds
    simulate(ROOT, tmp_path, stations=80, days=2, seed=11, fault_rate=0.01)
    assert _digest(out) == _digest(tmp_path)


def test_every_tier_and_kind_and_unique_ids(feeds):
    out, report = feeds
    truth = pd.read_csv(out / "_truth/stations.csv", dtype=str)
    assert len(truth) == report.stations == 80 and truth["station_id"].is_unique
    assert set(truth["tier"]) == {"provincial", "county", "township"}
    assert set(truth["kind"]) == {"air", "traffic", "supersite"}
    # every station is listed by its tier, provincial lists in GBK
    listed = set()
    for p in (out / "station-lists").glob("provincial_*.csv"):
        listed |= {r["站点编码"] for r in csv.DictReader(p.read_text(encoding="gbk").splitlines())}
    for tier in ("county", "township"):
        listed |= set(pd.read_csv(out / f"station-lists/{tier}.csv", dtype=str)["station_code"])
    assert listed == set(truth["station_id"])


def test_signal_follows_the_real_anchor(feeds):
    """A provincial station's PM2.5 tracks its anchor national station (correlation over 48 h)."""
    out, _ = feeds
    truth = pd.read_csv(out / "_truth/stations.csv", dtype=str)
    rows = pd.concat(pd.read_csv(p, encoding="gbk", dtype=str) for p in sorted((out / "provincial-air").rglob("*.csv")))
    sid = truth.loc[truth["tier"] == "provincial", "station_id"].iloc[0]
    anchor = truth.set_index("station_id").loc[sid, "anchor"]
    mine = pd.to_numeric(rows.loc[rows["站点编码"] == sid, "PM2.5(μg/m3)"], errors="coerce").to_numpy()
    real = []
    for day in ("20190101", "20190102"):
        arc = pd.read_csv(ROOT / f"china_national_aq_hourly/china_sites_{day}.csv", dtype=str)
        arc = arc[arc["type"] == "PM2.5"].set_index("hour")[anchor].reindex([str(h) for h in range(24)])
        real += pd.to_numeric(arc, errors="coerce").tolist()
    ok = ~np.isnan(mine) & ~np.isnan(real)
    assert ok.sum() > 30 and np.corrcoef(mine[ok], np.array(real)[ok])[0, 1] > 0.8


def test_planted_faults_are_where_the_truth_says(feeds):
    out, report = feeds
    faults = pd.read_csv(out / "_truth/faults.csv")
    assert len(faults) == report.faults > 0
    for f in faults.itertuples():
        line = (out / f.file).read_text(encoding="utf-8").split("\n")[f.line - 1]
        if f.kind == "truncated JSON":
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
        elif f.kind == "truncated line":
            assert len(line.split(",")) != 8
        else:
            assert line.split(",")[2] == "N/A#"


def test_hj212_frames_verify_and_anomalies_show(feeds):
    out, _ = feeds
    anomalies = pd.read_csv(out / "_truth/anomalies.csv", dtype=str)
    assert len(anomalies) >= 1
    per_day = {}
    for p in sorted((out / "hj212").glob("*.hj212")):
        frames = [parse_frame(t) for t in p.read_bytes().decode("utf-8").split("\r\n") if t]
        assert {f.cn for f in frames} == {"2061"} and {f.st for f in frames} <= {"31", "32"}
        per_day[p.stem[-8:]] = {mn: sum(f.fields["MN"] == mn for f in frames) for mn in anomalies["mn"]}
    for a in anomalies.itertuples():
        day = a.day.replace("-", "")
        if a.kind == "reporting_gap":
            assert per_day[day][a.mn] == 24 - 13  # 08-20 h missing
        else:
            assert per_day[day][a.mn] == 24


def test_land_use_shares_sum_to_one(feeds):
    out, _ = feeds
    df = pd.read_csv(next((out / "land-use").glob("*.csv")))
    shares = df[["cropland", "forest", "grassland", "water", "built_up", "unused"]]
    assert (shares >= 0).all().all() and np.allclose(shares.sum(axis=1), 1, atol=1e-9)


@given(st.floats(min_value=0, max_value=1e5, allow_nan=False), st.sampled_from(sorted(MOLAR_MASS)))
def test_ppb_round_trip(value, gas):
    assert ppb_to_ugm3(ugm3_to_ppb(np.array(value), gas), gas) == pytest.approx(value, rel=1e-12, abs=1e-9)


@given(st.floats(min_value=0, max_value=1e5), st.floats(min_value=0, max_value=1e5), st.sampled_from(sorted(MOLAR_MASS)))
def test_ppb_conversion_is_monotone(a, b, gas):
    lo, hi = sorted((a, b))
    assert ppb_to_ugm3(np.array(lo), gas) <= ppb_to_ugm3(np.array(hi), gas)


def test_no2_ppb_reference_value():
    # 1 ppb NO2 at 25 degC and 101.325 kPa is 1.88 ug/m3 (the usual WHO/EEA figure)
    assert ppb_to_ugm3(np.array(1.0), "no2") == pytest.approx(1.880, abs=0.001)
