"""`smartmon features | train | forecast`: feature tables, model training (Ray + MLflow), forecasts and backtests."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date


def cmd_features(args: argparse.Namespace) -> int:
    from features import air_forecast
    from pipelines.cli_common import open_lake as _lake

    sources = tuple(args.source or ("uci-beijing", "kdd2018"))
    print(f"features.air_forecast / air_climatology: {air_forecast.run(_lake(), sources)}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from experiments import control_forecast

    if args.scenario == "water":
        from experiments import water_forecast

        argv = ["--station", args.station] + (["--no-register"] if args.no_register else [])
        argv += ["--holdout-days", str(args.holdout_days if args.holdout_days != 365 else water_forecast.HOLDOUT_DAYS)]
        return water_forecast.main(argv)
    if args.scenario != "control":
        print(f"smartmon: error: scenario {args.scenario!r} has no trainer of its own (its response is fitted by "
              "`smartmon scenario run`)")
        return 2
    argv = ["--targets", args.targets, "--holdout-days", str(args.holdout_days), "--tune-trials", str(args.tune_trials)]
    argv += [f"--source={s}" for s in args.source or ()]
    flags = {"--smoke-test": args.smoke_test, "--build-features": args.build_features, "--perfect-weather": args.perfect_weather,
             "--no-register": args.no_register}
    return control_forecast.main(argv + [f for f, on in flags.items() if on])


def cmd_forecast(args: argparse.Namespace) -> int:
    if args.action == "backtest":
        if not (args.first and args.last):
            print("smartmon: error: forecast backtest needs --from and --to")
            return 2
        from experiments import national_backtest

        argv = ["--from", args.first.isoformat(), "--to", args.last.isoformat(), "--retrain", args.retrain]
        argv += [] if args.tune_trials is None else ["--tune-trials", str(args.tune_trials)]
        return national_backtest.main(argv + (["--smoke-test"] if args.smoke_test else []))
    if not args.date:
        print("smartmon: error: forecast needs --date (the nightly's issue of that Beijing day)")
        return 2
    from pipelines.cli_common import run_nights
    from pipelines.definitions import graph

    g = graph()  # the night's feature and forecasting jobs, as declared
    return run_nights([args.date], [n for n in g.order if g.jobs[n].layer in ("features", "forecasts")], None)


def add_commands(add: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]) -> None:
    p = add("features", cmd_features, "build the point-in-time feature tables (features.air_forecast, features.air_climatology)")
    p.add_argument("--source", action="append", default=None, help="air source whose stations get features (default uci-beijing, kdd2018)")
    p = add("forecast", cmd_forecast, "the nightly's forecasting tasks for --date D (features, retrain when due, the "
            "forecasts with AQI and city days, skill), or `forecast backtest --from D1 --to D2`")
    p.add_argument("action", nargs="?", default="issue", choices=("issue", "backtest"))
    p.add_argument("--date", type=date.fromisoformat, help="issue: the Beijing day whose nightly issue to make")
    p.add_argument("--from", dest="first", type=date.fromisoformat, help="backtest: first issue day")
    p.add_argument("--to", dest="last", type=date.fromisoformat, help="backtest: last issue day")
    p.add_argument("--retrain", default="weekly", choices=("weekly", "daily"), help="backtest: how often models are retrained")
    p.add_argument("--tune-trials", type=int, default=None, help="backtest: Optuna trials per target and retrain (default: the national trainer's; 0: fixed parameters)")
    p.add_argument("--smoke-test", action="store_true", help="backtest: few rows and small models (CI)")
    p = add("train", cmd_train, "train, evaluate, register and gate the models of a scenario on Ray, tracked in MLflow")
    p.add_argument("--scenario", default="control", choices=("control", "carbon", "water"))
    p.add_argument("--targets", default="pm25,pm10,o3")
    p.add_argument("--station", default="SW-zhakou-guo", help="water: the automatic station (silver.water_obs)")
    p.add_argument("--smoke-test", action="store_true", help="few issues and small models (CI)")
    p.add_argument("--build-features", action="store_true", help="build the feature tables first")
    p.add_argument("--source", action="append", default=None, help="air source of the stations (default uci-beijing; or kdd2018)")
    p.add_argument("--holdout-days", type=int, default=365, help="issues held out at the end (default the last 12 months)")
    p.add_argument("--tune-trials", type=int, default=12, help="Optuna trials per target through Ray Tune (0: fixed parameters)")
    p.add_argument("--no-register", action="store_true", help="evaluate and track in MLflow only (no registry, no gate)")
    p.add_argument("--perfect-weather", action="store_true",
                   help="labelled experiment with observed weather at the target hour (tracked apart, never registered)")
