"""`make bench`: run every benchmark in bench/ and rewrite bench/RESULTS.md.

Each benchmark is a module with main(); they run one after another (never two Spark or Ray
workloads at once on a 2-core machine)."""

from __future__ import annotations

import importlib
import sys
import time

BENCHMARKS = ["bench.h3_indexing", "bench.ingest_vs_duckdb", "bench.optuna_trials", "bench.scenario_scaling", "bench.pmf_vs_esat",
              "bench.national_nightly", "bench.month_boundary"]


def main() -> int:
    for name in BENCHMARKS:
        t0 = time.monotonic()
        print(f"== {name}", flush=True)
        module = importlib.import_module(name)
        for args in getattr(module, "DEFAULT_RUNS", [getattr(module, "DEFAULT_ARGS", ())]):
            module.main(*args)
        print(f"== {name}: {time.monotonic() - t0:.0f}s", flush=True)
    print("results: bench/RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
