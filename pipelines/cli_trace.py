"""`smartmon trace-sources`: pollution source tracing (PMF source apportionment)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable


def cmd_pmf(args: argparse.Namespace) -> int:
    from jobs.gold import source_apportionment
    from pipelines.cli_common import open_lake as _lake

    overrides = dict(item.split("=", 1) for item in args.category or ())
    r = source_apportionment.run(_lake(), args.dataset, args.factors, starts=args.starts, replicates=args.bootstrap, seed=args.seed,
                                 overrides=overrides)
    print(f"{r['dataset']}: {r['factors']} factors, best of {r['starts']} starts: Q(robust) {r['q_robust']:,.1f}, "
          f"Q(true) {r['q_true']:,.1f}; bootstrap {r['bootstrap']} replicates mapped per factor {r['mapped']}; "
          f"{r['rows_out']} rows written to gold.source_apportionment; MLflow run {r['mlflow_run_id']}")
    print(json.dumps({k: r[k] for k in ("dataset", "factors", "starts", "q_true", "q_robust", "seconds")}))
    return 0


def _utc(text: str):
    """ISO time; without an offset it is Beijing time (the users' clock), returned as naive UTC."""
    from datetime import datetime

    from smartmon.beijing_time import to_utc_naive

    return to_utc_naive(datetime.fromisoformat(text))


def cmd_upwind(args: argparse.Namespace) -> int:
    from jobs.gold import upwind
    from pipelines.cli_common import open_lake as _lake

    r = upwind.run(_lake(), args.station, args.t_from, args.t_to, hours_back=args.hours_back, pollutant=args.pollutant,
                   radius_km=args.radius_km)
    sec = r["sector"]
    print(f"{r['receptor']} {args.t_from:%Y-%m-%d %H:%M}..{args.t_to:%Y-%m-%d %H:%M} UTC: air came from the {sec.label} "
          f"({sec.bearing_deg:.0f} deg, spread {sec.spread_deg:.0f} deg) over {args.hours_back} h back-trajectories; winds of "
          f"{r['met_station']} ({r['met_km']:.1f} km away); {r['footprint_cells']} H3 cells in the footprint")
    cands = r["candidates"]
    top = cands[cands["candidate_kind"] == "monitoring station"].head(args.top)
    print(f"{'rank':>4} {'station':24} {'bearing':>7} {'km':>6} {'sector':>6} {'traj h':>6} {'lead':>5} {'r':>5} {'excess':>6} {'score':>6}")
    for c in top.itertuples():
        print(f"{c.rank:>4} {str(c.candidate_id)[:24]:24} {c.bearing_deg:>7.0f} {c.distance_km:>6.1f} {'yes' if c.in_sector else 'no':>6} "
              f"{c.residence_h:>6.0f} {c.lead_h:>4}h {c.lead_r:>5.2f} {c.excess_ratio:>6.2f} {c.score:>6.3f}")
    src = cands[cands["candidate_kind"] == "emission source"].head(args.top)
    if len(src):
        print(f"{'rank':>4} {'emission source':24} {'sector':>10} {'bearing':>7} {'km':>6} {'traj h':>6} {'emis x':>6} {'gap h':>5} "
              f"{'kWh x':>5} {'score':>6}")
        for c in src.itertuples():
            print(f"{c.rank:>4} {str(c.candidate_id)[:24]:24} {str(c.source_sector)[:10]:>10} {c.bearing_deg:>7.0f} {c.distance_km:>6.1f} "
                  f"{c.residence_h:>6.0f} {c.emission_ratio:>6.2f} {c.reporting_gap_h:>5.0f} {c.power_ratio:>5.2f} {c.score:>6.3f}")
    print(f"{len(r['candidates'])} candidates ranked into gold.upwind_candidates ({r['rows_out']} rows written)")
    return 0


def add_commands(add: Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]) -> None:
    p = add("trace-sources", lambda a: a.trace_fn(a), "pollution source tracing: PMF source apportionment")
    sub = p.add_subparsers(dest="trace_kind", required=True)
    q = sub.add_parser("pmf", help="PMF (EPA conventions, robust mode) of a speciation dataset; random starts and bootstrap on Ray",
                       description="PMF of a silver.speciation dataset into gold.source_apportionment, tracked in MLflow. "
                       "The last line printed is a JSON object (dataset, factors, starts, q_true, q_robust, seconds).")
    q.add_argument("--dataset", required=True, help="silver.speciation dataset, e.g. batonrouge, baltimore, stlouis")
    q.add_argument("--factors", type=int, required=True)
    q.add_argument("--starts", type=int, default=20, help="random starts (the best by Q(robust) is kept)")
    q.add_argument("--bootstrap", type=int, default=50, help="block-bootstrap replicates (0: none)")
    q.add_argument("--seed", type=int, default=42)
    q.add_argument("--category", action="append", metavar="SPECIES=strong|weak|bad", help="override a species' S/N category")
    q.add_argument("--lake", dest="lake_sub", help="lake root URI")
    q.set_defaults(trace_fn=cmd_pmf)
    q = sub.add_parser("upwind", help="upwind attribution of an episode at a receptor station (back-trajectories from observed winds)",
                       description="Rank the stations upwind of a receptor during an episode by back-trajectory residence and "
                       "lead correlation, and the registered emission sources by residence and their HJ 212 and electricity "
                       "anomalies, into gold.upwind_candidates. Times without an offset are Beijing time.")
    q.add_argument("--station", required=True, help="receptor station_id (silver.stations)")
    q.add_argument("--from", dest="t_from", type=_utc, required=True, help="episode start, ISO (e.g. 2018-04-01T08:00)")
    q.add_argument("--to", dest="t_to", type=_utc, required=True, help="episode end, ISO")
    q.add_argument("--hours-back", type=int, default=24, help="back-trajectory length (hours)")
    q.add_argument("--pollutant", default="pm25", choices=("pm25", "pm10", "o3", "no2", "so2", "co"))
    q.add_argument("--radius-km", type=float, default=150.0, help="candidates within this distance")
    q.add_argument("--top", type=int, default=10, help="candidates to print")
    q.add_argument("--lake", dest="lake_sub", help="lake root URI")
    q.set_defaults(trace_fn=cmd_upwind)
