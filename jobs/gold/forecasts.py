"""gold.forecasts: the champion models' forecasts for the latest issue (or given issues).

The served model is whatever `models:/smartmon.control.<target>@champion` names when the batch
runs; its version is written on every row, and gold.model_aliases says when it became champion.
"""

from __future__ import annotations

import logging
from datetime import datetime

import pandas as pd
from pyspark.sql import functions as F

from features.air_forecast import horizon_rows
from smartmon.catalog.features import feature_columns
from smartmon.catalog.names import (
    FEATURES_AIR_CLIMATOLOGY,
    FEATURES_AIR_FORECAST,
    GOLD_FORECASTS,
    MODELS,
)
from smartmon.forecast.design import design
from smartmon.io import Lake
from smartmon.jobspec import WHOLE_TABLE, Job
from smartmon.registry import CHAMPION, alias_version, model_name

log = logging.getLogger(__name__)


def inference_frame(lake: Lake, issued: list[datetime]) -> pd.DataFrame:
    """Feature rows of the issues x horizons, with the target hour and its climatology."""
    feats = lake.read(FEATURES_AIR_FORECAST).where(F.col("issued_at").isin(issued))
    rows = horizon_rows(feats, lake.read(FEATURES_AIR_CLIMATOLOGY))
    cols = ["station_id", "issued_at", "ts", *feature_columns(), "horizon_h", "target_hod", "clim_pm25", "clim_pm10", "clim_o3"]
    return rows.select(*cols).toPandas()


def run(lake: Lake, targets: tuple[str, ...] = ("pm25", "pm10", "o3"), issued: list[datetime] | None = None,
        scenario: str = "control") -> dict[str, int]:
    """Forecast every station of the latest issue (or the given issues) with each champion."""
    from smartmon.mlflow_session import get_mlflow

    mlflow = get_mlflow()
    client = mlflow.MlflowClient()
    if issued is None:
        latest = lake.read(FEATURES_AIR_FORECAST).agg(F.max("issued_at")).first()[0]
        issued = [latest] if latest else []
    if not issued:
        return {"rows_out": 0}
    frame = inference_frame(lake, issued)
    parts = []
    for t in targets:
        name = model_name(scenario, t)
        version = alias_version(client, name, CHAMPION)
        if version is None:
            log.warning("%s has no champion yet: no forecasts for %s", name, t)
            continue
        model = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
        parts.append(pd.DataFrame({
            "station_id": frame["station_id"], "target": t, "issued_at": frame["issued_at"], "horizon_h": frame["horizon_h"].astype("int32"),
            "ts": frame["ts"], "value": model.predict(design(frame, t)), "model_name": name, "model_version": str(version),
            "month": frame["issued_at"].dt.strftime("%Y-%m"),
        }))
    if not parts:
        return {"rows_out": 0}
    out = lake.from_pandas(pd.concat(parts, ignore_index=True), GOLD_FORECASTS)
    return {"rows_out": lake.merge(out, GOLD_FORECASTS).rows_written, "issues": len(issued)}


JOB = Job(
    name=GOLD_FORECASTS,
    layer="forecasts",
    reads=(FEATURES_AIR_FORECAST, FEATURES_AIR_CLIMATOLOGY, MODELS),
    writes=(GOLD_FORECASTS,),
    run=lambda ctx: run(ctx.lake),
    scope=WHOLE_TABLE,
    doc="the champions' forecasts of the latest issue; a target with no champion yet is skipped",
)
