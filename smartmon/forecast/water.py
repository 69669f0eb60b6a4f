"""Next-day water-quality forecasts for a real automatic station: design matrix and the served model.

Issue times are the observation times of the target (lab parameters arrive every 4 h, probes
hourly). For an issue at t the features are what was known at t: the latest value of every
parameter within 12 h, the target's mean over the last 24 h and its value 24 h before, hour of
day and day of year (sin/cos). The label is the target's value at t + 24 h (issues without an
observation then are dropped). Persistence (the latest value) is the baseline a model must beat."""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pandas as pd

HORIZON_H = 24
TARGETS = ("do", "nh3n", "codmn", "tp")


def frame(obs: pd.DataFrame) -> pd.DataFrame:
    """obs: ts, parameter, value (valid values only) -> wide hourly frame indexed by ts."""
    wide = obs.pivot_table(index="ts", columns="parameter", values="value", aggfunc="mean").sort_index()
    return wide.asfreq("h")


def design(wide: pd.DataFrame, target: str) -> pd.DataFrame:
    """Issue rows for one target: features, `persistence` and `label` (NaN where unknown)."""
    latest = wide.ffill(limit=12)
    feats = latest.add_prefix("last_")
    feats[f"{target}_mean24"] = wide[target].rolling(24, min_periods=1).mean()
    feats[f"{target}_lag24"] = latest[target].shift(24)
    hour, doy = wide.index.hour, wide.index.dayofyear
    feats["hod_sin"], feats["hod_cos"] = np.sin(2 * np.pi * hour / 24), np.cos(2 * np.pi * hour / 24)
    feats["doy_sin"], feats["doy_cos"] = np.sin(2 * np.pi * doy / 366), np.cos(2 * np.pi * doy / 366)
    feats["persistence"] = latest[target]
    feats["label"] = wide[target].shift(-HORIZON_H)
    issued = wide[target].notna()
    return feats[issued].rename_axis("issued_at").reset_index()


def feature_columns(d: pd.DataFrame) -> list[str]:
    return [c for c in d.columns if c not in ("issued_at", "label", "persistence")]


class WaterForecaster(mlflow.pyfunc.PythonModel):
    """Input: the design columns of one target; output: the value 24 h after each issue (>= 0).

    The booster predicts the change from the latest value (water quality drifts slowly and
    seasonally: trees fitted on levels cannot extrapolate to a season the training year did not
    reach, a change can), so the forecast is the latest value plus the predicted change."""

    def __init__(self, target: str, features: list[str], booster) -> None:
        self.target, self.features, self.booster = target, list(features), booster

    def predict(self, context, model_input: pd.DataFrame, params=None) -> np.ndarray:
        missing = [c for c in self.features if c not in model_input.columns]
        if missing:
            raise ValueError(f"smartmon.water.{self.target}: input lacks columns {missing[:5]}")
        x = model_input[self.features].astype(float)
        return np.clip(x[f"last_{self.target}"].to_numpy() + self.booster.predict(x), 0, None)
