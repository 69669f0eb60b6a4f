"""Shared by the benchmarks: machine notes, timing, peak memory, the results file."""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_JSON = BENCH_DIR / "results.json"
RESULTS_MD = BENCH_DIR / "RESULTS.md"


def machine() -> dict[str, str]:
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    pkgs = ["pyspark", "delta-spark", "h3", "pyarrow", "duckdb", "polars", "ray", "mlflow"]
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": str(os.cpu_count()),
        "memory_gib": f"{mem:.0f}",
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": ", ".join(f"{p} {version(p)}" for p in pkgs),
    }


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall time of a few runs (the least disturbed by the other core's work)."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(name: str, rows: list[dict]) -> None:
    """Store one benchmark's rows (figure, reference, ratio, notes) and rewrite RESULTS.md."""
    data = json.loads(RESULTS_JSON.read_text()) if RESULTS_JSON.exists() else {}
    data[name] = {"machine": machine(), "rows": rows}
    RESULTS_JSON.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    write_markdown(data)


def write_markdown(data: dict) -> None:
    out = [
        "# smartmon benchmarks\n",
        "Written by `make bench` (bench/run_all.py). Each figure stands beside its reference run, "
        "measured in the same process on the same data; ratio = smartmon / reference (below 1 is "
        "faster). Best of 3 wall-clock runs unless a row says otherwise. Never asserted in tests.\n",
    ]
    for name, entry in sorted(data.items()):
        m = entry["machine"]
        out.append(f"\n## {name}\n")
        out.append(f"Machine: {m['cpus']} CPUs, {m['memory_gib']} GiB, Python {m['python']}, {m['platform']}; {m['date']}.  ")
        out.append(f"Versions: {m['versions']}.\n")
        out.append("| case | smartmon | reference | ratio | notes |\n|---|---|---|---|---|")
        for r in entry["rows"]:
            out.append(f"| {r['case']} | {r['smartmon']} | {r['reference']} | {r['ratio']} | {r.get('notes', '')} |")
    RESULTS_MD.write_text("\n".join(out) + "\n")
