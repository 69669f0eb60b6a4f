"""gold.forecasts: the champions' forecasts, every issue kept; and the nightly's retrain.

The nightly (task `gold.forecasts`) forecasts every station with at least 7 days of data at its
issue (16:00 UTC of the run date), 72 hours ahead, with `models:/smartmon.national.<target>@champion`;
each row carries the model version and the last hour that model was trained on. Before it,
task `forecasts.train` retrains a target whose newest model is more than a week older than the
issue, or that has none (experiments/national_forecast.py: trained on the days before the run
date only, promoted by the gate). Inference is a Spark mapInPandas over the issue's rows: the
models travel to the executors with the function, nothing is collected to the driver.

`run(..., scenario="control")` serves the research forecaster's 00:00 UTC issues (48 h) the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.air_forecast import HORIZONS_NIGHTLY, ISSUE_HOUR_UTC, MIN_HISTORY_DAYS, horizon_rows, issue_time
from smartmon.catalog.features import CLIM_TARGETS, NATIONAL_TARGETS, feature_columns
from smartmon.catalog.names import (
    FEATURES_AIR_CLIMATOLOGY,
    FEATURES_AIR_FORECAST,
    GOLD_FORECASTS,
    GOLD_MODEL_ALIASES,
    MODELS,
    SILVER_AIR_HOURLY,
    SILVER_AUDIT_LOG,
    SILVER_QC_FLAGS,
)
from smartmon.errors import InputError
from smartmon.forecast.design import design
from smartmon.io import Lake
from smartmon.jobspec import Job, Scope
from smartmon.registry import CHAMPION, model_name

log = logging.getLogger(__name__)
INPUT_COLUMNS = ["station_id", "issued_at", "ts", *feature_columns(), "horizon_h", "target_hod", *[f"clim_{t}" for t in CLIM_TARGETS]]
OUT_SCHEMA = ("station_id string, target string, issued_at timestamp, horizon_h int, ts timestamp, value double, "
              "model_name string, model_version string, month string, trained_until timestamp, kind string")


@dataclass(frozen=True)
class Served:
    """A champion as the batch uses it: the model object travels to the executors."""

    target: str
    name: str
    version: str
    trained_until: datetime | None
    model: object  # the pyfunc's python model: predict(None, design_frame)


def champions(targets: tuple[str, ...], scenario: str) -> list[Served]:
    """The targets' champions now (a target with none is left out, with a warning)."""
    from smartmon.mlflow_session import get_mlflow

    mlflow = get_mlflow()
    client = mlflow.MlflowClient()
    out = []
    for t in targets:
        name = model_name(scenario, t)
        try:
            mv = client.get_model_version_by_alias(name, CHAMPION)
        except Exception:  # noqa: BLE001 - MlflowException: no such model or alias
            log.warning("%s has no champion yet: no forecasts for %s", name, t)
            continue
        until = mv.tags.get("trained_until")
        model = mlflow.pyfunc.load_model(f"models:/{name}/{mv.version}").unwrap_python_model()
        out.append(Served(t, name, str(mv.version), datetime.fromisoformat(until) if until else None, model))
    return out


def predict(rows: DataFrame, served: list[Served], kind: str) -> DataFrame:
    """Issue rows x horizons -> forecast rows of every served target (a mapInPandas: each
    partition predicts its own rows)."""

    def batches(frames: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for pdf in frames:
            for s in served:
                yield pd.DataFrame({
                    "station_id": pdf["station_id"], "target": s.target, "issued_at": pdf["issued_at"],
                    "horizon_h": pdf["horizon_h"].astype("int32"), "ts": pdf["ts"],
                    "value": s.model.predict(None, design(pdf, s.target)), "model_name": s.name, "model_version": s.version,
                    "month": pdf["issued_at"].dt.strftime("%Y-%m"), "trained_until": s.trained_until, "kind": kind,
                })

    return rows.select(*INPUT_COLUMNS).mapInPandas(batches, OUT_SCHEMA)


def issue_rows(lake: Lake, issued: list[datetime], horizons: int, min_history: int = 0) -> DataFrame:
    """Feature rows of the issues (stations with at least min_history days) x horizons."""
    feats = lake.read(FEATURES_AIR_FORECAST).where(F.col("issued_at").isin([F.lit(i) for i in issued]))
    if min_history:
        feats = feats.where(F.col("history_days") >= min_history)
    return horizon_rows(feats, lake.read(FEATURES_AIR_CLIMATOLOGY), horizons)


def inference_frame(lake: Lake, issued: list[datetime], horizons: int = 48) -> pd.DataFrame:
    """Feature rows of the issues x horizons as pandas (for a look or an HTTP request)."""
    return issue_rows(lake, issued, horizons).select(*INPUT_COLUMNS).toPandas()


def run(lake: Lake, targets: tuple[str, ...] = ("pm25", "pm10", "o3"), issued: list[datetime] | None = None,
        scenario: str = "control", horizons: int = 48, kind: str = "research", min_history: int = 0) -> dict[str, int]:
    """Forecast every station of the given issues (default: the latest research issue, 00:00 UTC)
    with each champion of the scenario."""
    if issued is None:
        latest = lake.read(FEATURES_AIR_FORECAST).where(F.hour("issued_at") == ISSUE_HOUR_UTC).agg(F.max("issued_at")).first()[0]
        issued = [latest] if latest else []
    if not issued:
        return {"rows_out": 0}
    served = champions(targets, scenario)
    if not served:
        return {"rows_out": 0}
    out = predict(issue_rows(lake, issued, horizons, min_history), served, kind)
    months = sorted({i.strftime("%Y-%m") for i in issued})
    return {"rows_out": lake.merge(out, GOLD_FORECASTS, within={"month": months}).rows_written, "issues": len(issued),
            "targets": len(served)}


def nightly(lake: Lake, day: date) -> dict[str, int]:
    """The run date's national issue: every station with 7 days of data, 72 h, every champion."""
    return run(lake, NATIONAL_TARGETS, [issue_time(day)], scenario="national", horizons=HORIZONS_NIGHTLY,
               kind="nightly", min_history=MIN_HISTORY_DAYS)


def retrain(lake: Lake, day: date) -> dict[str, int]:
    """Train the targets that are due (experiments.national_forecast.due) on the days before D."""
    from experiments import national_forecast as nf

    targets = tuple(nf.due(day))
    if not targets:
        log.info("national models are less than %s old: no retrain", nf.RETRAIN_AFTER)
        return {"trained": 0}
    try:
        result = nf.run(lake, day, nf.Config(targets=targets), build_missing=False)
    except InputError as e:  # a young lake: no station has a week of data before the holdout yet
        log.warning("no retrain: %s", e)
        return {"trained": 0}
    log.info("%s", nf.summary(result, targets))
    return {"trained": len(targets), "promoted": sum(bool(result[t]["promoted"]) for t in targets),
            "train_rows": result["train_rows"]}


JOBS = (
    Job(
        name="forecasts.train",
        layer="forecasts",
        reads=(FEATURES_AIR_FORECAST, FEATURES_AIR_CLIMATOLOGY, SILVER_AIR_HOURLY, SILVER_QC_FLAGS, SILVER_AUDIT_LOG),
        writes=(MODELS,),  # only when a target is due: a week after its newest model's last training hour
        records=(GOLD_MODEL_ALIASES,),
        run=lambda ctx: retrain(ctx.lake, ctx.run_date),
        scope=Scope("days", days=24),
        doc="weekly retrain of the national models on the days before the run date (Ray, MLflow, gate)",
    ),
    Job(
        name=GOLD_FORECASTS,
        layer="forecasts",
        reads=(FEATURES_AIR_FORECAST, FEATURES_AIR_CLIMATOLOGY, MODELS),
        writes=(GOLD_FORECASTS,),
        run=lambda ctx: nightly(ctx.lake, ctx.run_date),
        scope=Scope("days"),
        doc="the champions' 72 h forecasts of the night's issue for every station with 7 days of data",
    ),
)
