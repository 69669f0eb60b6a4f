"""`smartmon scenario run --spec FILE [--draws N]`: the carbon, water and control scenarios."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path


def _period(text: str) -> tuple[date, date]:
    try:
        a, b = text.split(":")
        return date.fromisoformat(a), date.fromisoformat(b)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not FROM:TO dates (YYYY-MM-DD:YYYY-MM-DD): {text}") from exc


def cmd_run(args: argparse.Namespace) -> int:
    from experiments import scenarios
    from pipelines.cli_common import open_lake as _lake

    days = [date.fromisoformat(d) for d in args.days.split(",")] if args.days else None
    s = scenarios.run(_lake(), Path(args.spec), args.draws, args.period, days)
    print(f"scenario {s['name']} ({s['kind']}, id {s['scenario_id']}): {s['draws']} draws, {s['rows']} result rows, "
          f"{s['rows_out']} written to gold.scenario_results in {s['seconds']} s; MLflow run {s['mlflow_run_id']}")
    if s["kind"] == "carbon" and "delta_co2_t" in s:
        print(f"  CO2 {s['co2_base_t']:,.0f} t in the period; change {s['delta_co2_t']:,.1f} t "
              f"(90 % interval {s['delta_co2_t_p05']:,.1f} .. {s['delta_co2_t_p95']:,.1f}); PM2.5 changes at "
              f"{s['stations_changed']:.0f} stations, largest cut {s['min_delta_pm25']:.3f} ug/m3")
    elif s["kind"] == "water":
        print(f"  {s['sections']:.0f} sections; mean probability of meeting the target class {s['mean_p_meets_target']:.2f}")
    else:
        print(f"  {s['hotspots_r7']:.0f} hotspot cells (res 7); largest effect on the control days {s['min_delta_pm25_control_days']:.3f} ug/m3")
    print(json.dumps({k: s[k] for k in ("scenario_id", "kind", "draws", "rows", "seconds")}))
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("scenario", lambda a: a.scenario_fn(a), "scenario simulation on Ray: carbon, water, control")
    sub = p.add_subparsers(dest="scenario_cmd", required=True)
    q = sub.add_parser("run", help="run a scenario spec (YAML; examples in infra/scenarios/)",
                       description="Validate a spec against the lake, run its draws x regions on Ray, track it in MLflow "
                       "and write gold.scenario_results. The last line printed is JSON.")
    q.add_argument("--spec", required=True, help="YAML spec, e.g. infra/scenarios/carbon_coal_power_cut.yaml")
    q.add_argument("--draws", type=int, help="Monte Carlo draws (overrides the spec)")
    q.add_argument("--period", type=_period, help="FROM:TO Beijing days (overrides the spec's period)")
    q.add_argument("--days", help="control days, comma-separated (overrides the spec's)")
    q.add_argument("--lake", dest="lake_sub", help="lake root URI")
    q.set_defaults(scenario_fn=cmd_run)
