"""Backtest of the national forecasters: one issue a day, each from models trained only on data before it.

For every Beijing day D of the range, the issue of D (16:00 UTC, 72 h) is made by models trained
by experiments.national_forecast for a run date on or before D: on the first day and then every
7 days (`--retrain weekly`, as the nightly), or for each day (`--retrain daily`). Their training
targets stop before their own holdout, so `trained_until` is before every issue they make; the
models are tracked in MLflow (experiment smartmon-national) but never registered, so the
champions are untouched. The issues go to gold.forecasts as `kind = backtest` (their AQI and
city days too), and are scored by gold.forecast_skill's rules with every observation the lake
holds; the table printed at the end is that score, per target and horizon block, with
persistence and climatology on the same pairs, and the next-day city AQI level accuracy.

    smartmon forecast backtest --from 2019-01-22 --to 2019-01-28 [--retrain daily] [--smoke-test]
    python -m experiments.national_backtest --from 2019-01-22 --to 2019-01-28 [--smoke-test]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pyspark.sql import functions as F

from experiments import national_forecast as nf
from features import air_forecast
from features.air_forecast import HORIZONS_NIGHTLY, MIN_HISTORY_DAYS, issue_time
from smartmon.catalog.features import NATIONAL_TARGETS
from smartmon.catalog.names import GOLD_FORECAST_SKILL
from smartmon.errors import InputError
from smartmon.io import Lake
from smartmon.registry import model_name

log = logging.getLogger(__name__)
KIND = "backtest"
RETRAIN_EVERY = {"weekly": 7, "daily": 1}


@dataclass
class Trained:
    """The models of one training run, as the backtest serves them."""

    run_date: date
    run_id: str
    trained_until: datetime
    models: dict


def _train(lake: Lake, day: date, cfg: nf.Config) -> Trained:
    result = nf.run(lake, day, cfg, build_missing=True)
    return Trained(day, result["_run_id"], result["trained_until"], result["_models"])


def run(lake: Lake, first: date, last: date, retrain: str = "weekly", cfg: nf.Config | None = None) -> dict:
    """Issue and score a forecast for every day first..last; returns the scores and the issues."""
    from jobs.gold import forecast_skill, forecasts

    if last < first:
        raise InputError(f"backtest: --to {last} is before --from {first}")
    if retrain not in RETRAIN_EVERY:
        raise InputError(f"backtest: --retrain {retrain!r}: use one of {sorted(RETRAIN_EVERY)}")
    cfg = cfg or nf.Config()
    cfg.register = False
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    t0 = time.time()
    trained: Trained | None = None
    issues, runs = [], []
    for k, day in enumerate(days):
        if trained is None or (day - trained.run_date).days >= RETRAIN_EVERY[retrain]:
            trained = _train(lake, day, cfg)
            runs.append(trained.run_id)
            log.info("backtest: models of %s trained until %s (MLflow run %s)", day, trained.trained_until, trained.run_id)
        issue = issue_time(day)
        air_forecast.build_issues(lake, air_forecast.absent_issues(lake, [day]))
        if trained.trained_until >= issue:  # cannot happen (nf trains before its holdout): refuse rather than leak
            raise AssertionError(f"backtest: models trained until {trained.trained_until} would forecast the issue {issue}")
        served = [forecasts.Served(t, model_name(nf.SCENARIO, t), f"run:{trained.run_id}", trained.trained_until, m)
                  for t, m in trained.models.items()]
        out = forecasts.run(lake, cfg.targets, [issue], scenario=nf.SCENARIO, horizons=HORIZONS_NIGHTLY, kind=KIND,
                            min_history=MIN_HISTORY_DAYS, publish=True, served=served)
        issues.append(issue)
        log.info("backtest: issue %s: %s rows (%d/%d)", issue, out.get("rows_out"), k + 1, len(days))
    scored = forecast_skill.score(lake, issues, (KIND,))
    return {"issues": issues, "runs": runs, "scored_rows": scored["rows_out"], "seconds": round(time.time() - t0, 1),
            **scores(lake, issues)}


def scores(lake: Lake, issues: list[datetime]) -> dict:
    """The backtest's skill from gold.forecast_skill: SMAPE per target and horizon block of the
    forecast, persistence and climatology (n-weighted), and the city-day level accuracy."""
    from jobs.gold.forecast_skill import block_column, weighted

    skill = lake.read(GOLD_FORECAST_SKILL).where((F.col("kind") == KIND) & F.col("issued_at").isin([F.lit(i) for i in issues]))
    table = (weighted(skill.where("grain = 'station_hour'").withColumn("block", block_column(F.col("horizon_h"))), "target", "block")
             .orderBy("target", F.split("block", "-")[0].cast("int")).collect())
    cities = (skill.where("grain = 'city_day'").groupBy("lead_days")
              .agg(F.count("*").alias("n"), F.avg("level_hit").alias("level"), F.avg("persistence_level_hit").alias("persistence"),
                   F.avg("primary_hit").alias("primary")).orderBy("lead_days").collect())
    return {"blocks": [{k: r[k] for k in ("target", "block", "n", "smape", "persistence_smape", "climatology_smape")} for r in table], "city_days": [r.asDict() for r in cities]}


def summary(result: dict) -> str:
    i = result["issues"]
    lines = [f"backtest: {len(i)} issue(s) {i[0]:%Y-%m-%d} .. {i[-1]:%Y-%m-%d}, {len(result['runs'])} training run(s), "
             f"{result['scored_rows']} skill rows, {result['seconds']} s",
             f"  {'target':6s} {'hours':>6s} {'pairs':>9s} {'model':>7s} {'persist':>7s} {'climat':>7s}"]
    for r in result["blocks"]:
        clim = f"{r['climatology_smape']:7.3f}" if r["climatology_smape"] is not None else "      -"
        lines.append(f"  {r['target']:6s} {r['block']:>6s} {r['n']:>9,d} {r['smape']:7.3f} {r['persistence_smape']:7.3f} {clim}")
    for r in result["city_days"]:
        lines.append(f"  city AQI level, day {r['lead_days']}: {r['level']:.0%} of {r['n']} city-days right "
                     f"(persistence {r['persistence']:.0%}), primary pollutant {r['primary']:.0%}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--from", dest="first", required=True, type=date.fromisoformat, help="first issue day (Beijing)")
    p.add_argument("--to", dest="last", required=True, type=date.fromisoformat, help="last issue day (Beijing)")
    p.add_argument("--retrain", default="weekly", choices=sorted(RETRAIN_EVERY))
    p.add_argument("--targets", default=",".join(NATIONAL_TARGETS))
    p.add_argument("--tune-trials", type=int, default=nf.Config.tune_trials, help="Optuna trials per target and retrain (0: fixed parameters)")
    p.add_argument("--smoke-test", action="store_true", help="few rows and small models: for CI")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname).1s %(name)s: %(message)s", datefmt="%H:%M:%S")
    from smartmon.spark import get_spark

    cfg = nf.Config(targets=tuple(args.targets.split(",")), tune_trials=args.tune_trials)
    if args.smoke_test:
        cfg = nf.smoke(cfg)
    print(summary(run(Lake(get_spark()), args.first, args.last, args.retrain, cfg)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
