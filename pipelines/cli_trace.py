"""`smartmon trace-sources`: pollution source tracing (PMF source apportionment)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable


def cmd_pmf(args: argparse.Namespace) -> int:
    from jobs.gold import source_apportionment
    from pipelines.cli import _lake

    overrides = dict(item.split("=", 1) for item in args.category or ())
    r = source_apportionment.run(_lake(), args.dataset, args.factors, starts=args.starts, replicates=args.bootstrap, seed=args.seed,
                                 overrides=overrides)
    print(f"{r['dataset']}: {r['factors']} factors, best of {r['starts']} starts: Q(robust) {r['q_robust']:,.1f}, "
          f"Q(true) {r['q_true']:,.1f}; bootstrap {r['bootstrap']} replicates mapped per factor {r['mapped']}; "
          f"{r['rows_out']} rows written to gold.source_apportionment; MLflow run {r['mlflow_run_id']}")
    print(json.dumps({k: r[k] for k in ("dataset", "factors", "starts", "q_true", "q_robust", "seconds")}))
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
