"""The water-quality forecast's design matrix: labels 24 h ahead, features point-in-time."""

import numpy as np
import pandas as pd

from smartmon.forecast.water import design, frame


def _obs(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2020-01-01", periods=24 * 20, freq="h")
    do = pd.DataFrame({"ts": ts, "parameter": "do", "value": 8 + rng.normal(0, 1, len(ts))})
    lab = ts[::4]
    nh = pd.DataFrame({"ts": lab, "parameter": "nh3n", "value": 0.3 + rng.uniform(0, 0.2, len(lab))})
    return pd.concat([do, nh], ignore_index=True)


def test_label_is_the_value_24_hours_later_and_issues_follow_the_target():
    wide = frame(_obs())
    d = design(wide, "nh3n")
    assert (d["issued_at"].dt.hour % 4 == 0).all()  # the lab parameter's own cadence
    row = d.iloc[10]
    assert row["label"] == wide.loc[row["issued_at"] + pd.Timedelta(hours=24), "nh3n"]
    assert row["persistence"] == wide.loc[row["issued_at"], "nh3n"]


def test_features_do_not_see_the_future():
    obs = _obs()
    wide = frame(obs)
    d = design(wide, "do")
    t = d["issued_at"].iloc[200]
    later = obs["ts"] > t
    scrambled = obs.copy()
    scrambled.loc[later, "value"] = scrambled.loc[later, "value"].sample(frac=1, random_state=1).to_numpy() * 3
    d2 = design(frame(scrambled), "do")
    cols = [c for c in d.columns if c != "label"]
    pd.testing.assert_series_equal(d.loc[d["issued_at"] == t, cols].iloc[0], d2.loc[d2["issued_at"] == t, cols].iloc[0])
