"""gold.forecasts: the champions' forecasts, every issue kept; and the nightly's retrain.

The nightly (task `gold.forecasts`) forecasts every station with at least 7 days of data at its
issue (16:00 UTC of the run date), 72 hours ahead, with `models:/smartmon.national.<target>@champion`;
each row carries the model version and the last hour that model was trained on. From those
concentrations it derives what the public forecasts give (jobs.gold.forecast_aqi): each value's
IAQI, O3-8h, the hourly AQI with its primary pollutant and level, and gold.forecast_city_daily. Before it,
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
from datetime import date, datetime, timedelta

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.air_forecast import HORIZONS_NIGHTLY, ISSUE_HOUR_UTC, MIN_HISTORY_DAYS, horizon_rows, issue_time
from jobs.gold.forecast_aqi import POLLUTANT_TARGETS, city_days, hourly_products
from jobs.gold.forecast_skill import weighted
from smartmon.catalog.features import CLIM_TARGETS, NATIONAL_TARGETS, feature_columns
from smartmon.catalog.names import (
    FEATURES_AIR_CLIMATOLOGY,
    FEATURES_AIR_FORECAST,
    GOLD_FORECAST_CITY_DAILY,
    GOLD_FORECAST_SKILL,
    GOLD_FORECASTS,
    GOLD_MODEL_ALIASES,
    MODELS,
    SILVER_AIR_HOURLY,
    SILVER_AUDIT_LOG,
    SILVER_QC_FLAGS,
    SILVER_STATIONS,
)
from smartmon.changes import issues_where
from smartmon.errors import InputError
from smartmon.forecast.design import design
from smartmon.io import Lake
from smartmon.jobspec import Job, Scope
from smartmon.registry import CHAMPION, model_name

log = logging.getLogger(__name__)
INPUT_COLUMNS = ["station_id", "issued_at", "ts", *feature_columns(), "horizon_h", "target_hod", *[f"clim_{t}" for t in CLIM_TARGETS]]
OUT_SCHEMA = ("station_id string, target string, issued_at timestamp, horizon_h int, ts timestamp, value double, "
              "model_name string, model_version string, month string, trained_until timestamp, kind string, "
              "iaqi int, primary_pollutant string, level int")  # the last three: published issues (forecast_aqi)


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
                    "iaqi": None, "primary_pollutant": None, "level": None,
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
        scenario: str = "control", horizons: int = 48, kind: str = "research", min_history: int = 0,
        publish: bool = False, served: list[Served] | None = None) -> dict[str, int]:
    """Forecast every station of the given issues (default: the latest research issue, 00:00 UTC)
    with each champion of the scenario; with `publish` (the national issues) also what the
    public forecasts give: IAQIs, O3-8h and the AQI per station-hour, and the city-day AQI
    (jobs.gold.forecast_aqi). `served`: models to use instead of the champions (a backtest's)."""
    if issued is None:
        latest = lake.read(FEATURES_AIR_FORECAST).where(F.hour("issued_at") == ISSUE_HOUR_UTC).agg(F.max("issued_at")).first()[0]
        issued = [latest] if latest else []
    if not issued:
        return {"rows_out": 0}
    served = served if served is not None else champions(targets, scenario)
    if not served:
        return {"rows_out": 0}
    out = predict(issue_rows(lake, issued, horizons, min_history), served, kind)
    months = sorted({i.strftime("%Y-%m") for i in issued})
    # every row of the source is of these issues and this kind, one per key (a feature row per
    # station and issue, times its horizons and targets): the MERGE reads and rewrites the files
    # of these issues only, and an issue written for the first time is a replaceWhere
    bound = {"within": {"month": months}, "where": issues_where(issued, [kind]), "keys_unique": True}
    if not publish:
        return {"rows_out": lake.merge(out, GOLD_FORECASTS, **bound).rows_written, "issues": len(issued),
                "targets": len(served)}
    missing = sorted(set(POLLUTANT_TARGETS) - {s.target for s in served})
    if missing:
        log.warning("no champion for %s: no AQI, O3-8h or city forecasts from this issue", ", ".join(missing))
        return {"rows_out": lake.merge(out, GOLD_FORECASTS, **bound).rows_written, "issues": len(issued),
                "targets": len(served)}
    # the forecasts feed three products: predicted once, kept on the executors (memory and disk)
    out = out.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        n = lake.merge(hourly_products(out), GOLD_FORECASTS, **bound).rows_written
        cities = lake.merge(city_days(out, lake.read(SILVER_STATIONS)), GOLD_FORECAST_CITY_DAILY, **bound).rows_written
    finally:
        out.unpersist()
    return {"rows_out": n, "city_days": cities, "issues": len(issued), "targets": len(served)}


def nightly(lake: Lake, day: date) -> dict[str, int]:
    """The run date's national issue: every station with 7 days of data, 72 h, every champion."""
    return run(lake, NATIONAL_TARGETS, [issue_time(day)], scenario="national", horizons=HORIZONS_NIGHTLY,
               kind="nightly", min_history=MIN_HISTORY_DAYS, publish=True)


SKILL_DAYS = 7  # a retrain is due when the issues of the last week scored worse than persistence
MIN_SCORED_ISSUES = 3
SKILL_HORIZON_H = 48


@dataclass(frozen=True)
class RecentSkill:
    """A target's nightly issues of the week before, as far as they have come true."""

    target: str
    issues: int
    first: datetime
    model: float  # SMAPE, hours 1-48, n-weighted
    persistence: float


def lagging(recent: list[RecentSkill], newest: dict[str, datetime | None]) -> list[str]:
    """Targets whose recent issues (at least MIN_SCORED_ISSUES) scored a worse SMAPE than
    persistence on the same pairs, and whose newest model was trained before the first of those
    issues (a model trained since has not been judged yet: retraining again each night would only
    repeat the work)."""
    out = []
    for r in recent:
        since = newest.get(r.target)
        if r.issues >= MIN_SCORED_ISSUES and r.model > r.persistence and (since is None or since < r.first):
            log.warning("%s: the last %d issues scored SMAPE %.3f against persistence's %.3f: retrain", r.target, r.issues,
                        r.model, r.persistence)
            out.append(r.target)
    return sorted(out)


def recent_skill(lake: Lake, day: date, targets: tuple[str, ...]) -> list[RecentSkill]:
    """gold.forecast_skill of the nightly issues of the SKILL_DAYS before D, per target."""
    if not lake.exists(GOLD_FORECAST_SKILL):
        return []
    lo, hi = issue_time(day - timedelta(days=SKILL_DAYS)), issue_time(day - timedelta(days=1))
    rows = weighted(lake.read(GOLD_FORECAST_SKILL)
                    .where((F.col("grain") == "station_hour") & (F.col("kind") == "nightly") & F.col("issued_at").between(lo, hi)
                           & F.col("target").isin(*targets) & (F.col("horizon_h") <= SKILL_HORIZON_H)), "target").collect()
    return [RecentSkill(r.target, r.issues, r["first"], r.smape, r.persistence_smape) for r in rows]


def retrain(lake: Lake, day: date) -> dict[str, int]:
    """Train the targets that are due (experiments.national_forecast.due: a week old) or whose
    recent issues fell behind persistence (`lagging`), on the days before D."""
    from experiments import national_forecast as nf

    newest = nf.newest_trained(NATIONAL_TARGETS)
    weekly = nf.due(day, newest=newest)
    behind = [t for t in lagging(recent_skill(lake, day, NATIONAL_TARGETS), newest) if t not in weekly]
    targets = tuple(t for t in NATIONAL_TARGETS if t in {*weekly, *behind})
    if not targets:
        log.info("national models are less than %s old and not behind persistence: no retrain", nf.RETRAIN_AFTER)
        return {"trained": 0}
    try:
        result = nf.run(lake, day, nf.Config(targets=targets, tune_trials=nf.nightly_tune_trials()), build_missing=False)
    except InputError as e:  # a young lake: no station has a week of data before the holdout yet
        log.warning("no retrain: %s", e)
        return {"trained": 0}
    log.info("%s", nf.summary(result, targets))
    return {"trained": len(targets), "for_skill": len(behind), "promoted": sum(bool(result[t]["promoted"]) for t in targets),
            "train_rows": result["train_rows"]}


JOBS = (
    Job(
        name="forecasts.train",
        layer="forecasts",
        reads=(FEATURES_AIR_FORECAST, FEATURES_AIR_CLIMATOLOGY, SILVER_AIR_HOURLY, SILVER_QC_FLAGS, SILVER_AUDIT_LOG),
        writes=(MODELS,),  # only when a target is due: a week after its newest model's last training hour
        records=(GOLD_MODEL_ALIASES,),
        reads_earlier=(GOLD_FORECAST_SKILL,),  # the skill of earlier nights' issues
        run=lambda ctx: retrain(ctx.lake, ctx.run_date),
        scope=Scope("days", days=24),
        doc="retrain of the national models on the days before the run date (Ray, MLflow, gate): weekly, or "
        "when the last week's issues scored worse than persistence",
    ),
    Job(
        name=GOLD_FORECASTS,
        layer="forecasts",
        reads=(FEATURES_AIR_FORECAST, FEATURES_AIR_CLIMATOLOGY, MODELS, SILVER_STATIONS),
        writes=(GOLD_FORECASTS, GOLD_FORECAST_CITY_DAILY),
        run=lambda ctx: nightly(ctx.lake, ctx.run_date),
        scope=Scope("days"),
        transform=hourly_products,
        doc="the champions' 72 h forecasts of the night's issue for every station with 7 days of data, "
        "their IAQIs, O3-8h and hourly AQI, and the city AQI of the next three Beijing days",
    ),
)
