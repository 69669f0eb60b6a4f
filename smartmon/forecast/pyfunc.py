"""The served forecaster: one gradient-boosting model per block of horizons, behind one MLflow
pyfunc, so `models:/smartmon.control.pm25@champion` answers for every horizon 1-48."""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pandas as pd


class BlockForecaster(mlflow.pyfunc.PythonModel):
    """Input rows: the feature columns of features.air_forecast plus horizon_h, target_hod and
    clim (the climatology of the target hour); output: one forecast per row (ug/m3, >= 0)."""

    def __init__(self, target: str, features: list[str], blocks: dict[tuple[int, int], object]) -> None:
        self.target = target
        self.features = list(features)
        self.blocks = dict(blocks)

    def predict(self, context, model_input: pd.DataFrame, params=None) -> np.ndarray:
        missing = [c for c in self.features if c not in model_input.columns]
        if missing:
            raise ValueError(f"{self.target} forecaster: input lacks columns {missing[:5]}{'...' if len(missing) > 5 else ''}")
        x = model_input[self.features].astype(float)
        h = model_input["horizon_h"].to_numpy()
        out = np.full(len(x), np.nan)
        for (lo, hi), booster in self.blocks.items():
            sel = (h >= lo) & (h <= hi)
            if sel.any():
                out[sel] = booster.predict(x[sel])
        return np.clip(out, 0, None)
