"""Optuna trials per minute through Ray Tune with 1 and with 2 concurrent trials (the control
forecaster's search on UCI Beijing PM2.5 from the lake's feature tables; run `make demo` first).

Both runs use the same seeded OptunaSearch with every trial one of TPE's random start-up draws,
so they evaluate exactly the same configurations (checked) and the ratio is the scheduling
speed-up, not luck in what was sampled. Spark is stopped once the frame is built, so the two
cores belong to the trials.

Run: python -m bench.optuna_trials [--trials N] [--rows N]
"""

from __future__ import annotations

import argparse

from bench.common import record

DEFAULT_ARGS = (12, 100_000)


def main(trials: int, rows: int) -> None:
    from experiments.control_forecast import Config, split, training_frame
    from experiments.tuning import tune_target, validation_split
    from smartmon.io import Lake
    from smartmon.ray_session import get_ray
    from smartmon.spark import get_spark

    cfg = Config(targets=("pm25",))
    spark = get_spark(app_name="bench-optuna")
    train, _ = split(training_frame(Lake(spark), cfg), cfg.holdout_days)
    spark.stop()
    fit, valid = validation_split(train.assign(clim=train["clim_pm25"]), "pm25", cfg.tune_valid_days, rows)
    cpus = int(get_ray().cluster_resources()["CPU"])
    runs = {c: tune_target(fit, valid, "pm25", cfg.columns(), trials, concurrency=c, startup_trials=trials) for c in (1, min(2, cpus))}
    one, two = runs[1], runs[min(2, cpus)]
    same = sorted(map(str, one.trials.drop(columns="smape").round(8).to_dict("records"))) == \
        sorted(map(str, two.trials.drop(columns="smape").round(8).to_dict("records")))
    speedup = two.trials_per_minute / one.trials_per_minute
    note = (f"{len(fit):,} fit / {len(valid):,} validation rows, LightGBM 1 thread per trial; "
            f"{'same' if same else 'DIFFERENT'} {trials} configurations in both runs; best validation SMAPE {two.best_smape:.4f}")
    rows_out = [dict(case=f"{trials} trials, 2 concurrent (Ray Tune + OptunaSearch, {cpus} CPUs)",
                     smartmon=f"{two.trials_per_minute:.2f} trials/min ({two.seconds:.0f} s)",
                     reference=f"1 concurrent: {one.trials_per_minute:.2f} trials/min ({one.seconds:.0f} s)",
                     ratio=f"{1 / speedup:.2f} (speed-up {speedup:.2f}x; target >= 1.7x)", notes=note)]
    record("Optuna trials per minute, 1 vs 2 concurrent Ray Tune trials", rows_out)
    print(rows_out[0])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=DEFAULT_ARGS[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ARGS[1])
    args = parser.parse_args()
    main(args.trials, args.rows)
