"""`smartmon simulate`: raw feeds of the tiers and sources with no public data here."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path


def cmd_simulate(args: argparse.Namespace) -> int:
    from smartmon.config import settings
    from smartmon.simulate.run import simulate

    cfg = settings()
    out = Path(args.out) if args.out else cfg.landing_dir()
    r = simulate(cfg.data_root, out, stations=args.stations, days=args.days, start=args.start, seed=args.seed,
                 fault_rate=args.fault_rate, provinces=tuple(p.strip() for p in (args.provinces or "").split(",") if p.strip()))
    print(f"simulated {r.stations:,} stations x {r.days} day(s) from {r.start} (seed {r.seed}) into {r.out} in {r.seconds:.1f} s")
    for source, n in r.rows.items():
        print(f"  {source:17s} {n:>12,} records")
    print(f"  planted: {r.faults} faulty records, {r.anomalies} enterprise anomalies (see {r.out}/_truth/)")
    print(f"next: smartmon ingest --all   (reads {out} when it is the lake's landing zone, else: smartmon ingest SOURCE {out}/SOURCE)")
    print(json.dumps({"stations": r.stations, "days": r.days, "records": sum(r.rows.values()), "seconds": r.seconds}))
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    from pipelines.cli_common import parse_date as _date

    p = add("simulate", cmd_simulate, "write realistic raw feeds of the provincial, county and township tiers, enterprises "
            "(HJ 212), electricity, energy, hydrology, land use and statistics, derived from the real national archive")
    p.add_argument("--stations", type=int, required=True, help="simulated stations (up to 100,000 and more)")
    p.add_argument("--days", type=int, required=True, help="days of hourly data")
    p.add_argument("--out", help="output folder (default: the profile's landing zone)")
    p.add_argument("--start", type=_date, help="first day (default: the first day of the national archive, 2019-01-01)")
    p.add_argument("--seed", type=int, default=2019, help="random seed: the same arguments and seed write the same bytes")
    p.add_argument("--provinces", help="confine the network to these provinces (2-digit codes, e.g. 11,13 for Beijing and Hebei)")
    p.add_argument("--fault-rate", type=float, default=1e-4, help="share of air records planted broken (quarantine check)")
