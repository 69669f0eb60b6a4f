"""Shared by the benchmarks: machine notes, timing, peak memory, the results file."""

from __future__ import annotations

import json
import os
import platform
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
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


HAND_RECORDED = "\n## Recorded by hand (not written by `make bench`)\n"


def write_markdown(data: dict) -> None:
    """RESULTS.md from results.json; the hand-recorded section at its end is kept as it is."""
    old = RESULTS_MD.read_text() if RESULTS_MD.exists() else ""
    tail = old[old.index(HAND_RECORDED):] if HAND_RECORDED in old else ""
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
    RESULTS_MD.write_text("\n".join(out) + "\n" + tail)


def _pss_kib(pid_dir: Path) -> int | None:
    """The process's proportional set size: its private pages plus its share of each page it
    shares (None when the kernel does not show it)."""
    try:
        for line in (pid_dir / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _tree_memory_kib(root: int) -> tuple[int, int]:
    """(summed RSS, summed PSS) of a process and all its descendants (the JVM of a Spark driver
    too). The RSS sum counts a shared page once per process mapping it: the Python workers
    pyspark forks from one daemon, Ray's shared object store mapped by every Ray process. The
    PSS sum divides each shared page among its sharers, so it is what the tree holds of the
    machine's memory; a process whose PSS cannot be read counts with its RSS."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            status = (d / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        pid = int(d.name)
        children.setdefault(int(fields.get("PPid", "0").strip() or 0), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
    total_rss = total_pss = 0
    todo = [root]
    while todo:
        pid = todo.pop()
        r = rss.get(pid, 0)
        total_rss += r
        if r:
            pss = _pss_kib(Path("/proc") / str(pid))
            total_pss += r if pss is None else pss
        todo += children.get(pid, [])
    return total_rss, total_pss


@dataclass
class Trace:
    """A command's run: wall seconds, peak MiB of its process tree (PSS, see _tree_memory_kib;
    peak_rss_mib the summed RSS, which counts shared pages once per sharer), its stdout, and
    when traced, the memory samples (PSS MiB) and its stderr lines, each with seconds since the
    start."""

    wall: float
    peak_mib: float
    out: str
    samples: list[tuple[float, float]] = field(default_factory=list)
    lines: list[tuple[float, str]] = field(default_factory=list)
    peak_rss_mib: float = 0.0

    def peak_between(self, t0: float, t1: float) -> float:
        """Peak MiB (PSS) of the samples taken in [t0, t1) (0 when none)."""
        return max((mib for t, mib in self.samples if t0 <= t < t1), default=0.0)


def run_traced(cmd: list[str], interval: float = 0.25, env: dict[str, str] | None = None, trace: bool = False) -> Trace:
    """Run a command to completion, sampling its process tree's memory. stdout goes through a
    file (a pipe nobody reads while polling would block a chatty child); with trace, stderr is
    read by a thread, echoed, and kept with its times beside the memory samples, so a phase's
    peak can be told from its log lines."""
    import subprocess
    import sys
    import tempfile
    import threading

    lines: list[tuple[float, str]] = []
    samples: list[tuple[float, float]] = []
    with tempfile.TemporaryFile(mode="w+") as sink:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=sink, stderr=subprocess.PIPE if trace else None, text=True, env=env)
        reader = None
        if trace:
            def read() -> None:
                for line in proc.stderr:
                    lines.append((time.perf_counter() - t0, line.rstrip("\n")))
                    sys.stderr.write(line)
            reader = threading.Thread(target=read, daemon=True)
            reader.start()
        peak = peak_rss = 0
        while proc.poll() is None:
            rss_kib, kib = _tree_memory_kib(proc.pid)
            peak, peak_rss = max(peak, kib), max(peak_rss, rss_kib)
            if trace:
                samples.append((time.perf_counter() - t0, kib / 1024))
            time.sleep(interval)
        wall = time.perf_counter() - t0
        if reader is not None:
            reader.join(timeout=30)
        sink.seek(0)
        out = sink.read()
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited with {proc.returncode}; its last output: {out[-2000:]}")
    return Trace(wall, peak / 1024, out, samples, lines, peak_rss / 1024)


def run_measured(cmd: list[str], interval: float = 0.25, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, peak MiB (PSS) of the whole process tree, stdout) of a command run to completion."""
    t = run_traced(cmd, interval, env)
    return t.wall, t.peak_mib, t.out
