"""The tuning split: trials never see the validation window, cost the same whatever the data
size, and an impossible window is refused by name."""

from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from experiments.control_tuning import validation_split


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
