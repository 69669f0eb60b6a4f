"""The nightly's national forecaster: one gradient-boosting model per target, pooled over every
station of every network, predicting the change from the station's latest value.

The change is shrunk towards persistence, and the result towards the climatology of the target
hour, by two weights per horizon learned on validation issues the booster did not see
(`blend_weights`): at the first hours persistence is hard to beat, two and three days ahead the
climatology often is, and weights of 0 give the baseline itself rather than a worse forecast.

Why the change and not the level: at the first hours the latest value is the best forecast there
is (persistence), and a tree model on levels has to relearn it from scratch at every level; on
the change it starts from persistence and learns how far, by horizon, hour of day, neighbours and
climatology, a value tends to move. It also reaches levels outside the training days, which
trees on levels cannot.
"""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pandas as pd


def base_value(model_input: pd.DataFrame, target: str) -> np.ndarray:
    """What the change is added to: the last hour's value, else the 3 h and 24 h means, else the
    climatology of the target hour (a station that missed the issue hour is still forecast)."""
    base = model_input[f"{target}_last"].astype(float)
    for col in (f"{target}_mean3", f"{target}_mean24", "clim"):
        base = base.fillna(model_input[col].astype(float))
    return base.to_numpy()


def change_rows(rows: pd.DataFrame, target: str, columns: list[str] | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """What a change model learns from: the design rows and the observed value minus the base
    value, rows without either left out (the booster's training and its tuning trials alike)."""
    from smartmon.forecast.design import design

    x = design(rows, target, columns)
    y = rows[f"actual_{target}"].to_numpy(dtype=float) - base_value(x, target)
    keep = ~np.isnan(y)
    return x[keep], y[keep]


class ChangeForecaster(mlflow.pyfunc.PythonModel):
    """Input rows: smartmon.forecast.design's columns (features, horizon_h, target_hod, clim of
    the target); output: one forecast per row (ug/m3, >= 0; NaN where nothing is known)."""

    def __init__(self, target: str, features: list[str], booster: object, weights: dict[int, float] | None = None) -> None:
        self.target = target
        self.features = list(features)
        self.booster = booster
        # horizon -> (w, a): base + w * change, then a share a of that and 1 - a of the climatology
        self.weights = dict(weights or {})

    def change(self, model_input: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(model_input[self.features].astype(float))

    def predict(self, context, model_input: pd.DataFrame, params=None) -> np.ndarray:
        missing = [c for c in self.features if c not in model_input.columns]
        if missing:
            raise ValueError(f"{self.target} forecaster: input lacks columns {missing[:5]}{'...' if len(missing) > 5 else ''}")
        # a model pickled before the climatology weight kept one float per horizon
        weights = {k: v if isinstance(v, tuple) else (v, 1.0) for k, v in getattr(self, "weights", {}).items()}
        h = model_input["horizon_h"]
        w = h.map({k: v[0] for k, v in weights.items()}).fillna(1.0).to_numpy(dtype=float)
        a = h.map({k: v[1] for k, v in weights.items()}).fillna(1.0).to_numpy(dtype=float)
        return np.clip(blend(base_value(model_input, self.target), self.change(model_input),
                             model_input["clim"].to_numpy(dtype=float), w, a), 0, None)


def blend(base: np.ndarray, change: np.ndarray, clim: np.ndarray, w, a) -> np.ndarray:
    """a * (base + w * change) + (1 - a) * clim, the climatology left out where unknown."""
    mixed = base + w * change
    return np.where(np.isnan(clim), mixed, a * mixed + (1 - a) * np.nan_to_num(clim))


def blend_weights(change: np.ndarray, base: np.ndarray, clim: np.ndarray, actual: np.ndarray, horizon: np.ndarray,
                  grid: np.ndarray = np.linspace(0, 1, 11)) -> dict[int, tuple[float, float]]:
    """Per horizon, the (w, a) of `blend` that minimise SMAPE on validation rows (w = 0, a = 1 is
    persistence; a = 0 the climatology)."""
    from smartmon.forecast.metrics import smape

    out = {}
    for h in np.unique(horizon):
        sel = (horizon == h) & ~np.isnan(actual) & ~np.isnan(base)
        if sel.sum() < 30:
            continue
        pairs = [(w, a) for w in grid for a in grid]
        scores = [smape(blend(base[sel], change[sel], clim[sel], w, a), actual[sel]) for w, a in pairs]
        w, a = pairs[int(np.argmin(scores))]
        out[int(h)] = (float(w), float(a))
    return out
