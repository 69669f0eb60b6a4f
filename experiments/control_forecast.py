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

from features.air_forecast import horizon_rows
from smartmon.catalog.features import TARGETS, feature_columns
from smartmon.forecast.metrics import scores
from smartmon.io import Lake
from smartmon.qc.apply import valid_air

log = logging.getLogger(__name__)
BLOCKS = ((1, 12), (13, 24), (25, 36), (37, 48))
PARAMS = {"n_estimators": 400, "learning_rate": 0.04, "num_leaves": 63, "min_child_samples": 40,
          "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0, "verbose": -1, "n_jobs": 1}
SMOKE_PARAMS = {**PARAMS, "n_estimators": 60, "learning_rate": 0.1, "num_leaves": 15}
EXTRA = ["horizon_h", "target_hod", "clim"]
INPUT_TABLES = ("features.air_forecast", "features.air_climatology", "silver.air_hourly")


@dataclass
class Config:
    targets: tuple[str, ...] = TARGETS
    sources: tuple[str, ...] = ("uci-beijing",)
    holdout_days: int = 365
    params: dict = field(default_factory=lambda: dict(PARAMS))
    max_issues_per_station: int | None = None  # smoke test: the most recent issues only
    scenario: str = "control"


def training_frame(lake: Lake, cfg: Config) -> pd.DataFrame:
    """Features x horizons 1-48 with the actual values and the climatology of each target hour."""
    air = lake.read("silver.air_hourly").where(F.col("source").isin(*cfg.sources))
    valid = valid_air(air, lake.read("silver.qc_flags"))
    ids = valid.select("station_id").distinct()
    feats = lake.read("features.air_forecast").join(ids, "station_id")
    if cfg.max_issues_per_station:
        from pyspark.sql import Window

        w = Window.partitionBy("station_id").orderBy(F.col("issued_at").desc())
        feats = feats.withColumn("_r", F.row_number().over(w)).where(F.col("_r") <= cfg.max_issues_per_station).drop("_r")
    actual = valid.select("station_id", "ts", *[F.col(t).alias(f"actual_{t}") for t in TARGETS])
    rows = horizon_rows(feats, lake.read("features.air_climatology")).join(actual, ["station_id", "ts"], "left")
    keep = ["station_id", "issued_at", "ts", *feature_columns(), "horizon_h", "target_hod",
            *[f"actual_{t}" for t in TARGETS], *[f"clim_{t}" for t in TARGETS]]
    pdf = rows.select(*keep).toPandas()
    log.info("training frame: %d rows (%d issues)", len(pdf), pdf[["station_id", "issued_at"]].drop_duplicates().shape[0])
    return pdf


def split(df: pd.DataFrame, holdout_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    start = df["issued_at"].max() - timedelta(days=holdout_days)
    return df[df["issued_at"] <= start], df[df["issued_at"] > start]


def design(df: pd.DataFrame, target: str) -> pd.DataFrame:
    x = df[[*feature_columns(), "horizon_h", "target_hod"]].astype(float)
    return x.assign(clim=df[f"clim_{target}"].astype(float))


def _fit_block(train: pd.DataFrame, target: str, block: tuple[int, int], params: dict):
    import lightgbm as lgb

    part = train[(train["horizon_h"] >= block[0]) & (train["horizon_h"] <= block[1])]
    part = part[part[f"actual_{target}"].notna()]
    model = lgb.LGBMRegressor(**params)
    model.fit(design(part, target), part[f"actual_{target}"].astype(float))
    return target, block, model.booster_, len(part)


def train_on_ray(train: pd.DataFrame, cfg: Config) -> dict[str, dict[tuple[int, int], object]]:
    """Targets x horizon blocks as Ray tasks; returns the boosters per target and block."""
    from smartmon.ray_session import get_ray

    ray = get_ray()
    fit = ray.remote(num_cpus=1)(_fit_block)
    ref = ray.put(train)
    futures = [fit.remote(ref, t, b, cfg.params) for t in cfg.targets for b in BLOCKS]
    out: dict[str, dict[tuple[int, int], object]] = {t: {} for t in cfg.targets}
    pending = list(futures)
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        target, block, booster, n = ray.get(done[0])
        out[target][block] = booster
        log.info("trained %s hours %d-%d on %d rows (%d/%d)", target, *block, n, len(futures) - len(pending), len(futures))
    return out


def evaluate(models: dict, holdout: pd.DataFrame) -> pd.DataFrame:
    """Per target, horizon and method (model, persistence, climatology): SMAPE, RMSE, MAE."""
    rows = []
    for target, model in models.items():
        h = holdout[holdout[f"actual_{target}"].notna()]
        pred = model.predict(None, design(h, target).assign(horizon_h=h["horizon_h"].to_numpy()))
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


def run(lake: Lake, cfg: Config) -> dict:
    """Train, evaluate, track, register and gate; returns the summary per target."""
    import tempfile

    from smartmon.forecast.pyfunc import BlockForecaster
    from smartmon.mlflow_session import get_mlflow
    from smartmon.registry import CHALLENGER, CHAMPION, alias_version, gate, model_name, set_alias

    t0 = time.time()
    versions = {t: lake.version(t) for t in INPUT_TABLES}
    df = training_frame(lake, cfg)
    train, holdout = split(df, cfg.holdout_days)
    if train.empty or holdout.empty:
        raise ValueError(f"not enough issues to hold out {cfg.holdout_days} days: {len(train)} train, {len(holdout)} holdout rows")
    boosters = train_on_ray(train, cfg)
    feats = [*feature_columns(), "horizon_h", "target_hod", "clim"]
    models = {t: BlockForecaster(t, feats, boosters[t]) for t in cfg.targets}
    report = evaluate(models, holdout)
    mean = summary(report)
    mlflow = get_mlflow(experiment=f"smartmon-{cfg.scenario}")
    client = mlflow.MlflowClient()
    result = {}
    with mlflow.start_run(run_name=f"{cfg.scenario}-forecast") as run_:
        mlflow.log_params({**{f"lgbm_{k}": v for k, v in cfg.params.items()}, "blocks": str(BLOCKS), "sources": ",".join(cfg.sources),
                           "holdout_days": cfg.holdout_days, "train_rows": len(train), "holdout_rows": len(holdout),
                           **{f"data_version.{k}": v for k, v in versions.items()}})
        for r in report.itertuples():
            for m in ("smape", "rmse", "mae"):
                mlflow.log_metric(f"{r.target}.{r.method}.{m}", getattr(r, m), step=r.horizon_h)
        with tempfile.TemporaryDirectory() as tmp:
            _plot(report, f"{tmp}/smape_by_horizon.png")
            report.to_csv(f"{tmp}/report_by_horizon.csv", index=False)
            mlflow.log_artifacts(tmp, "report")
        for t in cfg.targets:
            score = float(mean.loc[t, ("smape", "model")])
            base = {"persistence": float(mean.loc[t, ("smape", "persistence")]), "climatology": float(mean.loc[t, ("smape", "climatology")])}
            mlflow.log_metrics({f"{t}.smape_1_48": score, f"{t}.persistence.smape_1_48": base["persistence"],
                                f"{t}.climatology.smape_1_48": base["climatology"]})
            name = model_name(cfg.scenario, t)
            example = design(holdout.head(5), t)
            info = mlflow.pyfunc.log_model(name=f"forecast_{t}", python_model=models[t], registered_model_name=name,
                                           input_example=example, pip_requirements=["lightgbm", "pandas", "numpy"])
            version = str(info.registered_model_version)
            champ = alias_version(client, name, CHAMPION)
            champ_score = None
            if champ is not None:
                old = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}")
                h = holdout[holdout[f"actual_{t}"].notna()]
                champ_score = float(np.mean([scores(old.predict(design(g, t)), g[f"actual_{t}"])["smape"] for _, g in h.groupby("horizon_h")]))
            set_alias(lake, client, name, CHALLENGER, version, "newly trained", score)
            verdict = gate(score, champ_score, base)
            if verdict.promoted:
                set_alias(lake, client, name, CHAMPION, version, verdict.reason, score)
            result[t] = {"version": version, "smape": score, **{f"{k}_smape": v for k, v in base.items()},
                         "gain_vs_persistence": 1 - score / base["persistence"], "promoted": verdict.promoted, "gate": verdict.reason}
        result["_run_id"] = run_.info.run_id
    result["_seconds"] = round(time.time() - t0, 1)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke-test", action="store_true", help="few issues, small models: minutes, for CI")
    p.add_argument("--targets", default=",".join(TARGETS))
    p.add_argument("--build-features", action="store_true", help="build the feature tables first")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname).1s %(name)s: %(message)s", datefmt="%H:%M:%S")
    from smartmon.spark import get_spark

    lake = Lake(get_spark())
    if args.build_features:
        from features import air_forecast

        log.info("features: %s", air_forecast.run(lake))
    cfg = Config(targets=tuple(args.targets.split(",")))
    if args.smoke_test:
        cfg.params, cfg.max_issues_per_station, cfg.holdout_days = dict(SMOKE_PARAMS), 120, 30
    result = run(lake, cfg)
    for t in cfg.targets:
        r = result[t]
        print(f"{t:5s} v{r['version']}: SMAPE 1-48 {r['smape']:.3f} (persistence {r['persistence_smape']:.3f}, "
              f"climatology {r['climatology_smape']:.3f}; gain {100 * r['gain_vs_persistence']:.1f} %) "
              f"{'-> champion' if r['promoted'] else 'stays challenger'}: {r['gate']}")
    print(f"MLflow run {result['_run_id']} in {result['_seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
