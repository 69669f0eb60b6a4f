"""Control scenario forecasts: PM2.5, PM10 and O3 per station for hours 1-48, issued daily at
00:00 UTC from features.air_forecast (the KDD Cup 2018 setting).

One LightGBM model per target and block of horizons, trained as Ray tasks (targets x blocks in
parallel, one CPU each); scored per horizon with SMAPE (KDD Cup 2018), RMSE and MAE against
persistence and the 30-day diurnal climatology on a holdout of the last 12 months; tracked in
MLflow (parameters, metrics per horizon, plot, Delta versions of the inputs); registered as
smartmon.control.<target> with alias challenger, promoted to champion by the gate.

    python -m experiments.control_forecast [--smoke-test] [--targets pm25,pm10,o3]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pandas as pd
from pyspark.sql import functions as F

from features.air_forecast import ISSUE_HOUR_UTC, horizon_rows
from smartmon.catalog.features import TARGETS, feature_columns
from smartmon.catalog.names import (
    FEATURES_AIR_CLIMATOLOGY,
    FEATURES_AIR_FORECAST,
    SILVER_AIR_HOURLY,
    SILVER_METEO_HOURLY,
    SILVER_QC_FLAGS,
)
from smartmon.errors import InputError
from smartmon.forecast.design import design, model_columns
from smartmon.forecast.metrics import mean_smape_by_horizon, scores
from smartmon.io import Lake
from smartmon.qc.apply import valid_air

log = logging.getLogger(__name__)
BLOCKS = ((1, 12), (13, 24), (25, 36), (37, 48))
PARAMS = {"n_estimators": 400, "learning_rate": 0.04, "num_leaves": 63, "min_child_samples": 40,
          "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0, "verbose": -1, "n_jobs": 1}
SMOKE_PARAMS = {**PARAMS, "n_estimators": 60, "learning_rate": 0.1, "num_leaves": 15}
INPUT_TABLES = (FEATURES_AIR_FORECAST, FEATURES_AIR_CLIMATOLOGY, SILVER_AIR_HOURLY)
FUTURE_WEATHER = ("temp_c", "humidity_pct", "pressure_hpa", "rain_mm", "wind_u", "wind_v")


@dataclass
class Config:
    targets: tuple[str, ...] = TARGETS
    sources: tuple[str, ...] = ("uci-beijing",)
    holdout_days: int = 365
    params: dict = field(default_factory=lambda: dict(PARAMS))
    max_issues_per_station: int | None = None  # smoke test: the most recent issues only
    scenario: str = "control"
    tune_trials: int = 12  # Optuna trials per target through Ray Tune; 0 keeps `params`
    tune_valid_days: int = 365  # validation window at the end of the training period: a whole seasonal cycle
    tune_rows: int = 150_000  # fit rows per trial (sampled)
    perfect_weather: bool = False  # observed weather at the target hour: a labelled, never-registered experiment
    register: bool = True  # False: evaluate and track only (e.g. another network's holdout)

    def columns(self) -> list[str]:
        """Model inputs: issue-time features, horizon, target hour, climatology (+ future weather)."""
        return model_columns([f"fw_{c}" for c in FUTURE_WEATHER] if self.perfect_weather else [])

    @property
    def experiment(self) -> str:
        return f"smartmon-{self.scenario}" + ("-perfect-weather" if self.perfect_weather else "")


def smoke(cfg: Config, issues: int = 120, tune_trials: int = 2) -> Config:
    """CI settings: the most recent issues per station, small models, a 30-day holdout and two
    tuning trials on a few thousand rows: every step runs, in about a minute per target."""
    cfg.params, cfg.max_issues_per_station, cfg.holdout_days = dict(SMOKE_PARAMS), issues, 30
    cfg.tune_trials, cfg.tune_valid_days, cfg.tune_rows = min(cfg.tune_trials, tune_trials), 15, 5_000
    return cfg


def training_frame(lake: Lake, cfg: Config) -> pd.DataFrame:
    """Features x horizons 1-48 with the actual values and the climatology of each target hour."""
    air = lake.read(SILVER_AIR_HOURLY).where(F.col("source").isin(*cfg.sources))
    valid = valid_air(air, lake.read(SILVER_QC_FLAGS))
    ids = valid.select("station_id").distinct()
    # the research issues only (00:00 UTC): the table also holds the nightly's 16:00 UTC issues
    feats = lake.read(FEATURES_AIR_FORECAST).where(F.hour("issued_at") == ISSUE_HOUR_UTC).join(ids, "station_id")
    if cfg.max_issues_per_station:
        from pyspark.sql import Window

        w = Window.partitionBy("station_id").orderBy(F.col("issued_at").desc())
        feats = feats.withColumn("_r", F.row_number().over(w)).where(F.col("_r") <= cfg.max_issues_per_station).drop("_r")
    actual = valid.select("station_id", "ts", *[F.col(t).alias(f"actual_{t}") for t in TARGETS])
    rows = horizon_rows(feats, lake.read(FEATURES_AIR_CLIMATOLOGY)).join(actual, ["station_id", "ts"], "left")
    future: list[str] = []
    if cfg.perfect_weather:
        future = [f"fw_{c}" for c in FUTURE_WEATHER]
        weather = lake.read(SILVER_METEO_HOURLY).select("station_id", "ts", *[F.col(c).alias(f"fw_{c}") for c in FUTURE_WEATHER])
        rows = rows.join(weather, ["station_id", "ts"], "left")
    keep = ["station_id", "issued_at", "ts", *feature_columns(), "horizon_h", "target_hod",
            *[f"actual_{t}" for t in TARGETS], *[f"clim_{t}" for t in TARGETS], *future]
    pdf = rows.select(*keep).toPandas()
    log.info("training frame: %d rows (%d issues)", len(pdf), pdf[["station_id", "issued_at"]].drop_duplicates().shape[0])
    return pdf


def split(df: pd.DataFrame, holdout_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    start = df["issued_at"].max() - timedelta(days=holdout_days)
    return df[df["issued_at"] <= start], df[df["issued_at"] > start]


def _fit_block(train: pd.DataFrame, target: str, block: tuple[int, int], params: dict, columns: list[str]):
    import lightgbm as lgb

    part = train[(train["horizon_h"] >= block[0]) & (train["horizon_h"] <= block[1])]
    part = part[part[f"actual_{target}"].notna()]
    model = lgb.LGBMRegressor(**params)
    model.fit(design(part, target, columns), part[f"actual_{target}"].astype(float))
    return target, block, model.booster_, len(part)


def tune(train: pd.DataFrame, cfg: Config) -> dict[str, object]:
    """Optuna through Ray Tune per target (experiments.tuning); TuneResult per target."""
    from experiments.tuning import tune_target, validation_split

    out = {}
    span = (train["issued_at"].max() - train["issued_at"].min()).days
    valid_days = min(cfg.tune_valid_days, max(1, span // 3))  # a short history keeps two thirds to fit
    if valid_days < cfg.tune_valid_days:
        log.info("tuning validates on the last %d days (training spans %d)", valid_days, span)
    for t in cfg.targets:
        fit, valid = validation_split(train.assign(clim=train[f"clim_{t}"]), t, valid_days, cfg.tune_rows)
        out[t] = tune_target(fit, valid, t, cfg.columns(), cfg.tune_trials)
    return out


def train_on_ray(train: pd.DataFrame, cfg: Config, params: dict[str, dict] | None = None) -> dict[str, dict[tuple[int, int], object]]:
    """Targets x horizon blocks as Ray tasks; returns the boosters per target and block."""
    from smartmon.ray_session import get_ray

    ray = get_ray()
    fit = ray.remote(num_cpus=1)(_fit_block)
    ref = ray.put(train)
    params = params or {}
    futures = [fit.remote(ref, t, b, params.get(t, cfg.params), cfg.columns()) for t in cfg.targets for b in BLOCKS]
    out: dict[str, dict[tuple[int, int], object]] = {t: {} for t in cfg.targets}
    pending = list(futures)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        target, block, booster, n = ray.get(done[0])
        out[target][block] = booster
        log.info("trained %s hours %d-%d on %d rows (%d/%d)", target, *block, n, len(futures) - len(pending), len(futures))
    return out


def evaluate(models: dict, holdout: pd.DataFrame, columns: list[str] | None = None) -> pd.DataFrame:
    """Per target, horizon and method (model, persistence, climatology): SMAPE, RMSE, MAE."""
    rows = []
    for target, model in models.items():
        h = holdout[holdout[f"actual_{target}"].notna()]
        pred = model.predict(None, design(h, target, columns))
        methods = {"model": pred, "persistence": h[f"{target}_last"].to_numpy(), "climatology": h[f"clim_{target}"].to_numpy()}
        for horizon, idx in h.groupby("horizon_h").indices.items():
            actual = h[f"actual_{target}"].to_numpy()[idx]
            for name, values in methods.items():
                rows.append({"target": target, "horizon_h": int(horizon), "method": name, "n": len(idx),
                             **scores(np.asarray(values, dtype=float)[idx], actual)})
    return pd.DataFrame(rows)


def summary(report: pd.DataFrame) -> pd.DataFrame:
    """Mean over hours 1-48 per target and method, and the model's gain over persistence."""
    s = report.groupby(["target", "method"])[["smape", "rmse", "mae"]].mean().unstack("method")
    s[("gain", "vs_persistence")] = 1 - s[("smape", "model")] / s[("smape", "persistence")]
    s[("gain", "vs_climatology")] = 1 - s[("smape", "model")] / s[("smape", "climatology")]
    return s


def _plot(report: pd.DataFrame, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = sorted(report["target"].unique())
    fig, axes = plt.subplots(1, len(targets), figsize=(5 * len(targets), 3.5), squeeze=False)
    for ax, t in zip(axes[0], targets):
        for m, g in report[report["target"] == t].groupby("method"):
            ax.plot(g["horizon_h"], g["smape"], label=m)
        ax.set_title(f"{t}: SMAPE by horizon"), ax.set_xlabel("hours ahead"), ax.legend()
    fig.tight_layout(), fig.savefig(path, dpi=90), plt.close(fig)


def _register(lake: Lake, mlflow, cfg: Config, target: str, model, holdout: pd.DataFrame, score: float, base: dict) -> dict:
    """Log and register the model as challenger; the gate decides whether it becomes champion
    (scored against the current champion on this same holdout)."""
    from smartmon.registry import (
        CHALLENGER,
        CHAMPION,
        alias_version,
        gate,
        log_pyfunc,
        model_name,
        set_alias,
    )

    client = mlflow.MlflowClient()
    name = model_name(cfg.scenario, target)
    info = log_pyfunc(mlflow, name=f"forecast_{target}", python_model=model, registered_model_name=name,
                      input_example=design(holdout.head(5), target), needs=("lightgbm", "scikit-learn"))
    version = str(info.registered_model_version)
    champ_score = None
    if alias_version(client, name, CHAMPION) is not None:
        old = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
        h = holdout[holdout[f"actual_{target}"].notna()]
        champ_score = mean_smape_by_horizon(old.predict(design(h, target)), h, target)
    set_alias(lake, client, name, CHALLENGER, version, "newly trained", score)
    verdict = gate(score, champ_score, base)
    if verdict.promoted:
        set_alias(lake, client, name, CHAMPION, version, verdict.reason, score)
    return {"version": version, "promoted": verdict.promoted, "gate": verdict.reason}


def run(lake: Lake, cfg: Config) -> dict:
    """Tune, train, evaluate, track, register and gate; returns the summary per target. The
    perfect-weather experiment is tracked in its own MLflow experiment and never registered:
    no forecaster knows tomorrow's observed weather."""
    import tempfile

    from smartmon.forecast.pyfunc import BlockForecaster
    from smartmon.mlflow_session import get_mlflow

    t0 = time.time()
    versions = {t: lake.version(t) for t in (*INPUT_TABLES, *((SILVER_METEO_HOURLY,) if cfg.perfect_weather else ()))}
    df = training_frame(lake, cfg)
    train, holdout = split(df, cfg.holdout_days)
    if train.empty or holdout.empty:
        span = f"{df['issued_at'].min():%Y-%m-%d} .. {df['issued_at'].max():%Y-%m-%d}" if len(df) else "none"
        raise InputError(f"not enough issues to hold out {cfg.holdout_days} days: {len(train)} train, {len(holdout)} holdout rows "
                         f"(issues of {','.join(cfg.sources)}: {span}); use a shorter --holdout-days")
    tuned = tune(train, cfg) if cfg.tune_trials > 0 else {}
    params = {t: tuned[t].best_params if t in tuned else cfg.params for t in cfg.targets}
    boosters = train_on_ray(train, cfg, params)
    models = {t: BlockForecaster(t, cfg.columns(), boosters[t]) for t in cfg.targets}
    report = evaluate(models, holdout, cfg.columns())
    mean = summary(report)
    mlflow = get_mlflow(experiment=cfg.experiment)
    result: dict = {}
    label = "perfect-weather (observed future weather; not deployable)" if cfg.perfect_weather else "issue-time data only"
    with mlflow.start_run(run_name=f"{cfg.scenario}-forecast" + ("-perfect-weather" if cfg.perfect_weather else "")) as run_:
        mlflow.set_tags({"inputs": label, "perfect_weather": str(cfg.perfect_weather).lower()})
        mlflow.log_params({"blocks": str(BLOCKS), "sources": ",".join(cfg.sources), "holdout_days": cfg.holdout_days,
                           "train_rows": len(train), "holdout_rows": len(holdout), "tune_trials": cfg.tune_trials,
                           **{f"{t}.lgbm_{k}": v for t in cfg.targets for k, v in params[t].items()},
                           **{f"data_version.{k}": v for k, v in versions.items()}})
        for r in report.itertuples():
            for m in ("smape", "rmse", "mae"):
                mlflow.log_metric(f"{r.target}.{r.method}.{m}", getattr(r, m), step=r.horizon_h)
        with tempfile.TemporaryDirectory() as tmp:
            _plot(report, f"{tmp}/smape_by_horizon.png")
            report.to_csv(f"{tmp}/report_by_horizon.csv", index=False)
            for t, tr in tuned.items():
                tr.trials.to_csv(f"{tmp}/tuning_{t}.csv", index=False)
                mlflow.log_metrics({f"{t}.tune.best_valid_smape": tr.best_smape, f"{t}.tune.persistence_valid_smape": tr.persistence_smape,
                                    f"{t}.tune.trials_per_minute": tr.trials_per_minute})
            mlflow.log_artifacts(tmp, "report")
        for t in cfg.targets:
            score = float(mean.loc[t, ("smape", "model")])
            base = {"persistence": float(mean.loc[t, ("smape", "persistence")]), "climatology": float(mean.loc[t, ("smape", "climatology")])}
            mlflow.log_metrics({f"{t}.smape_1_48": score, f"{t}.persistence.smape_1_48": base["persistence"],
                                f"{t}.climatology.smape_1_48": base["climatology"]})
            reg = {"version": None, "promoted": False,
                   "gate": "perfect-weather experiment: not registered" if cfg.perfect_weather else "evaluation only: not registered"}
            if cfg.register and not cfg.perfect_weather:
                reg = _register(lake, mlflow, cfg, t, models[t], holdout, score, base)
            result[t] = {**reg, "smape": score, **{f"{k}_smape": v for k, v in base.items()},
                         "gain_vs_persistence": 1 - score / base["persistence"],
                         "tuned_valid_smape": tuned[t].best_smape if t in tuned else None,
                         "persistence_valid_smape": tuned[t].persistence_smape if t in tuned else None}
        result["_run_id"] = run_.info.run_id
    result["_seconds"] = round(time.time() - t0, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke-test", action="store_true", help="few issues, small models, 2 tuning trials: minutes, for CI")
    p.add_argument("--targets", default=",".join(TARGETS))
    p.add_argument("--source", action="append", default=None, help="air source of the stations (default uci-beijing; kdd2018)")
    p.add_argument("--holdout-days", type=int, default=365)
    p.add_argument("--tune-trials", type=int, default=Config.tune_trials, help="Optuna trials per target through Ray Tune (0: no tuning)")
    p.add_argument("--perfect-weather", action="store_true", help="labelled experiment: observed weather at the target hour as input")
    p.add_argument("--no-register", action="store_true", help="evaluate and track in MLflow only (no registry, no gate)")
    p.add_argument("--build-features", action="store_true", help="build the feature tables first")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname).1s %(name)s: %(message)s", datefmt="%H:%M:%S")
    from smartmon.spark import get_spark

    lake = Lake(get_spark())
    if args.build_features:
        from features import air_forecast

        log.info("features: %s", air_forecast.run(lake))
    cfg = Config(targets=tuple(args.targets.split(",")), sources=tuple(args.source or ("uci-beijing",)), holdout_days=args.holdout_days,
                 tune_trials=args.tune_trials, perfect_weather=args.perfect_weather, register=not args.no_register)
    if args.smoke_test:
        cfg = smoke(cfg)
    result = run(lake, cfg)
    print(f"{'PERFECT-WEATHER experiment (observed future weather, not registered)' if cfg.perfect_weather else 'issue-time data only'};"
          f" sources {','.join(cfg.sources)}, holdout {cfg.holdout_days} days")
    for t in cfg.targets:
        r = result[t]
        tuned = (f"; tuned on validation: {r['tuned_valid_smape']:.3f} vs persistence {r['persistence_valid_smape']:.3f}"
                 if r["tuned_valid_smape"] is not None else "")
        verdict = r["gate"] if r["version"] is None else f"{'-> champion' if r['promoted'] else 'stays challenger'}: {r['gate']}"
        print(f"{t:5s} {'v' + r['version'] if r['version'] else 'unregistered'}: SMAPE 1-48 {r['smape']:.3f} (persistence "
              f"{r['persistence_smape']:.3f}, climatology {r['climatology_smape']:.3f}; gain {100 * r['gain_vs_persistence']:.1f} %{tuned}) "
              f"{verdict}")
    print(f"MLflow run {result['_run_id']} ({cfg.experiment}) in {result['_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
