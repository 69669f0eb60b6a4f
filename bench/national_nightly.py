"""One nightly of a national-scale network: `smartmon simulate --stations N --days 1` for the run
date, then `smartmon nightly --date D` in its own process on a copy of a lake that already holds
the real national data (the state a production lake is in the night before). Wall time, peak
memory of the whole process tree (Python driver, JVM, Ray) and every task's time, beside the
same nightly with a small network as the reference, so the ratio shows what the network's size
costs on top of the fixed work.

The run has its own landing zone and MLflow store (gold.forecasts then has no champion to serve
and says so; everything else runs as in production, the standing scenarios included).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import record, run_measured

DEFAULT_ARGS = (100_000, 1_000)
RUN_DATE = "2019-01-31"
TASK_LINE = re.compile(r"^\s+(ok|failed|skipped)\s+(\S+)\s+([\d.]+)s")


def one(base_lake: Path, stations: int, run_date: str, work: Path) -> dict:
    """Simulate the day and run the nightly on a copy of the base lake; returns the measurements."""
    lake = work / f"lake-{stations}"
    landing = work / f"landing-{stations}"
    shutil.copytree(base_lake, lake, ignore=shutil.ignore_patterns("_landing"))
    env = {**os.environ, "SMARTMON_LAKE": str(lake), "SMARTMON_LANDING": str(landing),
           "MLFLOW_TRACKING_URI": f"sqlite:///{work / f'mlflow-{stations}.db'}",
           "SMARTMON_MLFLOW_ARTIFACTS": str(work / f"artifacts-{stations}"), "SMARTMON_SCENARIO_DRAWS": "50"}
    smartmon = str(Path(sys.executable).with_name("smartmon"))
    t0 = time.perf_counter()
    sim = subprocess.run([smartmon, "simulate", "--stations", str(stations), "--days", "1", "--start", run_date, "--out", str(landing)],
                         env=env, capture_output=True, text=True, check=True)
    sim_s = time.perf_counter() - t0
    records = json.loads(sim.stdout.strip().splitlines()[-1])["records"]
    wall, peak, out = run_measured([smartmon, "nightly", "--date", run_date], env=env)
    tasks = {m.group(2): (m.group(1), float(m.group(3))) for line in out.splitlines() if (m := TASK_LINE.match(line))}
    (work / f"nightly-{stations}.log").write_text(out)
    return {"stations": stations, "records": records, "simulate_s": sim_s, "wall_s": wall, "peak_mib": peak, "tasks": tasks}


def main(stations: int, reference: int, base_lake: str = "lake", run_date: str = RUN_DATE) -> None:
    base = Path(base_lake).resolve()
    if not (base / "silver" / "air_hourly").exists():
        raise SystemExit(f"{base} holds no silver.air_hourly: run `make demo` first (the nightly needs the real data in)")
    work = Path(tempfile.mkdtemp(prefix="smartmon-bench-national-"))
    try:
        ref = one(base, reference, run_date, work)
        print(f"reference {reference:,} stations: nightly {ref['wall_s']:.0f} s, peak {ref['peak_mib']:,.0f} MiB", flush=True)
        big = one(base, stations, run_date, work)
        print(f"{stations:,} stations: nightly {big['wall_s']:.0f} s, peak {big['peak_mib']:,.0f} MiB", flush=True)
        rows = [
            {"case": f"nightly of one day, {stations:,} stations ({big['records']:,} raw records)", "smartmon": f"{big['wall_s']:.0f} s",
             "reference": f"{ref['wall_s']:.0f} s ({reference:,} stations, {ref['records']:,} records)",
             "ratio": f"{big['wall_s'] / ref['wall_s']:.2f}", "notes": f"simulate {big['simulate_s']:.0f} s (not included); run date {run_date}"},
            {"case": "peak memory (process tree)", "smartmon": f"{big['peak_mib']:,.0f} MiB", "reference": f"{ref['peak_mib']:,.0f} MiB",
             "ratio": f"{big['peak_mib'] / ref['peak_mib']:.2f}", "notes": "Python driver + JVM + Ray workers"},
        ]
        for task, (status, secs) in big["tasks"].items():
            r_status, r_secs = ref["tasks"].get(task, ("-", 0.0))
            if secs >= 5 or r_secs >= 5 or status != "ok":
                rows.append({"case": f"task {task}", "smartmon": f"{secs:.0f} s ({status})", "reference": f"{r_secs:.0f} s ({r_status})",
                             "ratio": f"{secs / r_secs:.2f}" if r_secs else "", "notes": ""})
        record(f"National nightly, one day of {stations:,} stations", rows)
        print(json.dumps({"stations": stations, "wall_s": round(big["wall_s"]), "peak_mib": round(big["peak_mib"]),
                          "reference_wall_s": round(ref["wall_s"])}))
    except BaseException:
        print(f"kept {work} (lakes, landing zones, nightly logs) for a look at what failed", file=sys.stderr, flush=True)
        raise
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=DEFAULT_ARGS[0])
    parser.add_argument("--reference", type=int, default=DEFAULT_ARGS[1], help="stations of the reference run")
    parser.add_argument("--base-lake", default="lake", help="a lake holding the real data (make demo builds ./lake)")
    parser.add_argument("--date", default=RUN_DATE)
    args = parser.parse_args()
    main(args.stations, args.reference, args.base_lake, args.date)
