"""The tuning split: trials never see the validation window, cost the same whatever the data
size, and an impossible window is refused by name."""

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from experiments.tuning import validation_split


def frame(days: int = 100, stations: int = 3) -> pd.DataFrame:
    t0 = datetime(2016, 1, 1)
    rows = [{"station_id": f"s{s}", "issued_at": t0 + timedelta(days=d), "horizon_h": h, "actual_pm25": float(d + h)}
            for s in range(stations) for d in range(days) for h in (1, 24, 48)]
    df = pd.DataFrame(rows)
    df.loc[df.index % 7 == 0, "actual_pm25"] = np.nan
    return df


def test_validation_window_is_the_last_days_and_fit_lies_before_it():
    fit, valid = validation_split(frame(), "pm25", valid_days=20, max_rows=10_000)
    assert fit["issued_at"].max() < valid["issued_at"].min()
    assert valid["issued_at"].nunique() == 20
    assert fit["actual_pm25"].notna().all() and valid["actual_pm25"].notna().all()


def test_fit_rows_are_sampled_to_the_cap_and_validation_to_a_quarter():
    fit, valid = validation_split(frame(days=200), "pm25", valid_days=50, max_rows=100)
    assert len(fit) == 100 and len(valid) == 25
    assert fit["issued_at"].max() < valid["issued_at"].min()


def test_a_window_longer_than_the_data_is_refused_by_name():
    with pytest.raises(ValueError, match="tuning pm25: 0 fit"):
        validation_split(frame(days=10), "pm25", valid_days=30, max_rows=100)


def national_frame(issues: int = 10, stations: int = 4) -> pd.DataFrame:
    """Training rows as experiments.national_forecast.frames gives them: nightly issues (16 UTC) x
    horizons 1-72, with the target hour ts."""
    t0 = datetime(2019, 1, 1, 16)
    rows = [{"station_id": f"s{s}", "issued_at": t0 + timedelta(days=d), "horizon_h": h,
             "ts": t0 + timedelta(days=d, hours=h), "actual_pm25": float(s + d + h)}
            for s in range(stations) for d in range(issues) for h in (1, 12, 24, 48, 72)]
    return pd.DataFrame(rows)


def test_national_tuning_validates_before_the_blend_and_fits_on_hours_before_the_validation():
    from experiments.national_forecast import Config, _blend_from, tuning_split

    train = national_frame()
    cfg = Config(blend_days=2, tune_days=3, tune_rows=1_000)
    fit, valid = tuning_split(train, "pm25", cfg)
    blend_from = _blend_from(train, cfg)
    cut = blend_from - timedelta(days=3)
    assert sorted(valid["issued_at"].unique()) == [cut + timedelta(days=i) for i in range(3)]
    assert valid["ts"].max() <= blend_from and (valid["issued_at"] < blend_from).all()
    assert fit["ts"].max() <= cut and fit["issued_at"].max() < cut
    small = Config(blend_days=2, tune_days=3, tune_rows=40)
    fit, valid = tuning_split(train, "pm25", small)
    assert len(fit) == 40 and len(valid) == 10


def test_national_tuning_without_fit_issues_is_refused_by_name():
    from experiments.national_forecast import Config, tuning_split
    from smartmon.errors import InputError

    with pytest.raises(InputError, match="tuning the national pm25 model: 0 fit"):
        tuning_split(national_frame(issues=4), "pm25", Config(blend_days=2, tune_days=3))


def test_a_young_lake_keeps_fixed_parameters_instead_of_missing_its_retrain(caplog):
    from experiments.national_forecast import Config, tune

    assert tune(national_frame(issues=4), Config(targets=("pm25",), blend_days=2, tune_days=3)) == {}  # no search started
    assert "tuning the national pm25 model: 0 fit" in caplog.text and "fixed parameters" in caplog.text


def test_a_change_problem_fits_the_change_and_scores_latest_value_plus_change():
    from experiments.tuning import change_problem
    from smartmon.forecast.design import model_columns

    cols = model_columns()
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({c: rng.uniform(1, 50, n) for c in cols})
    frame["horizon_h"] = np.tile([1, 2, 3], n // 3)
    for t in ("pm25",):
        frame[f"clim_{t}"] = frame["clim"]
        frame[f"actual_{t}"] = frame[f"{t}_last"] + 5.0
    frame.loc[0, "pm25_last"] = np.nan  # falls back to the 3 h mean
    for c in ("pm25_last", "pm25_mean3", "pm25_mean24", "clim_pm25"):
        frame.loc[1, c] = np.nan  # no base at all: left out
    p = change_problem(frame, frame, "pm25", cols)
    assert len(p.y_fit) == len(p.valid) == n - 1
    assert np.allclose(p.y_fit[1:], 5.0)  # observed minus the latest value
    assert p.score(np.full(n - 1, 5.0)) < p.score(np.zeros(n - 1))  # the true change beats persistence
