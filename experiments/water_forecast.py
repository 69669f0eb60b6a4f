"""`smartmon train --scenario water`: next-day DO, NH3-N, CODMn and TP at a real automatic water
station, one LightGBM model per target as a Ray task, tracked in MLflow, registered as
smartmon.water.<target> and promoted to champion only when it beats persistence on the holdout
(the last HOLDOUT_DAYS of the record). QC: values under an ERROR flag are left out."""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pandas as pd
from pyspark.sql import functions as F

from smartmon.catalog.names import SILVER_QC_FLAGS, SILVER_WATER_OBS
from smartmon.errors import InputError
from smartmon.forecast.water import (
    TARGETS,
    WaterForecaster,
    design,
    feature_columns,
    frame,
)
from smartmon.io import Lake

log = logging.getLogger(__name__)
EXPERIMENT = "smartmon-water-forecast"
HOLDOUT_DAYS = 60
PARAMS = {"n_estimators": 300, "learning_rate": 0.05, "num_leaves": 15, "min_child_samples": 20, "verbose": -1, "n_jobs": 1}


def observations(lake: Lake, station: str) -> pd.DataFrame:
    from jobs.gold.water_class import mark_excluded

    obs = lake.read(SILVER_WATER_OBS).where(F.col("station_id") == station)
    valid = mark_excluded(obs, lake.read(SILVER_QC_FLAGS)).where(~F.col("excluded") & F.col("value").isNotNull())
    df = valid.select("ts", "parameter", "value").toPandas()
    if df.empty:
        raise InputError(f"no valid water observations for station {station!r} in silver.water_obs")
    return df


def fit_target(d: pd.DataFrame, target: str, holdout_days: int) -> dict:
    """Train on issues before the holdout, score model and persistence on the holdout (MAE)."""
    import lightgbm as lgb

    d = d[d["label"].notna() & d["persistence"].notna()]
    cut = d["issued_at"].max() - pd.Timedelta(days=holdout_days)
    train, test = d[d["issued_at"] <= cut], d[d["issued_at"] > cut]
    if len(train) < 50 or len(test) < 10:
        raise InputError(f"{target}: {len(train)} training and {len(test)} holdout issues; too few to train")
    cols = feature_columns(d)
    model = lgb.LGBMRegressor(**PARAMS).fit(train[cols].astype(float), train["label"] - train["persistence"])
    forecaster = WaterForecaster(target, cols, model.booster_)
    pred = forecaster.predict(None, test)
    ok = test["persistence"].notna()
    mae = float(np.mean(np.abs(pred[ok.to_numpy()] - test.loc[ok, "label"])))
    pers = float(np.mean(np.abs(test.loc[ok, "persistence"] - test.loc[ok, "label"])))
    return {"target": target, "model": forecaster, "mae": mae, "mae_persistence": pers,
            "train": len(train), "holdout": len(test), "example": test[cols].head(3)}


def run(lake: Lake, station: str = "SW-zhakou-guo", targets: tuple[str, ...] = TARGETS, holdout_days: int = HOLDOUT_DAYS,
        register: bool = True) -> dict:
    from smartmon.mlflow_session import get_mlflow
    from smartmon.ray_session import get_ray
    from smartmon.registry import CHALLENGER, CHAMPION, gate, log_pyfunc, model_name, set_alias

    t0 = time.time()
    wide = frame(observations(lake, station))
    missing = [t for t in targets if t not in wide.columns]
    if missing:
        raise InputError(f"station {station} has no {', '.join(missing)} in silver.water_obs (it has {', '.join(wide.columns)})")
    ray, mlflow = get_ray(), get_mlflow(experiment=EXPERIMENT)
    task = ray.remote(fit_target)
    results = ray.get([task.remote(design(wide, t), t, holdout_days) for t in targets])
    out: dict = {"station": station, "targets": {}}
    with mlflow.start_run(run_name=f"water:{station}") as run:
        mlflow.log_params({"station": station, "holdout_days": holdout_days, "horizon_h": 24, **PARAMS,
                           "silver.water_obs_version": lake.version(SILVER_WATER_OBS)})
        client = mlflow.MlflowClient()
        for r in results:
            t = r["target"]
            mlflow.log_metrics({f"mae_{t}": r["mae"], f"mae_persistence_{t}": r["mae_persistence"]})
            entry = {k: r[k] for k in ("mae", "mae_persistence", "train", "holdout")}
            if register:
                name = model_name("water", t)
                info = log_pyfunc(mlflow, name=f"water_{t}", python_model=r["model"], registered_model_name=name,
                                  input_example=r["example"], needs=("lightgbm", "scikit-learn"))
                version = str(info.registered_model_version)
                set_alias(lake, client, name, CHALLENGER, version, "newly trained", r["mae"])
                verdict = gate(r["mae"], None, {"persistence": r["mae_persistence"]})
                if verdict.promoted:
                    set_alias(lake, client, name, CHAMPION, version, verdict.reason, r["mae"])
                entry.update(version=version, promoted=verdict.promoted, gate=verdict.reason)
            out["targets"][t] = entry
        out["mlflow_run_id"] = run.info.run_id
    out["seconds"] = round(time.time() - t0, 1)
    return out


def main(argv: list[str] | None = None) -> int:
    from smartmon.spark import get_spark

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--station", default="SW-zhakou-guo")
    p.add_argument("--targets", default=",".join(TARGETS))
    p.add_argument("--holdout-days", type=int, default=HOLDOUT_DAYS)
    p.add_argument("--no-register", action="store_true")
    args = p.parse_args(argv)
    out = run(Lake(get_spark()), args.station, tuple(args.targets.split(",")), args.holdout_days, not args.no_register)
    for t, e in out["targets"].items():
        verdict = f"v{e['version']} {'champion' if e['promoted'] else 'challenger'}" if "version" in e else "not registered"
        print(f"  {t:6s} MAE 24 h ahead {e['mae']:.4f} vs persistence {e['mae_persistence']:.4f} "
              f"({e['train']} train / {e['holdout']} holdout issues): {verdict}")
    print(f"water forecast for {out['station']} in {out['seconds']} s; MLflow run {out['mlflow_run_id']}")
    return 0
