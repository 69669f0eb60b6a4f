"""The nightly of a national-scale network, first night and month-end: `smartmon simulate` writes
the network's days, `smartmon nightly --date D` runs in its own process on a copy of a lake that
already holds the real national data (the state a production lake is in). Measured: wall time,
peak memory of the whole process tree (Python driver, JVM, Python workers, Ray; PSS, so a page
the forked workers or Ray's object store share counts once) and every task's time.

Two nights of the same network, in one run, side by side:
- the first night: the network's first day (`--start`) on the real lake alone (no history);
- the night after `--history-days H` days of history: the history is ingested by one nightly
  over H simulated days and cached (`bench/.cache`, keyed by network, days and the base lake's
  version), then the next day's file arrives and its nightly is measured. H = 29 from the 1st is
  the month-end night, the night whose cost grew with the month when jobs were month-scoped.
Cost follows data when the two walls are close.

The run has its own landing zone and MLflow stores: the first night a new one (no station of the
network has 7 days yet, nothing to train), the measured night a copy of the history's, so the
champions the history's nightly trained are found and served, and the weekly retrain runs only
when due, as in a nightly series; everything else runs as in production, the standing scenarios
included. The default start, 2019-01-01 on a base lake of January, puts the network's days
before days the lake already holds: late data, so the first night also rebuilds the later
forecast issues its day reaches. `--start` after the base lake's last day is a network joining an
up-to-date lake: its first night gets a copy of the base lake's MLflow store (beside the base lake,
or in the mlflow folder beside it), so the real stations' champions serve as in production. Its last
line is one JSON object: stations, history_days, wall_s, peak_mib, first_night_wall_s.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import date, timedelta
from pathlib import Path

from bench.common import Trace, record, run_traced

log = logging.getLogger("bench.national_nightly")
START = "2019-01-01"
TASK_LINE = re.compile(r"^\s+(ok|failed|skipped)\s+(\S+)\s+([\d.]+)s")
TASK_START = re.compile(r"^\[\s*\d+/\d+\] \S+ (\S+) \.\.\.")
CACHE = Path(__file__).resolve().parent / ".cache"
# `make bench`: the largest network with no history, and the month-end night of a network these
# 2 cores build a month of in reasonable time
DEFAULT_RUNS = [(100_000, 0), (10_000, 29)]


def _env(lake: Path, landing: Path, work: Path, tag: str, data: Path | None) -> dict[str, str]:
    return {**os.environ, **({"SMARTMON_DATA": str(data)} if data else {}), "SMARTMON_LAKE": str(lake), "SMARTMON_LANDING": str(landing),
            "MLFLOW_TRACKING_URI": f"sqlite:///{work / f'mlflow-{tag}.db'}",
            "SMARTMON_MLFLOW_ARTIFACTS": str(work / f"artifacts-{tag}"), "SMARTMON_SCENARIO_DRAWS": "50"}


def _smartmon() -> str:
    return str(Path(sys.executable).with_name("smartmon"))


def simulate(stations: int, start: date, days: int, landing: Path, env: dict[str, str]) -> tuple[int, float]:
    """(raw records, seconds) of `smartmon simulate` writing the days into the landing zone."""
    t0 = time.perf_counter()
    sim = subprocess.run([_smartmon(), "simulate", "--stations", str(stations), "--days", str(days), "--start", str(start),
                          "--out", str(landing)], env=env, capture_output=True, text=True, check=True)
    return json.loads(sim.stdout.strip().splitlines()[-1])["records"], time.perf_counter() - t0


def task_peaks(trace: Trace) -> dict[str, float]:
    """Task -> peak MiB of the process tree while it ran: from the start line of each task (the
    nightly's progress on stderr) to the start of the next, or the end of the run."""
    starts = [(t, m.group(1)) for t, line in trace.lines if (m := TASK_START.match(line))]
    ends = [t for t, _ in starts[1:]] + [trace.wall]
    return {task: trace.peak_between(t0, t1) for (t0, task), t1 in zip(starts, ends, strict=True)}


def nightly(run_date: date, env: dict[str, str], log_to: Path) -> dict:
    trace = run_traced([_smartmon(), "nightly", "--date", str(run_date)], env=env, trace=True)
    log_to.write_text(trace.out)
    tasks = {m.group(2): (m.group(1), float(m.group(3))) for line in trace.out.splitlines() if (m := TASK_LINE.match(line))}
    return {"wall_s": trace.wall, "peak_mib": trace.peak_mib, "peak_rss_mib": trace.peak_rss_mib, "tasks": tasks,
            "task_peaks": task_peaks(trace)}


def base_version(base: Path) -> str:
    """The base lake's identity for the cache key: its silver.air_hourly log's last version."""
    logs = sorted((base / "silver" / "air_hourly" / "_delta_log").glob("*.json"))
    return logs[-1].stem.lstrip("0") or "0" if logs else "none"


def data_root(base: Path, data: str | None) -> Path | None:
    """The data root the base lake was built from: given, or the `data` folder beside the base lake
    (bench.month_boundary keeps one there), else the default. A nightly reads every file of its
    data root it has not ingested: with another root, the measured night would also ingest
    whatever that root holds beyond the base lake (five years of UCI, the KDD month)."""
    if data:
        return Path(data).resolve()
    beside = base.parent / "data"
    return beside if beside.is_dir() else None


def lake_key(base: Path, stations: int, start: date, days: int) -> Path:
    """The cache folder of a network's history on a base lake."""
    return CACHE / f"national-{stations}-{start}-{days}d-base{base_version(base)}"


def history_lake(base: Path, stations: int, start: date, days: int, work: Path, rebuild: bool,
                 data: Path | None) -> tuple[Path, Path]:
    """(lake, landing) holding `days` days of the network's history, built once and cached."""
    key = lake_key(base, stations, start, days)
    if rebuild and key.exists():
        shutil.rmtree(key)
    if not (key / "done").exists():
        shutil.rmtree(key, ignore_errors=True)
        lake, landing = key / "lake", key / "landing"
        shutil.copytree(base, lake, ignore=shutil.ignore_patterns("_landing"))
        env = _env(lake, landing, key, "history", data)
        records, sim_s = simulate(stations, start, days, landing, env)
        print(f"history: {days} days of {stations:,} stations simulated ({records:,} records, {sim_s:.0f} s); "
              f"ingesting them in one nightly (cached in {key})", flush=True)
        built = nightly(start + timedelta(days=days - 1), env, key / "history-nightly.log")
        (key / "done").write_text(json.dumps({"records": records, "wall_s": built["wall_s"]}))
        print(f"history built in {built['wall_s']:.0f} s", flush=True)
    copy = work / "lake-history"
    shutil.copytree(key / "lake", copy)
    # the landing zone stays where the history's files were ingested from: under another path the
    # same bytes would be duplicate deliveries (quarantined), not files already ingested (skipped)
    return copy, key / "landing"


def carry_mlflow(store: Path, artifacts: Path, work: Path, tag: str) -> None:
    """Give a measured night a copy of an MLflow store (the sqlite database and the artifacts),
    its absolute artifact paths moved to the copy, so the champions trained before (the
    history's, or the base lake's) are found and the night's own runs stay out of the original."""
    old, new = artifacts, work / f"artifacts-{tag}"
    db = work / f"mlflow-{tag}.db"
    if not store.exists():
        return
    shutil.copy2(store, db)
    if old.exists():
        shutil.copytree(old, new)
    with closing(sqlite3.connect(db)) as con, con:
        for (table,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            for col in con.execute(f"PRAGMA table_info('{table}')").fetchall():
                if col[2].upper().startswith(("TEXT", "VARCHAR")):
                    con.execute(f'UPDATE "{table}" SET "{col[1]}" = REPLACE("{col[1]}", ?, ?) WHERE "{col[1]}" LIKE ?',
                                (str(old), str(new), f"%{old}%"))


def base_last_day(base: Path) -> date | None:
    """The last Beijing day of air data the base lake holds (its silver.changed_days, read with
    delta-rs: a few rows), or None."""
    from deltalake import DeltaTable

    from smartmon.catalog.names import SILVER_AIR_HOURLY, SILVER_CHANGED_DAYS

    path = base.joinpath(*SILVER_CHANGED_DAYS.split("."))
    if not path.exists():
        return None
    rows = DeltaTable(str(path)).to_pyarrow_table(columns=["table", "day"]).to_pylist()
    days = [r["day"] for r in rows if r["table"] == SILVER_AIR_HOURLY]
    return max(days) if days else None


def base_mlflow(base: Path) -> tuple[Path, Path] | None:
    """(database, artifacts) of the MLflow store the base lake was built with: beside it
    (bench.month_boundary's cache) or in the mlflow folder beside it (make demo's)."""
    for folder in (base.parent, base.parent / "mlflow"):
        if (folder / "mlflow.db").exists():
            return folder / "mlflow.db", folder / "artifacts"
    return None


def measure(lake: Path, landing: Path, stations: int, run_date: date, work: Path, tag: str, data: Path | None) -> dict:
    env = _env(lake, landing, work, tag, data)
    records, sim_s = simulate(stations, run_date, 1, landing, env)
    night = nightly(run_date, env, work / f"nightly-{tag}.log")
    return {"records": records, "simulate_s": sim_s, **night}


def main(stations: int, history_days: int, base_lake: str = "lake", start: str = START, rebuild: bool = False,
         data: str | None = None) -> None:
    base = Path(base_lake).resolve()
    root = data_root(base, data)
    print(f"base lake {base}, data root {root or 'the default'}", file=sys.stderr, flush=True)
    if not (base / "silver" / "air_hourly").exists():
        raise SystemExit(f"{base} holds no silver.air_hourly: run `make demo` first (the nightly needs the real data in)")
    last = base_last_day(base)
    first_day = date.fromisoformat(start)
    work = Path(tempfile.mkdtemp(prefix="smartmon-bench-national-"))
    try:
        first_lake = work / "lake-first"
        shutil.copytree(base, first_lake, ignore=shutil.ignore_patterns("_landing"))
        # a network joining the lake after its last day: the base lake's champions serve its
        # stations as they would in production (they were trained before that day); a night
        # inside the base lake's days gets a new store (a model trained later must not serve it)
        if (store := base_mlflow(base)) and last and first_day > last:
            carry_mlflow(*store, work, "first")
        first = measure(first_lake, work / "landing-first", stations, first_day, work, "first", root)
        print(f"first night ({first_day}), {stations:,} stations: {first['wall_s']:.0f} s, peak {first['peak_mib']:,.0f} MiB", flush=True)
        shutil.rmtree(first_lake, ignore_errors=True)
        later = first
        run_date = first_day
        if history_days:
            run_date = first_day + timedelta(days=history_days)
            lake, landing = history_lake(base, stations, first_day, history_days, work, rebuild, root)
            key = lake_key(base, stations, first_day, history_days)
            carry_mlflow(key / "mlflow-history.db", key / "artifacts-history", work, "later")
            before = {p for p in landing.rglob("*") if p.is_file()}
            try:
                later = measure(lake, landing, stations, run_date, work, "later", root)
            finally:  # the cached landing zone keeps only the history's files
                for p in {p for p in landing.rglob("*") if p.is_file()} - before:
                    p.unlink()
            print(f"night of {run_date} after {history_days} days: {later['wall_s']:.0f} s, peak {later['peak_mib']:,.0f} MiB", flush=True)
        title = (f"National nightly, {stations:,} stations: night {history_days + 1} ({run_date}) vs the first night"
                 if history_days else f"National nightly, one day of {stations:,} stations")
        rows = [
            {"case": f"nightly of {run_date}, {history_days} days of history ({later['records']:,} raw records that night)",
             "smartmon": f"{later['wall_s']:.0f} s", "reference": f"first night {first['wall_s']:.0f} s ({first_day}, no history)",
             "ratio": f"{later['wall_s'] / first['wall_s']:.2f}",
             "notes": f"target <= 1.25 for the month-end night; simulate {later['simulate_s']:.0f} s (not included)"},
            {"case": "peak memory (process tree, PSS)", "smartmon": f"{later['peak_mib']:,.0f} MiB", "reference": f"{first['peak_mib']:,.0f} MiB",
             "ratio": f"{later['peak_mib'] / first['peak_mib']:.2f}",
             "notes": f"Python driver + JVM + Python workers + Ray, shared pages divided among their sharers; summed RSS "
                      f"(each shared page once per process) {later['peak_rss_mib']:,.0f} MiB (first night {first['peak_rss_mib']:,.0f})"},
        ]
        for task, (status, secs) in later["tasks"].items():
            r_status, r_secs = first["tasks"].get(task, ("-", 0.0))
            if secs >= 5 or r_secs >= 5 or status != "ok":
                peak, r_peak = later["task_peaks"].get(task, 0.0), first["task_peaks"].get(task, 0.0)
                rows.append({"case": f"task {task}", "smartmon": f"{secs:.0f} s ({status})", "reference": f"{r_secs:.0f} s ({r_status})",
                             "ratio": f"{secs / r_secs:.2f}" if r_secs else "",
                             "notes": f"peak {peak:,.0f} MiB (PSS)" + (f" (first night {r_peak:,.0f})" if history_days else "")})
        record(title, rows)
        print(json.dumps({"stations": stations, "history_days": history_days, "wall_s": round(later["wall_s"]),
                          "peak_mib": round(later["peak_mib"]), "first_night_wall_s": round(first["wall_s"])}))
    except BaseException:
        print(f"kept {work} (lakes, landing zones, nightly logs) for a look at what failed", file=sys.stderr, flush=True)
        raise
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=100_000)
    parser.add_argument("--history-days", type=int, default=0, help="days of history before the measured night (29: month-end)")
    parser.add_argument("--base-lake", default="lake", help="a lake holding the real data (make demo builds ./lake)")
    parser.add_argument("--start", default=START, help="the network's first day (the first night); after the base lake's "
                        "last day, the network joins an up-to-date lake and the base lake's champions serve")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached history")
    parser.add_argument("--data", help="the data root the base lake was built from (default: a data folder beside it, else SMARTMON_DATA)")
    parser.add_argument("--smoke-test", action="store_true", help="300 stations, 2 days of history (CI-sized)")
    args = parser.parse_args()
    if args.smoke_test:
        args.stations, args.history_days = 300, 2
    main(args.stations, args.history_days, args.base_lake, args.start, args.rebuild, args.data)
