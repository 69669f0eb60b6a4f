"""Hyper-parameter search for the forecasters (the control models and the national models):
Optuna's TPE sampler driven by Ray Tune (OptunaSearch), at most as many concurrent trials as the
cluster has CPUs (one CPU per trial, LightGBM single-threaded inside, so trials never fight for
cores).

A trial fits one model across all horizons (horizon_h is a feature) on the training issues
before a validation window, and reports the mean over horizons of each horizon's SMAPE on that
window. A level model (the control forecasters) is scored as it predicts; a change model (the
national forecasters, which predict the change from the latest value) is scored on the latest
value plus its change, the forecast it serves before the blend. The holdout of the experiment is
never seen here: the validation window lies inside the training period, so the tuned parameters
cannot leak the holdout into the reported scores.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import pandas as pd

from smartmon.forecast.metrics import mean_smape_by_horizon

log = logging.getLogger(__name__)

FIXED = {"subsample_freq": 1, "verbose": -1, "n_jobs": 1}


def search_space() -> dict:
    """The LightGBM parameters worth tuning for hourly air quality; ranges from what converged
    on the UCI Beijing training years (learning rate and tree count trade off, leaves and
    minimum leaf size set how local the diurnal and episode patterns may be)."""
    from ray import tune

    return {
        "n_estimators": tune.randint(100, 600),
        "learning_rate": tune.loguniform(0.02, 0.2),
        "num_leaves": tune.randint(15, 128),
        "min_child_samples": tune.randint(10, 120),
        "subsample": tune.uniform(0.5, 1.0),
        "colsample_bytree": tune.uniform(0.4, 1.0),
        "reg_lambda": tune.loguniform(1e-3, 10.0),
    }


@dataclass
class TuneResult:
    target: str
    best_params: dict
    best_smape: float
    trials: pd.DataFrame
    seconds: float
    concurrency: int
    persistence_smape: float  # on the same validation rows, for scale

    @property
    def trials_per_minute(self) -> float:
        return 60 * len(self.trials) / self.seconds if self.seconds else float("nan")


def validation_split(train: pd.DataFrame, target: str, valid_days: int, max_rows: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit rows (issues before the window, sampled to max_rows so a trial costs the same
    whatever the data size) and validation rows (the last valid_days of issues)."""
    rows = train[train[f"actual_{target}"].notna()]
    cut = rows["issued_at"].max() - timedelta(days=valid_days)
    fit, valid = rows[rows["issued_at"] <= cut], rows[rows["issued_at"] > cut]
    if fit.empty or valid.empty:
        raise ValueError(f"tuning {target}: {len(fit)} fit and {len(valid)} validation rows with a {valid_days}-day window")
    if len(fit) > max_rows:
        fit = fit.sample(n=max_rows, random_state=seed)
    if len(valid) > max_rows // 4:
        valid = valid.sample(n=max_rows // 4, random_state=seed)
    return fit, valid


@dataclass(frozen=True)
class Problem:
    """What every trial of one target fits and how it is scored: features and labels to fit,
    validation features, what is added to a prediction before scoring (zeros for a level model,
    the latest value for a change model), and the validation rows (horizon_h, actual_<target>)."""

    target: str
    x_fit: pd.DataFrame
    y_fit: np.ndarray
    x_valid: pd.DataFrame
    offset: np.ndarray
    valid: pd.DataFrame
    persistence: np.ndarray  # the latest value on the validation rows, for scale

    def score(self, predicted: np.ndarray) -> float:
        return mean_smape_by_horizon(np.asarray(predicted, dtype=float) + self.offset, self.valid, self.target)


def level_problem(fit: pd.DataFrame, valid: pd.DataFrame, target: str, columns: list[str]) -> Problem:
    """A model of the target's level (the control forecasters): fit on the observed values."""
    return Problem(target, fit[columns].astype(float), fit[f"actual_{target}"].to_numpy(dtype=float),
                   valid[columns].astype(float), np.zeros(len(valid)), valid, valid[f"{target}_last"].to_numpy(dtype=float))


def change_problem(fit: pd.DataFrame, valid: pd.DataFrame, target: str, columns: list[str]) -> Problem:
    """A model of the change from the latest value (smartmon.forecast.national): fit on observed
    minus base value, scored on base value plus predicted change; rows without a base are left out."""
    from smartmon.forecast.design import design
    from smartmon.forecast.national import base_value, change_rows

    xf, y = change_rows(fit, target, columns)
    xv = design(valid, target, columns)
    base_v = base_value(xv, target)
    keep_v = ~np.isnan(base_v)
    return Problem(target, xf, y, xv[keep_v], base_v[keep_v], valid[keep_v].reset_index(drop=True), base_v[keep_v])


def _objective(config: dict, problem: Problem) -> None:
    import lightgbm as lgb
    from ray import tune

    model = lgb.LGBMRegressor(**{**FIXED, **config})
    model.fit(problem.x_fit, problem.y_fit)
    tune.report({"smape": problem.score(model.predict(problem.x_valid))})


def tune_target(fit: pd.DataFrame, valid: pd.DataFrame, target: str, columns: list[str], trials: int,
                concurrency: int | None = None, seed: int = 42, startup_trials: int = 10) -> TuneResult:
    """A level model's search (the control forecasters): `tune(level_problem(...))`."""
    return tune(level_problem(fit, valid, target, columns), trials, "control", concurrency, seed, startup_trials)


def tune(problem: Problem, trials: int, name: str, concurrency: int | None = None, seed: int = 42,
         startup_trials: int = 10) -> TuneResult:
    """Run `trials` Optuna trials through Ray Tune; concurrency defaults to the cluster's CPUs.
    The first `startup_trials` are TPE's seeded random draws (the same whatever the concurrency)."""
    import optuna
    from ray import tune
    from ray.tune.search.optuna import OptunaSearch

    from smartmon.ray_session import get_ray

    ray = get_ray()
    cpus = int(ray.cluster_resources().get("CPU", 1))
    concurrency = min(concurrency or cpus, cpus)
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    logging.getLogger("ray.tune.analysis.experiment_analysis").setLevel(logging.ERROR)  # "no result.json": loggers are off
    sampler = optuna.samplers.TPESampler(n_startup_trials=startup_trials, seed=seed)
    trainable = tune.with_resources(tune.with_parameters(_objective, problem=problem), {"cpu": 1})
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="smartmon-tune-") as storage:
        tuner = tune.Tuner(
            trainable,
            param_space=search_space(),
            tune_config=tune.TuneConfig(search_alg=OptunaSearch(metric="smape", mode="min", sampler=sampler), metric="smape", mode="min",
                                        num_samples=trials, max_concurrent_trials=concurrency, reuse_actors=True),
            run_config=tune.RunConfig(storage_path=storage, name=f"{name}-{problem.target}", verbose=0),
        )
        grid = tuner.fit()
        seconds = time.monotonic() - t0
        errors = [str(r.error) for r in grid if r.error]
        if errors:
            raise RuntimeError(f"tuning {name} {problem.target}: {len(errors)} of {trials} trials failed, first: {errors[0]}")
        best = grid.get_best_result(metric="smape", mode="min")
        # from the results in memory: the per-trial JSON/CSV loggers are off (TUNE_DISABLE_AUTO_CALLBACK_LOGGERS)
        trials_df = pd.DataFrame([{"smape": r.metrics["smape"], **r.config} for r in grid]).sort_values("smape")
    params = {**FIXED, **best.config}
    persistence = mean_smape_by_horizon(problem.persistence, problem.valid, problem.target)
    log.info("tuned %s %s: %d trials, %d concurrent, %.0f s, best validation SMAPE %.4f (persistence %.4f)", name, problem.target, trials,
             concurrency, seconds, best.metrics["smape"], persistence)
    return TuneResult(problem.target, params, float(best.metrics["smape"]), trials_df.reset_index(drop=True), seconds, concurrency, persistence)
