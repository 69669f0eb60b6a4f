"""The national forecaster: one LightGBM model per target (PM2.5, PM10, O3, NO2), pooled over every
station of every network with at least 7 days of data, horizons 1-72 h from the nightly's issue
(16:00 UTC, the end of the Beijing day), predicting the change from the latest value
(smartmon.forecast.national), its LightGBM parameters tuned per target by Optuna through Ray Tune
(experiments.tuning) on the last training issues before the blend's.

Trained for a run date D on the issues of the days before it only: the holdout is the last
`holdout_days` issues before D, scored on the hours observed by D's issue; the training issues
come before the holdout and their targets stop at the holdout's first issue, so nothing the
holdout scores was seen; the tuning validates on the last training issues before the blend's,
with its fit rows' targets stopping at their first issue. Targets are fitted as Ray tasks in parallel; scored per horizon block
against persistence (the latest value) and the 30-day climatology on the same pairs; tracked in
MLflow (experiment `smartmon-national`); registered as smartmon.national.<target>, tagged with
`trained_until` (the last hour a training target came from), and promoted to champion by the gate.

    python -m experiments.national_forecast --date 2019-01-31 [--smoke-test] [--targets pm25,o3] [--tune-trials N]
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from features.air_forecast import HORIZONS_NIGHTLY, MIN_HISTORY_DAYS, TRAINING_ISSUES, absent_issues, build_issues, horizon_rows, issue_time
from smartmon.catalog.features import NATIONAL_TARGETS
from smartmon.catalog.names import FEATURES_AIR_CLIMATOLOGY, FEATURES_AIR_FORECAST, SILVER_AIR_HOURLY
from smartmon.changes import DayWindow
from smartmon.errors import InputError
from smartmon.forecast.design import design, model_columns
from smartmon.forecast.metrics import HORIZON_BLOCKS, smape
from smartmon.forecast.national import ChangeForecaster, base_value, blend_weights, change_rows
from smartmon.io import Lake

log = logging.getLogger(__name__)
SCENARIO = "national"
EXPERIMENT = "smartmon-national"
BLOCKS = HORIZON_BLOCKS
PARAMS = {"n_estimators": 300, "learning_rate": 0.05, "num_leaves": 63, "min_child_samples": 50, "subsample": 0.8,
          "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0, "verbose": -1, "n_jobs": 1}
SMOKE_PARAMS = {**PARAMS, "n_estimators": 40, "learning_rate": 0.15, "num_leaves": 15, "min_child_samples": 20}
RETRAIN_AFTER = timedelta(days=7)


@dataclass
class Config:
    targets: tuple[str, ...] = NATIONAL_TARGETS
    train_days: int = 21  # issues fitted on: the days before the holdout
    holdout_days: int = 3  # issues scored: the last days before the run date
    blend_days: int = 3  # the last training issues, kept from the booster to learn the blend with persistence
    max_rows: int = 300_000  # training rows (issue x station x horizon), sampled
    max_holdout_rows: int = 200_000
    params: dict = field(default_factory=lambda: dict(PARAMS))  # untuned, or where tuning is off
    tune_trials: int = 6  # Optuna trials per target (experiments.tuning); 0 keeps `params`
    tune_days: int = 3  # validation issues of the tuning: the last before the blend's
    tune_rows: int = 60_000  # fit rows per trial (sampled; validation a quarter of it)
    register: bool = True

    def __post_init__(self) -> None:
        if self.train_days + self.holdout_days + 1 > TRAINING_ISSUES:
            raise InputError(f"{self.train_days} training + {self.holdout_days} holdout issues: the nightly's features task "
                             f"keeps {TRAINING_ISSUES - 1} issues before the run date (features.air_forecast.TRAINING_ISSUES)")


def nightly_tune_trials() -> int:
    """$SMARTMON_TUNE_TRIALS: the Optuna trials per target of the nightly's retrain (`make demo`
    sets a demo's budget), Config.tune_trials otherwise."""
    value = os.environ.get("SMARTMON_TUNE_TRIALS")
    return int(value) if value else Config.tune_trials


def smoke(cfg: Config) -> Config:
    """CI settings: every step runs on a few thousand rows and small models, in seconds."""
    cfg.params, cfg.max_rows, cfg.max_holdout_rows = dict(SMOKE_PARAMS), 20_000, 20_000
    cfg.train_days, cfg.holdout_days, cfg.blend_days = min(cfg.train_days, 10), min(cfg.holdout_days, 2), 2
    cfg.tune_trials, cfg.tune_days, cfg.tune_rows = min(cfg.tune_trials, 2), 2, 5_000
    return cfg


def _days(last: date, n: int) -> list[date]:
    return [last - timedelta(days=i) for i in range(n - 1, -1, -1)]


def _sampled(df: DataFrame, cap: int, seed: int) -> pd.DataFrame:
    n = df.count()
    frac = min(1.0, cap / n) if n else 1.0
    return (df.sample(fraction=frac, seed=seed) if frac < 1 else df).toPandas()


def frames(lake: Lake, day: date, cfg: Config, build_missing: bool = True
           ) -> tuple[pd.DataFrame, pd.DataFrame, datetime | None]:
    """(training rows, holdout rows, the last hour a training target came from) for run date D:
    features of the issues before D x horizons, with the observed values of the target hours.
    build_missing: first build the issues the feature table lacks (the nightly's features task
    has already done so; a hand-run for another date may not have)."""
    from jobs.gold.scope import valid_in

    hold = _days(day - timedelta(days=1), cfg.holdout_days)
    fit = _days(hold[0] - timedelta(days=1), cfg.train_days)
    issues = [issue_time(d) for d in (*fit, *hold)]
    if build_missing:
        missing = absent_issues(lake, [*fit, *hold])
        if missing:
            log.info("building the features of %d past issue(s) first", len(missing))
            build_issues(lake, missing)
    feats = (lake.read(FEATURES_AIR_FORECAST).where(F.col("issued_at").isin([F.lit(i) for i in issues]))
             .where(F.col("history_days") >= MIN_HISTORY_DAYS))
    rows = horizon_rows(feats, lake.read(FEATURES_AIR_CLIMATOLOGY), HORIZONS_NIGHTLY)
    _, valid = valid_in(lake, DayWindow.of(_days(day, (day - fit[0]).days + 1)))
    actual = valid.select("station_id", "ts", *[F.col(t).alias(f"actual_{t}") for t in cfg.targets])
    rows = rows.join(actual, ["station_id", "ts"]).where(F.coalesce(*[F.col(f"actual_{t}") for t in cfg.targets]).isNotNull())
    cut, now = issue_time(hold[0]), issue_time(day)
    rows = rows.cache()  # counted and collected twice each (train, holdout): join the windows once
    train = _sampled(rows.where((F.col("issued_at") < F.lit(cut)) & (F.col("ts") <= F.lit(cut))), cfg.max_rows, 1)
    holdout = _sampled(rows.where((F.col("issued_at") >= F.lit(cut)) & (F.col("ts") <= F.lit(now))), cfg.max_holdout_rows, 2)
    rows.unpersist()
    until = train["ts"].max() if len(train) else None
    log.info("national training frame: %d rows (%d stations, issues %s..%s), holdout %d rows (issues %s..%s)",
             len(train), train["station_id"].nunique() if len(train) else 0, fit[0], fit[-1], len(holdout), hold[0], hold[-1])
    return train, holdout, (until.to_pydatetime() if until is not None else None)


def _fit(train: pd.DataFrame, target: str, params: dict, columns: list[str], blend_from: datetime):
    """The booster on the issues before blend_from (targets up to it), then the blend weights on
    the issues from it: validation data the booster did not see."""
    import lightgbm as lgb

    rows = train[train[f"actual_{target}"].notna()]
    early = rows[(rows["issued_at"] < blend_from) & (rows["ts"] <= blend_from)]
    late = rows[rows["issued_at"] >= blend_from]
    x, y = change_rows(early, target, columns)
    model = lgb.LGBMRegressor(**params)
    model.fit(x, y)
    forecaster = ChangeForecaster(target, columns, model.booster_)
    xv = design(late, target, columns)
    weights = blend_weights(forecaster.change(xv), base_value(xv, target), xv["clim"].to_numpy(dtype=float),
                            late[f"actual_{target}"].to_numpy(dtype=float), late["horizon_h"].to_numpy())
    return target, ChangeForecaster(target, columns, model.booster_, weights), len(y), len(late)


def _blend_from(train: pd.DataFrame, cfg: Config) -> datetime:
    """The first of the training issues kept from the booster to learn the blend."""
    return train["issued_at"].max() - timedelta(days=cfg.blend_days - 1)


def tuning_split(train: pd.DataFrame, target: str, cfg: Config) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(fit, validation) rows of one target's tuning, from the booster's training rows: validation
    = its last `tune_days` issues (targets up to the blend's first issue), fit = the issues before
    them with targets up to the first of them; sampled to tune_rows and a quarter of it. The
    blend's issues (and the holdout, not in `train`) are never seen."""
    blend_from = _blend_from(train, cfg)
    cut = blend_from - timedelta(days=cfg.tune_days)
    rows = train[train[f"actual_{target}"].notna()]
    fit = rows[(rows["issued_at"] < cut) & (rows["ts"] <= cut)]
    valid = rows[(rows["issued_at"] >= cut) & (rows["issued_at"] < blend_from) & (rows["ts"] <= blend_from)]
    if fit.empty or valid.empty:
        raise InputError(f"tuning the national {target} model: {len(fit)} fit and {len(valid)} validation rows "
                         f"(issues before {cut:%Y-%m-%d %H:%M}, and from it to {blend_from:%Y-%m-%d %H:%M})")
    return (fit.sample(n=min(len(fit), cfg.tune_rows), random_state=0),
            valid.sample(n=min(len(valid), max(cfg.tune_rows // 4, 1)), random_state=0))


def tune(train: pd.DataFrame, cfg: Config) -> dict[str, object]:
    """Per target, Optuna trials through Ray Tune (experiments.tuning) on `tuning_split`'s rows,
    scored as the change model serves (latest value + change). TuneResult per target; a target
    whose training issues are too few to split (a young lake) keeps the fixed parameters rather
    than missing its retrain."""
    from experiments.tuning import change_problem
    from experiments.tuning import tune as search

    out = {}
    for t in cfg.targets:
        try:
            fit, valid = tuning_split(train, t, cfg)
        except InputError as e:
            log.warning("%s: fixed parameters", e)
            continue
        out[t] = search(change_problem(fit, valid, t, model_columns()), cfg.tune_trials, SCENARIO)
    return out


def train_on_ray(train: pd.DataFrame, cfg: Config, params: dict[str, dict] | None = None) -> dict[str, ChangeForecaster]:
    """One Ray task per target (one CPU each, LightGBM single-threaded inside); `params` per
    target (tuned), else cfg.params."""
    from smartmon.ray_session import get_ray

    ray = get_ray()
    fit = ray.remote(num_cpus=1)(_fit)
    ref = ray.put(train)
    blend_from = _blend_from(train, cfg)
    params = params or {}
    pending = [fit.remote(ref, t, params.get(t, cfg.params), model_columns(), blend_from) for t in cfg.targets]
    out = {}
    while pending:
        done, pending = ray.wait(pending, num_returns=1)
        target, model, n, n_blend = ray.get(done[0])
        out[target] = model
        log.info("trained the national %s model on %d rows, blended with persistence on %d (%d/%d)",
                 target, n, n_blend, len(out), len(cfg.targets))
    return out


def evaluate(model, holdout: pd.DataFrame, target: str) -> pd.DataFrame:
    """SMAPE per horizon block of the model, persistence (the latest known value) and the
    climatology, on the same pairs (rows where all three have a value)."""
    h = holdout[holdout[f"actual_{target}"].notna()]
    x = design(h, target)
    methods = {"model": model.predict(None, x), "persistence": base_value(x, target), "climatology": x["clim"].to_numpy(dtype=float)}
    keep = np.all([~np.isnan(v) for v in methods.values()], axis=0)
    actual = h[f"actual_{target}"].to_numpy(dtype=float)[keep]
    hz = h["horizon_h"].to_numpy()[keep]
    rows = []
    for lo, hi in BLOCKS:
        sel = (hz >= lo) & (hz <= hi)
        for name, values in methods.items():
            rows.append({"target": target, "block": f"{lo}-{hi}", "method": name, "n": int(sel.sum()),
                         "smape": smape(np.asarray(values)[keep][sel], actual[sel]) if sel.any() else float("nan")})
    return pd.DataFrame(rows)


def mean_score(report: pd.DataFrame, method: str) -> float:
    """The gate's score: the mean of the blocks' SMAPE (each block weighs the same)."""
    return float(report[report["method"] == method]["smape"].mean())


def _register(lake: Lake, mlflow, target: str, model: ChangeForecaster, holdout: pd.DataFrame, report: pd.DataFrame,
              until: datetime, day: date) -> dict:
    from smartmon.registry import CHALLENGER, CHAMPION, alias_version, gate, log_pyfunc, model_name, set_alias

    client = mlflow.MlflowClient()
    name = model_name(SCENARIO, target)
    info = log_pyfunc(mlflow, name=f"national_{target}", python_model=model, registered_model_name=name,
                      input_example=design(holdout.head(5), target), needs=("lightgbm", "scikit-learn"))
    version = str(info.registered_model_version)
    client.set_model_version_tag(name, version, "trained_until", until.isoformat())
    client.set_model_version_tag(name, version, "run_date", day.isoformat())
    score = mean_score(report, "model")
    base = {"persistence": mean_score(report, "persistence"), "climatology": mean_score(report, "climatology")}
    champ = None
    if alias_version(client, name, CHAMPION) is not None:
        old = mlflow.pyfunc.load_model(f"models:/{name}@{CHAMPION}").unwrap_python_model()
        champ = mean_score(evaluate(old, holdout, target), "model")
    set_alias(lake, client, name, CHALLENGER, version, "newly trained", score)
    verdict = gate(score, champ, base)
    if verdict.promoted:
        set_alias(lake, client, name, CHAMPION, version, verdict.reason, score)
    return {"version": version, "promoted": verdict.promoted, "gate": verdict.reason, "smape": score,
            **{f"{k}_smape": v for k, v in base.items()}}


def run(lake: Lake, day: date, cfg: Config | None = None, build_missing: bool = True) -> dict:
    """Train, score, track, register and gate the national models for run date `day`."""
    import tempfile

    from smartmon.mlflow_session import get_mlflow

    cfg = cfg or Config()
    t0 = time.time()
    versions = {t: lake.version(t) for t in (FEATURES_AIR_FORECAST, FEATURES_AIR_CLIMATOLOGY, SILVER_AIR_HOURLY)}
    train, holdout, until = frames(lake, day, cfg, build_missing)
    if train.empty or holdout.empty or until is None:
        raise InputError(f"national forecaster for {day}: {len(train)} training and {len(holdout)} holdout rows; it needs "
                         f"stations with {MIN_HISTORY_DAYS} days of data before the {cfg.train_days + cfg.holdout_days} issues "
                         "before the run date")
    tuned = tune(train, cfg) if cfg.tune_trials > 0 else {}
    params = {t: tuned[t].best_params if t in tuned else cfg.params for t in cfg.targets}
    models = train_on_ray(train, cfg, params)
    report = pd.concat([evaluate(models[t], holdout, t) for t in cfg.targets], ignore_index=True)
    mlflow = get_mlflow(experiment=EXPERIMENT)
    result: dict = {"trained_until": until, "train_rows": len(train), "holdout_rows": len(holdout),
                    "stations": int(train["station_id"].nunique())}
    with mlflow.start_run(run_name=f"national-{day}") as run_:
        mlflow.log_params({"run_date": day.isoformat(), "train_days": cfg.train_days, "holdout_days": cfg.holdout_days,
                           "train_rows": len(train), "holdout_rows": len(holdout), "trained_until": until.isoformat(),
                           "stations": result["stations"], "tune_trials": cfg.tune_trials,
                           **{f"{t}.lgbm_{k}": v for t in cfg.targets for k, v in params[t].items()},
                           **{f"data_version.{k}": v for k, v in versions.items()}})
        for t, tr in tuned.items():
            mlflow.log_metrics({f"{t}.tune.best_valid_smape": tr.best_smape, f"{t}.tune.persistence_valid_smape": tr.persistence_smape,
                                f"{t}.tune.trials_per_minute": tr.trials_per_minute})
        for r in report.itertuples():
            if not np.isnan(r.smape):
                mlflow.log_metric(f"{r.target}.{r.method}.smape_{r.block.replace('-', '_')}", r.smape)
        with tempfile.TemporaryDirectory() as tmp:
            report.to_csv(f"{tmp}/smape_by_block.csv", index=False)
            mlflow.log_artifacts(tmp, "report")
        for t in cfg.targets:
            rep = report[report["target"] == t]
            reg = {"version": None, "promoted": False, "gate": "evaluation only: not registered", "smape": mean_score(rep, "model"),
                   "persistence_smape": mean_score(rep, "persistence"), "climatology_smape": mean_score(rep, "climatology")}
            if cfg.register:
                reg = _register(lake, mlflow, t, models[t], holdout, rep, until, day)
            result[t] = {**reg, "tuned_valid_smape": tuned[t].best_smape if t in tuned else None,
                         "persistence_valid_smape": tuned[t].persistence_smape if t in tuned else None}
        result["_run_id"] = run_.info.run_id
    result["report"] = report
    result["_models"] = models  # the fitted ChangeForecasters (a backtest serves them without the registry)
    result["_seconds"] = round(time.time() - t0, 1)
    return result


def newest_trained(targets: tuple[str, ...] = NATIONAL_TARGETS) -> dict[str, datetime | None]:
    """Per target, the last training hour of its newest model (champion or challenger); None
    when it has none."""
    from smartmon.mlflow_session import get_mlflow
    from smartmon.registry import CHALLENGER, CHAMPION, model_name

    client = get_mlflow().MlflowClient()
    out: dict[str, datetime | None] = {}
    for t in targets:
        newest = None
        for alias in (CHAMPION, CHALLENGER):
            try:
                mv = client.get_model_version_by_alias(model_name(SCENARIO, t), alias)
            except Exception:  # noqa: BLE001 - no such model or alias: nothing trained yet
                continue
            until = mv.tags.get("trained_until")
            if until:
                newest = max(newest or datetime.min, datetime.fromisoformat(until))
        out[t] = newest
    return out


def due(day: date, targets: tuple[str, ...] = NATIONAL_TARGETS, newest: dict[str, datetime | None] | None = None) -> list[str]:
    """Targets to train for run date D: those whose newest model (champion or challenger) was
    trained more than RETRAIN_AFTER before D's issue, or that have none (a weekly retrain).
    newest: newest_trained(targets) when the caller already has it."""
    newest = newest if newest is not None else newest_trained(targets)
    return [t for t in targets if newest.get(t) is None or issue_time(day) - newest[t] > RETRAIN_AFTER]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--date", required=True, type=date.fromisoformat, help="run date D (Beijing): trains on the issues before it")
    p.add_argument("--smoke-test", action="store_true", help="few rows and small models: seconds, for CI")
    p.add_argument("--targets", default=",".join(NATIONAL_TARGETS))
    p.add_argument("--train-days", type=int, default=Config.train_days)
    p.add_argument("--tune-trials", type=int, default=Config.tune_trials, help="Optuna trials per target (0: fixed parameters)")
    p.add_argument("--no-register", action="store_true", help="evaluate and track in MLflow only")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname).1s %(name)s: %(message)s", datefmt="%H:%M:%S")
    from smartmon.spark import get_spark

    cfg = Config(targets=tuple(args.targets.split(",")), train_days=args.train_days, register=not args.no_register,
                 tune_trials=args.tune_trials)
    if args.smoke_test:
        cfg = smoke(cfg)
    result = run(Lake(get_spark()), args.date, cfg)
    print(summary(result, cfg.targets))
    return 0


def summary(result: dict, targets: tuple[str, ...]) -> str:
    lines = [f"national models for {result['stations']} stations, {result['train_rows']} training rows, trained until "
             f"{result['trained_until']:%Y-%m-%d %H:%M} UTC"]
    for t in targets:
        r = result[t]
        verdict = r["gate"] if r["version"] is None else f"v{r['version']} {'-> champion' if r['promoted'] else 'stays challenger'}"
        tuned = (f"; tuned on validation {r['tuned_valid_smape']:.3f} vs persistence {r['persistence_valid_smape']:.3f}"
                 if r.get("tuned_valid_smape") is not None else "")
        lines.append(f"  {t:5s} SMAPE {r['smape']:.3f} (persistence {r['persistence_smape']:.3f}, climatology "
                     f"{r['climatology_smape']:.3f}{tuned}) {verdict}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
