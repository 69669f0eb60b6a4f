"""The registered source-receptor response (`smartmon.carbon.response`), servable by MLflow:
rows of (receptor lat/lon, source lat/lon, PM-equivalent emission kg/h) -> ug/m3 at the receptor."""

from __future__ import annotations

import mlflow.pyfunc
import numpy as np
import pandas as pd

from smartmon.scenario.response import Response, transfer

COLUMNS = ["r_lat", "r_lon", "s_lat", "s_lon", "pm_eq_kg_h"]


class ResponseModel(mlflow.pyfunc.PythonModel):
    def __init__(self, response: Response) -> None:
        self.response = response

    def predict(self, context, model_input: pd.DataFrame, params=None) -> np.ndarray:
        missing = [c for c in COLUMNS if c not in model_input.columns]
        if missing:
            raise ValueError(f"smartmon.carbon.response: input lacks columns {missing}")
        x = model_input[COLUMNS].astype(float)
        return transfer(x["r_lat"], x["r_lon"], x["s_lat"], x["s_lon"], self.response, pairs=True) * x["pm_eq_kg_h"].to_numpy()
